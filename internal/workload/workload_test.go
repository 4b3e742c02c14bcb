package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// clusterTarget adapts a throwaway test cluster to Target.
type clusterTarget struct {
	c       *cluster.Cluster
	scratch string
	logf    func(format string, args ...any)
}

func (ct *clusterTarget) Env() []string                   { return ct.c.Env() }
func (ct *clusterTarget) ConnString(db string) string     { return ct.c.ConnString("", db) }
func (ct *clusterTarget) DataDir() string                 { return ct.c.DataDir }
func (ct *clusterTarget) ScratchDir() string              { return ct.scratch }
func (ct *clusterTarget) Throwaway() bool                 { return true }
func (ct *clusterTarget) Logf(format string, args ...any) { ct.logf(format, args...) }
func (ct *clusterTarget) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return ct.c.Command(ctx, name, args...)
}

func (ct *clusterTarget) Stop(ctx context.Context, mode string) error {
	switch mode {
	case "fast":
		return ct.c.Stop(ctx)
	case "immediate":
		cmd := ct.c.Command(ctx, "pg_ctl", "-D", ct.c.DataDir, "-w", "-m", "immediate", "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("pg_ctl -m immediate stop: %v\n%s", err, out)
		}
		return nil
	}
	return fmt.Errorf("clusterTarget.Stop: mode %q is neither fast nor immediate", mode)
}

func (ct *clusterTarget) Start(ctx context.Context) error { return ct.c.Start(ctx) }

func (ct *clusterTarget) StartExpectingFailure(ctx context.Context) (string, error) {
	_, offset, err := ct.c.LogSince(0)
	if err != nil {
		return "", err
	}
	if err := ct.c.Start(ctx); err == nil {
		return "", errors.New("the server started, but it was expected to fail")
	}
	logged, _, err := ct.c.LogSince(offset)
	return logged, err
}

