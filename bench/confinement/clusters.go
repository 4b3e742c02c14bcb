package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// The two sides of every pair.
const (
	unconfinedSide = "unconfined"
	confinedSide   = "confined"
)

// clientFilterScriptFile is written into each cluster's base directory, the
// working directory of its pgbench runs.
const clientFilterScriptFile = "client-filter.sql"

// side is one of the two clusters.
type side struct {
	name string
	c    *cluster.Cluster
}

// startSides creates, starts and initialises both clusters at once. The
// returned sides are unconfined then confined; on error, whatever was
// created is removed.
func startSides(ctx context.Context, o options, logf func(string, ...any)) ([]*side, error) {
	specs := []struct {
		name     string
		settings map[string]string
	}{
		{unconfinedSide, tuningSettings(o.Scale)},
		{confinedSide, confinedSettings(o.Scale)},
	}
	sides := make([]*side, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() {
			sides[i], errs[i] = startSide(ctx, spec.name, spec.settings, o.Scale, logf)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		removeSides(sides, logf)
		return nil, err
	}
	return sides, nil
}

// startSide makes one cluster ready to measure: pgbench tables at the given
// scale, loaded into shared buffers and checkpointed; set_client_filter
// (real or stub) and the client-filter script in place.
func startSide(ctx context.Context, name string, settings map[string]string, scale int, logf func(string, ...any)) (*side, error) {
	c, err := cluster.New(ctx, cluster.Options{Settings: settings, Logf: logf})
	if err != nil {
		return nil, fmt.Errorf("%s cluster: %w", name, err)
	}
	s := &side{name: name, c: c}
	fail := func(err error) (*side, error) {
		if rerr := c.Remove(); rerr != nil {
			logf("%v", rerr)
		}
		return nil, fmt.Errorf("%s cluster: %w", name, err)
	}
	if err := c.Start(ctx); err != nil {
		return fail(err)
	}
	logf("%s cluster: pgbench -i -s %d", name, scale)
	cmd := c.Command(ctx, "pgbench", "-i", "-q", "-s", strconv.Itoa(scale))
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgbench -i -s %d failed: %w\n%s", scale, err, lastLines(string(out), 12)))
	}
	setup := []string{
		"CREATE EXTENSION pg_prewarm",
		`SELECT sum(pg_prewarm(oid::regclass)) FROM pg_class
		 WHERE relname LIKE 'pgbench\_%' AND relkind IN ('r', 'i')`,
	}
	if name == confinedSide {
		setup = append(setup, "CREATE EXTENSION pgseccomp")
	} else {
		setup = append(setup, clientFilterStub,
			"REVOKE ALL ON FUNCTION set_client_filter(text, text, text, text, text) FROM PUBLIC")
	}
	setup = append(setup, "CHECKPOINT")
	if err := s.exec(ctx, setup...); err != nil {
		return fail(err)
	}
	script := filepath.Join(c.BaseDir, clientFilterScriptFile)
	if err := os.WriteFile(script, []byte(clientFilterScript), 0o644); err != nil {
		return fail(fmt.Errorf("write the pgbench script: %w", err))
	}
	if err := c.Chown(script); err != nil {
		return fail(err)
	}
	return s, nil
}

// exec runs statements, in order, on one fresh connection.
func (s *side) exec(ctx context.Context, statements ...string) error {
	conn, err := s.c.Connect(ctx, "", "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, sql := range statements {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s cluster (%s): %s: %w", s.name, s.c.DataDir, sql, err)
		}
	}
	return nil
}

// checkpoint writes out what the last run dirtied, so that every run starts
// from a clean cluster and the idle one stays idle.
func (s *side) checkpoint(ctx context.Context) error {
	return s.exec(ctx, "CHECKPOINT")
}

// removeSides stops and deletes the clusters.
func removeSides(sides []*side, logf func(string, ...any)) {
	for _, s := range sides {
		if s == nil {
			continue
		}
		if err := s.c.Remove(); err != nil {
			logf("%v", err)
		}
	}
}

// verifySides checks, from /proc, that the comparison is what it claims: a
// backend of the unconfined cluster has no seccomp filter; one of the
// confined cluster has the global and the session filter; and calling
// set_client_filter there adds the client filter, while the stub on the
// unconfined side answers 'OK' as the real function does.
func verifySides(ctx context.Context, sides []*side) error {
	for _, s := range sides {
		want := map[string]int{unconfinedSide: 0, confinedSide: 2}[s.name]
		if err := s.verifyFilters(ctx, want, ""); err != nil {
			return err
		}
		wantClient := map[string]int{unconfinedSide: 0, confinedSide: 3}[s.name]
		if err := s.verifyFilters(ctx, wantClient, clientFilterCall); err != nil {
			return err
		}
	}
	return nil
}

// verifyFilters runs sql (if any) in a new session, which must return 'OK',
// then checks that the session's backend has want seccomp filters.
func (s *side) verifyFilters(ctx context.Context, want int, sql string) error {
	conn, err := s.c.Connect(ctx, "", "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if sql != "" {
		var ok string
		if err := conn.QueryRow(ctx, sql).Scan(&ok); err != nil || ok != "OK" {
			return fmt.Errorf("%s cluster: %s returned %q, %v; want 'OK'", s.name, sql, ok, err)
		}
	}
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return fmt.Errorf("%s cluster: SELECT pg_backend_pid(): %w", s.name, err)
	}
	st, err := procs.Reader{}.Status(pid)
	if err != nil {
		return fmt.Errorf("%s cluster: read the seccomp state of backend %d: %w; run the benchmark as root or as the clusters' OS user", s.name, pid, err)
	}
	got := st.SeccompFilters
	if got < 0 { // the kernel predates Seccomp_filters: judge by the mode
		got = map[bool]int{false: 0, true: want}[st.SeccompMode == procs.SeccompFilter]
	}
	if got != want {
		after := "in a new session"
		if sql != "" {
			after = "after " + sql
		}
		return fmt.Errorf("%s cluster: backend %d has %d seccomp filters %s, want %d (seccomp mode %s); "+
			"the comparison would not measure what it says: check shared_preload_libraries in %s",
			s.name, pid, got, after, want, procs.SeccompModeName(st.SeccompMode),
			filepath.Join(s.c.DataDir, cluster.ManagedConfFile))
	}
	return nil
}

// queryRow runs a one-row query on a fresh connection and scans it.
func (s *side) queryRow(ctx context.Context, sql string, dest ...any) error {
	conn, err := s.c.Connect(ctx, "", "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		return fmt.Errorf("%s cluster (%s): %s: %w", s.name, s.c.DataDir, sql, err)
	}
	return nil
}
