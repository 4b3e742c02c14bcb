package audit

import (
	"bytes"
	"strings"
	"time"
)

// Filter selects records. A zero Filter selects every record; each field
// that is set narrows the selection (a record must pass all of them), and a
// list passes a record that matches any of its entries.
type Filter struct {
	PIDs  []int
	Comms []string // the record's comm=, exactly ("postgres")
	// Exes are executables: a path matches exe= exactly, a name without
	// "/" matches exe='s last element ("postgres" matches
	// /usr/lib/postgresql/15/bin/postgres).
	Exes    []string
	Actions []Action
	// Since selects records written at or after it. A record whose line
	// gives no date (see [Record.Time]) never passes a Since filter.
	Since time.Time
	// Untrusted also selects records from sources users can write (see
	// [Format.Trusted]), which are otherwise only counted: a database user
	// can RAISE LOG a line that looks like a record. [Filter.Match] does
	// not look at it; [Summary.Tally] does.
	Untrusted bool
}

// Match reports whether r passes f.
func (f *Filter) Match(r *Record) bool {
	if len(f.PIDs) > 0 && !containsInt(f.PIDs, r.PID) {
		return false
	}
	if len(f.Actions) > 0 && !containsAction(f.Actions, r.Action()) {
		return false
	}
	if len(f.Comms) > 0 && !matchComm(f.Comms, r.Comm) {
		return false
	}
	if len(f.Exes) > 0 && !matchExe(f.Exes, r.Exe) {
		return false
	}
	if !f.Since.IsZero() && (r.Time.IsZero() || r.Time.Before(f.Since)) {
		return false
	}
	return true
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsAction(list []Action, a Action) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func matchComm(list []string, comm []byte) bool {
	for _, c := range list {
		if c == string(comm) {
			return true
		}
	}
	return false
}

func matchExe(list []string, exe []byte) bool {
	base := exe
	if i := bytes.LastIndexByte(exe, '/'); i >= 0 {
		base = exe[i+1:]
	}
	for _, e := range list {
		if strings.ContainsRune(e, '/') {
			if e == string(exe) {
				return true
			}
		} else if e == string(base) {
			return true
		}
	}
	return false
}
