package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Two x86_64 records (getpgrp, logged; getppid, errno) and one of i386
// (getpid, 20).
const listingRecords = `type=SECCOMP msg=audit(1795820196.324:1): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6283 comm="postgres" exe="/usr/bin/postgres" sig=0 arch=c000003e syscall=111 compat=0 ip=0x40a6ce code=0x7ffc0000
type=SECCOMP msg=audit(1795820196.324:2): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6283 comm="postgres" exe="/usr/bin/postgres" sig=0 arch=c000003e syscall=110 compat=0 ip=0x40a6ce code=0x50000
type=SECCOMP msg=audit(1795820196.324:3): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=6284 comm="postgres" exe="/usr/bin/postgres" sig=0 arch=40000003 syscall=20 compat=1 ip=0x40a6ce code=0x7ffc0000
not a record
`

func TestListing(t *testing.T) {
	x86, i386 := syscalls.Arch(0), syscalls.Arch(0)
	var err error
	if x86, err = syscalls.ParseArch("x86_64"); err != nil {
		t.Fatal(err)
	}
	if i386, err = syscalls.ParseArch("i386"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		l       Listing
		stdout  string   // exact; "" with JSON
		stderr  []string // substrings
		jsonLen int      // with JSON: how many syscalls
	}{
		{"one ABI", Listing{Arches: []syscalls.Arch{x86}}, "getpgrp,getppid\n",
			[]string{"note: 1 record for i386 not printed (getpid); add --arch i386 to print them",
				"read 4 lines from standard input: 3 seccomp records, 3 selected; 1 unrelated, 0 malformed, 0 untrusted"}, 0},
		{"two ABIs, a line each", Listing{Arches: []syscalls.Arch{x86, i386}}, "getpgrp,getppid\ngetpid\n",
			[]string{"stdout line 1: x86_64 (2 syscalls); line 2: i386 (1 syscall)"}, 0},
		{"every ABI seen", Listing{All: true}, "getpgrp,getppid\ngetpid\n", nil, 0},
		{"JSON has every ABI", Listing{JSON: true}, "", []string{"3 seccomp records"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sum Summary
			st, err := sum.Tally(strings.NewReader(listingRecords), "", &Filter{})
			if err != nil {
				t.Fatal(err)
			}
			l := tt.l
			l.Summary, l.Stats, l.Files = &sum, st, []string{"-"}
			var out, errOut strings.Builder
			if err := l.Write(&out, &errOut); err != nil {
				t.Fatal(err)
			}
			if tt.l.JSON {
				var got struct{ Syscalls []any }
				if err := json.Unmarshal([]byte(out.String()), &got); err != nil || len(got.Syscalls) != tt.jsonLen {
					t.Errorf("JSON %s: %v, %d syscalls; want %d", out.String(), err, len(got.Syscalls), tt.jsonLen)
				}
			} else if out.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", out.String(), tt.stdout)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, []byte(listingRecords), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		files []string
		err   string // a substring; "" for none
		stdin bool
	}{
		{[]string{log, "-"}, "", true},
		{[]string{log}, "", false},
		{[]string{log, filepath.Join(dir, "missing.log")}, "cannot read " + filepath.Join(dir, "missing.log") + ": no such file or directory; check the path", false},
		{[]string{dir}, "cannot read " + dir + ": is a directory", false},
	}
	for _, tt := range tests {
		ins, err := OpenFiles(tt.files, strings.NewReader(""))
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.files, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want one with %q", tt.files, err, tt.err)
		case err == nil:
			if ins.ReadsStdin() != tt.stdin {
				t.Errorf("%q: ReadsStdin() = %v", tt.files, ins.ReadsStdin())
			}
			var sum Summary
			if st, err := ins.Tally(&sum, &Filter{}); err != nil || st.Records != 3 {
				t.Errorf("%q: %d records, %v; want 3", tt.files, st.Records, err)
			}
			ins.Close()
		}
	}
}
