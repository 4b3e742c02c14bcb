// C twin: extension/layers.c and pgseccomp.c (the plan).

package policy

import (
	"fmt"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Policy is what the postmaster builds from the settings on one
// architecture: the global layer, and the session layer of every session
// (one for roles not listed in session_roles, one per listed role).
type Policy struct {
	Arch     Arch
	Settings *Settings
	Global   *Layer            // the postmaster's filter
	Session  *Layer            // the session layer of roles not in session_roles
	Roles    map[string]*Layer // the session layer of each role in session_roles
}

// SessionLayer is the session layer a backend of role loads right after
// authentication. The role is matched exactly (case-sensitively), as the
// extension matches the authenticated user name against session_roles.
func (p *Policy) SessionLayer(role string) *Layer {
	if l, ok := p.Roles[role]; ok {
		return l
	}
	return p.Session
}

// Build resolves the settings' lists on arch and builds the layers, as the
// postmaster does at start (build_global_layer, build_session_plan). The
// error is Problems: every list with an unknown syscall, an empty entry or
// a misplaced '*', and every syscall named in two lists of the same rank in
// one layer. Layers that could not be built are nil in the Policy it
// still returns.
func (s *Settings) Build(arch Arch) (*Policy, error) {
	p := &Policy{Arch: arch, Settings: s, Roles: map[string]*Layer{}}
	var problems Problems

	parse := func(setting, value string, allowInherit bool) (List, bool) {
		list, err := ParseList(value, allowInherit, arch)
		if err != nil {
			pr := Problem{Setting: setting, Value: value, Where: s.Where(setting), Detail: err.Error()}
			if se, ok := err.(*SyscallError); ok {
				pr.Word, pr.Pos = se.Name, se.Word
			}
			problems = append(problems, pr)
			return List{}, false
		}
		return list, true
	}

	var globalSources []Source
	globalOK := true
	for _, a := range Actions {
		name := GlobalListName(a)
		list, ok := parse(name, s.Global.Lists[a], false)
		globalOK = globalOK && ok
		globalSources = append(globalSources, Source{Setting: name, Where: s.Where(name), Action: a, Rank: RankExplicit, Syscalls: list.Syscalls})
	}
	// Parse the session-level lists even when the global ones are bad, to
	// report every problem at once.
	var sessionLists [NumActions]List
	sessionOK := true
	for _, a := range Actions {
		var ok bool
		sessionLists[a], ok = parse(SessionListName(a), s.Session.Lists[a], true)
		sessionOK = sessionOK && ok
	}
	roleLists := map[string]*[NumActions]*List{}
	for _, role := range s.SessionRoles {
		lists := &[NumActions]*List{}
		for _, a := range Actions {
			if v := s.Roles[role].Lists[a]; v != nil {
				list, ok := parse(lookupName(s, RoleListName(a, role)), *v, true)
				if ok {
					lists[a] = &list
				} else {
					sessionOK = false
				}
			}
		}
		roleLists[role] = lists
	}

	if globalOK {
		layer, err := Assemble(Global, arch, s.Global.Default, globalSources)
		if err != nil {
			problems = append(problems, err.(Problems)...)
		} else {
			layer.DefaultFrom = lookupName(s, GlobalDefaultName)
			problems = append(problems, compilerProblems(s, arch, layer)...)
		}
		p.Global = layer
	}
	if p.Global != nil && sessionOK {
		var noRole [NumActions]*List
		layer, err := p.sessionLayer("", false, sessionLists, noRole)
		if err != nil {
			problems = append(problems, err.(Problems)...)
		}
		p.Session = layer
		for _, role := range s.SessionRoles {
			if _, done := p.Roles[role]; done {
				continue // listed twice
			}
			layer, err := p.sessionLayer(role, s.Roles[role].Default != nil, sessionLists, *roleLists[role])
			if err != nil {
				problems = append(problems, err.(Problems)...)
				continue
			}
			p.Roles[role] = layer
		}
	}
	return p, problems.err()
}

// lookupName is the setting's name as the configuration writes it, falling
// back to name (per-role settings are case-insensitive).
func lookupName(s *Settings, name string) string {
	if v, ok := s.values[pgconf.FoldName(name)]; ok {
		return v.name
	}
	return name
}

// sessionLayer assembles a session layer: each action's per-role list if
// the role sets one (explicit rank), else the session-level list; a list
// that is '*' brings in the global layer's list at the lowest rank.
func (p *Policy) sessionLayer(role string, ownDefault bool, session [NumActions]List, perRole [NumActions]*List) (*Layer, error) {
	var sources []Source
	for _, a := range Actions {
		list, setting, rank := session[a], SessionListName(a), RankSession
		if perRole[a] != nil {
			list, setting, rank = *perRole[a], lookupName(p.Settings, RoleListName(a, role)), RankExplicit
		}
		src := Source{Setting: setting, Where: p.Settings.Where(setting), Action: a, Rank: rank, Syscalls: list.Syscalls}
		if list.Inherit {
			src = Source{Setting: GlobalListName(a), Where: p.Settings.Where(GlobalListName(a)), Action: a,
				Rank: RankGlobalInherited, Syscalls: p.Global.List(a)}
		}
		sources = append(sources, src)
	}
	def, defFrom := p.Settings.Session.Default, lookupName(p.Settings, SessionDefaultName)
	if ownDefault {
		def, defFrom = *p.Settings.Roles[role].Default, lookupName(p.Settings, RoleDefaultName(role))
	}
	layer, err := Assemble(Session, p.Arch, def, sources)
	if err != nil {
		return nil, err
	}
	layer.DefaultFrom = defFrom
	return layer, nil
}

// CompilerSyscalls are the syscalls the postmaster makes to compile the
// session filters, at start and on every reload, under the global filter
// (build_program in extension/filter.c: libseccomp writes the program into
// a pipe). A global layer that denies one stops the server at start.
var CompilerSyscalls = []string{"pipe2", "fcntl", "write", "read", "close"}

// compilerProblems reports the compiler syscalls the global layer denies,
// each as the setting that denies it.
func compilerProblems(s *Settings, arch Arch, global *Layer) Problems {
	var problems Problems
	for _, name := range deniedBy(arch, CompilerSyscalls, global) {
		nr, _ := SyscallNumber(arch, name)
		setting := global.Why(nr)
		v, _ := s.Lookup(setting)
		problems = append(problems, Problem{Setting: setting, Value: v.Text, Where: s.Where(setting),
			Detail: fmt.Sprintf("The global layer denies %s, which the postmaster needs to compile the session filters (pipe2, fcntl, write, read, close): the server would not start. Allow it in %s.",
				name, GlobalListName(Allow))})
	}
	return problems
}

// LoaderSyscalls are the syscalls loading one more filter makes: a layer
// below that denies them makes loading the next layer fail
// (denied_loader_syscall in extension/filter.c). Only seccomp: the
// postmaster sets no_new_privs before its own filter, and every process
// inherits it, so later layers need no prctl.
var LoaderSyscalls = []string{"seccomp"}

// DeniedLoaderSyscalls names the loader syscalls that the given layers
// (already loaded, nil ones skipped) give error or kill, as the extension's
// denied_loader_syscall().
func DeniedLoaderSyscalls(arch Arch, layers ...*Layer) []string {
	return deniedBy(arch, LoaderSyscalls, layers...)
}

// deniedBy names those of names (unknown on arch: skipped) that the layers
// together (nil ones skipped) give error or kill.
func deniedBy(arch Arch, names []string, layers ...*Layer) []string {
	var denied []string
	for _, name := range names {
		nr, err := SyscallNumber(arch, name)
		if err != nil {
			continue
		}
		effective := Allow
		for _, l := range layers {
			if l != nil {
				effective = max(effective, l.Action(nr))
			}
		}
		if effective >= Error {
			denied = append(denied, name)
		}
	}
	return denied
}

// RefusedError says that every connection is refused: the global layer
// denies syscalls that loading the session filter needs, so each backend
// exits with FATAL right after authentication.
type RefusedError struct {
	Denied []string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("every connection is refused: the global filter denies %s, which loading a session filter needs; allow it in %s",
		joinNames(e.Denied), GlobalListName(Allow))
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// NewerThanLibrary returns the syscalls named in any layer of p that the
// tool's libseccomp does not know and that were resolved from the kernel's
// table instead (see syscalls.NewerThanLibrary), sorted: a server whose
// libseccomp is as old refuses them.
func (p *Policy) NewerThanLibrary() []string {
	if p == nil {
		return nil
	}
	layers := []*Layer{p.Global, p.Session}
	for _, l := range p.Roles {
		layers = append(layers, l)
	}
	var names []string
	for _, l := range layers {
		if l == nil {
			continue
		}
		for nr := range l.Rules {
			if name, ok := p.Arch.Name(nr); ok {
				names = append(names, name)
			}
		}
	}
	return syscalls.NewerThanLibrary(p.Arch, names)
}

// NewerThanLibraryNote says what NewerThanLibrary's names mean, or "" when
// there are none.
func (p *Policy) NewerThanLibraryNote() string {
	names := p.NewerThanLibrary()
	if len(names) == 0 {
		return ""
	}
	described := make([]string, len(names))
	for i, n := range names {
		described[i] = fmt.Sprintf("%s (Linux %s)", n, syscalls.Linux(n))
	}
	its, them := "its number", "it"
	if len(names) > 1 {
		its, them = "their numbers", "them"
	}
	return fmt.Sprintf("libseccomp %s, which this tool uses, does not know %s; %s on %s come from the kernel's syscall tables. A server accepts %s only if its own libseccomp knows %s: with libseccomp %s or another that does not, pgseccomp refuses the setting and the server does not start",
		syscalls.LibraryVersion(), strings.Join(described, ", "), its, p.Arch, them, them, syscalls.LibraryVersion())
}
