package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// The two sides of every pair.
const (
	unconfinedSide = "unconfined"
	confinedSide   = "confined"
)

// clientFilterScriptFile is written into the cluster's base directory, the
// working directory of its pgbench runs.
const clientFilterScriptFile = "client-filter.sql"

// side is one way of running the cluster: its postgresql.conf settings and
// the seccomp filters a client backend must then have.
type side struct {
	name     string
	settings map[string]string
	// filters is what /proc must show for a client backend (global and
	// session filter: 2) and for the postmaster (the global one: 1).
	filters int
}

// sidesFor returns the unconfined and the confined side. In a control run
// no side loads a filter (see controlMode).
func sidesFor(o options) []side {
	confined := side{confinedSide, confinedSettings(o.Scale), 2}
	switch o.Control {
	case controlUnloaded:
		confined = side{confinedSide, tuningSettings(o.Scale), 0}
	case controlLoaded:
		confined = side{confinedSide, loadedSettings(o.Scale), 0}
	}
	return []side{{unconfinedSide, tuningSettings(o.Scale), 0}, confined}
}

// benchCluster is the one cluster both sides run on, restarted with the
// side's settings before each of its runs. One data directory means the
// same files, the same on-disk layout and the same table history for both
// sides, so no difference between two clusters can pass for pgseccomp's.
type benchCluster struct {
	c       *cluster.Cluster
	current string // the side the server last started as; "" before
	logf    func(string, ...any)
}

// startCluster creates and initialises the cluster: pgbench tables at the
// scale, pg_prewarm, and one schema per side holding that side's
// set_client_filter (pgseccomp's in "confined", the SQL stub in
// "unconfined"), so that the client-filter script runs the same SQL with
// only the schema name told apart. It is left stopped.
func startCluster(ctx context.Context, o options, sides []side, logf func(string, ...any)) (*benchCluster, error) {
	// First start as the confined side: CREATE EXTENSION pgseccomp needs
	// the library preloaded.
	first := sides[1]
	c, err := cluster.New(ctx, cluster.Options{Settings: first.settings, Logf: logf})
	if err != nil {
		return nil, err
	}
	b := &benchCluster{c: c, logf: logf}
	fail := func(err error) (*benchCluster, error) {
		b.remove()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return fail(err)
	}
	b.current = first.name
	logf("pgbench -i -s %d", o.Scale)
	cmd := c.Command(ctx, "pgbench", "-i", "-q", "-s", strconv.Itoa(o.Scale))
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgbench -i -s %d failed: %w\n%s", o.Scale, err, lastLines(string(out), 12)))
	}
	setup := []string{
		"CREATE EXTENSION pg_prewarm",
		"CREATE SCHEMA " + unconfinedSide,
		clientFilterStub(unconfinedSide),
		"CREATE SCHEMA " + confinedSide,
	}
	if o.Control != "" {
		setup = append(setup, clientFilterStub(confinedSide))
	} else {
		setup = append(setup, "CREATE EXTENSION pgseccomp SCHEMA "+confinedSide)
	}
	for _, schema := range []string{unconfinedSide, confinedSide} {
		setup = append(setup, "REVOKE ALL ON FUNCTION "+schema+".set_client_filter(text, text, text, text, text) FROM PUBLIC")
	}
	setup = append(setup, "CHECKPOINT")
	if err := b.exec(ctx, setup...); err != nil {
		return fail(err)
	}
	script := filepath.Join(c.BaseDir, clientFilterScriptFile)
	if err := os.WriteFile(script, []byte(clientFilterScript), 0o644); err != nil {
		return fail(fmt.Errorf("write the pgbench script: %w", err))
	}
	if err := c.Chown(script); err != nil {
		return fail(err)
	}
	return b, nil
}