// newTarget starts a throwaway cluster with the workload's settings.
func newTarget(t *testing.T) *clusterTarget {
	t.Helper()
	scratch, err := os.MkdirTemp("", "pgseccomp-workload-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(scratch) })
	c := clustertest.NewStopped(t, cluster.Options{Settings: Settings(scratch)})
	if err := c.Chown(scratch); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &clusterTarget{c: c, scratch: scratch, logf: t.Logf}
}

// snapshot is what the test reads from the server around each step.
type snapshot struct {
	tempFiles, archived, archiveFailed, checkpoints int64
	slruZeroed                                      map[string]int64
	started                                         time.Time
}

func takeSnapshot(ctx context.Context, ct *clusterTarget) (snapshot, error) {
	conn, err := ct.c.Connect(ctx, "", "postgres")
	if err != nil {
		return snapshot{}, err
	}
	defer conn.Close(ctx)
	major, err := cluster.ConnMajor(ctx, conn)
	if err != nil {
		return snapshot{}, err
	}
	// 17 moved the checkpoint counters to pg_stat_checkpointer.
	checkpoints := `SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter`
	if major >= 17 {
		checkpoints = `SELECT num_timed + num_requested FROM pg_stat_checkpointer`
	}
	var s snapshot
	if err := conn.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(temp_files), 0)::bigint FROM pg_stat_database),
		(SELECT archived_count FROM pg_stat_archiver), (SELECT failed_count FROM pg_stat_archiver),
		(`+checkpoints+`),
		pg_postmaster_start_time()`).Scan(&s.tempFiles, &s.archived, &s.archiveFailed, &s.checkpoints, &s.started); err != nil {
		return snapshot{}, err
	}
	rows, err := conn.Query(ctx, `SELECT name, blks_zeroed FROM pg_stat_slru`)
	if err != nil {
		return snapshot{}, err
	}
	s.slruZeroed = map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return snapshot{}, err
		}
		s.slruZeroed[name] = n
	}
	return s, rows.Err()
}

// stepCheck is the evidence, outside the step, that a step did what it is
// there for: lines in the server log and counters that moved.
type stepCheck struct {
	log  []string
	cond func(before, after snapshot) error
}

func grew(what string, before, after int64) error {
	if after <= before {
		return fmt.Errorf("%s did not grow (%d before, %d after)", what, before, after)
	}
	return nil
}

var stepChecks = map[string]stepCheck{
	"settings-alter-system-reload": {log: []string{"received SIGHUP, reloading configuration files"}},
	"timeouts-cancel-terminate": {log: []string{
		"canceling statement due to statement timeout",
		"canceling statement due to lock timeout",
		"still waiting for",
		"canceling statement due to user request",
		"terminating connection due to administrator command",
		"terminating connection due to idle-in-transaction timeout",
		"terminating connection due to idle-session timeout",
		"connection to client lost",
	}},
	"deadlock": {log: []string{"deadlock detected"}},
	"row-locks-multixact-subtransactions": {cond: func(b, a snapshot) error {
		return grew("pages zeroed in the MultiXactOffset SLRU", b.slruZeroed["MultiXactOffset"], a.slruZeroed["MultiXactOffset"])
	}},
	"listen-notify": {cond: func(b, a snapshot) error {
		return grew("pages zeroed in the Notify SLRU", b.slruZeroed["Notify"], a.slruZeroed["Notify"])
	}},
	"sort-hash-spill-temp-files": {log: []string{"temporary file: path", "temporary file size exceeds temp_file_limit"},
		cond: func(b, a snapshot) error { return grew("pg_stat_database.temp_files", b.tempFiles, a.tempFiles) }},
	"parallel-query":        {cond: func(b, a snapshot) error { return grew("pg_stat_database.temp_files", b.tempFiles, a.tempFiles) }},
	"copy-files":            {log: []string{"missing.txt"}},
	"databases":             {log: []string{"too many connections for database", "is not currently accepting connections"}},
	"connections-fatal-tcp": {log: []string{"is not permitted to log in", "too many connections for role", "invalid value for parameter \"work_mem\""}},
	"wal-segments-checkpoints-archiving": {log: []string{"checkpoint complete"}, cond: func(b, a snapshot) error {
		if err := grew("pg_stat_archiver.archived_count", b.archived, a.archived); err != nil {
			return err
		}
		return grew("the number of checkpoints", b.checkpoints, a.checkpoints)
	}},
	"logical-replication": {log: []string{
		"table synchronization worker for subscription",
		"duplicate key value violates unique constraint",
		"has been disabled because of an error",
	}},
	"authentication-methods": {log: []string{
		"password authentication failed for user \"" + roleUser + "\"",
		"Ident authentication failed",
		"LDAP",
		"pg_hba.conf rejects connection",
	}},
	"archive-failure-basic-archive": {log: []string{"archive command failed with exit code 1", "restarting archiver process"},
		cond: func(b, a snapshot) error {
			return grew("pg_stat_archiver.failed_count", b.archiveFailed, a.archiveFailed)
		}},
	"logging-collector-syslog": {log: []string{"redirecting log output to logging collector process"}},
	"restart": {log: []string{"database system was shut down at"}, cond: func(b, a snapshot) error {
		if !a.started.After(b.started) {
			return fmt.Errorf("pg_postmaster_start_time() did not change (%v)", a.started)
		}
		return nil
	}},
	"standby-mode-restore-command-promote": {log: []string{"entering standby mode", "received promote request", "selected new timeline ID"}},
	"crash-recovery-immediate-stop":        {log: []string{"database system was interrupted", "redo starts at", "redo done at"}},
	"backend-crash-sigkill":                {log: []string{"was terminated by signal 9: Killed", "all server processes terminated; reinitializing"}},
	"backend-abort-plperlu":                {log: []string{"was terminated by signal 6: Aborted"}},
	"startup-panic":                        {log: []string{"PANIC:  could not locate a valid checkpoint record", "startup process (PID"}},
}

// checkStep waits (the server updates statistics and its log
// asynchronously) until the step's evidence is there.
func checkStep(ctx context.Context, ct *clusterTarget, name string, before snapshot, logOffset int64) error {
	check := stepChecks[name]
	deadline := time.Now().Add(30 * time.Second)
	for {
		after, err := takeSnapshot(ctx, ct)
		if err != nil {
			return fmt.Errorf("after step %s the server does not answer: %w", name, err)
		}
		logged, _, err := ct.c.LogSince(logOffset)
		if err != nil {
			return err
		}
		var problems []string
		for _, want := range check.log {
			if !strings.Contains(logged, want) {
				problems = append(problems, fmt.Sprintf("the server log lacks %q", want))
			}
		}
		if check.cond != nil {
			if err := check.cond(before, after); err != nil {
				problems = append(problems, err.Error())
			}
		}
		if len(problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("step %s: %s", name, strings.Join(problems, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkScratch checks that only what the server writes on its own is left
// in the scratch directory.
func checkScratch(ct *clusterTarget, name string) error {
	entries, err := os.ReadDir(ct.scratch)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != archiveSubdir && e.Name() != shellBackupSubdir {
			return fmt.Errorf("step %s left %s in the scratch directory", name, e.Name())
		}
	}
	return nil
}

// TestBuiltIn runs every step twice on one throwaway cluster (the steps
// must be repeatable) and checks each step's evidence. WORKLOAD_STEPS (a
// comma-separated list of names) runs only those steps; WORKLOAD_TRACE=1
// logs the slow statements and waits.
func TestBuiltIn(t *testing.T) {
	if testing.Short() {
		t.Skip("the built-in workload takes a minute")
	}
	ct := newTarget(t)
	ctx := context.Background()
	only := os.Getenv("WORKLOAD_STEPS")
	if os.Getenv("WORKLOAD_TRACE") != "" {
		traceStatement = func(step, sql string, d time.Duration) {
			if d > 50*time.Millisecond {
				t.Logf("%s: %.2fs %s", step, d.Seconds(), abbreviate(sql))
			}
		}
		defer func() { traceStatement = nil }()
	}
	checkSettingsApplied(t, ct)
	for pass := 1; pass <= 2; pass++ {
		var total time.Duration
		var report strings.Builder
		for _, st := range BuiltIn() {
			if only != "" && !strings.Contains(","+only+",", ","+st.Name+",") {
				continue
			}
			before, err := takeSnapshot(ctx, ct)
			if err != nil {
				t.Fatalf("pass %d, before step %s: %v", pass, st.Name, err)
			}
			_, offset, err := ct.c.LogSince(0)
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			if err := st.Run(ctx, ct); err != nil {
				t.Fatalf("pass %d: %v", pass, err)
			}
			d := time.Since(begin)
			total += d
			fmt.Fprintf(&report, "%-40s %6.2fs\n", st.Name, d.Seconds())
			if err := checkStep(ctx, ct, st.Name, before, offset); err != nil {
				t.Errorf("pass %d: %v", pass, err)
			}
			if err := checkScratch(ct, st.Name); err != nil {
				t.Errorf("pass %d: %v", pass, err)
			}
		}
		t.Logf("pass %d took %.1fs:\n%s", pass, total.Seconds(), report.String())
	}
	if only == "" {
		checkNothingLeft(t, ct)
	}
}

// checkSettingsApplied checks that the server took every setting of
// Settings from the configuration file.
func checkSettingsApplied(t *testing.T, ct *clusterTarget) {
	t.Helper()
	ctx := context.Background()
	conn, err := ct.c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT name, applied, coalesce(error, '') FROM pg_file_settings WHERE sourcefile LIKE '%/`+cluster.ManagedConfFile+`'`)
	if err != nil {
		t.Fatal(err)
	}
	type fileSetting struct {
		Name    string
		Applied bool
		Error   string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fileSetting])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(Settings(ct.scratch)) {
		t.Errorf("the server read %d settings from %s, Settings has %d", len(got), cluster.ManagedConfFile, len(Settings(ct.scratch)))
	}
	for _, s := range got {
		if !s.Applied || s.Error != "" {
			t.Errorf("setting %s from Settings was not applied: %s", s.Name, s.Error)
		}
	}
}

