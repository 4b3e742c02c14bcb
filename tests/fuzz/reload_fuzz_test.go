package fuzz

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// reloadGlobalSettings are the global layer of FuzzReloadSettings: fixed,
// as changing them needs a restart.
var reloadGlobalSettings = map[string]string{
	"pgseccomp.global_syscall_default": "allow",
	"pgseccomp.global_syscall_log":     "sethostname",
	"pgseccomp.global_syscall_error":   "kexec_load,swapon",
	"pgseccomp.global_syscall_kill":    "init_module",
}

// reloadSettingNames are the settings an input of FuzzReloadSettings sets,
// in the order of its string arguments: the session-level settings, and
// per-role settings of joe and alice (who may or may not be listed in
// session_roles), of bob (who is listed only if the input says so), and
// one with a misspelt action.
var reloadSettingNames = [...]string{
	"pgseccomp.session_syscall_allow",
	"pgseccomp.session_syscall_log",
	"pgseccomp.session_syscall_error",
	"pgseccomp.session_syscall_kill",
	"pgseccomp.session_syscall_default",
	"pgseccomp.session_roles",
	"session_syscall_allow.joe",
	"session_syscall_error.joe",
	"session_syscall_default.joe",
	"session_syscall_log.alice",
	"session_syscall_kill.alice",
	"session_syscall_error.bob",
	"session_syscall_eror.joe",
}

// reloadBaseSettings is the valid configuration every input starts from, so
// that an input's outcome does not depend on the inputs before it.
var reloadBaseSettings = map[string]string{
	"pgseccomp.session_syscall_error": "chroot",
	"pgseccomp.session_roles":         "joe,alice",
	"session_syscall_error.joe":       "swapoff",
	"session_syscall_log.alice":       "acct",
}

// reloadRoles are the roles whose new sessions are checked after each
// reload; "" is the bootstrap superuser. joe also keeps one session open
// throughout.
var reloadRoles = []string{"", "joe", "alice", "bob", "carol"}

// reloadState is what one fuzzing process knows about its cluster.
type reloadState struct {
	arch    policy.Arch
	needed  []int
	applied map[string]string // the settings in force, as PostgreSQL applied them
	policy  *policy.Policy    // the session filters new sessions get
	atBase  bool              // the cluster runs reloadBaseSettings

	joe     *pgx.Conn // a session of joe, open since the cluster started
	joeRows []row     // its rows when it opened
	pid     int       // the postmaster's
	rssKB   int       // the postmaster's VmRSS after setup
	reloads int

	outcomes outcomes // of the inputs' reloads, for the figures
}

// outcomes count what the reloads of inputs did.
type outcomes struct {
	applied  int // every setting applied, and the filters rebuilt
	rejected int // PostgreSQL rejected some settings, so the previous filters were kept
	kept     int // the settings in force make no valid filters: the previous ones were kept
	skipped  int // the filters would have denied a syscall the sessions need
}

