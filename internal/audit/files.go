package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// Input is one file named to read records from, opened.
type Input struct {
	Name  string // as given; "" for standard input
	r     io.Reader
	close func()
}

// Label names the input in messages.
func (in Input) Label() string {
	if in.Name == "" {
		return "standard input"
	}
	return in.Name
}

// Inputs are the files a command reads records from, in order.
type Inputs []Input

// OpenFiles opens every file named ("-" is stdin) before any is read, so
// that a typo fails the run before it prints anything. Its error names the
// file and what to check.
func OpenFiles(files []string, stdin io.Reader) (Inputs, error) {
	var inputs Inputs
	for _, name := range files {
		if name == "-" {
			inputs = append(inputs, Input{Name: "", r: stdin, close: func() {}})
			continue
		}
		f, err := os.Open(name)
		if err == nil {
			if fi, serr := f.Stat(); serr == nil && fi.IsDir() {
				f.Close()
				err = errors.New("is a directory")
			}
		}
		if err != nil {
			inputs.Close()
			hint := ""
			switch {
			case errors.Is(err, fs.ErrNotExist):
				hint = "; check the path (auditd's log is /var/log/audit/audit.log; without auditd, pipe dmesg or journalctl -k -o json into pgseccomp syscalls)"
			case errors.Is(err, fs.ErrPermission):
				hint = "; audit logs are readable by root (or the adm group) only: run as root"
			}
			return nil, fmt.Errorf("cannot read %s: %v%s", name, pgconf.UnwrapPathError(err), hint)
		}
		inputs = append(inputs, Input{Name: name, r: f, close: func() { f.Close() }})
	}
	return inputs, nil
}

// ReadsStdin reports whether one of the inputs is standard input.
func (ins Inputs) ReadsStdin() bool {
	for _, in := range ins {
		if in.Name == "" {
			return true
		}
	}
	return false
}

// Tally tallies the records of every input into sum (see Summary.Tally)
// and returns the lines' counts. Its error names the input it could not
// read.
func (ins Inputs) Tally(sum *Summary, f *Filter) (Stats, error) {
	var stats Stats
	for _, in := range ins {
		st, err := sum.Tally(in.r, in.Name, f)
		stats.Add(st)
		if err != nil {
			return stats, fmt.Errorf("reading %s: %v", in.Label(), pgconf.UnwrapPathError(err))
		}
	}
	return stats, nil
}

// Close closes every input opened.
func (ins Inputs) Close() {
	for _, in := range ins {
		in.close()
	}
}
