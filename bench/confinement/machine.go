package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// machineInfo describes where the figures were measured.
type machineInfo struct {
	Kernel     string `json:"kernel"` // uname -r and -v
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model,omitempty"`
	MemoryMB   int64  `json:"memory_mb,omitempty"`
	PostgreSQL string `json:"postgresql"` // SELECT version() on the clusters
	Pgbench    string `json:"pgbench"`
	// Libseccomp is the version of the libseccomp library loaded at run
	// time, the same shared library the extension links.
	Libseccomp string `json:"libseccomp"`
	Go         string `json:"go"`
	// LoadAverage is /proc/loadavg when the benchmark started and ended:
	// other work on the machine shows up here, and in the spread of ratios.
	LoadAverageStart string `json:"loadavg_start"`
	LoadAverageEnd   string `json:"loadavg_end,omitempty"`
}

// readMachineInfo fills what the machine itself can tell; the caller adds
// PostgreSQL, Pgbench and LoadAverageEnd.
func readMachineInfo() machineInfo {
	var uts unix.Utsname
	kernel := "unknown"
	if err := unix.Uname(&uts); err == nil {
		kernel = unix.ByteSliceToString(uts.Release[:]) + " " + unix.ByteSliceToString(uts.Version[:])
	}
	major, minor, micro := seccomp.GetLibraryVersion()
	return machineInfo{
		Kernel:           kernel,
		Arch:             runtime.GOARCH,
		CPUs:             runtime.NumCPU(),
		CPUModel:         cpuModel(),
		MemoryMB:         memoryMB(),
		Libseccomp:       fmt.Sprintf("%d.%d.%d", major, minor, micro),
		Go:               runtime.Version(),
		LoadAverageStart: loadAverage(),
	}
}

// cpuModel is the first "model name" in /proc/cpuinfo ("" if none).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// memoryMB is MemTotal from /proc/meminfo (0 if unreadable).
func memoryMB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}

// loadAverage is /proc/loadavg without its trailing newline.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// loadAverage1 is the one-minute load average (0 if unreadable).
func loadAverage1() float64 {
	f := strings.Fields(loadAverage())
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