// checkNothingLeft checks that teardown removed every database, role,
// tablespace, slot and prepared transaction the workload made.
func checkNothingLeft(t *testing.T, ct *clusterTarget) {
	t.Helper()
	ctx := context.Background()
	conn, err := ct.c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left []string
	if err := conn.QueryRow(ctx, `SELECT array(
		SELECT 'database ' || datname FROM pg_database WHERE datname = $1 OR datname LIKE $2
		UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE $2
		UNION ALL SELECT 'tablespace ' || spcname FROM pg_tablespace WHERE spcname LIKE $2
		UNION ALL SELECT 'slot ' || slot_name FROM pg_replication_slots
		UNION ALL SELECT 'prepared transaction ' || gid FROM pg_prepared_xacts)`, workDB, prefix+"%").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("after teardown the server still has: %s", strings.Join(left, ", "))
	}
}

// TestSteps checks the list itself: names, order, destructive marks.
func TestSteps(t *testing.T) {
	steps := BuiltIn()
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, st := range steps {
		if !name.MatchString(st.Name) {
			t.Errorf("step name %q is not lower-case words joined by hyphens", st.Name)
		}
		if seen[st.Name] {
			t.Errorf("step name %q is used twice", st.Name)
		}
		seen[st.Name] = true
		if st.Run == nil {
			t.Errorf("step %s has no Run", st.Name)
		}
	}
	if steps[0].Name != "setup" || steps[len(steps)-1].Name != "teardown" {
		t.Errorf("the steps run from %s to %s, want setup first and teardown last", steps[0].Name, steps[len(steps)-1].Name)
	}
	// Steps that stop the server or change its configuration files must be
	// marked destructive.
	for _, n := range []string{"restart", "crash-recovery-immediate-stop", "backend-crash-sigkill", "backend-abort-plperlu",
		"startup-panic", "authentication-methods", "ssl-connections-cert-auth", "wal-sync-methods-no-recycle",
		"archive-failure-basic-archive", "logging-collector-syslog", "standby-mode-restore-command-promote"} {
		i := slices.IndexFunc(steps, func(s Step) bool { return s.Name == n })
		if i < 0 {
			t.Errorf("step %s is missing", n)
			continue
		}
		if !steps[i].Destructive {
			t.Errorf("step %s is not marked destructive", n)
		}
	}
	for n := range stepChecks {
		if !seen[n] {
			t.Errorf("stepChecks names step %q, which BuiltIn does not have", n)
		}
	}
}