// use makes the server run as side s, with extra settings on top of the
// side's (nil for none): it restarts the server with them, loads the pgbench
// relations into shared buffers, and checks from /proc that the server is
// confined as s says. Every run starts this way, so both sides start from
// the same state: a fresh server with warm buffers.
func (b *benchCluster) use(ctx context.Context, s side, extra map[string]string) error {
	settings := maps.Clone(s.settings)
	maps.Copy(settings, extra)
	if err := b.c.SetSettings(settings); err != nil {
		return err
	}
	if err := b.c.Restart(ctx); err != nil {
		return fmt.Errorf("restart the cluster as the %s side: %w", s.name, err)
	}
	b.current = s.name
	prewarm := `SELECT sum(pg_prewarm(oid::regclass)) FROM pg_class
		WHERE relname LIKE 'pgbench\_%' AND relkind IN ('r', 'i')`
	if err := b.exec(ctx, prewarm); err != nil {
		return err
	}
	return b.verify(ctx, s)
}

// verify checks, from /proc, that the comparison is what it claims: the
// postmaster has the global filter or none; a client backend has the global
// and the session filter, or none; and set_client_filter in the side's
// schema answers 'OK' and adds the client filter on the confined side.
func (b *benchCluster) verify(ctx context.Context, s side) error {
	pm, err := b.c.PostmasterPID()
	if err != nil {
		return err
	}
	if err := b.checkFilters(s, pm, "the postmaster", min(s.filters, 1)); err != nil {
		return err
	}
	if err := b.verifySession(ctx, s, "", s.filters); err != nil {
		return err
	}
	withClient := s.filters
	if withClient > 0 {
		withClient++
	}
	return b.verifySession(ctx, s, clientFilterCall(s.name), withClient)
}

// verifySession runs sql (if any) in a new session, which must return 'OK',
// then checks that the session's backend has want seccomp filters.
func (b *benchCluster) verifySession(ctx context.Context, s side, sql string, want int) error {
	conn, err := b.c.Connect(ctx, "", "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if sql != "" {
		var ok string
		if err := conn.QueryRow(ctx, sql).Scan(&ok); err != nil || ok != "OK" {
			return fmt.Errorf("%s side: %s returned %q, %v; want 'OK'", s.name, sql, ok, err)
		}
	}
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return fmt.Errorf("%s side: SELECT pg_backend_pid(): %w", s.name, err)
	}
	what := "backend " + strconv.Itoa(pid) + " in a new session"
	if sql != "" {
		what = "backend " + strconv.Itoa(pid) + " after " + sql
	}
	return b.checkFilters(s, pid, what, want)
}

// checkFilters compares a server process's seccomp filter count with want.
func (b *benchCluster) checkFilters(s side, pid int, what string, want int) error {
	st, err := procs.Reader{}.Status(pid)
	if err != nil {
		return fmt.Errorf("%s side: read the seccomp state of %s (pid %d): %w; run the benchmark as root or as the cluster's OS user", s.name, what, pid, err)
	}
	got := st.SeccompFilters
	if got < 0 { // the kernel predates Seccomp_filters: judge by the mode
		got = map[bool]int{false: 0, true: want}[st.SeccompMode == procs.SeccompFilter]
	}
	if got != want {
		return fmt.Errorf("%s side: %s has %d seccomp filters, want %d (seccomp mode %s); "+
			"the comparison would not measure what it says: check shared_preload_libraries in %s",
			s.name, what, got, want, procs.SeccompModeName(st.SeccompMode),
			filepath.Join(b.c.DataDir, cluster.ManagedConfFile))
	}
	return nil
}

// exec runs statements, in order, on one fresh connection.
func (b *benchCluster) exec(ctx context.Context, statements ...string) error {
	conn, err := b.c.Connect(ctx, "", "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, sql := range statements {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("cluster %s (as the %s side): %s: %w", b.c.DataDir, b.current, sql, err)
		}
	}
	return nil
}

// queryRow runs a one-row query on a fresh connection and scans it.
func (b *benchCluster) queryRow(ctx context.Context, sql string, dest ...any) error {
	conn, err := b.c.Connect(ctx, "", "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		return fmt.Errorf("cluster %s: %s: %w", b.c.DataDir, sql, err)
	}
	return nil
}

// checkpoint writes out what the last run dirtied, so that the next run,
// and the shutdown before it, start from a clean cluster.
func (b *benchCluster) checkpoint(ctx context.Context) error {
	return b.exec(ctx, "CHECKPOINT")
}

// remove stops and deletes the cluster.
func (b *benchCluster) remove() {
	if err := b.c.Remove(); err != nil {
		b.logf("%v", err)
	}
}
