package policy

import (
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// TestSyscallNumberIsTheExtensionsRule: where syscalls.Has and the
// extension disagree (i386's socketcall-multiplexed calls, for which
// libseccomp answers a pseudo-number the extension refuses),
// SyscallNumber decides as the extension does.
func TestSyscallNumberIsTheExtensionsRule(t *testing.T) {
	for _, tt := range []struct {
		arch      Arch
		name      string
		has, ext  bool
		otherArch bool
	}{
		{syscalls.X86_64, "socket", true, true, false},
		{syscalls.I386, "socket", true, false, true},
		{syscalls.I386, "connect", true, false, true},
		{syscalls.I386, "socketcall", true, true, false},
		{syscalls.X86_64, "socketcall", false, false, true},
		{syscalls.X86_64, "raed", false, false, false},
	} {
		has := syscalls.Has(tt.arch, tt.name)
		_, err := SyscallNumber(tt.arch, tt.name)
		se, _ := err.(*SyscallError)
		if has != tt.has || (err == nil) != tt.ext || err != nil && (se == nil || se.OtherArch != tt.otherArch) {
			t.Errorf("%s %s: Has %v, SyscallNumber error %v; want Has %v, accepted %v", tt.arch, tt.name, has, err, tt.has, tt.ext)
		}
	}
}