func TestSettings(t *testing.T) {
	s := Settings("/scratch dir/it's")
	for name, want := range map[string]string{
		"wal_level":                 "'logical'",
		"archive_mode":              "'on'",
		"max_prepared_transactions": "'10'",
		"shared_preload_libraries":  "'pg_stat_statements,pg_prewarm,basebackup_to_shell'",
	} {
		if s[name] != want {
			t.Errorf("Settings()[%q] = %s, want %s", name, s[name], want)
		}
	}
	if _, ok := s["logging_collector"]; ok {
		t.Error("Settings sets logging_collector: the recorder reads the server's stderr log")
	}
	// The scratch path is quoted for the shell, inside a value quoted for
	// postgresql.conf: read it back as PostgreSQL does.
	entries, errs := pgconf.Parse([]byte("archive_command = "+s["archive_command"]+"\n"), "test")
	if len(errs) > 0 || len(entries) != 1 {
		t.Fatalf("archive_command %s does not parse as a postgresql.conf line: %v", s["archive_command"], errs)
	}
	const dir = `'/scratch dir/it'\''s/wal-archive'`
	if want := "mkdir -p " + dir + " && test ! -f " + dir + "/%f && cp %p " + dir + "/%f"; entries[0].Value != want {
		t.Errorf("archive_command is %s, want %s", entries[0].Value, want)
	}
}