// FuzzReloadSettings writes arbitrary session-level and per-role settings
// and reloads, starting each input from reloadBaseSettings. PostgreSQL
// applies each setting it can and keeps the old value of one it rejects
// ("unaffected changes were applied"); pgseccomp keeps the previous session
// filters when any of its settings was rejected (a reload is all or
// nothing, docs/SPEC.md §4), else rebuilds them from the settings in force,
// or, when those do not make valid filters, keeps the previous ones. The
// target models these steps with internal/policy and checks:
//   - a new session of each of reloadRoles shows exactly the model's rows;
//   - the log names every setting PostgreSQL rejected, and the setting that
//     made pgseccomp keep the previous filters; a valid configuration logs
//     neither;
//   - the postmaster stays up, with no backend crash, and joe's session,
//     open throughout, keeps its filters and its connection.
//
// Inputs whose filters would deny a syscall the sessions need
// (neededSyscalls) are skipped: loading them would break the sessions. The
// postmaster's VmRSS growth over all reloads is logged when the target ends.
func FuzzReloadSettings(f *testing.F) {
	type input struct {
		set    uint16 // bit i: reloadSettingNames[i] is set
		values [len(reloadSettingNames)]string
	}
	bits := func(names ...string) uint16 {
		var m uint16
		for _, n := range names {
			m |= 1 << slices.Index(reloadSettingNames[:], n)
		}
		return m
	}
	value := func(kv ...string) [len(reloadSettingNames)]string {
		var v [len(reloadSettingNames)]string
		for i := 0; i+1 < len(kv); i += 2 {
			v[slices.Index(reloadSettingNames[:], kv[i])] = kv[i+1]
		}
		return v
	}
	seed := func(kv ...string) input {
		var names []string
		for i := 0; i < len(kv); i += 2 {
			names = append(names, kv[i])
		}
		return input{bits(names...), value(kv...)}
	}
	seeds := []input{
		// Nothing set: every session list '*', default allow.
		seed(),
		// The talk's example 3: clone in the session error list, and
		// joe's own (empty) error list.
		seed("pgseccomp.session_syscall_error", "clone", "pgseccomp.session_roles", "joe", "session_syscall_error.joe", ""),
		// An allow-list session: the demo's list and default error, for
		// joe only; bob listed with his own error list.
		seed("pgseccomp.session_roles", "joe, BOB", "session_syscall_allow.joe", demo.HandDerivedSessionAllowSetting(),
			"session_syscall_default.joe", "error", "session_syscall_error.bob", "ptrace"),
		// A list entry equal to the layer's default, and a per-role list
		// that overrides a session-level one.
		seed("pgseccomp.session_syscall_default", "log", "pgseccomp.session_syscall_allow", demo.HandDerivedSessionAllowSetting(),
			"pgseccomp.session_syscall_log", "acct", "pgseccomp.session_roles", "alice", "session_syscall_log.alice", "chroot"),
		// A quoted role name keeps its case: "JOE" is not joe, yet
		// setting names are case-insensitive.
		seed("pgseccomp.session_roles", "\"JOE\",alice", "session_syscall_error.joe", "ptrace", "session_syscall_log.alice", "acct"),
		seed("pgseccomp.session_syscall_kill", "reboot", "pgseccomp.session_syscall_log", "*", "pgseccomp.session_roles", "\"joe\",alice",
			"session_syscall_kill.alice", "pivot_root, reboot", "session_syscall_default.joe", "ALLOW"),
		// Invalid for PostgreSQL: an unknown syscall, an unknown action,
		// a malformed role list. The first two keep their old values, the
		// other changes apply.
		seed("pgseccomp.session_syscall_error", "chroot,chrooot", "pgseccomp.session_syscall_log", "acct"),
		seed("pgseccomp.session_syscall_default", "deny"),
		seed("pgseccomp.session_roles", "joe,,alice"),
		seed("pgseccomp.session_syscall_allow", "*,read", "pgseccomp.session_syscall_kill", "read write"),
		// Invalid for pgseccomp: the previous filters stay.
		seed("pgseccomp.session_syscall_log", "chroot"),
		seed("session_syscall_error.joe", "swapon,swapoof"),
		seed("session_syscall_default.joe", "deny"),
		seed("session_syscall_default.joe", " error"),
		seed("session_syscall_error.bob", "clone"),
		seed("session_syscall_eror.joe", "clone"),
		seed("pgseccomp.session_roles", "joe,\"web-app\""),
		seed("pgseccomp.session_syscall_allow", "socketcall"),
	}
	for _, s := range seeds {
		v := s.values
		f.Add(s.set, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12])
	}

	var st reloadState
	var err error
	if st.arch, err = policy.NativeArch(); err != nil {
		f.Fatal(err)
	}
	st.needed = neededSyscalls(st.arch)
	c := targetCluster(f, withGlobal(reloadBaseSettings), st.setup)
	f.Cleanup(func() {
		if c == nil {
			return
		}
		o := st.outcomes
		msg := fmt.Sprintf("FuzzReloadSettings (process %d): %d inputs: %d applied, %d with a rejected setting (previous filters kept), %d kept the previous filters, %d skipped",
			os.Getpid(), o.applied+o.rejected+o.kept+o.skipped, o.applied, o.rejected, o.kept, o.skipped)
		if after, err := vmRSSKB(st.pid); err == nil {
			msg += fmt.Sprintf("; postmaster VmRSS %d kB after setup, %d kB after %d reloads (%+d kB)",
				st.rssKB, after, st.reloads, after-st.rssKB)
		}
		f.Log(msg)
		reportFigure(msg)
		st.joe.Close(context.Background())
	})

	f.Fuzz(func(t *testing.T, set uint16, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12 string) {
		file := map[string]string{}
		for i, v := range []string{v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12} {
			if set&(1<<i) != 0 {
				file[reloadSettingNames[i]] = confText(v)
			}
		}
		if !st.atBase {
			st.reload(t, c, withGlobal(reloadBaseSettings))
			st.atBase = true
		}
		rejected, planErr := st.reload(t, c, withGlobal(file))
		st.atBase = maps.Equal(file, reloadBaseSettings)
		switch {
		case len(rejected) > 0:
			st.outcomes.rejected++
		case planErr != nil:
			st.outcomes.kept++
		default:
			st.outcomes.applied++
		}
	})
}

