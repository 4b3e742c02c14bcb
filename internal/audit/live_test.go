package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-libaudit/v2"
	seccomp "github.com/seccomp/libseccomp-golang"

	"github.com/pgseccomp/pgseccomp/internal/abiprobe"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// The live test re-executes the test binary as a helper process that loads
// seccomp filters and makes the syscalls they log; the kernel writes the
// records to /dev/kmsg, where the test reads and parses them.
const helperEnv = "PGSECCOMP_AUDIT_HELPER"

// helperExerciserEnv names the compiled testdata/exerciser.c, which the
// helper executes (after its own syscalls) for the i386, x32, trap and kill
// records.
const helperExerciserEnv = "PGSECCOMP_AUDIT_EXERCISER"

// helperNoI386Env, set to 1, makes the exerciser leave out its i386
// syscall, for a kernel that does not run i386 syscalls at all.
const helperNoI386Env = "PGSECCOMP_AUDIT_NO_I386"

// TestHelperProcess is not a test: it is the helper process, and does
// nothing unless the live test started it.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	if err := helperMain(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// helperMain loads the filters and makes the logged syscalls. Its native
// syscalls are x86_64's getppid (log), getpgrp (error) and getsid (trace).
func helperMain() error {
	// The filters go on this thread only; exec must run on it too.
	runtime.LockOSThread()
	native, err := seccomp.NewFilter(seccomp.ActAllow)
	if err != nil {
		return err
	}
	for _, set := range []func() error{
		func() error { return native.SetLogBit(true) },
		func() error { return native.SetBadArchAction(seccomp.ActAllow) },
		func() error { return addRule(native, "getppid", seccomp.ActLog) },
		func() error { return addRule(native, "getpgrp", seccomp.ActErrno.SetReturnCode(int16(syscall.EACCES))) },
		func() error { return addRule(native, "getsid", seccomp.ActTrace.SetReturnCode(0)) },
		func() error { return addRule(native, "getpriority", seccomp.ActTrap) },
		func() error { return addRule(native, "setpgid", seccomp.ActKillProcess) },
	} {
		if err := set(); err != nil {
			return err
		}
	}
	var foreign *seccomp.ScmpFilter
	if runtime.GOARCH == "amd64" {
		// A second filter for the foreign ABIs, so that the native getpid
		// (which runtimes call) is not logged.
		foreign, err = seccomp.NewFilter(seccomp.ActAllow)
		if err != nil {
			return err
		}
		for _, set := range []func() error{
			func() error { return foreign.SetBadArchAction(seccomp.ActAllow) },
			func() error { return foreign.AddArch(seccomp.ArchX86) },
			func() error { return foreign.AddArch(seccomp.ArchX32) },
			func() error { return foreign.RemoveArch(seccomp.ArchNative) },
			func() error { return addRule(foreign, "getpid", seccomp.ActLog) },
		} {
			if err := set(); err != nil {
				return err
			}
		}
	}
	if err := native.Load(); err != nil {
		return fmt.Errorf("load the filter: %w", err)
	}
	if foreign != nil {
		if err := foreign.Load(); err != nil {
			return fmt.Errorf("load the foreign-ABI filter: %w", err)
		}
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0); errno != 0 {
		return fmt.Errorf("getppid: %v", errno)
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_GETPGRP, 0, 0, 0); errno != syscall.EACCES {
		return fmt.Errorf("getpgrp returned errno %v, want EACCES", errno)
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0); errno != syscall.ENOSYS {
		return fmt.Errorf("getsid returned errno %v, want ENOSYS (trace without a tracer)", errno)
	}
	if exe := os.Getenv(helperExerciserEnv); exe != "" {
		argv := []string{exe}
		if os.Getenv(helperNoI386Env) == "1" {
			argv = append(argv, "no-i386")
		}
		return syscall.Exec(exe, argv, os.Environ())
	}
	return nil
}