func TestCheckpointSegmentName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields map[string]string
		want   string
		err    string
	}{
		{"first segment", map[string]string{"Latest checkpoint location": "0/1A2B3C8", "Latest checkpoint's TimeLineID": "1", "Bytes per WAL segment": "16777216", "Database cluster state": "shut down"}, "000000010000000000000001", ""},
		{"high LSN", map[string]string{"Latest checkpoint location": "3/FF000028", "Latest checkpoint's TimeLineID": "2", "Bytes per WAL segment": "16777216"}, "0000000200000003000000FF", ""},
		{"1GB segments", map[string]string{"Latest checkpoint location": "5/40000028", "Latest checkpoint's TimeLineID": "1", "Bytes per WAL segment": "1073741824"}, "000000010000000500000001", ""},
		{"1MB segments", map[string]string{"Latest checkpoint location": "0/2A00028", "Latest checkpoint's TimeLineID": "1", "Bytes per WAL segment": "1048576"}, "00000001000000000000002A", ""},
		{"running", map[string]string{"Latest checkpoint location": "0/1A2B3C8", "Latest checkpoint's TimeLineID": "1", "Bytes per WAL segment": "16777216", "Database cluster state": "in production"}, "", "not \"shut down\""},
		{"no LSN", map[string]string{"Latest checkpoint's TimeLineID": "1", "Bytes per WAL segment": "16777216"}, "", "not an LSN"},
		{"bad size", map[string]string{"Latest checkpoint location": "0/1", "Latest checkpoint's TimeLineID": "1", "Bytes per WAL segment": "1000"}, "", "power of two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkpointSegmentName(tc.fields)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error = %v, want one containing %q", err, tc.err)
			case got != tc.want:
				t.Fatalf("segment = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckpointSegmentMatchesServer compares the computed name with the
// server's own pg_walfile_name for the checkpoint it reports.
func TestCheckpointSegmentMatchesServer(t *testing.T) {
	c := clustertest.New(t, cluster.Options{})
	ctx := context.Background()
	conn, err := c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	// The shutdown checkpoint goes where WAL is inserted next.
	if err := conn.QueryRow(ctx, `SELECT pg_walfile_name(pg_current_wal_insert_lsn())`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r := &runner{t: &clusterTarget{c: c, logf: t.Logf}, step: "test"}
	got, err := r.checkpointSegment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("checkpoint segment = %s, the server's current segment was %s", got, want)
	}
	if _, err := os.Stat(c.DataDir + "/pg_wal/" + got); err != nil {
		t.Errorf("the computed segment is not in pg_wal: %v", err)
	}
}

func FuzzCheckpointSegmentName(f *testing.F) {
	f.Add("0/1A2B3C8", "1", "16777216")
	f.Add("FFFFFFFF/FFFFFFFF", "4294967295", "1073741824")
	f.Add("x/y", "-1", "0")
	f.Fuzz(func(t *testing.T, lsn, tli, size string) {
		name, err := checkpointSegmentName(map[string]string{
			"Latest checkpoint location": lsn, "Latest checkpoint's TimeLineID": tli, "Bytes per WAL segment": size,
		})
		if err == nil && !regexp.MustCompile(`^[0-9A-F]{24}$`).MatchString(name) {
			t.Fatalf("segment name %q for (%q, %q, %q) is not 24 hex digits", name, lsn, tli, size)
		}
	})
}

func TestPlanSum(t *testing.T) {
	// EXPLAIN (ANALYZE, FORMAT JSON) of a parallel aggregate, trimmed.
	const plan = `[{"Plan": {"Node Type": "Finalize Aggregate", "Temp Written Blocks": 0,
		"Plans": [{"Node Type": "Gather", "Workers Planned": 2, "Workers Launched": 2, "Temp Written Blocks": 3,
		"Plans": [{"Node Type": "Sort", "Sort Method": "external merge", "Temp Written Blocks": 40}]}]},
		"JIT": {"Functions": 12, "Options": {"Inlining": true}}}]`
	var v any
	if err := json.Unmarshal([]byte(plan), &v); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{"Workers Launched": 2, "Temp Written Blocks": 43, "Functions": 12, "Missing": 0} {
		if got := planSum(v, key); got != want {
			t.Errorf("planSum(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestServerLife: the steps every recording of an existing cluster runs
// start with setup, end with teardown, and include every event of a
// server's life.
func TestServerLife(t *testing.T) {
	steps := ServerLife()
	var names []string
	for _, st := range steps {
		names = append(names, st.Name)
	}
	if names[0] != "setup" || names[len(names)-1] != "teardown" {
		t.Errorf("ServerLife runs %v, want setup first and teardown last", names)
	}
	for _, n := range []string{"pg-hba-logins", "wal-segments-checkpoints-archiving", "base-backup-plain-stream", "restart",
		"crash-recovery-immediate-stop", "backend-abort-plperlu", "startup-panic"} {
		if !slices.Contains(names, n) {
			t.Errorf("ServerLife lacks %s: %v", n, names)
		}
	}
}
