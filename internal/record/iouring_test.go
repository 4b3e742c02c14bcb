package record

import (
	"fmt"
	"strings"
	"testing"
)

// TestWithholdIOUring: io_uring syscalls recorded in sessions are taken
// out of the session layer and every role's, and named with the layer;
// the global layer keeps them; --keep-io-uring keeps them everywhere.
func TestWithholdIOUring(t *testing.T) {
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	for _, tt := range []struct {
		name     string
		keep     bool
		session  map[string]bool
		roles    map[string]map[string]bool
		withheld string // layer: names; ...
		left     string // what the session and role sets keep
	}{
		{"nothing recorded", false, set("read"), nil, "", "session=[read]"},
		{"session", false, set("read", "io_uring_setup", "io_uring_enter"), nil,
			"session: [io_uring_setup io_uring_enter]", "session=[read]"},
		{"every one, and a role", false, set("io_uring_register", "io_uring_setup", "io_uring_enter"), map[string]map[string]bool{"app": set("write", "io_uring_enter"), "bob": set("read")},
			"session: [io_uring_setup io_uring_enter io_uring_register]; role app: [io_uring_enter]", "session=[] app=[write] bob=[read]"},
		{"kept on request", true, set("read", "io_uring_setup"), map[string]map[string]bool{"app": set("io_uring_enter")},
			"", "session=[io_uring_setup read] app=[io_uring_enter]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLists()
			l.global = set("io_uring_setup", "read")
			l.session = tt.session
			if tt.roles != nil {
				l.roles = tt.roles
			}
			got := ""
			for i, w := range withholdIOUring(l, tt.keep) {
				if i > 0 {
					got += "; "
				}
				got += fmt.Sprintf("%s: %v", w.Layer, w.Syscalls)
				if w.Why != ioUringWhy {
					t.Errorf("why %q", w.Why)
				}
			}
			if got != tt.withheld {
				t.Errorf("withheld %q, want %q", got, tt.withheld)
			}
			left := fmt.Sprintf("session=%v", sortedNames(l.session))
			for _, r := range l.roleNames() {
				left += fmt.Sprintf(" %s=%v", r, sortedNames(l.roles[r]))
			}
			if left != tt.left {
				t.Errorf("left %q, want %q", left, tt.left)
			}
			if !l.global["io_uring_setup"] {
				t.Error("the global layer lost io_uring_setup")
			}
		})
	}
}

// A denial of an io_uring syscall in the enforce pass says why it was left
// out and what to do.
func TestFailedErrorIOUring(t *testing.T) {
	for _, tt := range []struct {
		denials []string
		hint    bool
	}{
		{[]string{"io_uring_setup (session, workload x)"}, true},
		{[]string{"readlink (session, workload x)"}, false},
	} {
		msg := (&FailedError{Denials: tt.denials}).Error()
		if strings.Contains(msg, "--keep-io-uring") != tt.hint || !strings.Contains(msg, tt.denials[0]) {
			t.Errorf("%v: %s", tt.denials, msg)
		}
	}
}