func addRule(f *seccomp.ScmpFilter, name string, action seccomp.ScmpAction) error {
	nr, err := seccomp.GetSyscallFromName(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.AddRule(nr, action)
}

// wantRecord is a record the live test waits for: the syscall, by name in
// its ABI, and the action.
type wantRecord struct {
	arch   syscalls.Arch
	name   string
	action Action
}

func (w wantRecord) String() string { return fmt.Sprintf("%s %s %s", w.arch, w.name, w.action) }

// TestLiveKernelRecords: records the kernel writes right now for every
// action and ABI parse, and resolve to the syscalls that were made.
func TestLiveKernelRecords(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("in the helper process")
	}
	if pid := auditDaemon(); pid != 0 {
		t.Skipf("an audit daemon (pid %d) takes the kernel's audit records, so /dev/kmsg gets none; run this test without auditd", pid)
	}
	native := syscalls.Native()
	want := []wantRecord{
		{native, "getppid", ActionLog},
		{native, "getpgrp", ActionErrno},
		{native, "getsid", ActionTrace},
	}
	exerciser := ""
	noI386 := false
	if runtime.GOARCH == "amd64" {
		exerciser = buildExerciser(t)
		want = append(want,
			wantRecord{native, "getpriority", ActionTrap},
			wantRecord{native, "setpgid", ActionKillProcess},
			wantRecord{syscalls.X32, "getpid", ActionLog})
		runs, reason, err := abiprobe.I386()
		if err != nil {
			t.Fatal(err)
		}
		if runs {
			want = append(want, wantRecord{syscalls.I386, "getpid", ActionLog})
		} else {
			noI386 = true
			t.Logf("no i386 record expected: %s", reason)
		}
	}

	kmsg := openKmsg(t)
	seen := map[wantRecord]string{}
	// The kernel rate-limits its audit messages (10 every 5 seconds, shared
	// with every process on the machine), so one run may lose some.
	for attempt := 1; len(seen) < len(want); attempt++ {
		if attempt > 12 {
			var missing []wantRecord
			for _, w := range want {
				if _, ok := seen[w]; !ok {
					missing = append(missing, w)
				}
			}
			t.Fatalf("after %d runs of the helper, no kernel record for %v in /dev/kmsg: the kernel's rate limit (see dmesg), or an audit daemon (auditd) that takes the records instead (auditctl -s shows its pid)", attempt-1, missing)
		}
		if attempt > 1 {
			time.Sleep(5 * time.Second) // let the rate limit's window pass
		}
		pid := runHelper(t, exerciser, noI386)
		for _, line := range kmsg.readFor(2*time.Second, func(l []byte) bool { return bytes.Contains(l, []byte(" pid="+strconv.Itoa(pid)+" ")) }) {
			var r Record
			found, err := ParseLine(line, &r)
			if !found || err != nil {
				t.Fatalf("kernel line not parsed (found %v): %v\n%s", found, err, line)
			}
			checkLiveRecord(t, &r, pid, line)
			arch, name, ok := r.Resolve()
			if !ok {
				t.Fatalf("record does not resolve: arch %x syscall %d\n%s", r.AuditArch, r.Syscall, line)
			}
			w := wantRecord{arch, name, r.Action()}
			if _, dup := seen[w]; !dup {
				seen[w] = string(line)
				t.Logf("%v: %s", w, line)
			}
		}
	}
	for w := range seen {
		if !contains(want, w) {
			t.Errorf("unexpected record %v: %s", w, seen[w])
		}
	}
}

