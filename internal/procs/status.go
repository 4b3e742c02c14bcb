package procs

import (
	"fmt"
	"strconv"
	"strings"
)

// Seccomp modes as reported in the "Seccomp:" field of /proc/PID/status.
const (
	SeccompUnknown  = -1 // the field is absent (kernel built without CONFIG_SECCOMP)
	SeccompDisabled = 0  // SECCOMP_MODE_DISABLED
	SeccompStrict   = 1  // SECCOMP_MODE_STRICT
	SeccompFilter   = 2  // SECCOMP_MODE_FILTER
)

// Status holds the fields of /proc/PID/status that describe a process's
// identity and its confinement.
type Status struct {
	Name    string // "Name:", the command name (comm), possibly truncated
	State   string // "State:", e.g. "S (sleeping)" or "Z (zombie)"
	PID     int    // "Pid:", the thread ID of the task the file describes
	PPID    int    // "PPid:"
	Threads int    // "Threads:", 0 if absent

	// NoNewPrivs is the "NoNewPrivs:" flag (Linux 4.10+); false if absent.
	NoNewPrivs bool
	// SeccompMode is "Seccomp:": one of SeccompDisabled, SeccompStrict,
	// SeccompFilter, or SeccompUnknown if the field is absent.
	SeccompMode int
	// SeccompFilters is "Seccomp_filters:" (Linux 5.9+), the number of
	// filters attached to the task; -1 if the field is absent.
	SeccompFilters int
	// SpeculationStoreBypass is "Speculation_Store_Bypass:" verbatim, e.g.
	// "thread force mitigated"; empty if absent.
	SpeculationStoreBypass string
	// SpeculationIndirectBranch is "SpeculationIndirectBranch:" verbatim
	// (Linux 4.20+), e.g. "conditional force disabled": what the kernel
	// does about indirect branch speculation (STIBP, IBPB) for the task,
	// which seccomp forces on under spectre_v2_user=seccomp; empty if absent.
	SpeculationIndirectBranch string
}

// Confined reports whether the task runs under a seccomp filter with
// no_new_privs set, which is what pgseccomp installs.
func (s Status) Confined() bool {
	return s.SeccompMode == SeccompFilter && s.NoNewPrivs
}

// Zombie reports whether the task has exited and waits to be reaped.
func (s Status) Zombie() bool {
	return strings.HasPrefix(s.State, "Z")
}

// SeccompModeName renders a seccomp mode the way the status command prints
// it: "0 disabled", "1 strict", "2 filter"; "?" for SeccompUnknown.
func SeccompModeName(mode int) string {
	switch mode {
	case SeccompUnknown:
		return "?"
	case SeccompDisabled:
		return "0 disabled"
	case SeccompStrict:
		return "1 strict"
	case SeccompFilter:
		return "2 filter"
	}
	return strconv.Itoa(mode) + " unknown"
}

// ParseStatus parses the contents of /proc/PID/status (or
// /proc/PID/task/TID/status). Unknown fields are ignored, so it accepts the
// output of any kernel version; fields that are absent keep the values
// documented on Status. It returns an error naming the field when a field it
// uses has a malformed value.
func ParseStatus(data []byte) (Status, error) {
	s := Status{SeccompMode: SeccompUnknown, SeccompFilters: -1}
	for line := range strings.Lines(string(data)) {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		var err error
		switch key {
		case "Name":
			s.Name = value
		case "State":
			s.State = value
		case "Pid":
			s.PID, err = statusInt(key, value)
		case "PPid":
			s.PPID, err = statusInt(key, value)
		case "Threads":
			s.Threads, err = statusInt(key, value)
		case "NoNewPrivs":
			var n int
			n, err = statusInt(key, value)
			if err == nil && n > 1 {
				err = fmt.Errorf("status field NoNewPrivs: %q is neither 0 nor 1", value)
			}
			s.NoNewPrivs = n == 1
		case "Seccomp":
			s.SeccompMode, err = statusInt(key, value)
		case "Seccomp_filters":
			s.SeccompFilters, err = statusInt(key, value)
		case "Speculation_Store_Bypass":
			s.SpeculationStoreBypass = value
		case "SpeculationIndirectBranch":
			s.SpeculationIndirectBranch = value
		}
		if err != nil {
			return Status{}, err
		}
	}
	return s, nil
}

// statusInt parses a non-negative decimal field value.
func statusInt(key, value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("status field %s: %q is not a non-negative integer", key, value)
	}
	return n, nil
}
