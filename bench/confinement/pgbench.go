package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/pgbench"
)

// The two throughput figures pgbench prints (see internal/pgbench). The
// -C figure is the one that charges a session its filter install.
const (
	tpsWithoutConnections   = pgbench.TPSWithoutConnections
	tpsIncludingConnections = pgbench.TPSIncludingConnections
)

// pgbenchResult is what one pgbench run printed on stdout; its name is the
// embedded field's in the measures' JSON.
type pgbenchResult = pgbench.Result

// checkRun turns what a successful pgbench exit can still hide into
// errors: a tps figure other than the measure's, nothing processed, or
// failed transactions (the two runs would not have done the same work).
func checkRun(r pgbenchResult, wantFigure string) error {
	switch {
	case r.TPSFigure != wantFigure:
		return fmt.Errorf("pgbench printed tps %q, but this measure needs tps (%s); did pgbench change its output?", r.TPSFigure, wantFigure)
	case r.Transactions <= 0:
		return errors.New("pgbench processed no transactions")
	case r.Failed > 0:
		return fmt.Errorf("pgbench reports %d failed transactions; a run must fail none, or the two sides did not do the same work", r.Failed)
	}
	return nil
}

// runPgbench runs pgbench with args against c, as the cluster's OS user and
// in its base directory, and returns its parsed summary and stdout.
func runPgbench(ctx context.Context, c *cluster.Cluster, args []string) (pgbenchResult, string, error) {
	cmd := c.Command(ctx, "pgbench", args...)
	cmd.Env = append(cmd.Env, "LC_ALL=C") // decimal points, English messages
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	what := fmt.Sprintf("pgbench %s (cluster %s, port %d)", strings.Join(args, " "), c.DataDir, c.Port)
	if err := cmd.Run(); err != nil {
		return pgbenchResult{}, stdout.String(), fmt.Errorf("%s failed: %w\npgbench stderr:\n%s\nlast lines of %s:\n%s",
			what, err, lastLines(stderr.String(), 12), c.LogFile, c.LogTail(12))
	}
	r, err := pgbench.Parse(stdout.String())
	if err != nil {
		return r, stdout.String(), fmt.Errorf("%s: %w", what, err)
	}
	return r, stdout.String(), nil
}

// pgbenchVersion returns the first line of `pgbench --version`.
func pgbenchVersion(ctx context.Context, c *cluster.Cluster) (string, error) {
	out, err := c.Command(ctx, "pgbench", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("pgbench --version: %w; is the PostgreSQL client (postgresql-client-15) installed?", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
