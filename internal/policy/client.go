// C twin: extension/sqlfuncs.c (set_client_filter).

package policy

import (
	"fmt"
)

// ClientArgs are the arguments of set_client_filter(default_action,
// allow_list, log_list, error_list, kill_list). A nil pointer is SQL NULL:
// "this session's value"; a list of exactly '*' is the global list; any
// other list is explicit and beats the inherited ones.
type ClientArgs struct {
	Default *string
	Lists   [NumActions]*string // indexed by Action: allow, log, error, kill
}

// ClientArgNames are the SQL names of set_client_filter's list arguments,
// indexed by Action.
var ClientArgNames = [NumActions]string{"allow_list", "log_list", "error_list", "kill_list"}

// ClientLayer is the layer set_client_filter(args) would load in a session
// of role, as the extension's set_client_filter(): it fails like the
// function (Problems) for an invalid argument or two explicit lists naming
// one syscall, and with a *LoadError when the layers below deny the
// syscalls that loading a filter needs.
func (p *Policy) ClientLayer(role string, args ClientArgs) (*Layer, error) {
	session := p.SessionLayer(role)
	if p.Global == nil || session == nil {
		return nil, fmt.Errorf("the configuration is invalid: no session would start (see the problems reported by Build)")
	}
	var problems Problems
	def, defFrom := session.Default, "this session's default action"
	if args.Default != nil {
		defFrom = "argument default_action"
		a, err := ParseAction(*args.Default)
		if err != nil {
			problems = append(problems, Problem{Setting: "argument default_action of set_client_filter()", Value: *args.Default,
				Detail: "Use allow, log, error or kill, or NULL for this session's default action."})
		}
		def = a
	}
	var sources []Source
	for _, a := range Actions {
		argName := "argument " + ClientArgNames[a]
		v := args.Lists[a]
		if v == nil {
			sources = append(sources, Source{Setting: "this session's " + a.String() + " list", Action: a,
				Rank: RankSession, Syscalls: session.List(a)})
			continue
		}
		list, err := ParseList(*v, true, p.Arch)
		if err != nil {
			problems = append(problems, Problem{Setting: argName + " of set_client_filter()", Value: *v, Detail: err.Error()})
			continue
		}
		if list.Inherit {
			sources = append(sources, Source{Setting: "the global " + a.String() + " list", Action: a,
				Rank: RankGlobalInherited, Syscalls: p.Global.List(a)})
		} else {
			sources = append(sources, Source{Setting: argName, Action: a, Rank: RankExplicit, Syscalls: list.Syscalls})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	layer, err := Assemble(Client, p.Arch, def, sources)
	if err != nil {
		return nil, err
	}
	layer.DefaultFrom = defFrom
	if denied := DeniedLoaderSyscalls(p.Arch, p.Global, session); len(denied) > 0 {
		return nil, &LoadError{Denied: denied}
	}
	return layer, nil
}

// LoadError says that set_client_filter() cannot load its layer: the
// session's filters deny syscalls that loading a filter needs.
type LoadError struct {
	Denied []string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("could not load the client filter: the filters of this session deny %s, which loading a filter needs; allow it in %s and %s",
		joinNames(e.Denied), GlobalListName(Allow), SessionListName(Allow))
}

// ClientArgsFromSQL makes ClientArgs from set_client_filter's five
// arguments in SQL order (default_action, allow_list, log_list, error_list,
// kill_list); nil is NULL.
func ClientArgsFromSQL(args [1 + NumActions]*string) ClientArgs {
	c := ClientArgs{Default: args[0]}
	copy(c.Lists[:], args[1:])
	return c
}
