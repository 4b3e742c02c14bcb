package policy

import (
	"fmt"
	"strings"
)

// ParseFilterAction reads seccomp_filter()'s filter_action column,
// "origin->action" (session->error).
func ParseFilterAction(s string) (Origin, Action, error) {
	origin, action, ok := strings.Cut(s, "->")
	if !ok {
		return 0, 0, fmt.Errorf("filter_action %q is not origin->action", s)
	}
	o := Origin(-1)
	for i, name := range originNames {
		if origin == name {
			o = Origin(i)
		}
	}
	if o < 0 {
		return 0, 0, fmt.Errorf("filter_action %q: unknown layer %q (global, session or client)", s, origin)
	}
	// The extension writes action names in lower case; ParseAction would
	// also take other cases.
	a, err := ParseAction(action)
	if err != nil || a.String() != action {
		return 0, 0, fmt.Errorf("filter_action %q: unknown action %q (allow, log, error or kill)", s, action)
	}
	return o, a, nil
}

// ParseRow makes a Row of seccomp_filter()'s columns (syscall, syscallnum,
// filter_action, context) as a server returns them.
func ParseRow(syscall string, number int, filterAction, context string) (Row, error) {
	o, a, err := ParseFilterAction(filterAction)
	if err != nil {
		return Row{}, fmt.Errorf("row of syscall %s: %w", syscall, err)
	}
	if context != ContextGlobal && context != ContextSession {
		return Row{}, fmt.Errorf("row of syscall %s: context %q is neither %s nor %s", syscall, context, ContextGlobal, ContextSession)
	}
	return Row{Syscall: syscall, Number: number, Origin: o, Action: a, Context: context}, nil
}
