package record

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/workload"
	"github.com/pgseccomp/pgseccomp/profiles"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: audit netlink socket, audit session, postgres OS user")
	}
}

// rolesStep connects as two roles, each many times with a connection per
// statement (short-lived backends): alice only selects; bob also lists a
// directory (getdents64), which no other client backend does.
var rolesStep = workload.Step{Name: "two-roles", Run: func(ctx context.Context, t workload.Target) error {
	admin, err := pgx.Connect(ctx, t.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	for _, sql := range []string{
		`DO $$BEGIN
		   IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alice') THEN CREATE ROLE alice LOGIN; END IF;
		   IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'Bob') THEN CREATE ROLE "Bob" LOGIN; END IF;
		 END$$`,
		`GRANT EXECUTE ON FUNCTION pg_ls_dir(text) TO "Bob"`,
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	// Enough connections that every backend's timing-dependent path (the
	// first wait for a query turns the socket's epoll event from writable
	// to readable only if the query has not arrived yet) is seen.
	for i := 0; i < 30; i++ {
		for _, who := range []struct{ role, sql string }{
			{"alice", "SELECT count(*) FROM pg_class"},
			{"Bob", "SELECT count(*) FROM pg_ls_dir('.')"},
		} {
			conn, err := pgx.Connect(ctx, t.ConnString("postgres")+" user="+quoteDSNValue(who.role))
			if err != nil {
				return err
			}
			_, err = conn.Exec(ctx, who.sql)
			conn.Close(ctx)
			if err != nil {
				return fmt.Errorf("%s as %s: %w", who.sql, who.role, err)
			}
		}
	}
	return nil
}}

// connectionsStep opens many short connections, so that a backend's
// timing-dependent paths are recorded.
var connectionsStep = workload.Step{Name: "connections", Run: func(ctx context.Context, t workload.Target) error {
	for i := 0; i < 30; i++ {
		conn, err := pgx.Connect(ctx, t.ConnString("postgres"))
		if err != nil {
			return err
		}
		// The function the sneaky workload calls, on a directory that
		// does not exist: its catalog rows are cached, getdents64 is not
		// made.
		_, err = conn.Exec(ctx, "SELECT count(*) FROM pg_ls_dir('/nonexistent', true, false)")
		conn.Close(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}}

// autovacuumStep has an autovacuum worker vacuum and analyze a table in
// every pass. The recording cluster sends workers to every database each
// second (autovacuum_naptime = 1s), and with log_autovacuum_min_duration = 0
// a worker that vacuums calls getrusage; left to chance, one pass sees that
// and another does not.
var autovacuumStep = workload.Step{Name: "autovacuum", Run: func(ctx context.Context, t workload.Target) error {
	conn, err := pgx.Connect(ctx, t.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	const counts = `SELECT coalesce((SELECT autovacuum_count + autoanalyze_count FROM pg_stat_user_tables WHERE relid = to_regclass('av_churn')), 0)`
	var before int64
	if err := conn.QueryRow(ctx, counts).Scan(&before); err != nil {
		return err
	}
	for _, sql := range []string{
		`CREATE TABLE IF NOT EXISTS av_churn (id int) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_analyze_scale_factor = 0)`,
		`INSERT INTO av_churn SELECT generate_series(1, 1000)`,
		`DELETE FROM av_churn`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		var now int64
		if err := conn.QueryRow(ctx, counts).Scan(&now); err != nil {
			return err
		}
		if now >= before+2 { // a vacuum and an analyze
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("autovacuum did not vacuum and analyze av_churn within 60s (counts %d, then %d)", before, now)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}}

func quoteDSNValue(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestRecordPerRole records two roles' short-lived sessions and a workload
// command, to a fixpoint, and proves the lists with error defaults.
func TestRecordPerRole(t *testing.T) {
	needRoot(t)
	var progress strings.Builder
	res, err := Run(context.Background(), Options{
		BuiltIn: true, Steps: []workload.Step{rolesStep, autovacuumStep},
		Workloads: []string{"psql -X -q -c 'CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x' -c 'SELECT * FROM t'"},
		PerRole:   true, Progress: &progress, Logf: t.Logf,
	})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	p := res.Profile
	var phases []string
	for _, ps := range p.Provenance.Passes {
		phases = append(phases, ps.Phase)
	}
	// A pass of each layer, then a fixpoint: a confirming pass (both
	// layers logging) without records, or each layer's last pass adding
	// nothing; then one enforce pass.
	passes := p.Provenance.Passes
	if len(passes) < 4 || phases[0] != "global" || phases[1] != "session" || phases[len(phases)-1] != "enforce" {
		t.Fatalf("passes %v: want a global pass, a session pass, ..., then enforce", phases)
	}
	if len(passes[0].New) == 0 || len(passes[1].New) == 0 {
		t.Errorf("the first passes recorded nothing: %+v", passes[:2])
	}
	fixpoint := passes[2].Phase == "confirm" && passes[2].Records == 0 && len(passes) == 4
	if !fixpoint {
		lastOf := map[string]int{}
		for i, ps := range passes {
			lastOf[ps.Phase] = i
		}
		fixpoint = len(passes[lastOf["global"]].New) == 0 && len(passes[lastOf["session"]].New) == 0 &&
			lastOf["global"] > 2 && lastOf["session"] > 2
	}
	if !fixpoint {
		t.Errorf("passes %+v: no fixpoint before the enforce pass", passes)
	}
	for _, name := range p.Session.Allow {
		if !slices.Contains(p.Global.Allow, name) {
			t.Errorf("session syscall %s is not in the global list: the global filter would deny it", name)
		}
	}
	for _, must := range []string{"clone", "seccomp", "pipe2"} { // postmaster forks, backends install, postmaster compiles
		if !slices.Contains(p.Global.Allow, must) {
			t.Errorf("global list lacks %s", must)
		}
	}
	alice, okA := p.Roles["alice"]
	bob, okB := p.Roles["Bob"]
	if !okA || !okB {
		t.Fatalf("roles recorded: %v; want alice and Bob", p.RoleNames())
	}
	if !slices.Contains(bob.Allow, "getdents64") {
		t.Errorf("Bob's list lacks getdents64, which his pg_ls_dir made: %v", bob.Allow)
	}
	if slices.Contains(alice.Allow, "getdents64") {
		t.Errorf("alice's list has getdents64, which only Bob's sessions made")
	}
	if !slices.Contains(p.Session.Allow, "getdents64") {
		t.Errorf("the session-level list (for roles not listed) lacks a role's getdents64")
	}
	t.Logf("kernel audit lost counter %d before, %d after", res.LostBefore, res.LostAfter)
	t.Logf("global %d, session %d, alice %d, Bob %d syscalls; %d passes in %v",
		len(p.Global.Allow), len(p.Session.Allow), len(alice.Allow), len(bob.Allow), len(passes), res.Elapsed)
}

// TestRecordFailsOnDenial: a workload that does something new only when
// the lists are enforced makes the recording fail, naming the syscall and
// the workload.
func TestRecordFailsOnDenial(t *testing.T) {
	needRoot(t)
	sneaky := `if [ "$PGSECCOMP_RECORD_PHASE" = enforce ]; then psql -X -q -c "SELECT pg_ls_dir('.', true, false)"; fi`
	_, err := Run(context.Background(), Options{BuiltIn: true, Steps: []workload.Step{connectionsStep}, Workloads: []string{sneaky}, Logf: t.Logf})
	var failed *FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("Run: %v; want a FailedError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "getdents64") || !strings.Contains(msg, "PGSECCOMP_RECORD_PHASE") {
		t.Errorf("the error does not name getdents64 and the workload:\n%s", msg)
	}
}

// TestRecordExistingCluster records a cluster that exists already, in
// place: the server is stopped, recorded and started again, and the
// cluster's configuration files are byte for byte what they were.
func TestRecordExistingCluster(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	c := clustertest.New(t, cluster.Options{})
	files := []string{"postgresql.conf", "pg_hba.conf", "postgresql.auto.conf", cluster.ManagedConfFile}
	before := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(c.DataDir, f))
		if err != nil {
			t.Fatal(err)
		}
		before[f] = string(data)
	}
	// Many connections, so that timing-dependent paths are recorded.
	e, err := cluster.FindExisting("", c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Existing: e, InPlace: true, Workloads: []string{"for i in $(seq 30); do psql -X -q -c 'SELECT count(*) FROM pg_class' >/dev/null || exit 1; done"}, Logf: t.Logf}
	opts.ServerLog = filepath.Join(c.BaseDir, "restarted.log")
	if err := c.Chown(c.BaseDir); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Profile.Global.Allow); n < 40 {
		t.Errorf("global list has %d syscalls; a server makes more", n)
	}
	for _, f := range files {
		data, _ := os.ReadFile(filepath.Join(c.DataDir, f))
		if string(data) != before[f] {
			t.Errorf("%s changed", f)
		}
	}
	conn, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		t.Fatalf("the server was not started again: %v", err)
	}
	defer conn.Close(ctx)
	var loaded bool
	if err := conn.QueryRow(ctx, "SELECT current_setting('shared_preload_libraries') LIKE '%pgseccomp%'").Scan(&loaded); err != nil {
		t.Fatal(err)
	}
	if loaded {
		t.Errorf("the server started again still has the recording's settings")
	}
}

// TestRecordInPlaceFailureLeavesNothing records a cluster in place with a
// workload that fails after the server-life steps made their database and
// roles: the recording fails, the server runs again, and the cluster's
// databases, roles and data directory are what they were; the work
// directory is gone.
func TestRecordInPlaceFailureLeavesNothing(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	tmp := clustertest.SearchableTempDir(t, "pgseccomp-inplace-")
	c := clustertest.New(t, cluster.Options{})
	state := func() string {
		conn, err := c.Connect(ctx, "", "postgres")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var dbs, roles string
		if err := conn.QueryRow(ctx, `SELECT (SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database),
			(SELECT string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles)`).Scan(&dbs, &roles); err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, dir := range []string{"", "base", "pg_tblspc", "pg_replslot"} {
			entries, err := os.ReadDir(filepath.Join(c.DataDir, dir))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
		return dbs + "\n" + roles + "\n" + strings.Join(files, " ")
	}
	if err := c.Chown(tmp); err != nil { // the restarted server's log is in it
		t.Fatal(err)
	}
	before := state()
	e, err := cluster.FindExisting("", c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	// The built-in workload's setup (a database, roles), then a step
	// that finds them and fails.
	failing := workload.Step{Name: "fails-midway", Run: func(ctx context.Context, tg workload.Target) error {
		conn, err := pgx.Connect(ctx, tg.ConnString("pgseccomp_workload"))
		if err != nil {
			return fmt.Errorf("the setup step made no database: %w", err)
		}
		conn.Close(ctx)
		return errors.New("failed on purpose")
	}}
	opts := Options{Existing: e, InPlace: true, ServerLog: filepath.Join(tmp, "restarted.log"), Logf: t.Logf,
		BuiltIn: true, Steps: []workload.Step{workload.ServerLife()[0], failing}}
	_, err = Run(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "failed on purpose") {
		t.Fatalf("Run with a workload that fails: %v; want the step's failure", err)
	}
	t.Logf("the recording failed as it should: %v", firstLine(err.Error()))
	if after := state(); after != before {
		t.Errorf("the failed recording left something in the cluster:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "pgseccomp-*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestRecordTakesShippedPaths records a copy of an existing cluster with
// the server-life events, completed from a "shipped" profile built from
// this very recording's lists and per-path map, from whose lists one
// syscall a login path saw is removed (as a recording that missed it
// would be), and which also has a path the cluster does not use with a
// syscall nobody recorded: the profile has the removed syscall again, with
// a reason that names the path, not the unused path's; it carries the
// per-path map, with the logins and the server-life events; and the
// enforce pass proves it.
func TestRecordTakesShippedPaths(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	c := clustertest.New(t, cluster.Options{})
	e, err := cluster.FindExisting("", c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	const unusedPath, unusedSyscall = "a path this cluster does not use", "kexec_load"
	var removed, removedFrom string
	opts := Options{Existing: e, Logf: t.Logf, Workloads: []string{"psql -X -q -c 'SELECT count(*) FROM pg_class' >/dev/null"}}
	opts.shipped = func(recorded map[string]profile.PathSyscalls, l *lists) *profile.Profile {
		shipped := &profile.Profile{Provenance: profile.Provenance{Paths: map[string]profile.PathSyscalls{}}}
		for name, ps := range recorded {
			shipped.Provenance.Paths[name] = ps
		}
		shipped.Provenance.Paths[unusedPath] = profile.PathSyscalls{Global: []string{unusedSyscall}}
		shipped.Global.Allow, shipped.Session.Allow = sortedNames(l.global), sortedNames(l.session)
		// A syscall a login saw in the global layer, and no session did.
		for _, name := range slices.Sorted(maps.Keys(recorded)) {
			if !strings.HasPrefix(name, "login ") {
				continue
			}
			for _, n := range recorded[name].Global {
				if l.global[n] && !l.session[n] && removed == "" {
					removed, removedFrom = n, name
				}
			}
		}
		delete(l.global, removed)
		return shipped
	}
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Profile
	if removed == "" {
		t.Fatalf("no login path with a global syscall in the recording's paths: %v", slices.Sorted(maps.Keys(p.Provenance.Paths)))
	}
	t.Logf("removed %s (seen on %q) from the recorded global list", removed, removedFrom)
	if !slices.Contains(p.Global.Allow, removed) {
		t.Errorf("the profile's global layer lacks %s, which the shipped path %q has", removed, removedFrom)
	}
	if slices.Contains(p.Global.Allow, unusedSyscall) {
		t.Errorf("the profile's global layer has %s, from a path the cluster does not use", unusedSyscall)
	}
	var why string
	for _, a := range p.Provenance.Added {
		if a.Layer == "global" && slices.Contains(a.Syscalls, removed) {
			why = a.Why
		}
		if strings.Contains(a.Why, unusedPath) {
			t.Errorf("an addition from the unused path: %+v", a)
		}
	}
	_, named, _ := strings.Cut(why, `path "`)
	named, _, _ = strings.Cut(named, `"`)
	if ps, ok := p.Provenance.Paths[named]; !ok || !slices.Contains(ps.Global, removed) || !strings.Contains(why, "shipped profile") {
		t.Errorf("the reason %s was added: %q; want a shipped path that saw it named", removed, why)
	} else {
		t.Logf("%s: %s", removed, why)
	}
	wantPaths := []string{"server start", "shutdown", "login local trust"}
	for _, s := range workload.ServerLife() {
		wantPaths = append(wantPaths, s.ServerLifePath())
	}
	for _, want := range wantPaths {
		ps, ok := p.Provenance.Paths[want]
		if !ok || len(ps.Global) == 0 {
			t.Errorf("provenance.paths[%q] = %+v, %v; want the global syscalls seen there", want, ps, ok)
		}
	}
	if ps := p.Provenance.Paths["login local trust"]; len(ps.Session) == 0 {
		t.Errorf("provenance.paths[\"login local trust\"] has no session syscalls: a login's backend runs its session filter after authentication")
	}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d paths (a %d-byte profile), %d passes in %v; proven: %s", len(p.Provenance.Paths), len(data), len(p.Provenance.Passes), res.Elapsed, strings.Join(res.Proven, ", "))
}

// TestRecordTakesArchivingByConfiguration: two clusters recorded and
// completed from the real shipped profile: one that does not archive
// takes nothing from the shipped profile's archiving path (execve, vfork
// and chdir, which archive_command's programs make, are not in its global
// layer), one that archives (archive_mode = on, an archive_command) has
// what that path saw, and a reason that names it.
func TestRecordTakesArchivingByConfiguration(t *testing.T) {
	needRoot(t)
	shipped, err := profiles.PostgreSQL15Debian12()
	if err != nil {
		t.Fatal(err)
	}
	archivingPath, ok := shipped.Provenance.Paths[ArchivingPath]
	if !ok {
		t.Fatalf("the shipped profile has no %q path", ArchivingPath)
	}
	var programs []string // what archive_command's programs make and no server process needs
	for _, n := range []string{"execve", "vfork", "chdir"} {
		if slices.Contains(archivingPath.Global, n) {
			programs = append(programs, n)
		}
	}
	if len(programs) == 0 {
		t.Fatalf("the shipped profile's %q path has none of execve, vfork, chdir: %v", ArchivingPath, archivingPath.Global)
	}
	for _, tt := range []struct {
		name     string
		settings map[string]string
	}{
		{"does not archive", nil},
		{"archives", map[string]string{"archive_mode": "on", "archive_command": "'/bin/true %p'"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := clustertest.New(t, cluster.Options{Settings: tt.settings})
			e, err := cluster.FindExisting("", c.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), Options{Existing: e, Logf: t.Logf, Workloads: []string{"psql -X -q -c 'SELECT 1' >/dev/null"}})
			if err != nil {
				t.Fatal(err)
			}
			p := res.Profile
			if _, why := profiles.For(p.Provenance); why != "" {
				t.Skipf("the shipped profile is not for this server: %s", why)
			}
			var fromArchiving []string
			for _, a := range p.Provenance.Added {
				if strings.Contains(a.Why, fmt.Sprintf("path %q", ArchivingPath)) {
					fromArchiving = append(fromArchiving, a.Layer+": "+strings.Join(a.Syscalls, ","))
				}
			}
			archives := tt.settings != nil
			for _, n := range programs {
				if has := slices.Contains(p.Global.Allow, n); has != archives {
					t.Errorf("the global layer has %s: %v, want %v", n, has, archives)
				}
			}
			if archives == (len(fromArchiving) == 0) {
				t.Errorf("additions from the %q path: %v; want some only when the cluster archives", ArchivingPath, fromArchiving)
			}
			t.Logf("global %d, session %d syscalls; from the archiving path: %v", len(p.Global.Allow), len(p.Session.Allow), fromArchiving)
		})
	}
}
