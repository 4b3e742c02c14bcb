package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// The test binary re-executes itself as a child that loads a profile and
// makes syscalls under it (a filter cannot be unloaded, so the test process
// itself must stay unfiltered).
const (
	childProfileEnv = "PGSECCOMP_EXPORT_TEST_PROFILE"
	childProbesEnv  = "PGSECCOMP_EXPORT_TEST_PROBES"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childProfileEnv); path != "" {
		os.Exit(loadAndProbe(path, strings.Split(os.Getenv(childProbesEnv), ",")))
	}
	os.Exit(m.Run())
}

// probes are harmless syscalls the child can make, each returning its errno.
var probes = map[string]func() error{
	"getppid": func() error { _, _, e := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0); return errnoErr(e) },
	"getpid":  func() error { _, _, e := unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0); return errnoErr(e) },
	"uname":   func() error { var u unix.Utsname; return unix.Uname(&u) },
	"getcwd":  func() error { buf := make([]byte, 4096); _, err := unix.Getcwd(buf); return err },
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// loadAndProbe loads the OCI profile at path as runc does
// (libcontainer/seccomp/seccomp_linux.go: names resolved on the native
// architecture, rules added to every listed one, unknown names skipped),
// then makes each probe and prints "name=OK" or "name=ERRNO".
func loadAndProbe(path string, names []string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(data, &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := loadLikeRunc(&s); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 3
	}
	for _, name := range names {
		probe, ok := probes[name]
		if !ok {
			fmt.Fprintln(os.Stderr, "no probe", name)
			return 2
		}
		result := "OK"
		var errno syscall.Errno
		if err := probe(); errors.As(err, &errno) {
			result = unix.ErrnoName(errno)
		} else if err != nil {
			result = err.Error()
		}
		fmt.Printf("%s=%s\n", name, result)
	}
	return 0
}

func scmpAction(a specs.LinuxSeccompAction, errno *uint) (libseccomp.ScmpAction, error) {
	switch a {
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActErrno:
		ret := int16(unix.EPERM) // runc's default
		if errno != nil {
			ret = int16(*errno)
		}
		return libseccomp.ActErrno.SetReturnCode(ret), nil
	}
	return 0, fmt.Errorf("action %s not expected", a)
}

func loadLikeRunc(s *specs.LinuxSeccomp) error {
	def, err := scmpAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return err
	}
	filter, err := libseccomp.NewFilter(def)
	if err != nil {
		return err
	}
	for _, arch := range s.Architectures {
		found := false
		for a, name := range ociArchNames {
			if name == arch {
				found = true
				if err := filter.AddArch(a.Seccomp()); err != nil {
					return fmt.Errorf("add %s: %w", arch, err)
				}
			}
		}
		if !found {
			return fmt.Errorf("unknown architecture %s", arch)
		}
	}
	for _, f := range s.Flags {
		if f != specs.LinuxSeccompFlagLog {
			return fmt.Errorf("flag %s not expected", f)
		}
		if err := filter.SetLogBit(true); err != nil {
			return err
		}
	}
	for _, g := range s.Syscalls {
		act, err := scmpAction(g.Action, g.ErrnoRet)
		if err != nil {
			return err
		}
		for _, name := range g.Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				continue // runc: "unknown seccomp syscall ignored"
			}
			if err := filter.AddRule(nr, act); err != nil {
				return fmt.Errorf("add rule %s %s: %w", name, g.Action, err)
			}
		}
	}
	return filter.Load()
}

// TestOCIProfileLoads exports profiles, loads each into a child process as
// runc would, and checks with real syscalls that the kernel does what
// pgseccomp's global layer says: allowed and logged syscalls run, error
// ones fail with EACCES, kill ones kill the process with SIGSYS.
func TestOCIProfileLoads(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      Filter
		probes []string
		want   []string // output lines; nil: the child must die by SIGSYS
	}{
		{"deny-list", profileOf(policy.Allow, map[policy.Action][]string{policy.Error: {"uname"}, policy.Log: {"getcwd"}}),
			[]string{"getppid", "uname", "getcwd"}, []string{"getppid=OK", "uname=EACCES", "getcwd=OK"}},
		{"allow-list", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: pgAllow, policy.Log: {"getcwd"}}),
			[]string{"getpid", "getppid", "uname", "getcwd"}, []string{"getpid=OK", "getppid=EACCES", "uname=EACCES", "getcwd=OK"}},
		{"kill", profileOf(policy.Allow, map[policy.Action][]string{policy.Kill: {"uname"}}),
			[]string{"getppid", "uname", "getpid"}, nil},
		{"trial", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: pgAllow, policy.Kill: {"uname"}}),
			[]string{"getppid", "uname"}, []string{"getppid=OK", "uname=OK"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := OCIJSON(tc.p, OCIOptions{Arches: x86Arches, Trial: tc.name == "trial"})
			if err != nil {
				t.Fatal(err)
			}
			path := t.TempDir() + "/profile.json"
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childProfileEnv+"="+path, childProbesEnv+"="+strings.Join(tc.probes, ","))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if tc.want == nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("child was not killed: %v, output %q", err, stdout)
				}
				ws := exit.Sys().(syscall.WaitStatus)
				if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
					t.Fatalf("child ended with %v, want death by SIGSYS; stderr %s", exit, stderr.String())
				}
				if got := strings.TrimSpace(string(stdout)); got != "getppid=OK" {
					t.Errorf("before dying the child printed %q, want getppid=OK", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("child failed: %v\nstderr: %s", err, stderr.String())
			}
			if got := strings.Fields(string(stdout)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("probes gave %v, want %v", got, tc.want)
			}
		})
	}
}
