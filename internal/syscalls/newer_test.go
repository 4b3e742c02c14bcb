package syscalls

import (
	"slices"
	"testing"

	seccomp "github.com/seccomp/libseccomp-golang"
)

// TestNewerTableAgreesWithLibseccomp: where the libseccomp in use knows a
// syscall of the kernel table, it gives the table's number on every ABI
// (distributions patch newer syscalls into old releases: Debian 12's
// 2.5.4 knows up to futex_requeue), and it has no number where the table
// has none.
func TestNewerTableAgreesWithLibseccomp(t *testing.T) {
	checked := 0
	for _, s := range newerSyscalls {
		for _, a := range Arches() {
			nr, err := seccomp.GetSyscallFromNameByArch(s.name, a.Seccomp())
			if err != nil {
				continue // unknown to this libseccomp: the table's case
			}
			want, ok := kernelNumber(a, s.name)
			switch {
			case int(nr) < 0 && ok:
				t.Errorf("%s on %s: libseccomp %s says no such syscall there, the table says %d", s.name, a, LibraryVersion(), want)
			case int(nr) >= 0 && !ok && (a == X86_64 || a == I386 || a == X32 || a == AArch64 || a == ARM):
				t.Errorf("%s on %s: libseccomp %s says %d, the table has none", s.name, a, LibraryVersion(), nr)
			case int(nr) >= 0 && ok && int(nr) != want:
				t.Errorf("%s on %s: libseccomp %s says %d, the table %d", s.name, a, LibraryVersion(), nr, want)
			case int(nr) >= 0 && ok:
				checked++
			}
		}
	}
	t.Logf("libseccomp %s: %d of the table's numbers checked against it", LibraryVersion(), checked)
}

// TestNewerThanLibrary: names the libseccomp in use does not know resolve
// from the kernel table, both ways, and are reported; typos and names of
// other ABIs stay unknown.
func TestNewerThanLibrary(t *testing.T) {
	for _, tt := range []struct {
		arch Arch
		name string
		nr   int
		ok   bool
	}{
		{X86_64, "mseal", 462, true},
		{I386, "mseal", 462, true},
		{X32, "mseal", 462 | X32SyscallBit, true},
		{AArch64, "mseal", 462, true},
		{ARM, "file_setattr", 469, true},
		{X86_64, "listmount", 458, true},
		{X86_64, "uretprobe", 335, true},
		{AArch64, "uretprobe", 0, false}, // x86_64's only
		{X32, "map_shadow_stack", 0, false},
		{X86_64, "fchmodat2", 452, true},
		{X86_64, "cachestat", 451, true},
		{X86_64, "msael", 0, false},
	} {
		nr, ok := tt.arch.Number(tt.name)
		if ok != tt.ok || ok && nr != tt.nr {
			t.Errorf("%s.Number(%q) = %d, %v; want %d, %v", tt.arch, tt.name, nr, ok, tt.nr, tt.ok)
		}
		if !tt.ok {
			continue
		}
		if name, ok := tt.arch.Name(tt.nr); !ok || name != tt.name {
			t.Errorf("%s.Name(%d) = %q, %v; want %q", tt.arch, tt.nr, name, ok, tt.name)
		}
		newer := NewerThanLibrary(tt.arch, []string{tt.name, "read", tt.name})
		if known := LibraryKnows(tt.arch, tt.name); known != (len(newer) == 0) || !known && !slices.Equal(newer, []string{tt.name}) {
			t.Errorf("%s %q: libseccomp %s knows it: %v; NewerThanLibrary says %q", tt.arch, tt.name, LibraryVersion(), known, newer)
		}
	}
	if Linux("mseal") != "6.10" || Linux("read") != "" {
		t.Errorf("Linux(mseal) = %q, Linux(read) = %q", Linux("mseal"), Linux("read"))
	}
}
