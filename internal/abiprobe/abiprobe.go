// Package abiprobe tells whether this kernel runs syscalls of x86_64's
// foreign ABIs at all, with no filter in the way.
//
// Tests that make a process issue i386 syscalls (int $0x80) expect seccomp
// to log or kill them. Some kernels built with IA32 emulation still refuse
// every int $0x80 from a 64-bit process with SIGSEGV (ia32_emulation=0 on
// the command line, or a hypervisor's kernel that leaves the gate out);
// seccomp never sees those syscalls, so a test of what seccomp does with
// them has nothing to test there. The probe runs the same instruction
// unfiltered, once per process, so that such a test can skip exactly the
// i386 cases, and say why, on those machines and run them everywhere else.
package abiprobe

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
)

// i386Program makes one i386 syscall (getpid, 20) through int $0x80.
const i386Program = `int main(void) { __asm__ volatile ("int $0x80" : : "a"(20) : "memory"); return 0; }` + "\n"

var (
	i386Once   sync.Once
	i386Runs   bool
	i386Reason string
	i386Err    error
)

// I386 reports whether this kernel runs an i386 syscall made with int $0x80
// from a 64-bit process. When it does not, reason says what happened. err
// is set when the probe itself could not run (no gcc, not x86_64); callers
// should fail on it rather than skip.
func I386() (runs bool, reason string, err error) {
	i386Once.Do(func() { i386Runs, i386Reason, i386Err = probeI386() })
	return i386Runs, i386Reason, i386Err
}

func probeI386() (bool, string, error) {
	if runtime.GOARCH != "amd64" {
		return false, "", fmt.Errorf("the i386 probe is for x86_64 machines, not %s", runtime.GOARCH)
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return false, "", fmt.Errorf("gcc is needed to build the i386 probe (make deps installs it): %w", err)
	}
	dir, err := os.MkdirTemp("", "pgseccomp-abiprobe-")
	if err != nil {
		return false, "", err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "i386.c")
	bin := filepath.Join(dir, "i386")
	if err := os.WriteFile(src, []byte(i386Program), 0o644); err != nil {
		return false, "", err
	}
	if out, err := exec.Command(gcc, "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		return false, "", fmt.Errorf("gcc %s: %v\n%s", src, err, out)
	}
	err = exec.Command(bin).Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, "", nil
	case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled():
		sig := exit.Sys().(syscall.WaitStatus).Signal()
		return false, fmt.Sprintf("this kernel does not run i386 syscalls: int $0x80 from a 64-bit process, with no filter loaded, dies with %v (IA32 emulation off, e.g. ia32_emulation=0), so seccomp never sees them", sig), nil
	default:
		return false, "", fmt.Errorf("run the i386 probe %s: %w", bin, err)
	}
}
