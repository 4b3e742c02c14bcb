package record

import (
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// TestCompleteListsFromNeeds: the lists are completed from policy.Needs,
// the table lint checks against too. Work any backend does by chance goes
// into every session layer once the global layer recorded it (and only
// then); restart_syscall goes everywhere.
func TestCompleteListsFromNeeds(t *testing.T) {
	r := &recorder{arch: syscalls.X86_64, lists: newLists(), opts: Options{PerRole: true}}
	for _, n := range []string{"pwritev", "tgkill", "gettid", "rt_sigreturn", "read"} {
		r.lists.global[n] = true
	}
	r.lists.session["read"] = true
	r.lists.roles["joe"] = map[string]bool{"read": true}
	r.completeLists()
	tests := []struct {
		layer string
		set   map[string]bool
		has   []string
		lacks []string
	}{
		{"global", r.lists.global, []string{"restart_syscall", "pwritev"}, []string{"getpid"}},
		{"session", r.lists.session, []string{"pwritev", "tgkill", "gettid", "rt_sigreturn", "restart_syscall"}, []string{"getpid", "rt_sigprocmask"}},
		{"role joe", r.lists.roles["joe"], []string{"pwritev", "tgkill", "restart_syscall"}, []string{"getpid"}},
	}
	for _, tt := range tests {
		for _, n := range tt.has {
			if !tt.set[n] {
				t.Errorf("%s lacks %s", tt.layer, n)
			}
		}
		for _, n := range tt.lacks {
			if tt.set[n] {
				t.Errorf("%s has %s, which no layer recorded", tt.layer, n)
			}
		}
	}
	var abortWhy bool
	for _, a := range r.added {
		if a.Layer == "session" && len(a.Syscalls) > 0 && a.Why != "" {
			abortWhy = true
		}
	}
	if !abortWhy {
		t.Errorf("no reason recorded for the session layer's additions: %+v", r.added)
	}
}
