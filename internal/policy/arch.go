package policy

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// Arch is the syscall ABI whose table resolves names: the server's native
// one for the extension, any of syscalls.Arches for the model.
type Arch = syscalls.Arch

// NativeArch is the ABI this program runs on.
func NativeArch() (Arch, error) {
	a := syscalls.Native()
	if !a.Valid() {
		return 0, fmt.Errorf("pgseccomp does not know this machine's architecture; give one with --arch")
	}
	return a, nil
}

// ParseArch returns the ABI named s (x86_64, aarch64, i386, ... or an alias
// such as amd64 or arm64); see syscalls.ParseArch.
func ParseArch(s string) (Arch, error) { return syscalls.ParseArch(s) }

// SyscallError is why a syscall name cannot be used in a list.
type SyscallError struct {
	Name      string
	Arch      Arch
	OtherArch bool   // libseccomp knows the name, but only on other architectures
	Word      int    // its position in the list, from 1; 0 when not in a list
	Closest   string // the closest name on Arch (syscalls.Arch.Closest), or ""
}

// Error is the extension's detail (parse_syscall_list in
// extension/syscall_list.c), word for word.
func (e *SyscallError) Error() string {
	name := fmt.Sprintf("%q", e.Name)
	if e.Word > 0 {
		name += fmt.Sprintf(" (word %d of the list)", e.Word)
	}
	switch {
	case e.OtherArch:
		return fmt.Sprintf("Syscall %s does not exist on this architecture (%s).", name, e.Arch)
	case strings.ContainsAny(e.Name, " \t\n"):
		return fmt.Sprintf("Unknown syscall %s: separate syscall names with commas.", name)
	case e.Closest != "":
		return fmt.Sprintf("Unknown syscall %s. Did you mean %q?", name, e.Closest)
	}
	return fmt.Sprintf("Unknown syscall %s.", name)
}

type resolveKey struct {
	arch Arch
	name string
}

// resolved caches name lookups: each is a cgo call, and lint and the
// fuzzers resolve the same names many times.
var resolved sync.Map // resolveKey -> int (number, or -1 unknown, -2 other arch)

// SyscallNumber returns the number of the named syscall on arch exactly as
// the extension's seccomp_syscall_resolve_name() does on a server of that
// architecture: an unknown name, or one libseccomp knows only on other
// architectures (a negative pseudo-number), is a *SyscallError. A name
// newer than the tool's libseccomp that the kernel's table knows
// (syscalls.NewerThanLibrary) resolves to the kernel's number, as on a
// server whose libseccomp is newer; commands that accept it say so.
func SyscallNumber(arch Arch, name string) (int, error) {
	key := resolveKey{arch, name}
	v, ok := resolved.Load(key)
	if !ok {
		nr := -1
		if s, err := libseccomp.GetSyscallFromNameByArch(name, arch.Seccomp()); err == nil {
			nr = int(s)
			if nr < 0 {
				nr = -2
			}
		} else if n, ok := arch.Number(name); ok {
			// Newer than this libseccomp, known from the kernel's table:
			// a server whose libseccomp knows it accepts it, so it is no
			// typo; callers say so (syscalls.NewerThanLibrary).
			nr = n
		}
		resolved.Store(key, nr)
		v = nr
	}
	switch nr := v.(int); nr {
	case -1:
		return 0, &SyscallError{Name: name, Arch: arch}
	case -2:
		return 0, &SyscallError{Name: name, Arch: arch, OtherArch: true}
	default:
		return nr, nil
	}
}

// SyscallName returns the name of syscall number nr on arch, as the
// extension's syscall_name() does ("syscall N" for a number libseccomp
// cannot name).
func SyscallName(arch Arch, nr int) string {
	if name, ok := arch.Name(nr); ok {
		return name
	}
	return fmt.Sprintf("syscall %d", nr)
}

// SyscallNames returns the names of the syscall numbers nrs on arch, sorted
// by name.
func SyscallNames(arch Arch, nrs []int) []string {
	names := make([]string, len(nrs))
	for i, nr := range nrs {
		names[i] = SyscallName(arch, nr)
	}
	sort.Strings(names)
	return names
}
