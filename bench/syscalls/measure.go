package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// command is one of the commands measured, and its runs.
type command struct {
	Name   string   `json:"name"`
	Argv   []string `json:"argv"`
	Env    []string `json:"env,omitempty"`
	Output string   `json:"output"` // stdout of the warm-up run
	Runs   []runResult
	MBps   stats `json:"mb_per_s"`
	// CPUSeconds is the median user+system time of a run: with other work
	// on the machine, wall time includes waiting for a CPU.
	CPUSeconds float64 `json:"cpu_seconds_median"`
	// MaxRSSKiB is the largest resident set of any run (the command and
	// its children): pgseccomp's stays flat however large the log.
	MaxRSSKiB int64 `json:"max_rss_kib"`
}

type runResult struct {
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	MBps       float64 `json:"mb_per_s"`
	MaxRSSKiB  int64   `json:"max_rss_kib"`
	Stdout     string  `json:"-"`
}

type stats struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func (c *command) run() (runResult, error) {
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return runResult{}, fmt.Errorf("%s: %v\n%s", strings.Join(c.Argv, " "), err, errOut.Bytes())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return runResult{
		Seconds:    wall.Seconds(),
		CPUSeconds: (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(),
		MaxRSSKiB:  ru.Maxrss,
		Stdout:     strings.TrimSpace(out.String()),
	}, nil
}

func (c *command) summarize() {
	var mbps, cpu []float64
	for _, r := range c.Runs {
		mbps = append(mbps, r.MBps)
		cpu = append(cpu, r.CPUSeconds)
		c.MaxRSSKiB = max(c.MaxRSSKiB, r.MaxRSSKiB)
	}
	slices.Sort(mbps)
	slices.Sort(cpu)
	c.MBps = stats{Min: mbps[0], Median: median(mbps), Max: mbps[len(mbps)-1]}
	c.CPUSeconds = median(cpu)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// results is the JSON file.
type results struct {
	Started  string             `json:"started"`
	Log      *logInfo           `json:"log"`
	Rounds   int                `json:"rounds"`
	Machine  machineInfo        `json:"machine"`
	Resolver string             `json:"talk_resolver"`
	Commands []*command         `json:"commands"`
	Ratios   map[string]float64 `json:"median_ratios"`
	Goal     goal               `json:"goal"`
	Lists    listCheck          `json:"lists"`
}

type goal struct {
	Ratio   float64 `json:"ratio"`
	Against string  `json:"against"`
	Met     bool    `json:"met"`
}

type machineInfo struct {
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	LoadBefore string `json:"load_average_before"`
	LoadAfter  string `json:"load_average_after"`
}

func machine() machineInfo {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return machineInfo{
		CPUs: runtime.NumCPU(), Kernel: strings.TrimSpace(string(kernel)),
		Go: goVersion(), LoadBefore: loadAverage(),
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// logInfo describes the generated log; it is cached next to the log.
type logInfo struct {
	Path      string `json:"path"`
	Version   string `json:"generator_version"`
	Bytes     int64  `json:"bytes"`
	Lines     int64  `json:"lines"`
	Records   int64  `json:"seccomp_records"`
	Malformed int64  `json:"malformed"`
	// The syscalls its complete records name, per ABI: what a correct
	// list holds.
	X86_64 []string `json:"x86_64_syscalls"`
	I386   []string `json:"i386_syscalls"`
}

// ensureLog returns the cached log, generating it (and its description)
// when it is missing or was made by another generator or for another size.
func ensureLog(o options) (*logInfo, error) {
	path := filepath.Join(o.data, fmt.Sprintf("mixed-%d.log", o.size))
	meta := path + ".json"
	var info logInfo
	if b, err := os.ReadFile(meta); err == nil && json.Unmarshal(b, &info) == nil && info.Version == generatorVersion {
		if fi, err := os.Stat(path); err == nil && fi.Size() == info.Bytes {
			info.Path = path
			return &info, nil
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	fmt.Printf("generating %s (%d MB, once; cached for later runs)\n", path, o.size/1e6)
	start := time.Now()
	if err := generateLog(path, o.size); err != nil {
		return nil, fmt.Errorf("generating %s: %w", path, err)
	}
	fmt.Printf("generated in %.1fs; describing it\n", time.Since(start).Seconds())
	if err := describeLog(path, &info); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(&info, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(meta, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return &info, nil
}

// describeLog counts the log's lines and records and lists the syscalls of
// its complete records, one line at a time with audit.Scanner (not the
// parallel path the command takes).
func describeLog(path string, info *logInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	sets := map[syscalls.Arch]map[string]bool{syscalls.X86_64: {}, syscalls.I386: {}}
	sc := audit.NewScanner(f, path)
	for sc.Scan() {
		arch, name, ok := sc.Record().Resolve()
		if ok && sets[arch] != nil {
			sets[arch][name] = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	st := sc.Stats()
	*info = logInfo{
		Path: path, Version: generatorVersion, Bytes: fi.Size(), Lines: st.Lines,
		Records: st.Records, Malformed: st.Malformed,
		X86_64: sortedSet(sets[syscalls.X86_64]), I386: sortedSet(sets[syscalls.I386]),
	}
	return nil
}

func sortedSet(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// listCheck compares the lists the two tools printed with the log's
// x86_64 syscalls.
type listCheck struct {
	Pgseccomp            int      `json:"pgseccomp_names"`
	MissingFromPgseccomp []string `json:"missing_from_pgseccomp"`
	ExtraInPgseccomp     []string `json:"extra_in_pgseccomp"`
	Talk                 int      `json:"talk_names"`
	MissingFromTalk      []string `json:"missing_from_talk"`
	ExtraInTalk          []string `json:"extra_in_talk"`
}

func checkLists(pgseccompOut, talkOut string, want []string) listCheck {
	pg, talk := splitList(pgseccompOut), splitList(talkOut)
	return listCheck{
		Pgseccomp: len(pg), MissingFromPgseccomp: minus(want, pg), ExtraInPgseccomp: minus(pg, want),
		Talk: len(talk), MissingFromTalk: minus(want, talk), ExtraInTalk: minus(talk, want),
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// minus returns the words of a that b lacks.
func minus(a, b []string) []string {
	out := []string{}
	for _, w := range a {
		if !slices.Contains(b, w) {
			out = append(out, w)
		}
	}
	return out
}

func report(w io.Writer, res *results) {
	fmt.Fprintf(w, "\n%-10s %9s %9s %9s %10s %10s\n", "command", "min", "median", "max", "cpu s", "max RSS")
	for _, c := range res.Commands {
		fmt.Fprintf(w, "%-10s %7.0f/s %7.0f/s %7.0f/s %10.2f %7.0f MB\n", c.Name, c.MBps.Min, c.MBps.Median, c.MBps.Max, c.CPUSeconds, float64(c.MaxRSSKiB)/1024)
	}
	fmt.Fprintln(w, "(MB/s of the log; cpu s is the median user+system time of a run)")
	verdict := "MISS"
	if res.Goal.Met {
		verdict = "PASS"
	}
	fmt.Fprintf(w, "\npgseccomp / grep: %.2f   goal >= %.1f: %s\n", res.Ratios["pgseccomp_vs_grep"], res.Goal.Ratio, verdict)
	fmt.Fprintf(w, "pgseccomp / talk: %.2f\n", res.Ratios["pgseccomp_vs_talk"])
	fmt.Fprintf(w, "load average before %s, after %s\n", res.Machine.LoadBefore, res.Machine.LoadAfter)
	l := res.Lists
	fmt.Fprintf(w, "\nlists: pgseccomp %d names (missing %v, extra %v); talk %d names (missing %v, extra %v)\n",
		l.Pgseccomp, l.MissingFromPgseccomp, l.ExtraInPgseccomp, l.Talk, l.MissingFromTalk, l.ExtraInTalk)
	if len(l.ExtraInTalk) > 0 {
		fmt.Fprintln(w, "  (the talk's script names every number as x86_64's, so i386 records add wrong names; it reads only type=SECCOMP lines, so kernel-log records are left out)")
	}
	if res.Resolver != "" && !strings.HasPrefix(res.Resolver, "/") {
		fmt.Fprintf(w, "note: %s\n", res.Resolver)
	}
}
