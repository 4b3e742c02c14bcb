package syscalls

import (
	"fmt"
	"runtime"
	"strings"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Arch is a syscall ABI: one numbering of the kernel's syscalls. A 64-bit
// kernel serves several at once (x86_64, i386 and x32 on an x86_64 machine;
// aarch64 and arm on an arm64 one), and a seccomp filter or audit record
// names a syscall by its number in one of them. The zero value is not an
// architecture.
type Arch uint8

// The ABIs this package resolves. The names are those audit tools print
// (ausearch, auditd's enriched ARCH= field), so that the tool's output can
// be matched against audit logs; x32, which audit reports as x86_64 (see
// [FromAudit]), is called x32 as libseccomp calls it.
const (
	X86_64 Arch = iota + 1
	I386
	X32
	AArch64
	ARM
	PPC64LE
	PPC64
	S390X
	S390
	RISCV64
)

// X32SyscallBit is set in the syscall number of every x32 syscall (the
// kernel's __X32_SYSCALL_BIT): x32 processes use the x86_64 entry point and
// audit arch, and only this bit tells their syscalls apart.
const X32SyscallBit = 0x40000000

type archInfo struct {
	name      string
	auditArch uint32
	scmp      seccomp.ScmpArch
	aliases   []string // other names ParseArch accepts: Go, Debian, uname -m
}

var archTable = [...]archInfo{
	X86_64:  {"x86_64", unix.AUDIT_ARCH_X86_64, seccomp.ArchAMD64, []string{"amd64", "x86-64", "x64"}},
	I386:    {"i386", unix.AUDIT_ARCH_I386, seccomp.ArchX86, []string{"x86", "386", "i486", "i586", "i686"}},
	X32:     {"x32", unix.AUDIT_ARCH_X86_64, seccomp.ArchX32, nil},
	AArch64: {"aarch64", unix.AUDIT_ARCH_AARCH64, seccomp.ArchARM64, []string{"arm64"}},
	ARM:     {"arm", unix.AUDIT_ARCH_ARM, seccomp.ArchARM, []string{"armhf", "armel", "armv7l", "armv7", "armv6l", "armv5tel"}},
	PPC64LE: {"ppc64le", unix.AUDIT_ARCH_PPC64LE, seccomp.ArchPPC64LE, []string{"ppc64el"}},
	PPC64:   {"ppc64", unix.AUDIT_ARCH_PPC64, seccomp.ArchPPC64, nil},
	S390X:   {"s390x", unix.AUDIT_ARCH_S390X, seccomp.ArchS390X, nil},
	S390:    {"s390", unix.AUDIT_ARCH_S390, seccomp.ArchS390, nil},
	RISCV64: {"riscv64", unix.AUDIT_ARCH_RISCV64, seccomp.ArchRISCV64, nil},
}

// Arches returns every ABI this package resolves, in a fixed order (the
// x86 family first).
func Arches() []Arch {
	out := make([]Arch, 0, len(archTable)-1)
	for a := X86_64; int(a) < len(archTable); a++ {
		out = append(out, a)
	}
	return out
}

func (a Arch) info() *archInfo {
	if a == 0 || int(a) >= len(archTable) {
		return nil
	}
	return &archTable[a]
}

// Valid reports whether a is one of the ABIs in [Arches].
func (a Arch) Valid() bool { return a.info() != nil }

// String returns the ABI's canonical name ("x86_64", "i386", "x32",
// "aarch64", "arm", ...), or "arch(N)" for an invalid value.
func (a Arch) String() string {
	if i := a.info(); i != nil {
		return i.name
	}
	return fmt.Sprintf("arch(%d)", uint8(a))
}

// AuditArch returns the AUDIT_ARCH_* value the kernel reports for the ABI
// in audit records (arch=c000003e) and in seccomp_data.arch. x32 shares
// x86_64's value. It returns 0 for an invalid Arch.
func (a Arch) AuditArch() uint32 {
	if i := a.info(); i != nil {
		return i.auditArch
	}
	return 0
}

// Seccomp returns the libseccomp architecture of the ABI.
func (a Arch) Seccomp() seccomp.ScmpArch {
	if i := a.info(); i != nil {
		return i.scmp
	}
	return seccomp.ArchInvalid
}

// ParseArch returns the ABI named s: a canonical name (see [Arch.String])
// or a common alias (amd64, x86, arm64, armhf, ppc64el, ...), in any case.
// The error lists the accepted names.
func ParseArch(s string) (Arch, error) {
	want := strings.ToLower(strings.TrimSpace(s))
	for _, a := range Arches() {
		i := a.info()
		if want == i.name {
			return a, nil
		}
		for _, alias := range i.aliases {
			if want == alias {
				return a, nil
			}
		}
	}
	return 0, fmt.Errorf("unknown architecture %q; known: %s", s, archNames())
}

func archNames() string {
	names := make([]string, 0, len(archTable))
	for _, a := range Arches() {
		names = append(names, a.String())
	}
	return strings.Join(names, ", ")
}

// Native returns the ABI this program was built for (x86_64 for a GOARCH
// amd64 build), which is the host's native ABI when the program runs on the
// machine whose logs it reads. It returns 0 on a GOARCH this package does
// not know.
func Native() Arch {
	switch runtime.GOARCH {
	case "amd64":
		return X86_64
	case "386":
		return I386
	case "arm64":
		return AArch64
	case "arm":
		return ARM
	case "ppc64le":
		return PPC64LE
	case "ppc64":
		return PPC64
	case "s390x":
		return S390X
	case "riscv64":
		return RISCV64
	}
	return 0
}

// FromAudit returns the ABI of a syscall that an audit record reports with
// arch=auditArch (hexadecimal in the record) and syscall=nr: the ABI whose
// AUDIT_ARCH value it is, except that an x86_64 record whose number has
// [X32SyscallBit] set is an x32 syscall. The error names the unknown value.
func FromAudit(auditArch uint32, nr int64) (Arch, error) {
	switch auditArch {
	case unix.AUDIT_ARCH_X86_64:
		if nr >= 0 && nr&X32SyscallBit != 0 {
			return X32, nil
		}
		return X86_64, nil
	case 0:
		return 0, fmt.Errorf("audit arch 0 is not an architecture")
	}
	for _, a := range Arches() {
		if a.info().auditArch == auditArch {
			return a, nil
		}
	}
	return 0, fmt.Errorf("audit arch %x is not one of the architectures pgseccomp resolves (%s)", auditArch, archNames())
}
