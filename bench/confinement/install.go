package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// installLine is the DEBUG1 message each confined backend logs once it has
// installed its session filter: the time from the start of the install
// (choosing the role's program, handing the layers to parallel workers) to
// the kernel's answer, and the seccomp() syscall's share of it
// (CLOCK_MONOTONIC), in microseconds. It may appear anywhere in a log line,
// after whatever log_line_prefix puts first; older builds log no share.
var installLine = regexp.MustCompile(`installed the session filter for role "([^"]*)" in ([0-9.]+) us(?: \(seccomp\(\) ([0-9.]+) us\))?`)

// installSample is one backend's session filter install.
type installSample struct {
	Role          string  `json:"role"`
	Micros        float64 `json:"us"`
	SyscallMicros float64 `json:"syscall_us,omitempty"` // 0: not logged
}

// parseInstallLines returns the install times in a server log excerpt, in
// log order. A line that matches but whose time is not a number is an error:
// the extension and this parser disagree on the format.
func parseInstallLines(log string) ([]installSample, error) {
	var samples []installSample
	for n, line := range strings.Split(log, "\n") {
		m := installLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		us, err := strconv.ParseFloat(m[2], 64)
		if err != nil || math.IsInf(us, 0) || math.IsNaN(us) {
			return nil, fmt.Errorf("server log line %d: install time %q is not a number of microseconds: %q", n+1, m[2], line)
		}
		smp := installSample{Role: m[1], Micros: us}
		if m[3] != "" {
			if smp.SyscallMicros, err = strconv.ParseFloat(m[3], 64); err != nil || smp.SyscallMicros > us {
				return nil, fmt.Errorf("server log line %d: seccomp() time %q is not a share of %q: %q", n+1, m[3], m[2], line)
			}
		}
		samples = append(samples, smp)
	}
	return samples, nil
}

// errNoInstallLines explains an install measure without samples.
func errNoInstallLines(logFile string, connections int64) error {
	return fmt.Errorf("no line matching %q in %s after %d connections with log_min_messages = debug1: "+
		"the installed pgseccomp does not log its session filter install time. "+
		"Build and install the extension that does (make install), then run the benchmark again",
		installLine.String(), logFile, connections)
}
