package export

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// TestCrunRunsProfile runs a real container with crun (an OCI runtime in
// C) under exported profiles: the host's /usr as the image, /bin/sh
// running /bin/uname. It proves a runtime accepts the profile, starts the
// container under an allow-list (the runtime's own syscalls are in it),
// and enforces error and kill.
func TestCrunRunsProfile(t *testing.T) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("crun is not installed (Debian package crun); skipping the container test")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and unshare(1) to run a container")
	}
	script := "echo started; grep '^Seccomp:' /proc/self/status; /bin/uname; echo uname=$?"
	// Without a profile first: if that fails, this machine cannot run
	// containers, which is no fault of the profiles.
	if out, err := runCrun(t, crun, unshare, script, nil); err != nil || !strings.Contains(string(out), "Seccomp:\t0") {
		t.Skipf("crun cannot run a container here (%v): %s", err, out)
	}
	for _, tc := range []struct {
		name string
		p    Filter
		want []string // lines the output must have
	}{
		{"deny-list error", profileOf(policy.Allow, map[policy.Action][]string{policy.Error: {"uname"}}),
			[]string{"started", "Seccomp:\t2", "Permission denied", "uname=1"}},
		{"deny-list kill", profileOf(policy.Allow, map[policy.Action][]string{policy.Kill: {"uname"}}),
			[]string{"started", "Seccomp:\t2", "uname=159"}}, // 128 + SIGSYS
		{"allow-list", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: union(pgAllow, PgCtlclusterSyscalls)}),
			[]string{"started", "Seccomp:\t2", "Permission denied", "uname=1"}},
		{"allow-list trial", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: union(pgAllow, PgCtlclusterSyscalls)}),
			[]string{"started", "Seccomp:\t2", "uname=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := OCI(tc.p, OCIOptions{Arches: x86Arches, Trial: strings.HasSuffix(tc.name, "trial")})
			if err != nil {
				t.Fatal(err)
			}
			out, err := runCrun(t, crun, unshare, script, s)
			if err != nil {
				t.Fatalf("container failed: %v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// runCrun runs script with /bin/sh in a container whose image is the
// host's /usr (read-only), under seccomp profile s (none when nil).
func runCrun(t *testing.T, crun, unshare, script string, s *specs.LinuxSeccomp) ([]byte, error) {
	t.Helper()
	bundle := t.TempDir()
	for _, d := range []string{"proc", "dev", "usr", "bin", "lib", "lib64", "tmp"} {
		if err := os.MkdirAll(filepath.Join(bundle, "rootfs", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bind := func(dir string) specs.Mount {
		return specs.Mount{Destination: dir, Type: "bind", Source: dir, Options: []string{"rbind", "ro"}}
	}
	spec := specs.Spec{
		Version: "1.0.2", // what crun 1.8 (Debian 12) accepts
		Process: &specs.Process{
			Args: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}, Cwd: "/",
			NoNewPrivileges: true,
		},
		Root:   &specs.Root{Path: "rootfs"},
		Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}, {Destination: "/dev", Type: "tmpfs", Source: "tmpfs"}, bind("/usr"), bind("/bin"), bind("/lib"), bind("/lib64")},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}},
			Seccomp:    s,
		},
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// crun refuses a host with cgroup v1 controllers and a cgroup2 mount at
	// once; unmount the latter in a mount namespace of the test's own, and
	// run without cgroups.
	id := fmt.Sprintf("pgseccomp-export-test-%d", os.Getpid())
	run := fmt.Sprintf("umount /sys/fs/cgroup/unified 2>/dev/null; exec %s --root %s --cgroup-manager=disabled run --bundle %s %s",
		crun, filepath.Join(bundle, "state"), bundle, id)
	return exec.Command(unshare, "-m", "sh", "-c", run).CombinedOutput()
}