// withGlobal returns the settings plus the fixed global ones.
func withGlobal(settings map[string]string) map[string]string {
	out := maps.Clone(reloadGlobalSettings)
	maps.Copy(out, settings)
	return out
}

// setup runs once per cluster: roles, the model of the initial settings,
// joe's long session, the postmaster's pid and RSS.
func (st *reloadState) setup(c *cluster.Cluster) error {
	if err := createRoles(c, "joe", "alice", "bob", "carol"); err != nil {
		return err
	}
	st.applied = withGlobal(reloadBaseSettings)
	p, err := buildModel(st.applied, st.arch)
	if err != nil {
		return fmt.Errorf("the model rejects the base settings of this target: %w", err)
	}
	st.policy = p
	st.atBase = true
	if st.joe, err = connect(c, "joe"); err != nil {
		return err
	}
	if st.joeRows, err = sessionRows(st.joe, policy.ContextSession); err != nil {
		return err
	}
	if st.pid, err = c.PostmasterPID(); err != nil {
		return err
	}
	st.rssKB, err = vmRSSKB(st.pid)
	return err
}

// buildModel is the model's filters for settings (plain values, without
// the preload), or the problems that make them invalid.
func buildModel(settings map[string]string, arch policy.Arch) (*policy.Policy, error) {
	s, err := policy.ParseSettingsMap(withPreload(settings))
	if err != nil {
		return nil, err
	}
	return s.Build(arch)
}

// sessionSettings are the settings PostgreSQL itself checks (pgseccomp's
// check hooks and enum values): one it rejects on reload keeps its old
// value. Per-role settings are placeholders PostgreSQL takes as they are.
var sessionSettings = []string{
	"pgseccomp.session_syscall_allow",
	"pgseccomp.session_syscall_log",
	"pgseccomp.session_syscall_error",
	"pgseccomp.session_syscall_kill",
	"pgseccomp.session_syscall_default",
	"pgseccomp.session_roles",
}

// applyFile is what PostgreSQL's reload makes of the settings in force
// (applied) and a new configuration file: each setting of the file it
// accepts, the old value of each it rejects (returned, sorted), and the
// default (unset) for each removed from the file.
func applyFile(applied, file map[string]string, arch policy.Arch) (next map[string]string, rejected []string) {
	next = map[string]string{}
	for name, value := range file {
		if !slices.Contains(sessionSettings, name) {
			next[name] = value
			continue
		}
		// Checked alone, as PostgreSQL's check hook checks it.
		if _, err := buildModel(map[string]string{name: value}, arch); err != nil {
			rejected = append(rejected, name)
			if old, ok := applied[name]; ok {
				next[name] = old
			}
			continue
		}
		next[name] = value
	}
	slices.Sort(rejected)
	return next, rejected
}

