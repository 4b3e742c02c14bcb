package syscalls

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// Numbers from the kernel's syscall tables (arch/*/entry/syscalls,
// include/uapi/asm-generic/unistd.h), independent of libseccomp.
func TestNameNumber(t *testing.T) {
	for _, tt := range []struct {
		arch Arch
		nr   int
		name string
	}{
		{X86_64, 0, "read"},
		{X86_64, 1, "write"},
		{X86_64, 5, "fstat"},
		{X86_64, 39, "getpid"},
		{X86_64, 89, "readlink"}, // the talk's example 1
		{X86_64, 157, "prctl"},
		{X86_64, 231, "exit_group"},
		{X86_64, 257, "openat"},
		{X86_64, 317, "seccomp"},
		{I386, 1, "exit"},
		{I386, 3, "read"},
		{I386, 20, "getpid"},
		{I386, 85, "readlink"},
		{I386, 102, "socketcall"},
		{I386, 359, "socket"},
		{X32, X32SyscallBit | 0, "read"},
		{X32, X32SyscallBit | 39, "getpid"},
		{X32, X32SyscallBit | 512, "rt_sigaction"},
		{AArch64, 63, "read"},
		{AArch64, 172, "getpid"},
		{AArch64, 56, "openat"},
		{ARM, 20, "getpid"},
		{ARM, 0xf0002, "cacheflush"},
		{PPC64LE, 20, "getpid"},
		{S390X, 20, "getpid"},
		{RISCV64, 172, "getpid"},
	} {
		if got, ok := tt.arch.Name(tt.nr); !ok || got != tt.name {
			t.Errorf("%v.Name(%#x) = %q, %v; want %q", tt.arch, tt.nr, got, ok, tt.name)
		}
		if got, ok := tt.arch.Number(tt.name); !ok || got != tt.nr {
			t.Errorf("%v.Number(%q) = %#x, %v; want %#x", tt.arch, tt.name, got, ok, tt.nr)
		}
		if !Has(tt.arch, tt.name) || CheckName(tt.arch, tt.name) != nil {
			t.Errorf("Has(%v, %q) = false or CheckName = %v", tt.arch, tt.name, CheckName(tt.arch, tt.name))
		}
	}
}

func TestUnknown(t *testing.T) {
	for _, tt := range []struct {
		arch Arch
		nr   int
	}{
		{X86_64, -1},
		{X86_64, 1023},
		{X86_64, X32SyscallBit | 39}, // an x32 number is not an x86_64 one
		{I386, 0x7fffffff},
		{0, 0},
		{Arch(200), 1},
	} {
		if name, ok := tt.arch.Name(tt.nr); ok {
			t.Errorf("%v.Name(%#x) = %q, want unknown", tt.arch, tt.nr, name)
		}
	}
	// X32 accepts its numbers with or without the bit, as libseccomp does.
	if name, ok := X32.Name(39); !ok || name != "getpid" {
		t.Errorf("X32.Name(39) = %q, %v", name, ok)
	}
}

func TestHasAndCheckName(t *testing.T) {
	for _, tt := range []struct {
		arch    Arch
		name    string
		has     bool
		errWant string // substring of CheckName's error
	}{
		{X86_64, "newfstatat", true, ""},
		{X86_64, "socketcall", false, `"socketcall" does not exist on x86_64 (it exists on i386`},
		{I386, "newfstatat", false, `"newfstatat" does not exist on i386 (it exists on x86_64`},
		{AArch64, "open", false, `"open" does not exist on aarch64`},
		{AArch64, "readlink", false, `does not exist on aarch64`},
		{AArch64, "readlinkat", true, ""},
		{X86_64, "readlnk", false, `"readlnk" does not exist on x86_64 or any other architecture libseccomp`},
		{X86_64, "", false, `"" does not exist`},
		{X86_64, "READ", false, `"READ" does not exist`},
		{0, "read", false, "invalid architecture"},
	} {
		if got := Has(tt.arch, tt.name); got != tt.has {
			t.Errorf("Has(%v, %q) = %v, want %v", tt.arch, tt.name, got, tt.has)
		}
		err := CheckName(tt.arch, tt.name)
		switch {
		case tt.has && err != nil:
			t.Errorf("CheckName(%v, %q) = %v", tt.arch, tt.name, err)
		case !tt.has && (err == nil || !strings.Contains(err.Error(), tt.errWant)):
			t.Errorf("CheckName(%v, %q) = %v, want an error containing %q", tt.arch, tt.name, err, tt.errWant)
		}
	}
}

