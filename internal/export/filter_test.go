package export

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got ---\n%s", path, got)
	}
}

// pgAllow is a global allow-list of the kind a recorded PostgreSQL 15
// profile has (a subset, to keep the golden files readable).
var pgAllow = []string{
	"accept4", "brk", "clock_gettime", "clone", "close", "epoll_create1",
	"epoll_ctl", "epoll_wait", "exit_group", "fallocate", "fcntl",
	"fdatasync", "fstat", "fsync", "ftruncate", "futex", "getpid", "getrandom",
	"gettid", "kill", "lseek", "madvise", "mmap", "mprotect", "munmap",
	"newfstatat", "openat", "pread64", "pwrite64", "pwritev", "read",
	"recvfrom", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "select",
	"sendto", "setsid", "tgkill", "unlink", "wait4", "write",
}

// profileOf builds a Filter: the default, then action/name-list pairs.
func profileOf(def policy.Action, lists map[policy.Action][]string) Filter {
	p := Filter{Source: "global layer of testdata/postgresql.conf", Default: def, Syscalls: map[string]policy.Action{}}
	for a, names := range lists {
		for _, n := range names {
			p.Syscalls[n] = a
		}
	}
	return p
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Filter
		wantErr string
	}{
		{"ok", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: {"read"}}), ""},
		{"empty", Filter{Default: policy.Allow}, ""},
		{"bad default", Filter{Default: policy.Action(7)}, "invalid default action"},
		{"bad action", Filter{Default: policy.Allow, Syscalls: map[string]policy.Action{"read": -1}}, `syscall "read" has an invalid action`},
		{"upper case", Filter{Default: policy.Allow, Syscalls: map[string]policy.Action{"Read": policy.Log}}, `"Read" is not a syscall name`},
		{"space", Filter{Default: policy.Allow, Syscalls: map[string]policy.Action{"read write": policy.Log}}, `"read write" is not a syscall name`},
		{"empty name", Filter{Default: policy.Allow, Syscalls: map[string]policy.Action{"": policy.Log}}, `"" is not a syscall name`},
		{"systemd group", Filter{Default: policy.Allow, Syscalls: map[string]policy.Action{"@default": policy.Log}}, `"@default" is not a syscall name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestAllowing(t *testing.T) {
	p := profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: {"read"}, policy.Log: {"readlink"}, policy.Kill: {"ptrace"},
	})
	got, changed := p.allowing([]string{"read", "readlink", "ptrace", "execve", "execve"})
	if want := []string{"execve", "ptrace"}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed %v, want %v", changed, want)
	}
	want := map[string]policy.Action{"read": policy.Allow, "readlink": policy.Log, "ptrace": policy.Allow, "execve": policy.Allow}
	if !reflect.DeepEqual(got.Syscalls, want) {
		t.Errorf("syscalls %v, want %v", got.Syscalls, want)
	}
	if p.Syscalls["ptrace"] != policy.Kill || len(p.Syscalls) != 3 {
		t.Errorf("allowing changed the original profile: %v", p.Syscalls)
	}

	// With an allow default nothing is denied, so nothing changes.
	q := profileOf(policy.Allow, nil)
	if _, changed := q.allowing([]string{"execve"}); len(changed) != 0 {
		t.Errorf("allow default: changed %v", changed)
	}
}

func TestSummary(t *testing.T) {
	p := profileOf(policy.Log, map[policy.Action][]string{policy.Allow: {"read", "write"}, policy.Kill: {"ptrace"}})
	if got, want := p.Summary(), "default log; allow 2, log 0, error 0, kill 1 syscalls"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func TestParseErrno(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Errno
		wantErr string
	}{
		{"EACCES", Errno{"EACCES", 13}, ""},
		{"eperm", Errno{"EPERM", 1}, ""},
		{" ENOSYS ", Errno{"ENOSYS", 38}, ""},
		{"13", Errno{"EACCES", 13}, ""},
		{"1", Errno{"EPERM", 1}, ""},
		{"0", Errno{}, "out of range"},
		{"4096", Errno{}, "out of range"},
		{"-1", Errno{}, "out of range"},
		{"EACCESS", Errno{}, `unknown errno "EACCESS"`},
		{"kill", Errno{}, `unknown errno "kill"`},
		{"", Errno{}, `unknown errno ""`},
		{"4000", Errno{}, "has no name"},
	} {
		got, err := ParseErrno(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("ParseErrno(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseErrno(%q) error %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func FuzzParseErrno(f *testing.F) {
	for _, s := range []string{"EACCES", "eperm", "13", "0", "4095", "EWOULDBLOCK", "EAGAIN", "", "-1", " 1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseErrno(s)
		if err != nil {
			return
		}
		if e.Number < 1 || e.Number > maxErrno || e.Name == "" {
			t.Fatalf("ParseErrno(%q) = %+v", s, e)
		}
		// The name it gives reads back as the same number.
		again, err := ParseErrno(e.Name)
		if err != nil || again.Number != e.Number {
			t.Fatalf("ParseErrno(%q) = %+v, but its name reads back as %+v, %v", s, e, again, err)
		}
	})
}
