package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary play the re-executed program of
// session.run, as the matrix binary does.
func TestMain(m *testing.M) {
	if spec := os.Getenv(inRootEnv); spec != "" {
		err := enterRoot(spec)
		fmt.Fprintf(os.Stderr, "matrix: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// helperEnv makes the test binary, run inside a root, act as TestHelper*.
const helperEnv = "PGSECCOMP_MATRIX_HELPER"

// TestSessionRunsInRoot runs this test binary in a tiny root (a directory
// holding only the binary) through session.run, and checks what a major's
// run relies on: the kernel's /proc, a /dev with working devices and a
// tmpfs /dev/shm, the bind-mounted directory at its host path, writes that
// reach the run's overlay and never the cached root, no mount that leaks
// to the host, and processes left behind killed.
func TestSessionRunsInRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mount namespaces, overlayfs and chroot")
	}
	if fss, err := os.ReadFile("/proc/filesystems"); err != nil || !bytes.Contains(fss, []byte("\toverlay\n")) {
		t.Skip("the kernel has no overlayfs (modprobe overlay)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ldd", self).CombinedOutput(); err == nil && !strings.Contains(string(out), "not a dynamic executable") {
		t.Skipf("the test binary is dynamically linked, so it cannot run alone in an empty root:\n%s", out)
	}
	base := t.TempDir()
	root := filepath.Join(base, "root")
	for _, d := range []string{"bin", "proc", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/helper"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	s, err := newSession(root, []string{shared}, []string{"PATH=/bin", helperEnv + "=" + shared}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	if err := s.run("/tmp", "helper", "-test.run=^TestHelperInRoot$", "-test.v"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("inside:\n%s", out.String())
	if b, err := os.ReadFile(filepath.Join(shared, "from-root")); err != nil || string(b) != "hello" {
		t.Errorf("the bind-mounted directory did not get the file written inside: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "tmp/in-overlay")); err == nil {
		t.Error("a file written inside reached the cached root")
	}
	if _, err := os.Stat(filepath.Join(s.Scratch, "upper/tmp/in-overlay")); err != nil {
		t.Errorf("a file written inside is not in the run's overlay: %v", err)
	}
	// ... and lasts to the next command of the same run.
	out.Reset()
	if err := s.run("/", "helper", "-test.run=^TestHelperSeesOverlay$"); err != nil {
		t.Errorf("second command of the run: %v\n%s", err, out.String())
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err != nil || bytes.Contains(mi, []byte(s.Scratch)) {
		t.Errorf("a mount of the run is visible on the host (%v):\n%s", err, mi)
	}

	// A process left behind (as a server a failed test did not stop).
	out.Reset()
	err = s.run("/", "helper", "-test.run=^TestHelperLeaveProcess$")
	if err == nil || !strings.Contains(err.Error(), "left processes running in its root, killed") {
		t.Fatalf("a command that leaves a process behind: %v, want the error that names it\n%s", err, out.String())
	}
	pid, rerr := os.ReadFile(filepath.Join(shared, "left-pid"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !strings.Contains(err.Error(), strings.TrimSpace(string(pid))+" (helper)") {
		t.Errorf("the error does not name pid %s: %v", pid, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	if n <= 0 {
		t.Fatalf("bad pid %q", pid)
	}
	// Dead: gone, or a zombie its new parent has not reaped yet.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n)); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i < 0 || !bytes.HasPrefix(stat[i:], []byte(") Z")) {
			t.Errorf("the process left behind (pid %d) still runs: %s", n, stat)
		}
	}
}

func TestHelperInRoot(t *testing.T) {
	shared := os.Getenv(helperEnv)
	if shared == "" {
		t.Skip("runs inside TestSessionRunsInRoot's root")
	}
	// The kernel's /proc, of this pid namespace (the host's).
	link, err := os.Readlink("/proc/self")
	if err != nil || link != strconv.Itoa(os.Getpid()) {
		t.Errorf("/proc/self = %q, %v; want %d", link, err, os.Getpid())
	}
	if _, err := os.Stat("/proc/1/status"); err != nil {
		t.Errorf("/proc/1/status: %v", err)
	}
	// Devices that work.
	if err := os.WriteFile("/dev/null", []byte("x"), 0); err != nil {
		t.Errorf("write /dev/null: %v", err)
	}
	buf := make([]byte, 16)
	if f, err := os.Open("/dev/urandom"); err != nil {
		t.Errorf("open /dev/urandom: %v", err)
	} else if n, err := f.Read(buf); err != nil || n != 16 {
		t.Errorf("read /dev/urandom: %d, %v", n, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Errorf("/dev/shm: statfs type %#x, %v; want tmpfs", st.Type, err)
	}
	if fi, err := os.Stat("/dev/shm"); err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("/dev/shm mode %v, %v; want 1777", fi.Mode(), err)
	}
	// Nothing else of the host: this root holds only the helper.
	if _, err := os.Stat("/etc"); err == nil {
		t.Error("/etc exists in a root that has none")
	}
	if wd, _ := os.Getwd(); wd != "/tmp" {
		t.Errorf("working directory %q, want /tmp", wd)
	}
	if err := os.WriteFile("/tmp/in-overlay", []byte("x"), 0o644); err != nil {
		t.Error(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "from-root"), []byte("hello"), 0o644); err != nil {
		t.Errorf("write into the bind-mounted %s: %v", shared, err)
	}
}

func TestHelperSeesOverlay(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs inside TestSessionRunsInRoot's root")
	}
	if _, err := os.Stat("/tmp/in-overlay"); err != nil {
		t.Errorf("the file the first command wrote: %v", err)
	}
}

func TestHelperLeaveProcess(t *testing.T) {
	shared := os.Getenv(helperEnv)
	if shared == "" {
		t.Skip("runs inside TestSessionRunsInRoot's root")
	}
	if os.Getenv("HELPER_SLEEP") != "" {
		time.Sleep(time.Hour)
		return
	}
	cmd := exec.Command("/bin/helper", "-test.run=^TestHelperLeaveProcess$")
	cmd.Env = append(os.Environ(), "HELPER_SLEEP=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "left-pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
}
