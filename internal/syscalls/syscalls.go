// Package syscalls maps syscall names to numbers and back, per ABI, with
// libseccomp: the same library the pgseccomp extension builds its filters
// with, so that a name this package accepts is one the extension accepts.
//
// Numbers differ between ABIs (getpid is 39 on x86_64, 20 on i386,
// 0x40000027 on x32, 172 on aarch64), so every lookup names its [Arch].
// An audit record says which ABI its number belongs to; [FromAudit] turns
// the record's arch= and syscall= into an Arch.
//
// All functions are safe for concurrent use. Number-to-name lookups are
// served from a table built once per ABI, so they are cheap enough for hot
// loops.
package syscalls

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	seccomp "github.com/seccomp/libseccomp-golang"
)

// table is one ABI's syscalls, scanned from libseccomp once.
type table struct {
	once   sync.Once
	byNum  map[int]string
	byName map[string]int
	names  []string // sorted
}

var tables [len(archTable)]table

// scanRanges are the syscall numbers scanned to list an ABI's syscalls: the
// kernel's tables stay below 1024 on every supported ABI; x32 numbers carry
// X32SyscallBit and ARM has private syscalls at 0xf0000 (cacheflush, ...).
func scanRanges(a Arch) [][2]int {
	switch a {
	case X32:
		return [][2]int{{X32SyscallBit, X32SyscallBit + 1024}}
	case ARM:
		return [][2]int{{0, 1024}, {0xf0000, 0xf0100}}
	}
	return [][2]int{{0, 1024}}
}

func (a Arch) table() *table {
	t := &tables[a]
	t.once.Do(func() {
		t.byNum = map[int]string{}
		t.byName = map[string]int{}
		for _, r := range scanRanges(a) {
			for nr := r[0]; nr < r[1]; nr++ {
				name, err := seccomp.ScmpSyscall(nr).GetNameByArch(a.Seccomp())
				if err != nil || name == "" {
					continue
				}
				t.byNum[nr] = name
				if _, dup := t.byName[name]; dup {
					continue
				}
				// Prefer the number libseccomp gives the name; it answers
				// a pseudo-number (< 0) for i386's socket calls, which
				// it filters both directly and through socketcall.
				canon, err := seccomp.GetSyscallFromNameByArch(name, a.Seccomp())
				if err != nil || int(canon) < 0 {
					canon = seccomp.ScmpSyscall(nr)
				}
				t.byName[name] = int(canon)
				t.names = append(t.names, name)
			}
		}
		sort.Strings(t.names)
	})
	return t
}

// Name returns the name of syscall number nr on ABI a, and false when
// neither libseccomp nor the kernel's table of syscalls newer than
// [OldestLibrary] (see [NewerThanLibrary]) knows a syscall with that number
// there (a syscall newer than both, a number from a corrupt record, or an
// invalid Arch). x32 numbers are accepted with or without [X32SyscallBit].
func (a Arch) Name(nr int) (string, bool) {
	if !a.Valid() || nr < 0 {
		return "", false
	}
	if name, ok := a.table().byNum[nr]; ok {
		return name, true
	}
	// Outside the scanned ranges: ask libseccomp itself.
	name, err := seccomp.ScmpSyscall(nr).GetNameByArch(a.Seccomp())
	if err != nil || name == "" {
		return kernelName(a, nr)
	}
	return name, true
}

// Number returns the number of syscall name on ABI a, and false when the
// ABI has no such syscall: a misspelling, or a syscall of another ABI
// (socketcall is i386's, newfstatat is not i386's, open is not aarch64's).
// A name libseccomp does not know is looked up in the kernel's table of
// syscalls newer than [OldestLibrary] (see [NewerThanLibrary]). x32
// numbers include [X32SyscallBit].
func (a Arch) Number(name string) (int, bool) {
	if !a.Valid() || name == "" {
		return 0, false
	}
	if nr, ok := a.table().byName[name]; ok {
		return nr, true
	}
	// libseccomp answers a name that exists on some other ABI with a
	// negative pseudo-number, which is not a syscall of this one.
	nr, err := seccomp.GetSyscallFromNameByArch(name, a.Seccomp())
	if err != nil {
		return kernelNumber(a, name)
	}
	if int(nr) < 0 {
		return 0, false
	}
	return int(nr), true
}

// Has reports whether ABI a has a syscall called name: one libseccomp
// numbers on a (see [Arch.Number]), or one of the kernel's table of
// syscalls newer than [OldestLibrary]. It is not the extension's rule:
// on i386 libseccomp answers socket, bind, connect and the other calls
// that socketcall multiplexes with a negative pseudo-number, which the
// extension refuses as "does not exist on this architecture" while Has
// reports the direct syscalls i386 has had since Linux 4.3; and a server
// whose libseccomp is older than the name refuses it. Use
// policy.SyscallNumber to decide as the extension does.
func Has(a Arch, name string) bool {
	_, ok := a.Number(name)
	return ok
}

// Names returns every syscall name libseccomp knows on ABI a, sorted; nil
// for an invalid Arch. The caller may modify the slice.
func (a Arch) Names() []string {
	if !a.Valid() {
		return nil
	}
	return append([]string(nil), a.table().names...)
}

// ArchesWith returns the ABIs that have a syscall called name, in the order
// of [Arches]; empty when no ABI has it (a misspelling). Use it to say more
// than "unknown syscall": socketcall exists, just not on x86_64.
func ArchesWith(name string) []Arch {
	var out []Arch
	for _, a := range Arches() {
		if Has(a, name) {
			out = append(out, a)
		}
	}
	return out
}

// CheckName returns nil when ABI a has syscall name, and otherwise an error
// that names the syscall and the ABI and says why: which ABIs do have it,
// or that none does.
func CheckName(a Arch, name string) error {
	if !a.Valid() {
		return fmt.Errorf("invalid architecture %v", a)
	}
	if Has(a, name) {
		return nil
	}
	if others := ArchesWith(name); len(others) > 0 {
		names := make([]string, len(others))
		for i, o := range others {
			names[i] = o.String()
		}
		return fmt.Errorf("syscall %q does not exist on %s (it exists on %s)", name, a, strings.Join(names, ", "))
	}
	return fmt.Errorf("syscall %q does not exist on %s or any other architecture libseccomp %s knows", name, a, LibraryVersion())
}

// LibraryVersion returns the version of the libseccomp in use, e.g.
// "2.5.4", for messages about syscalls it does not know.
func LibraryVersion() string {
	major, minor, micro := seccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}