func contains(list []wantRecord, w wantRecord) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// checkLiveRecord checks the fields the kernel wrote for the helper.
func checkLiveRecord(t *testing.T, r *Record, pid int, line []byte) {
	t.Helper()
	if r.Format != FormatKmsg {
		t.Errorf("format %v, want kmsg: %s", r.Format, line)
	}
	if r.PID != pid || r.UID != uint32(os.Getuid()) {
		t.Errorf("pid %d uid %d, want %d %d: %s", r.PID, r.UID, pid, os.Getuid(), line)
	}
	if d := time.Since(r.Time); d < -time.Minute || d > 5*time.Minute {
		t.Errorf("record time %v is not now: %s", r.Time, line)
	}
	// x32's compat= is 1 only on kernels built with the x32 ABI; seccomp
	// sees (and logs) the syscall before a kernel without it refuses it.
	arch, _ := r.Arch()
	wantCompat := 0
	if arch == syscalls.I386 {
		wantCompat = 1
	}
	if r.Compat != wantCompat && arch != syscalls.X32 {
		t.Errorf("compat=%d for %v, want %d: %s", r.Compat, arch, wantCompat, line)
	}
	wantSig := 0
	if r.Action() == ActionKillProcess {
		wantSig = int(syscall.SIGSYS)
	}
	if r.Signal != wantSig {
		t.Errorf("sig=%d for %v, want %d: %s", r.Signal, r.Action(), wantSig, line)
	}
	if len(r.Exe) == 0 || len(r.Comm) == 0 || r.IP == 0 {
		t.Errorf("comm %q exe %q ip %#x: %s", r.Comm, r.Exe, r.IP, line)
	}
}

// auditDaemon returns the PID of the audit daemon the kernel sends its
// records to instead of its log, or 0 for none (or when it cannot tell).
func auditDaemon() uint32 {
	c, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return 0
	}
	defer c.Close()
	st, err := c.GetStatus()
	if err != nil {
		return 0
	}
	return st.PID
}

// buildExerciser compiles testdata/exerciser.c.
func buildExerciser(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc is needed to build testdata/exerciser.c (make deps installs it): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "exerciser")
	if out, err := exec.Command(gcc, "-O0", "-o", bin, "testdata/exerciser.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc testdata/exerciser.c: %v\n%s", err, out)
	}
	return bin
}

// runHelper runs the helper (and the exerciser, if given, without its
// i386 syscall if noI386) and returns its PID. The exerciser ends killed
// by SIGSYS; the helper alone exits 0.
func runHelper(t *testing.T, exerciser string, noI386 bool) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperExerciserEnv+"="+exerciser)
	if noI386 {
		cmd.Env = append(cmd.Env, helperNoI386Env+"=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case exerciser == "" && err != nil:
		t.Fatalf("helper: %v\n%s", err, stderr.Bytes())
	case exerciser != "" && !(errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGSYS):
		t.Fatalf("exerciser: %v, want it killed by SIGSYS\n%s", err, stderr.Bytes())
	}
	return cmd.Process.Pid
}

// kmsgReader reads /dev/kmsg without blocking.
type kmsgReader struct {
	fd  int
	buf []byte
}

// openKmsg opens /dev/kmsg positioned at its end.
func openKmsg(t *testing.T) *kmsgReader {
	t.Helper()
	// Raw non-blocking reads: an os.File would wait in the poller.
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/kmsg to read the kernel's audit records (run as root): %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.Seek(fd, 0, 2); err != nil {
		t.Fatalf("seek /dev/kmsg: %v", err)
	}
	return &kmsgReader{fd: fd, buf: make([]byte, 8192)}
}

// readFor returns the lines that keep accepts among those the kernel logs
// within d. Each read of /dev/kmsg returns one record.
func (k *kmsgReader) readFor(d time.Duration, keep func([]byte) bool) [][]byte {
	var lines [][]byte
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		n, err := syscall.Read(k.fd, k.buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			time.Sleep(20 * time.Millisecond)
			continue
		case errors.Is(err, syscall.EPIPE):
			continue // records were overwritten while we read; go on
		case err != nil:
			return lines
		}
		line := bytes.TrimRight(k.buf[:n], "\n")
		if keep(line) {
			lines = append(lines, append([]byte(nil), line...))
		}
	}
	return lines
}
