package profiles_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/lint"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/record"
	"github.com/pgseccomp/pgseccomp/internal/workload"
	"github.com/pgseccomp/pgseccomp/profiles"
)

// shipped is what each shipped profile must say about itself: the
// PostgreSQL major, distribution (os-release's PRETTY_NAME) and glibc of
// the Debian release it was recorded in. A profile added to profiles/
// must be added here (TestShippedFiles).
var shipped = []struct {
	file, distribution, glibc string
	major                     int
}{
	{"profiles/postgresql-15-debian-12-x86_64.json", "Debian GNU/Linux 12 (bookworm)", "2.36", 15},
	{"profiles/postgresql-17-debian-13-x86_64.json", "Debian GNU/Linux 13 (trixie)", "2.41", 17},
	{"profiles/postgresql-18-debian-sid-x86_64.json", "Debian GNU/Linux forky/sid", "2.43", 18},
	{"profiles/postgresql-19-debian-experimental-x86_64.json", "Debian GNU/Linux forky/sid", "2.43", 19},
}

// TestShippedFiles: every profile in profiles/ is in the table above, and
// every one in the table is shipped.
func TestShippedFiles(t *testing.T) {
	var want []string
	for _, s := range shipped {
		want = append(want, s.file)
	}
	if got := profiles.Files(); !slices.Equal(got, want) {
		t.Errorf("shipped files %v, the test knows %v", got, want)
	}
}

// TestShippedProfile checks what each shipped profile says about itself:
// recorded by pgseccomp record with the built-in workload on its major,
// distribution and x86_64, proven by an enforce pass without denials,
// enforcing (error defaults), loadable as the server would load it, with
// no lint error for its own major, and giving sessions no io_uring.
func TestShippedProfile(t *testing.T) {
	for _, sp := range shipped {
		t.Run(sp.file, func(t *testing.T) {
			p, err := profiles.Read(sp.file)
			if err != nil {
				t.Fatal(err)
			}
			checkShipped(t, p, sp.major, sp.distribution, sp.glibc)
		})
	}
}

func checkShipped(t *testing.T, p *profile.Profile, major int, distribution, glibc string) {
	pv := p.Provenance
	if pv.Major() != major {
		t.Errorf("provenance PostgreSQL %q: want major %d", pv.PostgreSQL, major)
	}
	for _, c := range []struct{ what, got, want string }{
		{"tool", pv.Tool, "pgseccomp record"},
		{"architecture", pv.Architecture, "x86_64"},
		{"glibc", pv.Glibc, glibc},
		{"distribution", pv.Distribution, distribution},
	} {
		if c.got != c.want {
			t.Errorf("provenance %s = %q, want %q", c.what, c.got, c.want)
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
	// docs/SPEC.md §6 and §7: what a quiet recording misses (pselect6,
	// which 19 no longer makes, is lint's: policy.NeedsFor).
	for _, name := range []string{"newfstatat", "getdents64", "pipe2", "signalfd4", "pwritev", "rt_sigaction", "gettid", "tgkill", "seccomp"} {
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
			paths = append(paths, st.ServerLifePath())
		}
	}
	for _, name := range paths {
		if name == "login host radius" && pv.Major() >= 19 {
			continue // 19 removed RADIUS
		}
		if ps := pv.Paths[name]; len(ps.Global) == 0 {
			t.Errorf("provenance.paths has no global syscalls for %q", name)
		}
	}
	// A path holds its event, not what ran around it: a login runs no
	// program (the reloads around the certificate login run
	// ssl_passphrase_command), and a backend's abort() is its session's.
	for _, login := range []string{"login hostssl cert", "login host scram-sha-256", "login local peer"} {
		if slices.Contains(pv.Paths[login].Global, "execve") {
			t.Errorf("provenance.paths[%q] has execve: a program that ran around the login", login)
		}
	}
	if ps := pv.Paths[workload.BackendAbortEvent]; !slices.Contains(ps.Session, "tgkill") {
		t.Errorf("provenance.paths[%q] has no tgkill in sessions: %v", workload.BackendAbortEvent, ps.Session)
	}
	s, err := profile.ToSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := p.Arch()
	if err != nil {
		t.Fatal(err)
	}
	built, err := s.Build(arch)
	if err != nil {
		t.Errorf("the server would refuse the shipped profile: %v", err)
	}
	for _, fd := range lint.Run(lint.Input{Major: major, Targets: []lint.Target{{Arch: arch, Settings: s, Policy: built}}}) {
		if fd.Severity == lint.Error {
			t.Errorf("lint: %s: %s (%s)", fd.Severity, fd.Message, fd.Check)
		}
	}
	if m := profile.TargetMismatch(pv, profile.Target{Major: major, Distribution: distribution, Architecture: "x86_64"}); m != nil {
		t.Errorf("the profile does not match its own system: %v", m)
	}
}

// TestFor finds each shipped profile by its own provenance, and none for
// a system nothing is shipped for, saying what is.
func TestFor(t *testing.T) {
	for _, sp := range shipped {
		got, why := profiles.For(profile.Provenance{PostgreSQL: fmt.Sprintf("%d.99 (Debian)", sp.major), Distribution: sp.distribution, Architecture: "x86_64"})
		if got == nil || got.Source != sp.file {
			t.Errorf("For(PostgreSQL %d, %s, x86_64) = %v (%s), want %s", sp.major, sp.distribution, got, why, sp.file)
		}
	}
	for _, pv := range []profile.Provenance{
		{PostgreSQL: "16.4", Distribution: shipped[0].distribution, Architecture: "x86_64"},
		{PostgreSQL: "15.20", Distribution: "Ubuntu 24.04.1 LTS", Architecture: "x86_64"},
		{PostgreSQL: "15.20", Distribution: shipped[0].distribution, Architecture: "aarch64"},
	} {
		got, why := profiles.For(pv)
		if got != nil {
			t.Errorf("For(%s) = %s, want none", pv.For(), got.Source)
		}
		if !strings.Contains(why, pv.For()) || !strings.Contains(why, "shipped: PostgreSQL 15 on Debian GNU/Linux 12 (bookworm), x86_64") {
			t.Errorf("For(%s): why %q should name the system and what is shipped", pv.For(), why)
		}
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
	// The profile for this machine's PostgreSQL (PG_CONFIG's, the one
	// Verify runs) and distribution.
	bin, err := cluster.FindBinDir("")
	if err != nil {
		t.Fatal(err)
	}
	version, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	p, why := profiles.For(profile.Provenance{PostgreSQL: strings.TrimPrefix(strings.TrimSpace(string(version)), "postgres (PostgreSQL) "),
		Distribution: profile.OSRelease(), Architecture: "x86_64"})
	if p == nil {
		t.Skipf("%s", why)
	}
	var progress strings.Builder
	err = record.Verify(context.Background(), p, record.Options{BuiltIn: true, Progress: &progress, Logf: t.Logf})
	t.Logf("%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
}
