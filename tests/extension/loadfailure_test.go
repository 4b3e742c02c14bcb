package extension

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
)

const helperEnv = "PGSECCOMP_TEST_HELPER"

// TestGlobalLoadFailure: when the global filter cannot be loaded, the
// server does not start. The postmaster runs under an outer filter (as a
// container runtime might impose) that denies seccomp and prctl. The first
// prctl the postmaster makes is the one that makes it non-dumpable, unless
// pgseccomp.allow_core_dumps = on; that failure stops it too.
func TestGlobalLoadFailure(t *testing.T) {
	for _, tt := range []struct{ allowCoreDumps, want string }{
		{"on", "could not load the pgseccomp global filter"},
		{"off", "pgseccomp could not make the server's processes non-dumpable"},
	} {
		t.Run("allow_core_dumps="+tt.allowCoreDumps, func(t *testing.T) {
			c := clustertest.NewStopped(t, cluster.Options{Settings: confSettings(map[string]string{
				"pgseccomp.allow_core_dumps": tt.allowCoreDumps})})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperDenySeccomp$")
			cmd.Env = append(c.Env(), helperEnv+"=deny-seccomp",
				"HELPER_POSTGRES="+filepath.Join(c.BinDir, "postgres"),
				"HELPER_DATADIR="+c.DataDir, "HELPER_USER="+c.OSUser)
			cmd.Dir = c.BaseDir
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the server started although its global filter could not be loaded:\n%s", out)
			}
			if err == nil {
				t.Fatalf("the server exited with status 0:\n%s", out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Fatalf("output does not contain %q:\n%s", tt.want, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
		})
	}
}

// TestHelperDenySeccomp is not a test: run by TestGlobalLoadFailure, it
// becomes the cluster's user, installs a filter that denies seccomp and
// prctl with EPERM, and executes the postmaster.
func TestHelperDenySeccomp(t *testing.T) {
	if os.Getenv(helperEnv) != "deny-seccomp" {
		t.Skip("helper process for TestGlobalLoadFailure")
	}
	runtime.LockOSThread()
	fail := func(what string, err error) {
		os.Stderr.WriteString("helper: " + what + ": " + err.Error() + "\n")
		os.Exit(3)
	}
	u, err := user.Lookup(os.Getenv("HELPER_USER"))
	if err != nil {
		fail("look up user", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := syscall.Setgroups(nil); err != nil {
		fail("setgroups", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		fail("setgid", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		fail("setuid", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail("no_new_privs", err)
	}
	const retErrno = 0x00050000 | uint32(unix.EPERM)
	const retAllow = 0x7fff0000
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // syscall number
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: unix.SYS_SECCOMP},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_PRCTL},
		{Code: unix.BPF_RET | unix.BPF_K, K: retErrno},
		{Code: unix.BPF_RET | unix.BPF_K, K: retAllow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		fail("seccomp", errno)
	}
	postgres := os.Getenv("HELPER_POSTGRES")
	err = syscall.Exec(postgres, []string{postgres, "-D", os.Getenv("HELPER_DATADIR")}, os.Environ())
	fail("exec "+postgres, err)
}