// reload writes file (with the global settings), reloads, and checks the
// server against the model. It returns the settings PostgreSQL rejected and
// why pgseccomp kept the previous filters (nil when it rebuilt them).
func (st *reloadState) reload(t *testing.T, c *cluster.Cluster, file map[string]string) (rejected []string, planErr error) {
	t.Helper()
	next, rejected := applyFile(st.applied, file, st.arch)
	nextPolicy, planErr := buildModel(next, st.arch)
	if planErr != nil {
		var problems policy.Problems
		if !errors.As(planErr, &problems) {
			t.Fatalf("the model fails with %v, not with Problems", planErr)
		}
	}
	kept := planErr != nil || len(rejected) > 0
	if kept {
		nextPolicy = st.policy
	}
	for _, role := range reloadRoles {
		stack, err := nextPolicy.SessionStack(st.modelRole(c, role), nil)
		if err != nil {
			t.Fatalf("the model has no session for role %q: %v", role, err)
		}
		if ok, why := allowsAll(stack, st.arch, st.needed); !ok {
			st.outcomes.skipped++
			t.Skipf("the session filter of role %q would deny a syscall the session needs (%s)", role, why)
		}
	}

	describe := describeSettings(file)
	_, offset, err := c.LogSince(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSettings(confSettings(file)); err != nil {
		t.Fatalf("%s: %v", describe, err)
	}
	if err := c.Reload(context.Background()); err != nil {
		t.Fatalf("%s: %v", describe, err)
	}
	st.reloads++
	logged, _, err := c.LogSince(offset)
	if err != nil {
		t.Fatal(err)
	}

	st.checkAlive(t, c, describe, logged)
	for _, name := range rejected {
		if w := fmt.Sprintf("invalid value for parameter %q", name); !strings.Contains(logged, w) {
			t.Errorf("%s: the model rejects %s, but the log does not say %s:\n%s", describe, name, w, logged)
		}
	}
	switch {
	case kept && !strings.Contains(logged, "pgseccomp session settings not applied"):
		t.Errorf("%s: the model keeps the previous filters (rejected %v, %v), but the log does not say so:\n%s", describe, rejected, planErr, logged)
	case len(rejected) > 0:
		if !slices.ContainsFunc(rejected, func(name string) bool { return strings.Contains(logged, "The reload rejected "+name+".") }) {
			t.Errorf("%s: the log does not name a setting the model rejects (%v):\n%s", describe, rejected, logged)
		}
	case planErr != nil:
		if !namesProblem(logged, planErr) {
			t.Errorf("%s: the log does not name what the model rejects (%v):\n%s", describe, planErr, logged)
		}
	case strings.Contains(logged, "not applied"):
		t.Errorf("%s: the model accepts the settings in force, but pgseccomp did not apply them:\n%s", describe, logged)
	}
	if len(rejected) == 0 && strings.Contains(logged, "invalid value for parameter") {
		t.Errorf("%s: the model accepts every setting, but PostgreSQL rejected one:\n%s", describe, logged)
	}

	for _, role := range reloadRoles {
		conn, err := connect(c, role)
		if err != nil {
			t.Fatalf("%s: %v", describe, err)
		}
		got, err := sessionRows(conn, policy.ContextSession)
		conn.Close(context.Background())
		if err != nil {
			t.Fatalf("%s: a new session of role %q: %v", describe, role, err)
		}
		want, err := nextPolicy.SessionRows(st.modelRole(c, role), nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffRows(got, modelRows(want)); d != "" {
			t.Errorf("%s: a new session of role %q differs from the model (settings in force: %s; pgseccomp %s):\n%s",
				describe, role, describeSettings(next), planOutcome(rejected, planErr), d)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	st.applied, st.policy = next, nextPolicy
	return rejected, planErr
}

// checkAlive fails t unless the postmaster is the same process, no backend
// crashed, and joe's session is connected with its filters unchanged.
func (st *reloadState) checkAlive(t *testing.T, c *cluster.Cluster, describe, logged string) {
	t.Helper()
	if pid, err := c.PostmasterPID(); err != nil || pid != st.pid || !processAlive(pid) {
		t.Fatalf("%s: the postmaster (pid %d) is gone (postmaster.pid: %d, %v); log:\n%s", describe, st.pid, pid, err, logged)
	}
	for _, w := range []string{"terminated by signal", "PANIC", "was terminated", "reinitializing"} {
		if strings.Contains(logged, w) {
			t.Fatalf("%s: a server process crashed (%q in the log):\n%s", describe, w, logged)
		}
	}
	rows, err := sessionRows(st.joe, policy.ContextSession)
	if err != nil {
		t.Fatalf("%s: joe's session, open since the start: %v", describe, err)
	}
	if d := diffRows(rows, st.joeRows); d != "" {
		t.Fatalf("%s: the filters of joe's open session changed:\n%s", describe, d)
	}
}

// modelRole is the role name the model matches: the bootstrap superuser
// is the OS user.
func (st *reloadState) modelRole(c *cluster.Cluster, role string) string {
	if role == "" {
		return c.OSUser
	}
	return role
}

// namesProblem reports whether the log names one of the model's problems:
// its setting, or both settings of a conflict.
func namesProblem(logged string, err error) bool {
	var problems policy.Problems
	errors.As(err, &problems)
	for _, p := range problems {
		if p.Setting != "" && strings.Contains(logged, p.Setting) {
			return true
		}
		if p.Setting == "" && strings.Contains(logged, "is named in both") {
			return true
		}
	}
	return false
}

func planOutcome(rejected []string, err error) string {
	switch {
	case len(rejected) > 0:
		return fmt.Sprintf("keeps the previous filters: PostgreSQL rejected %v", rejected)
	case err != nil:
		return "keeps the previous filters: " + err.Error()
	}
	return "applies them"
}

// describeSettings renders settings for messages, sorted, Go-quoted.
func describeSettings(settings map[string]string) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		if _, global := reloadGlobalSettings[name]; global {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%q", name, settings[name]))
	}
	if len(parts) == 0 {
		return "{no session settings}"
	}
	return "{" + strings.Join(parts, " ") + "}"
}
