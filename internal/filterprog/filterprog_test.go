package filterprog

import (
	"fmt"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// compileSession builds the policy for settings (pgseccomp preloaded and
// enabled) on arch and compiles the session layer of role.
func compileLayers(t *testing.T, arch policy.Arch, settings map[string]string) *policy.Policy {
	t.Helper()
	values := map[string]string{
		"shared_preload_libraries": "pgseccomp",
		"pgseccomp.enabled":        "on",
	}
	for k, v := range settings {
		values[k] = v
	}
	s, err := policy.ParseSettingsMap(values)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Build(arch)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProgramsDoWhatTheLayersSay runs each compiled layer in a BPF virtual
// machine for every syscall of its architecture and compares the result
// with the layer's action.
func TestProgramsDoWhatTheLayersSay(t *testing.T) {
	tests := []struct {
		name     string
		arch     policy.Arch
		settings map[string]string
	}{
		{"allow everything", syscalls.X86_64, nil},
		{"error default with an allow-list", syscalls.X86_64, map[string]string{
			"pgseccomp.session_syscall_default": "error",
			"pgseccomp.session_syscall_allow":   "read,write,openat,close,futex,epoll_wait,sendto,recvfrom",
			"pgseccomp.session_syscall_log":     "readlink",
			"pgseccomp.session_syscall_kill":    "ptrace",
		}},
		{"global log default, every action", syscalls.X86_64, map[string]string{
			"pgseccomp.global_syscall_default": "log",
			"pgseccomp.global_syscall_allow":   "read,write,close",
			"pgseccomp.global_syscall_error":   "mount,umount2",
			"pgseccomp.global_syscall_kill":    "kexec_load",
		}},
		// No rule at all: the layout libseccomp before 2.5.4 got wrong.
		{"error default with no rules", syscalls.X86_64, map[string]string{
			"pgseccomp.session_syscall_default": "error",
			"pgseccomp.session_syscall_allow":   "",
			"pgseccomp.session_syscall_log":     "",
			"pgseccomp.session_syscall_error":   "",
			"pgseccomp.session_syscall_kill":    "",
		}},
		{"aarch64", syscalls.AArch64, map[string]string{
			"pgseccomp.session_syscall_default": "error",
			"pgseccomp.session_syscall_allow":   "read,write,openat,close,futex",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := compileLayers(t, tc.arch, tc.settings)
			for _, layer := range []*policy.Layer{p.Global, p.SessionLayer("")} {
				prog, err := Compile(layer)
				if err != nil {
					t.Fatal(err)
				}
				if n := ArgumentLoads(prog); n != 0 {
					t.Errorf("%s layer: %d instructions read syscall arguments, want none", layer.Origin, n)
				}
				for nr := 0; nr < 1024; nr++ {
					got, err := Evaluate(prog, tc.arch.AuditArch(), nr)
					if err != nil {
						t.Fatal(err)
					}
					want := Ret(layer.Action(nr))
					if policy.SyscallName(tc.arch, nr) == "" || syscallUnknown(tc.arch, nr) {
						want = Ret(layer.Default)
					}
					if got != want {
						t.Fatalf("%s layer, %s syscall %d (%s): program returns %#x, layer says %#x",
							layer.Origin, tc.arch, nr, policy.SyscallName(tc.arch, nr), got, want)
					}
				}
				// Another architecture is killed, whatever the syscall.
				other := syscalls.I386
				if tc.arch != syscalls.X86_64 {
					other = syscalls.X86_64
				}
				if got, _ := Evaluate(prog, other.AuditArch(), 0); got != RetKillProcess {
					t.Errorf("%s layer: syscall 0 of %s returns %#x, want kill process", layer.Origin, other, got)
				}
				t.Logf("%s layer: %d instructions", layer.Origin, len(prog))
			}
		})
	}
}

func syscallUnknown(arch policy.Arch, nr int) bool {
	name := policy.SyscallName(arch, nr)
	return name == "" || name == fmt.Sprint(nr)
}

// TestX32IsKilledOnX86_64: x32 syscalls share x86_64's audit arch and
// differ only by a bit in the number; the program must kill them.
func TestX32IsKilledOnX86_64(t *testing.T) {
	p := compileLayers(t, syscalls.X86_64, nil)
	prog, err := Compile(p.Global)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Evaluate(prog, syscalls.X86_64.AuditArch(), syscalls.X32SyscallBit|0)
	if err != nil {
		t.Fatal(err)
	}
	if got != RetKillProcess {
		t.Fatalf("x32 read returns %#x, want kill process", got)
	}
}

func TestDecodeRejectsPartialInstructions(t *testing.T) {
	for _, n := range []int{0, 7, 9} {
		if _, err := decode(make([]byte, n)); err == nil {
			t.Errorf("decode of %d bytes: no error", n)
		}
	}
}

func TestLongestPath(t *testing.T) {
	p := compileLayers(t, syscalls.X86_64, map[string]string{
		"pgseccomp.session_syscall_default": "error",
		"pgseccomp.session_syscall_allow":   "read,write,openat,close,futex,epoll_wait,sendto,recvfrom,lseek,mmap,munmap,brk",
	})
	prog, err := Compile(p.SessionLayer(""))
	if err != nil {
		t.Fatal(err)
	}
	n := LongestPath(prog)
	// At least: load arch, check it, load nr, one comparison, return.
	if n < 5 || n > len(prog) {
		t.Fatalf("longest path %d in a program of %d instructions", n, len(prog))
	}
	t.Logf("%d instructions, longest path %d", len(prog), n)
}

// TestSessionProgramOverGlobal runs the global program and the session
// program compiled as the extension compiles it (policy.Layer.Over) in the
// BPF virtual machine for every syscall, combines them as the kernel does
// (the stronger action wins), and compares with the effective action of
// the two layers as configured.
func TestSessionProgramOverGlobal(t *testing.T) {
	p := compileLayers(t, syscalls.X86_64, map[string]string{
		"pgseccomp.global_syscall_default":  "error",
		"pgseccomp.global_syscall_allow":    "read,write,openat,close,futex,epoll_wait,sendto,recvfrom,readlink,clone,execve,mount,pipe2,fcntl,seccomp",
		"pgseccomp.global_syscall_kill":     "ptrace",
		"pgseccomp.session_syscall_default": "error",
		"pgseccomp.session_syscall_allow":   "read,write,openat,close,futex,epoll_wait,sendto,recvfrom",
		"pgseccomp.session_syscall_log":     "readlink",
		"pgseccomp.session_syscall_kill":    "mount",
	})
	session := p.SessionLayer("")
	global, err := Compile(p.Global)
	if err != nil {
		t.Fatal(err)
	}
	over, err := Compile(session.Over(p.Global))
	if err != nil {
		t.Fatal(err)
	}
	full, err := Compile(session)
	if err != nil {
		t.Fatal(err)
	}
	if len(over) >= len(full) {
		t.Errorf("the session program over the global one has %d instructions, the layer alone %d: want fewer", len(over), len(full))
	}
	// Kernel precedence: the lower action value, read as a signed 32-bit
	// number (kill process is negative), is the stronger.
	strength := func(ret uint32) int32 { return int32(ret & 0xffff0000) }
	for nr := 0; nr < 1024; nr++ {
		if syscallUnknown(syscalls.X86_64, nr) {
			continue
		}
		g, _ := Evaluate(global, syscalls.X86_64.AuditArch(), nr)
		s, _ := Evaluate(over, syscalls.X86_64.AuditArch(), nr)
		got := s
		if strength(g) < strength(s) {
			got = g
		}
		action, _ := policy.Stack{p.Global, session}.Effective(nr)
		if got != Ret(action) {
			t.Fatalf("syscall %d (%s): the kernel would do %#x, the layers say %s", nr, policy.SyscallName(syscalls.X86_64, nr), got, action)
		}
	}
	t.Logf("session program: %d instructions over the global layer, %d alone", len(over), len(full))
}