// Every name an ABI lists maps to a number that maps back to it.
func TestNamesRoundTrip(t *testing.T) {
	for _, a := range Arches() {
		names := a.Names()
		if len(names) < 250 {
			t.Errorf("%v has only %d syscalls", a, len(names))
		}
		if !slices.IsSorted(names) {
			t.Errorf("%v.Names() is not sorted", a)
		}
		for _, name := range names {
			nr, ok := a.Number(name)
			if !ok {
				t.Errorf("%v lists %q but has no number for it", a, name)
				continue
			}
			if back, ok := a.Name(nr); !ok || back != name {
				t.Errorf("%v: %q -> %#x -> %q, %v", a, name, nr, back, ok)
			}
		}
	}
	names := X86_64.Names()
	names[0] = "changed"
	if X86_64.Names()[0] == "changed" {
		t.Error("Names returns the package's own slice")
	}
}

func TestParseArch(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Arch
	}{
		{"x86_64", X86_64}, {"amd64", X86_64}, {"X86-64", X86_64}, {" x86_64 ", X86_64},
		{"i386", I386}, {"x86", I386}, {"i686", I386},
		{"x32", X32},
		{"aarch64", AArch64}, {"arm64", AArch64},
		{"arm", ARM}, {"armhf", ARM}, {"armv7l", ARM},
		{"ppc64le", PPC64LE}, {"ppc64el", PPC64LE},
		{"s390x", S390X}, {"riscv64", RISCV64},
	} {
		if got, err := ParseArch(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseArch(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "x86_65", "mips", "native", "c000003e"} {
		_, err := ParseArch(bad)
		if err == nil || !strings.Contains(err.Error(), "unknown architecture") || !strings.Contains(err.Error(), "aarch64") {
			t.Errorf("ParseArch(%q) = %v, want an error naming the known architectures", bad, err)
		}
	}
	for _, a := range Arches() {
		if got, err := ParseArch(a.String()); err != nil || got != a {
			t.Errorf("ParseArch(%v.String()) = %v, %v", a, got, err)
		}
	}
}

func TestFromAudit(t *testing.T) {
	for _, tt := range []struct {
		auditArch uint32
		nr        int64
		want      Arch
	}{
		{0xc000003e, 257, X86_64},
		{0xc000003e, X32SyscallBit | 39, X32},
		{0xc000003e, -1, X86_64},
		{0x40000003, 20, I386},
		{0xc00000b7, 172, AArch64},
		{0x40000028, 20, ARM},
		{0xc0000015, 20, PPC64LE},
		{0x80000016, 20, S390X},
		{0xc00000f3, 172, RISCV64},
	} {
		if got, err := FromAudit(tt.auditArch, tt.nr); err != nil || got != tt.want {
			t.Errorf("FromAudit(%x, %#x) = %v, %v; want %v", tt.auditArch, tt.nr, got, err, tt.want)
		}
	}
	for _, bad := range []uint32{0, 0x28, 0x8, 0xdeadbeef} {
		if got, err := FromAudit(bad, 1); err == nil {
			t.Errorf("FromAudit(%x) = %v, want an error", bad, got)
		}
	}
	for _, a := range Arches() {
		if got, err := FromAudit(a.AuditArch(), 0); err != nil || (got != a && a != X32) {
			t.Errorf("FromAudit(%v.AuditArch()) = %v, %v", a, got, err)
		}
	}
}

// The names are those audit tools print: go-libaudit's table, generated
// from the kernel's AUDIT_ARCH_* constants, agrees.
func TestArchNamesMatchAudit(t *testing.T) {
	for _, a := range Arches() {
		if a == X32 {
			continue // audit has no x32: it reports x86_64
		}
		got := auparse.AuditArch(a.AuditArch()).String()
		if strings.HasPrefix(got, "unknown[") {
			continue // go-libaudit's table predates the ABI (riscv64)
		}
		if got != a.String() {
			t.Errorf("%v: audit calls arch %x %q", a, a.AuditArch(), got)
		}
	}
}

// auditd and go-libaudit name a few syscalls differently from libseccomp
// (pread for pread64, ...). Everywhere else the two independent tables
// agree, which checks the ABI each Arch resolves with.
func TestNamesMatchAuditTables(t *testing.T) {
	differ := map[string]bool{
		"pread": true, "pwrite": true, "newfstat": true, "getdents": true, "sys_kexec_load": true,
		"madvise1": true, "sched_rr_get_interval64": true, "sysctl": true, "llseek": true,
		"fadvise64_64": true, "newselect": true, "timerfd": true, "perf_counter_open": true,
		"fstatat64": true, "sync_file_range": true, // arm_sync_file_range
	}
	for _, a := range []Arch{X86_64, I386, AArch64, ARM, PPC64LE, S390X} {
		table := auparse.AuditSyscalls[a.String()]
		if len(table) == 0 {
			t.Fatalf("go-libaudit has no syscall table for %v", a)
		}
		agree := 0
		for nr, auditName := range table {
			name, ok := a.Name(nr)
			switch {
			case !ok || differ[auditName]:
			case name != auditName:
				t.Errorf("%v syscall %d: libseccomp %q, audit %q", a, nr, name, auditName)
			default:
				agree++
			}
		}
		if agree < 250 {
			t.Errorf("%v: only %d names agree with audit's table", a, agree)
		}
	}
	if name, _ := X86_64.Name(17); name != "pread64" {
		t.Errorf("x86_64 syscall 17 = %q, want libseccomp's pread64 (auditd says pread)", name)
	}
}

func TestNative(t *testing.T) {
	n := Native()
	if runtime.GOARCH == "amd64" && n != X86_64 {
		t.Errorf("Native() = %v on amd64", n)
	}
	if !n.Valid() {
		t.Skipf("GOARCH %s is not an ABI this package knows", runtime.GOARCH)
	}
	if !Has(n, "read") && !Has(n, "exit_group") {
		t.Errorf("native ABI %v has neither read nor exit_group", n)
	}
}

func TestArchesWith(t *testing.T) {
	if got := ArchesWith("socketcall"); !slices.Contains(got, I386) || slices.Contains(got, X86_64) {
		t.Errorf("ArchesWith(socketcall) = %v", got)
	}
	if got := ArchesWith("nosuchcall"); len(got) != 0 {
		t.Errorf("ArchesWith(nosuchcall) = %v", got)
	}
	if got := ArchesWith("read"); len(got) != len(Arches()) {
		t.Errorf("ArchesWith(read) = %v, want every ABI", got)
	}
}

func TestInvalidArch(t *testing.T) {
	var a Arch
	if a.Valid() || a.AuditArch() != 0 || a.Names() != nil || a.String() != "arch(0)" {
		t.Errorf("zero Arch: valid %v, audit %x, names %v, %q", a.Valid(), a.AuditArch(), a.Names(), a.String())
	}
	if _, ok := a.Number("read"); ok {
		t.Error("zero Arch has read")
	}
}

func FuzzParseArch(f *testing.F) {
	for _, s := range []string{"x86_64", "amd64", "i386", "x32", "arm64", "ARMHF", "", "mips"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArch(s)
		if err != nil {
			if !strings.Contains(err.Error(), "unknown architecture") {
				t.Fatalf("ParseArch(%q): %v", s, err)
			}
			return
		}
		if !a.Valid() {
			t.Fatalf("ParseArch(%q) = invalid %v", s, a)
		}
		if back, err := ParseArch(a.String()); err != nil || back != a {
			t.Fatalf("ParseArch(%q) = %v, which does not round-trip: %v, %v", s, a, back, err)
		}
	})
}

func BenchmarkName(b *testing.B) {
	X86_64.Name(0)
	for i := 0; b.Loop(); i++ {
		X86_64.Name(i & 511)
	}
}
