package export

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Filter is one seccomp filter for a whole PostgreSQL service: what it
// does with each named syscall, and with every other one.
type Filter struct {
	// Source says where the filter comes from, for the outputs' headers,
	// e.g. "global layer of /etc/postgresql/15/main/postgresql.conf".
	Source string
	// Default is the action for every syscall not in Syscalls.
	Default policy.Action
	// Syscalls maps syscall names to their actions. A name whose action
	// equals Default changes nothing but is kept, so the outputs show it.
	Syscalls map[string]policy.Action
}

// FromLayer is the filter of layer l of a policy built on arch, its
// syscalls named as on arch; source says where it comes from.
func FromLayer(l *policy.Layer, arch policy.Arch, source string) Filter {
	f := Filter{Source: source, Default: l.Default, Syscalls: map[string]policy.Action{}}
	for nr, a := range l.Rules {
		f.Syscalls[policy.SyscallName(arch, nr)] = a
	}
	return f
}

// ParseArchList reads an --arch value: comma-separated names, or empty for native
// (the server's ABI: this machine's, or a profile's) and those Docker lists
// with it.
func ParseArchList(list string, native syscalls.Arch) ([]syscalls.Arch, error) {
	if strings.TrimSpace(list) == "" {
		return DefaultOCIArches(native), nil
	}
	var arches []syscalls.Arch
	seen := map[syscalls.Arch]bool{}
	for _, word := range strings.Split(list, ",") {
		a, err := policy.ParseArch(strings.TrimSpace(word))
		if err != nil {
			return nil, err
		}
		if seen[a] {
			return nil, fmt.Errorf("%s is listed twice", a)
		}
		seen[a] = true
		arches = append(arches, a)
	}
	return arches, nil
}

// Validate checks that the filter can be written: a valid default, and
// names that look like syscall names with valid actions. Whether each name
// exists is checked by the writers, on the architectures they target.
func (p Filter) Validate() error {
	if !p.Default.Valid() {
		return fmt.Errorf("filter %s: invalid default action %v", p.describe(), p.Default)
	}
	for _, name := range p.sortedNames() {
		if !validSyscallName(name) {
			return fmt.Errorf("filter %s: %q is not a syscall name (lower-case letters, digits and _ only)", p.describe(), name)
		}
		if a := p.Syscalls[name]; !a.Valid() {
			return fmt.Errorf("filter %s: syscall %q has an invalid action %v", p.describe(), name, a)
		}
	}
	return nil
}

func (p Filter) describe() string {
	if p.Source == "" {
		return "(no source)"
	}
	return p.Source
}

// Names returns the syscalls whose action is a, sorted.
func (p Filter) Names(a policy.Action) []string {
	var names []string
	for name, act := range p.Syscalls {
		if act == a {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Count returns how many named syscalls have action a.
func (p Filter) Count(a policy.Action) int { return len(p.Names(a)) }

func (p Filter) sortedNames() []string {
	names := make([]string, 0, len(p.Syscalls))
	for name := range p.Syscalls {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Summary is one line describing the filter, for headers:
// "default error; allow 112, log 1, error 2, kill 0 syscalls".
func (p Filter) Summary() string {
	var counts []string
	for _, a := range policy.Actions {
		counts = append(counts, fmt.Sprintf("%s %d", a, p.Count(a)))
	}
	return fmt.Sprintf("default %s; %s syscalls", p.Default, strings.Join(counts, ", "))
}

// validSyscallName reports whether name can be a syscall name in every
// format written here: libseccomp, systemd and the OCI profiles all use the
// kernel's names, made of [a-z0-9_].
func validSyscallName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// union returns the sorted union of name lists, without duplicates.
func union(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range lists {
		for _, name := range list {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// minus returns the names of list not in remove, keeping the order.
func minus(list, remove []string) []string {
	drop := map[string]bool{}
	for _, name := range remove {
		drop[name] = true
	}
	var out []string
	for _, name := range list {
		if !drop[name] {
			out = append(out, name)
		}
	}
	return out
}

// allowing returns a copy of p in which every syscall of names runs: one
// whose action would be error or kill (by a list or by the default) is
// allowed instead. It also returns those names, sorted. The writers use it
// for the syscalls that the service manager or container runtime, and the
// programs they start before PostgreSQL, need.
func (p Filter) allowing(names []string) (Filter, []string) {
	out := Filter{Source: p.Source, Default: p.Default, Syscalls: make(map[string]policy.Action, len(p.Syscalls)+len(names))}
	for name, a := range p.Syscalls {
		out.Syscalls[name] = a
	}
	var changed []string
	for _, name := range union(names) {
		a, ok := p.Syscalls[name]
		if !ok {
			a = p.Default
		}
		if a == policy.Error || a == policy.Kill {
			out.Syscalls[name] = policy.Allow
			changed = append(changed, name)
		}
	}
	return out, changed
}
