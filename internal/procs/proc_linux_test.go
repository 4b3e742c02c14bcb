//go:build linux

package procs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// These tests read the real /proc: the test process itself, and a child of
// it that runs under a real seccomp filter.

const helperEnv = "PGSECCOMP_PROCS_TEST_HELPER"

// TestHelperProcess is not a test: run as a child of the tests below (the
// os/exec pattern), it sets no_new_privs, installs an allow-all seccomp
// filter, says "ready" on stdout and waits until its stdin is closed.
//
// PGSECCOMP_PROCS_TEST_HELPER=tsync installs the filter on every thread
// (SECCOMP_FILTER_FLAG_TSYNC, which also sets no_new_privs on them);
// PGSECCOMP_PROCS_TEST_HELPER=thread installs it on the calling thread only.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for the /proc tests; runs only as their child")
	}
	runtime.LockOSThread() // the filter and no_new_privs belong to this thread
	if err := installAllowAll(mode == "tsync"); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// installAllowAll sets no_new_privs and loads a one-instruction filter that
// allows every system call.
func installAllowAll(tsync bool) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	filter := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	var flags uintptr
	if tsync {
		flags = unix.SECCOMP_FILTER_FLAG_TSYNC
	}
	r1, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	if r1 != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): thread %d could not be synchronized", r1)
	}
	return nil
}

// startHelper starts TestHelperProcess in mode and waits until its filter is
// loaded. The helper exits when the test ends.
func startHelper(t *testing.T, mode string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper did not get ready: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

// rawField returns a field of /proc/PID/status read without ParseStatus, to
// check ParseStatus against.
func rawField(t *testing.T, path, key string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestRealSelf(t *testing.T) {
	var r Reader
	c, warnings, err := r.ForPID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if len(c.Processes) != 1 {
		t.Fatalf("ForPID(self) = %d processes", len(c.Processes))
	}
	p := c.Processes[0]
	if p.PID != os.Getpid() || p.PPID != os.Getppid() || p.Kind != KindOther || c.PostmasterPID != 0 {
		t.Errorf("ForPID(self) = pid %d ppid %d kind %s postmaster %d", p.PID, p.PPID, p.Kind, c.PostmasterPID)
	}
	if exe, _ := os.Executable(); p.Exe != exe {
		t.Errorf("Exe = %q, want %q", p.Exe, exe)
	}
	if p.Args[0] != os.Args[0] {
		t.Errorf("Args[0] = %q, want %q", p.Args[0], os.Args[0])
	}
	// The test itself runs without a filter, unless the whole test run is
	// confined (e.g. in a container); either way ParseStatus must agree with
	// the kernel's text.
	self := filepath.Join("/proc", strconv.Itoa(os.Getpid()), "status")
	if want := rawField(t, self, "Seccomp"); strconv.Itoa(p.Status.SeccompMode) != want {
		t.Errorf("SeccompMode = %d, /proc says %q", p.Status.SeccompMode, want)
	}
	if rawField(t, self, "Seccomp") == "0" {
		if p.Status.SeccompMode != SeccompDisabled || p.Status.NoNewPrivs || p.Status.Confined() {
			t.Errorf("self status = %+v, want seccomp disabled, no no_new_privs", p.Status)
		}
	}
	if p.Status.Threads < 1 {
		t.Errorf("Threads = %d", p.Status.Threads)
	}
}

func TestRealFilteredChild(t *testing.T) {
	selfFilters := 0
	if s, err := (Reader{}).Status(os.Getpid()); err == nil && s.SeccompFilters > 0 {
		selfFilters = s.SeccompFilters
	}
	pid := startHelper(t, "tsync")
	var r Reader
	c, _, err := r.ForPID(pid)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Processes[0]
	s := p.Status
	t.Logf("child %d: %d threads, Seccomp %d, Seccomp_filters %d, NoNewPrivs %v, SSB %q", pid, s.Threads, s.SeccompMode, s.SeccompFilters, s.NoNewPrivs, s.SpeculationStoreBypass)
	if s.SeccompMode != SeccompFilter || !s.NoNewPrivs || !s.Confined() {
		t.Errorf("child status = %+v, want seccomp mode 2 and no_new_privs", s)
	}
	if s.SeccompFilters != -1 && s.SeccompFilters != selfFilters+1 {
		t.Errorf("child has %d filters, want %d", s.SeccompFilters, selfFilters+1)
	}
	if s.SeccompFilters < 1 && rawField(t, r.Path(pid, "status"), "Seccomp_filters") != "" {
		t.Errorf("child has %d filters, want >= 1", s.SeccompFilters)
	}
	if p.PPID != os.Getpid() || p.Kind != KindOther {
		t.Errorf("child = ppid %d kind %s", p.PPID, p.Kind)
	}
}

// TestRealPartlyFilteredChild loads the filter on one thread of a
// multi-threaded child: the process must read as unconfined, because its
// other threads are.
func TestRealPartlyFilteredChild(t *testing.T) {
	if rawField(t, "/proc/self/status", "Seccomp") != "0" {
		t.Skip("the test already runs under seccomp")
	}
	pid := startHelper(t, "thread")
	var r Reader
	tasks, err := os.ReadDir(r.Path(pid, "task"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) < 2 {
		t.Skipf("helper has %d thread", len(tasks))
	}
	filtered := 0
	for _, task := range tasks {
		if rawField(t, filepath.Join(r.Path(pid, "task"), task.Name(), "status"), "Seccomp") == "2" {
			filtered++
		}
	}
	if filtered == 0 || filtered == len(tasks) {
		t.Fatalf("%d of %d helper threads are filtered, want some but not all", filtered, len(tasks))
	}
	s, err := r.Status(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("child %d: %d of %d threads filtered; Status() says Seccomp %d, NoNewPrivs %v", pid, filtered, len(tasks), s.SeccompMode, s.NoNewPrivs)
	if s.Confined() || s.SeccompMode != SeccompDisabled {
		t.Errorf("Status() = %+v, want the unfiltered threads' mode 0", s)
	}
	// The Go runtime may start a thread at any moment, so the count is
	// checked against the task list read before and after Status().
	after, err := os.ReadDir(r.Path(pid, "task"))
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != pid || s.Threads < len(tasks) || s.Threads > len(after) {
		t.Errorf("Status() = pid %d threads %d, want the main thread's %d and %d to %d", s.PID, s.Threads, pid, len(tasks), len(after))
	}
}

func TestRealDiscover(t *testing.T) {
	// Whatever clusters run on this machine, a scan of the live /proc,
	// where processes come and go, must not fail.
	clusters, warnings, err := Reader{}.Discover()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Logf("warning: %v", w)
	}
	for _, c := range clusters {
		t.Logf("postmaster %d, %s: %d processes, pgseccomp loaded %v", c.PostmasterPID, c.DataDir, len(c.Processes), c.PgseccompLoaded)
		for _, p := range c.Processes {
			if c.PostmasterPID != 0 && p.Kind == KindUnknown && p.Cmdline != "" {
				t.Errorf("process %d: unrecognized title %q", p.PID, p.Cmdline)
			}
		}
	}
}
