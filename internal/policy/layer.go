// C twin: extension/layers.c.

package policy

import (
	"fmt"
	"sort"
)

// Ranks of the lists that go into one layer, lowest first (RANK_* in
// extension/pgseccomp.h): for each syscall the list of highest rank decides.
const (
	RankGlobalInherited = 1 // '*': the global layer's list
	RankSession         = 2 // a session-level list, or NULL in set_client_filter()
	RankExplicit        = 3 // a global list, a per-role list, or an explicit set_client_filter() argument
)

// Layer is one seccomp filter: an action for each syscall its lists name,
// and a default action for the others. A rule equal to the default is kept:
// it is part of what the layer says, and seccomp_filter() shows it.
type Layer struct {
	Origin  Origin
	Arch    Arch
	Default Action
	Rules   map[int]Action // syscall number on Arch -> action
	From    map[int]string // syscall number -> the setting (or argument) whose list decided it

	DefaultFrom string // the setting (or argument) that gives Default
}

// Why names the setting (or set_client_filter argument) that gives the
// layer's action for syscall nr (-1: its default).
func (l *Layer) Why(nr int) string {
	if from, ok := l.From[nr]; ok && nr >= 0 {
		return from
	}
	return l.DefaultFrom
}

// Action is what the layer does with syscall nr: its rule, or its default.
func (l *Layer) Action(nr int) Action {
	if a, ok := l.Rules[nr]; ok {
		return a
	}
	return l.Default
}

// List returns the syscalls the layer's rules give action a, sorted by number
// (the extension's layer_list()).
func (l *Layer) List(a Action) []int {
	var nrs []int
	for nr, action := range l.Rules {
		if action == a {
			nrs = append(nrs, nr)
		}
	}
	sort.Ints(nrs)
	return nrs
}

// Syscalls returns the numbers of every syscall the layer has a rule for,
// sorted.
func (l *Layer) Syscalls() []int {
	nrs := make([]int, 0, len(l.Rules))
	for nr := range l.Rules {
		nrs = append(nrs, nr)
	}
	sort.Ints(nrs)
	return nrs
}

// Names returns the names of the syscalls the layer gives action a, sorted.
func (l *Layer) Names(a Action) []string { return SyscallNames(l.Arch, l.List(a)) }

// Source is one list that goes into a layer.
type Source struct {
	Setting  string // named in messages and in Layer.From
	Where    string // "file:line" of the setting, for messages; may be ""
	Action   Action
	Rank     int
	Syscalls []int
}

// Assemble merges the lists of one layer, as the extension's
// assemble_layer(): for each syscall the list of highest rank decides; two
// lists of that same rank and different actions naming it is a conflict.
func Assemble(origin Origin, arch Arch, def Action, sources []Source) (*Layer, error) {
	l := &Layer{Origin: origin, Arch: arch, Default: def, Rules: map[int]Action{}, From: map[int]string{}}
	// The highest rank naming each syscall decides; only lists of that rank
	// can conflict (lower ones are overridden whatever they say).
	top := map[int]int{}
	for _, src := range sources {
		for _, nr := range src.Syscalls {
			if src.Rank > top[nr] {
				top[nr] = src.Rank
			}
		}
	}
	winner := map[int]int{} // syscall -> index of the deciding source
	var problems Problems
	reported := map[int]bool{}
	for i, src := range sources {
		for _, nr := range src.Syscalls {
			if src.Rank != top[nr] {
				continue
			}
			w, seen := winner[nr]
			switch {
			case !seen:
				winner[nr] = i
			case src.Action != sources[w].Action && !reported[nr]:
				reported[nr] = true
				problems = append(problems, Problem{Where: src.Where, Detail: fmt.Sprintf(
					"Syscall %q is named in both %s and %s.", SyscallName(arch, nr),
					describeSource(sources[w]), src.Setting)})
			}
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	for nr, i := range winner {
		l.Rules[nr] = sources[i].Action
		l.From[nr] = sources[i].Setting
	}
	return l, nil
}

func describeSource(s Source) string {
	if s.Where == "" {
		return s.Setting
	}
	return fmt.Sprintf("%s (%s)", s.Setting, s.Where)
}
