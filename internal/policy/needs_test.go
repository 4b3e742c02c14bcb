package policy

import (
	"slices"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// TestNeeds checks the table itself: every name is a syscall of x86_64
// (the architecture it was measured on), a session need is a global need
// too (a backend's syscalls pass the global filter as well), and each
// check name is used once.
func TestNeeds(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Needs {
		if seen[n.Check] {
			t.Errorf("check %q twice", n.Check)
		}
		seen[n.Check] = true
		if len(n.Global) == 0 || n.Why == "" {
			t.Errorf("%s: no syscalls or no reason", n.Check)
		}
		for _, s := range n.Global {
			if _, err := SyscallNumber(syscalls.X86_64, s); err != nil {
				t.Errorf("%s: %v", n.Check, err)
			}
		}
		for _, s := range n.Session {
			if !slices.Contains(n.Global, s) {
				t.Errorf("%s: session need %s is not a global need", n.Check, s)
			}
		}
	}
}

func TestNeedsByCondition(t *testing.T) {
	tests := []struct {
		conds      []Condition
		global     []string // must contain
		notGlobal  []string // must not contain
		session    []string
		notSession []string
	}{
		{nil, []string{"bind", "listen", "clone", "pwritev", "tgkill"}, []string{"setsockopt", "getsockopt", "getrandom"},
			[]string{"pwritev", "tgkill", "getpid", "rt_sigreturn", "restart_syscall"}, []string{"bind", "clone", "getrandom"}},
		{[]Condition{ListenTCP, Peer}, []string{"setsockopt", "getsockopt", "socket"}, []string{"getrandom"}, nil, []string{"setsockopt", "getsockopt"}},
		{[]Condition{Password}, []string{"getrandom"}, []string{"getsockopt"}, nil, []string{"getrandom"}},
	}
	for _, tt := range tests {
		g, s := GlobalNeeds(tt.conds...), SessionNeeds(tt.conds...)
		for _, n := range tt.global {
			if !slices.Contains(g, n) {
				t.Errorf("%v: global needs lack %s", tt.conds, n)
			}
		}
		for _, n := range tt.notGlobal {
			if slices.Contains(g, n) {
				t.Errorf("%v: global needs have %s", tt.conds, n)
			}
		}
		for _, n := range tt.session {
			if !slices.Contains(s, n) {
				t.Errorf("%v: session needs lack %s", tt.conds, n)
			}
		}
		for _, n := range tt.notSession {
			if slices.Contains(s, n) {
				t.Errorf("%v: session needs have %s", tt.conds, n)
			}
		}
	}
	if !slices.Equal(PostmasterOnly(), []string{"bind", "listen", "clone"}) {
		t.Errorf("PostmasterOnly() = %v", PostmasterOnly())
	}
}

// TestNeedsFor: 19 sleeps and waits without select(), so no need of 19
// names pselect6; 18 and an unknown major keep every need.
func TestNeedsFor(t *testing.T) {
	names := func(major int) map[string]bool {
		out := map[string]bool{}
		for _, n := range NeedsFor(major) {
			for _, s := range n.Global {
				out[s] = true
			}
		}
		return out
	}
	for _, c := range []struct {
		major    int
		pselect6 bool
	}{{0, true}, {15, true}, {18, true}, {19, false}} {
		if got := names(c.major)["pselect6"]; got != c.pselect6 {
			t.Errorf("NeedsFor(%d) names pselect6: %v, want %v", c.major, got, c.pselect6)
		}
		if !names(c.major)["tgkill"] {
			t.Errorf("NeedsFor(%d) lost abort()'s tgkill", c.major)
		}
	}
	if len(NeedsFor(0)) != len(Needs) {
		t.Errorf("NeedsFor(0) has %d needs, the table %d", len(NeedsFor(0)), len(Needs))
	}
}
