package extension

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// memProbe tries every way into another process's memory, for each pid
// given, and prints "pid way errno" (0: it worked). The remote address of
// process_vm_readv/writev is an unmapped page: passing the kernel's access
// check shows as EFAULT, and nothing is read or written. A successful
// PTRACE_ATTACH is undone at once.
const memProbe = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(int pid, const char *way, int ok) {
	printf("%d %s %d\n", pid, way, ok ? 0 : errno);
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		int pid = atoi(argv[i]);
		char path[64], buf[8];
		struct iovec local = {buf, sizeof buf}, remote = {(void *) 0x1000, sizeof buf};
		int fd;

		snprintf(path, sizeof path, "/proc/%d/mem", pid);
		fd = open(path, O_RDONLY);
		report(pid, "open-read", fd >= 0);
		if (fd >= 0) close(fd);
		fd = open(path, O_WRONLY);
		report(pid, "open-write", fd >= 0);
		if (fd >= 0) close(fd);
		report(pid, "process_vm_readv", process_vm_readv(pid, &local, 1, &remote, 1, 0) >= 0);
		report(pid, "process_vm_writev", process_vm_writev(pid, &local, 1, &remote, 1, 0) >= 0);
		if (ptrace(PTRACE_ATTACH, pid, 0, 0) == 0) {
			waitpid(pid, NULL, __WALL);
			ptrace(PTRACE_DETACH, pid, 0, 0);
			report(pid, "ptrace-attach", 1);
		} else
			report(pid, "ptrace-attach", 0);
	}
	return 0;
}
`

// memAttempt is one line of memProbe's output.
type memAttempt struct {
	target string // "postmaster" or "sibling backend"
	way    string
	errno  syscall.Errno
}

// reached reports whether the attempt got past the kernel's access check.
func (a memAttempt) reached() bool { return a.errno == 0 || a.errno == syscall.EFAULT }

// probeMemory runs memProbe from a session of c (COPY ... TO PROGRAM)
// against the postmaster and another session's backend.
func probeMemory(t *testing.T, c *cluster.Cluster, bin string) []memAttempt {
	t.Helper()
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	sibling := connect(t, c, "")
	conn := connect(t, c, "")
	targets := map[int]string{postmaster: "postmaster", int(sibling.PgConn().PID()): "sibling backend"}
	out := filepath.Join(c.BaseDir, "memprobe.out")
	// cat reads what COPY writes first: a program that exits before COPY
	// has written would make COPY fail with a broken pipe.
	cmd := "cat > /dev/null; exec " + bin + " " + strconv.Itoa(postmaster) + " " + strconv.Itoa(int(sibling.PgConn().PID())) + " > " + out
	mustExec(t, conn, "COPY (SELECT 1) TO PROGRAM '"+cmd+"'")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var attempts []memAttempt
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("the probe printed %q", line)
		}
		pid, _ := strconv.Atoi(f[0])
		errno, err := strconv.Atoi(f[2])
		if targets[pid] == "" || err != nil {
			t.Fatalf("the probe printed %q", line)
		}
		attempts = append(attempts, memAttempt{targets[pid], f[1], syscall.Errno(errno)})
	}
	if len(attempts) != 10 {
		t.Fatalf("the probe printed %d attempts, want 10:\n%s", len(attempts), data)
	}
	return attempts
}

// TestSessionCannotReachOtherProcessesMemory: code run by a confined
// session (here a program started with COPY ... TO PROGRAM, running as the
// server's OS user) cannot open /proc/<pid>/mem of the postmaster or of a
// sibling backend for reading or writing, nor reach them with
// process_vm_readv, process_vm_writev or ptrace: the postmaster made
// itself, and so every server process, non-dumpable. With
// pgseccomp.allow_core_dumps = on the same probe reaches both, which shows
// that the probe can tell.
func TestSessionCannotReachOtherProcessesMemory(t *testing.T) {
	c := newCluster(t, nil)
	src := filepath.Join(c.BaseDir, "memprobe.c")
	bin := filepath.Join(c.BaseDir, "memprobe")
	if err := os.WriteFile(src, []byte(memProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}

	for _, a := range probeMemory(t, c, bin) {
		if a.reached() {
			t.Errorf("%s of the %s: %v; a session must not reach another server process's memory", a.way, a.target, a.errno)
		} else {
			t.Logf("%s of the %s: %v", a.way, a.target, a.errno)
		}
	}

	// The control: dumpable server processes are reachable by this probe
	// on this machine (no Yama or other LSM restriction hides them).
	reconfigure(t, c, map[string]string{"pgseccomp.allow_core_dumps": "on"})
	var reached int
	for _, a := range probeMemory(t, c, bin) {
		if a.reached() {
			reached++
		}
	}
	if reached == 0 {
		t.Errorf("with pgseccomp.allow_core_dumps = on the probe reached nothing: the machine restricts it (Yama ptrace_scope, an LSM), so the check above proves nothing here")
	}
	t.Logf("with pgseccomp.allow_core_dumps = on the probe reached %d of 10", reached)
}
