// C twin: extension/sqlfuncs.c (seccomp_filter).

package policy

import (
	"encoding/json"
	"fmt"
	"sort"
)

// The contexts of seccomp_filter() rows.
const (
	ContextGlobal  = "global"  // the postmaster's filter, which every other process inherits
	ContextSession = "session" // a backend with all its layers merged
)

// DefaultRowName is the syscall column of the row for the default action.
const DefaultRowName = "<default>"

// Row is one row of seccomp_filter(): (syscall, syscallnum, filter_action,
// context), with filter_action split into Origin and Action.
type Row struct {
	Syscall string // syscall name, or DefaultRowName
	Number  int    // syscall number on the arch, -1 for the default row
	Origin  Origin // the layer that gives the action (the innermost on a tie)
	Action  Action // the effective action: the maximum over the layers
	Context string // ContextGlobal or ContextSession
	Why     string // the setting (or set_client_filter argument) that gives the action
}

// FilterAction is the filter_action column: "origin->action".
func (r Row) FilterAction() string { return r.Origin.String() + "->" + r.Action.String() }

func (r Row) String() string {
	return fmt.Sprintf("%s | %d | %s | %s", r.Syscall, r.Number, r.FilterAction(), r.Context)
}

// MarshalJSON writes the row with seccomp_filter()'s column names, plus
// origin and action on their own.
func (r Row) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Syscall      string `json:"syscall"`
		SyscallNum   int    `json:"syscallnum"`
		FilterAction string `json:"filter_action"`
		Context      string `json:"context"`
		Origin       Origin `json:"origin"`
		Action       Action `json:"action"`
		Why          string `json:"why,omitempty"`
	}{r.Syscall, r.Number, r.FilterAction(), r.Context, r.Origin, r.Action, r.Why})
}

// Stack is the layers one process has loaded, outermost first (global,
// then session, then client); the kernel applies all of them.
type Stack []*Layer

// Effective is what the stack does with syscall nr (-1: a syscall no layer
// names, i.e. the defaults): the maximum action over the layers, and the
// layer giving it, the innermost one on a tie.
func (s Stack) Effective(nr int) (Action, Origin) {
	a, l := s.decide(nr)
	if l == nil {
		return Allow, Global
	}
	return a, l.Origin
}

// decide returns the effective action for nr and the layer that gives it.
func (s Stack) decide(nr int) (Action, *Layer) {
	best := Allow
	var by *Layer
	if len(s) > 0 {
		by = s[0]
	}
	for _, l := range s {
		a := l.Default
		if nr >= 0 {
			a = l.Action(nr)
		}
		if a >= best {
			best, by = a, l
		}
	}
	return best, by
}

// Rows are the rows seccomp_filter() returns for this stack in context:
// the <default> row, then one row per syscall any layer names, by number.
func (s Stack) Rows(context string) []Row {
	if len(s) == 0 {
		return nil
	}
	arch := s[0].Arch
	action, by := s.decide(-1)
	rows := []Row{{Syscall: DefaultRowName, Number: -1, Origin: by.Origin, Action: action, Context: context, Why: by.Why(-1)}}
	seen := map[int]bool{}
	var nrs []int
	for _, l := range s {
		for nr := range l.Rules {
			if !seen[nr] {
				seen[nr] = true
				nrs = append(nrs, nr)
			}
		}
	}
	sort.Ints(nrs)
	for _, nr := range nrs {
		action, by := s.decide(nr)
		rows = append(rows, Row{Syscall: SyscallName(arch, nr), Number: nr, Origin: by.Origin, Action: action, Context: context, Why: by.Why(nr)})
	}
	return rows
}

// GlobalRows are the rows of context "global": the postmaster's filter.
func (p *Policy) GlobalRows() []Row {
	if p.Global == nil {
		return nil
	}
	return Stack{p.Global}.Rows(ContextGlobal)
}

// SessionStack is the layers a backend of role has: global and session,
// plus the client layer when client is not nil (set_client_filter() was
// called with those arguments). It fails with a *RefusedError when the
// connection would be refused, or with ClientLayer's error.
func (p *Policy) SessionStack(role string, client *ClientArgs) (Stack, error) {
	session := p.SessionLayer(role)
	if p.Global == nil || session == nil {
		return nil, fmt.Errorf("the configuration is invalid: no session would start (see the problems reported by Build)")
	}
	if denied := DeniedLoaderSyscalls(p.Arch, p.Global); len(denied) > 0 {
		return nil, &RefusedError{Denied: denied}
	}
	stack := Stack{p.Global, session}
	if client != nil {
		layer, err := p.ClientLayer(role, *client)
		if err != nil {
			return nil, err
		}
		stack = append(stack, layer)
	}
	return stack, nil
}

// SessionRows are the rows of context "session" in a backend of role,
// after set_client_filter(*client) when client is not nil.
func (p *Policy) SessionRows(role string, client *ClientArgs) ([]Row, error) {
	stack, err := p.SessionStack(role, client)
	if err != nil {
		return nil, err
	}
	return stack.Rows(ContextSession), nil
}

// Rows are all the rows SELECT * FROM seccomp_filter() returns in a
// backend of role (after set_client_filter(*client) when client is not
// nil): the global context, then the session context.
func (p *Policy) Rows(role string, client *ClientArgs) ([]Row, error) {
	session, err := p.SessionRows(role, client)
	if err != nil {
		return nil, err
	}
	return append(p.GlobalRows(), session...), nil
}
