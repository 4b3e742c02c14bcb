package procs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Stat holds the fields of /proc/PID/stat that the process tree needs.
type Stat struct {
	PID   int
	Comm  string // the command name, without the parentheses
	State byte   // 'R', 'S', 'D', 'Z', ...
	PPID  int
}

// ParseStat parses the contents of /proc/PID/stat. The command name may hold
// spaces and parentheses, so it is taken as everything between the first
// '(' and the last ')'.
func ParseStat(data []byte) (Stat, error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return Stat{}, fmt.Errorf("stat %q: no command name in parentheses", abbreviate(data))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil || pid <= 0 {
		return Stat{}, fmt.Errorf("stat %q: %q is not a process ID", abbreviate(data), bytes.TrimSpace(data[:open]))
	}
	rest := strings.Fields(string(data[closing+1:]))
	if len(rest) < 2 || len(rest[0]) != 1 {
		return Stat{}, fmt.Errorf("stat %q: no state and parent PID after the command name", abbreviate(data))
	}
	ppid, err := strconv.Atoi(rest[1])
	if err != nil || ppid < 0 {
		return Stat{}, fmt.Errorf("stat %q: parent PID %q is not a non-negative integer", abbreviate(data), rest[1])
	}
	return Stat{PID: pid, Comm: string(data[open+1 : closing]), State: rest[0][0], PPID: ppid}, nil
}

// abbreviate shortens file contents quoted in error messages.
func abbreviate(data []byte) string {
	const max = 80
	if len(data) > max {
		return string(data[:max]) + "..."
	}
	return string(data)
}
