package syscalls

import (
	"sort"

	seccomp "github.com/seccomp/libseccomp-golang"
)

// OldestLibrary is the oldest libseccomp pgseccomp supports (Debian 12's).
const OldestLibrary = "2.5.4"

// newerSyscall is a syscall that libseccomp releases up to OldestLibrary
// may not know.
type newerSyscall struct {
	name   string
	nr     int    // the same on every ABI listed (x32's with X32SyscallBit)
	linux  string // the kernel release that added it
	arches []Arch // nil: every ABI of this package
}

// newerSyscalls are the syscalls added to Linux after upstream libseccomp
// 2.5.4's table was made (its last syscall is landlock_restrict_self, 446;
// memfd_secret, 447, is there on some ABIs only), with their numbers from
// the kernel's own tables: arch/x86/entry/syscalls/syscall_64.tbl (x86_64,
// and x32 with X32SyscallBit) and syscall_32.tbl (i386),
// scripts/syscall.tbl (aarch64, riscv64) and include/uapi/asm-generic/
// unistd.h before Linux 6.11, arch/arm/tools/syscall.tbl,
// arch/powerpc/kernel/syscalls/syscall.tbl and
// arch/s390/kernel/syscalls/syscall.tbl, as of Linux 6.17. Since
// pidfd_send_signal (424) every ABI but alpha's gives a new syscall the
// same number. Distributions patch their libseccomp (Debian 12's 2.5.4
// knows up to futex_requeue, 456): the table is used only for a name or
// number the libseccomp in use does not know.
var newerSyscalls = []newerSyscall{
	{"process_mrelease", 448, "5.15", nil},
	{"futex_waitv", 449, "5.16", nil},
	{"set_mempolicy_home_node", 450, "5.17", nil},
	{"cachestat", 451, "6.5", nil},
	{"fchmodat2", 452, "6.6", nil},
	{"map_shadow_stack", 453, "6.6", []Arch{X86_64, I386, AArch64, ARM, RISCV64}}, // x86_64's is "64" only: not x32
	{"futex_wake", 454, "6.7", nil},
	{"futex_wait", 455, "6.7", nil},
	{"futex_requeue", 456, "6.7", nil},
	{"statmount", 457, "6.8", nil},
	{"listmount", 458, "6.8", nil},
	{"lsm_get_self_attr", 459, "6.8", nil},
	{"lsm_set_self_attr", 460, "6.8", nil},
	{"lsm_list_modules", 461, "6.8", nil},
	{"mseal", 462, "6.10", nil},
	{"uretprobe", 335, "6.11", []Arch{X86_64}}, // "64" only
	{"setxattrat", 463, "6.13", nil},
	{"getxattrat", 464, "6.13", nil},
	{"listxattrat", 465, "6.13", nil},
	{"removexattrat", 466, "6.13", nil},
	{"open_tree_attr", 467, "6.15", nil},
	{"file_getattr", 468, "6.17", nil},
	{"file_setattr", 469, "6.17", nil},
}

func (s *newerSyscall) on(a Arch) bool {
	if s.arches == nil {
		return a.Valid()
	}
	for _, x := range s.arches {
		if x == a {
			return true
		}
	}
	return false
}

func (s *newerSyscall) number(a Arch) int {
	if a == X32 {
		return s.nr | X32SyscallBit
	}
	return s.nr
}

// kernelNumber returns the number of a syscall of the kernel table above
// on ABI a.
func kernelNumber(a Arch, name string) (int, bool) {
	for i := range newerSyscalls {
		if s := &newerSyscalls[i]; s.name == name && s.on(a) {
			return s.number(a), true
		}
	}
	return 0, false
}

// kernelName returns the name of a syscall of the kernel table above by
// its number on ABI a (x32's with or without X32SyscallBit).
func kernelName(a Arch, nr int) (string, bool) {
	if a == X32 {
		nr |= X32SyscallBit
	}
	for i := range newerSyscalls {
		if s := &newerSyscalls[i]; s.on(a) && s.number(a) == nr {
			return s.name, true
		}
	}
	return "", false
}

// LibraryKnows reports whether the libseccomp in use knows syscall name
// on ABI a: what the pgseccomp extension, which resolves names with it,
// accepts on a server with the same libseccomp.
func LibraryKnows(a Arch, name string) bool {
	if !a.Valid() || name == "" {
		return false
	}
	if _, ok := a.table().byName[name]; ok {
		return true
	}
	nr, err := seccomp.GetSyscallFromNameByArch(name, a.Seccomp())
	return err == nil && int(nr) >= 0
}

// NewerThanLibrary returns the names among names, sorted and without
// duplicates, that ABI a has by the kernel's tables but the libseccomp in
// use does not know: a server whose libseccomp is as old refuses them, one
// with a newer libseccomp accepts them. Say so next to any answer about
// them, with [LibraryVersion].
func NewerThanLibrary(a Arch, names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if _, ok := kernelNumber(a, n); ok && !LibraryKnows(a, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Linux returns the Linux release that added a syscall of the kernel
// table (see [NewerThanLibrary]), or "".
func Linux(name string) string {
	for _, s := range newerSyscalls {
		if s.name == name {
			return s.linux
		}
	}
	return ""
}
