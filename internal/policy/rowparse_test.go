package policy

import (
	"strings"
	"testing"
)

func TestParseRow(t *testing.T) {
	tests := []struct {
		filterAction, context string
		want                  Row
		err                   string
	}{
		{"session->error", "session", Row{Syscall: "acct", Number: 163, Origin: Session, Action: Error, Context: "session"}, ""},
		{"global->log", "global", Row{Syscall: "acct", Number: 163, Origin: Global, Action: Log, Context: "global"}, ""},
		{"client->kill", "session", Row{Syscall: "acct", Number: 163, Origin: Client, Action: Kill, Context: "session"}, ""},
		{"session-error", "session", Row{}, `filter_action "session-error" is not origin->action`},
		{"role->error", "session", Row{}, `unknown layer "role"`},
		{"session->deny", "session", Row{}, `unknown action "deny"`},
		{"session->ERROR", "session", Row{}, `unknown action "ERROR"`},
		{"session->error", "client", Row{}, `context "client" is neither global nor session`},
	}
	for _, tt := range tests {
		got, err := ParseRow("acct", 163, tt.filterAction, tt.context)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q %q: %v, %v; want an error with %q", tt.filterAction, tt.context, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("%q %q: %v, %v; want %v", tt.filterAction, tt.context, got, err, tt.want)
		}
	}
}

// FuzzParseFilterAction: never panics, and what it accepts is written
// back the same by Row.FilterAction.
func FuzzParseFilterAction(f *testing.F) {
	for _, seed := range []string{"session->error", "global->allow", "client->kill", "->", "session->", "a->b->c", "Session->log"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, a, err := ParseFilterAction(s)
		if err != nil {
			return
		}
		if back := (Row{Origin: o, Action: a}).FilterAction(); back != s {
			t.Fatalf("%q read as %v, %v, written back as %q", s, o, a, back)
		}
	})
}
