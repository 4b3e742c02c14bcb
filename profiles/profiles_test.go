package profiles_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/record"
	"github.com/pgseccomp/pgseccomp/internal/workload"
	"github.com/pgseccomp/pgseccomp/profiles"
)

// TestShippedProfile checks what the shipped profile says about itself:
// recorded by pgseccomp record with the built-in workload on PostgreSQL 15,
// Debian 12, x86_64, proven by an enforce pass without denials, enforcing
// (error defaults), and loadable as the server would load it.
func TestShippedProfile(t *testing.T) {
	p, err := profiles.PostgreSQL15Debian12()
	if err != nil {
		t.Fatal(err)
	}
	pv := p.Provenance
	for _, c := range []struct{ what, got, want string }{
		{"tool", pv.Tool, "pgseccomp record"},
		{"architecture", pv.Architecture, "x86_64"},
		{"PostgreSQL", pv.PostgreSQL, "15."},
		{"glibc", pv.Glibc, "2.36"},
		{"distribution", pv.Distribution, "Debian GNU/Linux 12"},
	} {
		if !strings.HasPrefix(c.got, c.want) {
			t.Errorf("provenance %s = %q, want %q...", c.what, c.got, c.want)
		}
	}
	if !slices.Contains(pv.Workloads, "built-in") {
		t.Errorf("workloads %v: the shipped profile is recorded with the built-in workload", pv.Workloads)
	}
	if n := len(pv.Passes); n < 4 || pv.Passes[n-1].Phase != "enforce" || pv.Passes[n-1].Records != 0 {
		t.Errorf("passes %+v: want recording passes, then an enforce pass without a record", pv.Passes)
	}
	if p.Global.Default != policy.Error || p.Session.Default != policy.Error {
		t.Errorf("defaults global %s, session %s: the shipped profile enforces (error)", p.Global.Default, p.Session.Default)
	}
	for _, name := range p.Session.Allow {
		if !slices.Contains(p.Global.Allow, name) {
			t.Errorf("session syscall %s is not allowed by the global layer, which confines sessions too", name)
		}
	}
	// docs/SPEC.md §6 and §7: what a quiet recording misses.
	for _, name := range []string{"newfstatat", "getdents64", "pipe2", "pselect6", "signalfd4", "pwritev", "rt_sigaction", "gettid", "tgkill", "seccomp"} {
		if !slices.Contains(p.Global.Allow, name) {
			t.Errorf("the global layer does not allow %s", name)
		}
	}
	for _, name := range []string{"pwritev", "rt_sigaction", "rt_sigreturn", "gettid", "tgkill", "epoll_ctl", "pread64", "restart_syscall", "seccomp"} {
		if !slices.Contains(p.Session.Allow, name) {
			t.Errorf("the session layer does not allow %s", name)
		}
	}
	for _, name := range []string{"execve", "execveat", "ptrace", "mount", "bpf"} {
		if slices.Contains(p.Session.Allow, name) {
			t.Errorf("the session layer allows %s: the built-in workload should not need it", name)
		}
	}
	// io_uring carries operations past seccomp: sessions must not get it
	// unless a profile says so on purpose, and this one does not.
	for _, name := range policy.IOUring {
		if a := max(p.Global.Action(name), p.Session.Action(name)); a < policy.Error {
			t.Errorf("sessions get %s (%s): operations submitted through a ring are not seen by seccomp", name, a)
		}
		for _, role := range p.RoleNames() {
			if a := max(p.Global.Action(name), p.Roles[role].Action(name)); a < policy.Error {
				t.Errorf("sessions of role %s get %s (%s)", role, name, a)
			}
		}
	}
	// A recording of a cluster completes the paths its configuration uses
	// from these: every server-life event, and logins by the methods a
	// recording cannot exercise on a copy.
	paths := []string{"server start", "shutdown", workload.BaseBackupEvent, "login local peer", "login host scram-sha-256", "login hostssl cert", "login host ldap", "login host radius"}
	for _, st := range workload.ServerLife() {
		if !strings.HasPrefix(st.Name, "base-backup-") { // the base backup event
			paths = append(paths, "built-in/"+st.Name)
		}
	}
	for _, name := range paths {
		if ps := pv.Paths[name]; len(ps.Global) == 0 {
			t.Errorf("provenance.paths has no global syscalls for %q", name)
		}
	}
	s, err := profile.ToSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := p.Arch()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Build(arch); err != nil {
		t.Errorf("the server would refuse the shipped profile: %v", err)
	}
}

// TestShippedProfileHoldsBuiltInWorkload runs the built-in workload against
// a server that enforces the shipped profile with error defaults: nothing
// may be denied. It is what make demo runs with, on this machine.
func TestShippedProfileHoldsBuiltInWorkload(t *testing.T) {
	if os.Geteuid() != 0 || runtime.GOARCH != "amd64" {
		t.Skip("needs root (audit socket, postgres OS user) and x86_64")
	}
	if testing.Short() {
		t.Skip("runs the whole built-in workload")
	}
	p, err := profiles.PostgreSQL15Debian12()
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	err = record.Verify(context.Background(), p, record.Options{BuiltIn: true, Progress: &progress, Logf: t.Logf})
	t.Logf("%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
}
