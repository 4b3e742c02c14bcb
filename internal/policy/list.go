// C twin: extension/syscall_list.c.

package policy

import (
	"fmt"
	"sort"
	"strings"
)

// maxSyscallName is the extension's MAX_SYSCALL_NAME: longer than any
// syscall name libseccomp knows.
const maxSyscallName = 64

// List is a parsed list setting: '*' (Inherit: the global layer's list for
// the same action) or a set of syscalls.
type List struct {
	Inherit  bool
	Syscalls []int // numbers on the arch it was parsed for, sorted, no duplicates
}

// ParseList parses a comma-separated list of syscall names exactly as the
// extension's parse_syscall_list() does: whitespace around names is ignored,
// a blank string is the empty list, naming a syscall twice is harmless, and
// with allowInherit (session lists and set_client_filter arguments) the
// whole list may be '*'. The error names the first offending word.
func ParseList(value string, allowInherit bool, arch Arch) (List, error) {
	if trimCSpace(value) == "" {
		return List{}, nil
	}
	entries := strings.Split(value, ",")
	var list List
	for i, entry := range entries {
		word := i + 1
		name := trimCSpace(entry)
		switch {
		case name == "":
			return List{}, fmt.Errorf("The list has an empty entry (word %d): a comma at its start or end, or two commas in a row.", word)
		case name == "*":
			switch {
			case !allowInherit:
				return List{}, fmt.Errorf("\"*\" (use the global list) is valid only in session lists.")
			case len(entries) > 1:
				return List{}, fmt.Errorf("\"*\" must be the whole list, not one of its entries (word %d).", word)
			}
			return List{Inherit: true}, nil
		case len(name) > maxSyscallName:
			return List{}, fmt.Errorf("Unknown syscall \"%s...\" (word %d of the list).", name[:maxSyscallName], word)
		case strings.IndexByte(name, 0) >= 0:
			// C would stop at the NUL and read a shorter name; no
			// configuration file can carry one (pgconf cuts values there).
			return List{}, fmt.Errorf("Unknown syscall %q (word %d of the list).", name, word)
		}
		nr, err := SyscallNumber(arch, name)
		if err != nil {
			if e, ok := err.(*SyscallError); ok {
				e2 := *e
				e2.Word = word
				if !e2.OtherArch && !strings.ContainsAny(name, " \t\n") {
					e2.Closest, _ = arch.Closest(name)
				}
				return List{}, &e2
			}
			return List{}, err
		}
		list.Syscalls = append(list.Syscalls, nr)
	}
	list.Syscalls = sortUnique(list.Syscalls)
	return list, nil
}

func sortUnique(nrs []int) []int {
	sort.Ints(nrs)
	kept := nrs[:0]
	for i, nr := range nrs {
		if i == 0 || nr != kept[len(kept)-1] {
			kept = append(kept, nr)
		}
	}
	return kept
}
