// C twin: extension/syscall_list.c (parse_action).

package policy

import (
	"fmt"
	"strings"
)

// Action is what a seccomp filter does with a syscall. Actions are ordered by
// precedence: when several layers act on a syscall, the greatest wins.
type Action int

// The actions, in increasing precedence (docs/SPEC.md §1).
const (
	Allow Action = iota // the syscall runs
	Log                 // the syscall runs and the kernel audits it
	Error               // the syscall fails with EACCES, audited
	Kill                // the process dies with SIGSYS
)

// NumActions is the number of actions; Actions lists them in order.
const NumActions = 4

// Actions are all actions, in increasing precedence.
var Actions = [NumActions]Action{Allow, Log, Error, Kill}

var actionNames = [NumActions]string{"allow", "log", "error", "kill"}

// String returns the action's name as the settings spell it: allow, log,
// error or kill.
func (a Action) String() string {
	if a < 0 || int(a) >= NumActions {
		return fmt.Sprintf("Action(%d)", int(a))
	}
	return actionNames[a]
}

// Valid reports whether a is one of the four actions.
func (a Action) Valid() bool { return a >= Allow && a <= Kill }

// MarshalText writes the action's name, so that JSON shows "error", not 2.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("invalid action %d", int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads an action's name (see ParseAction).
func (a *Action) UnmarshalText(text []byte) error {
	parsed, err := ParseAction(string(text))
	if err != nil {
		return err
	}
	*a = parsed
	return nil
}

// ParseAction reads an action name as the extension's parse_action() does
// everywhere (the default settings, per-role defaults, set_client_filter's
// default_action) and as PostgreSQL reads enum settings: case-insensitive,
// and no whitespace allowed, so that a value PostgreSQL would replace by the
// default (allow) is refused instead.
func ParseAction(s string) (Action, error) {
	for i, name := range actionNames {
		if strings.EqualFold(s, name) && isASCII(s) {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q: use allow, log, error or kill", s)
}

// Origin names a layer: the filter a row of seccomp_filter() comes from.
// Origins are ordered from outermost (loaded first) to innermost.
type Origin int

// The layers, outermost first (docs/SPEC.md §2).
const (
	Global  Origin = iota // the postmaster's filter, inherited by every process
	Session               // loaded right after a client authenticates
	Client                // loaded by set_client_filter()
)

var originNames = [...]string{"global", "session", "client"}

// String returns global, session or client.
func (o Origin) String() string {
	if o < 0 || int(o) >= len(originNames) {
		return fmt.Sprintf("Origin(%d)", int(o))
	}
	return originNames[o]
}

// MarshalText writes the origin's name.
func (o Origin) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// isCSpace is C's isspace() in the C locale, which the extension uses to
// trim list entries and action names.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func trimCSpace(s string) string {
	start, end := 0, len(s)
	for start < end && isCSpace(s[start]) {
		start++
	}
	for end > start && isCSpace(s[end-1]) {
		end--
	}
	return s[start:end]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
