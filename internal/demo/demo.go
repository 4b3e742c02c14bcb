// Package demo runs a throwaway PostgreSQL cluster under pgseccomp and shows
// what it confines: the processes, the loaded filters, and a syscall the
// session filter denies.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/profiles"
)

// Settings is the demo's postgresql.conf: pgseccomp preloaded and the
// shipped profile for PostgreSQL 15 on Debian 12 (profiles/), enforced with
// error defaults at both layers: the global layer allows what every server
// process was recorded making, the session layer what client backends
// were, and everything else fails with EACCES.
func Settings() (map[string]string, *profile.Profile, error) {
	p, err := profiles.PostgreSQL15Debian12()
	if err != nil {
		return nil, nil, fmt.Errorf("the shipped profile %s: %w", profiles.PostgreSQL15Debian12File, err)
	}
	enforce := policy.Error
	settings := profile.ConfSettings(p, &enforce)
	settings["shared_preload_libraries"] = cluster.QuoteValue("pgseccomp")
	return settings, p, nil
}

// Options configure Run.
type Options struct {
	Out io.Writer
	// Status prints the confinement of the cluster's processes (the tool's
	// status command); it returns the command's exit status.
	Status func(dataDir string) int
	// Workload is how long pgbench runs.
	Workload time.Duration
}

// Run creates the cluster, shows what pgseccomp confines, and removes the
// cluster again, also when ctx is cancelled (Ctrl-C).
func Run(ctx context.Context, opts Options) (err error) {
	out := opts.Out
	step := func(format string, args ...any) {
		fmt.Fprintf(out, "\n==> "+format+"\n", args...)
	}

	step("creating a throwaway cluster")
	settings, p, err := Settings()
	if err != nil {
		return err
	}
	c, err := cluster.New(ctx, cluster.Options{Settings: settings})
	if err != nil {
		return err
	}
	defer func() {
		step("stopping the cluster and removing %s", c.BaseDir)
		if rerr := c.Remove(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	fmt.Fprintf(out, "data directory %s, port %d\n", c.DataDir, c.Port)
	pv := p.Provenance
	fmt.Fprintf(out, "profile %s: recorded by %s on %s (PostgreSQL %s, glibc %s)\n",
		p.Source, pv.Tool, pv.RecordedAt.Format("2006-01-02"), pv.PostgreSQL, pv.Glibc)
	fmt.Fprintf(out, "global layer: default error; allow the %d syscalls every server process was recorded making\n", len(p.Global.Allow))
	fmt.Fprintf(out, "session layer: default error; allow the %d syscalls client backends were recorded making\n", len(p.Session.Allow))

	step("starting PostgreSQL with pgseccomp")
	if err := c.Start(ctx); err != nil {
		return err
	}
	conn, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE EXTENSION pgseccomp"); err != nil {
		return fmt.Errorf("CREATE EXTENSION pgseccomp: %w", err)
	}

	step("running a small workload: pgbench for %s, DDL, a sort that spills to disk", opts.Workload)
	if err := workload(ctx, c, conn, opts.Workload, out); err != nil {
		return err
	}

	step("pgseccomp status --pgdata %s", c.DataDir)
	fmt.Fprintln(out, "every process inherits the postmaster's global filter; the client backend has loaded its session filter on top")
	if opts.Status != nil {
		if code := opts.Status(c.DataDir); code != 0 {
			return fmt.Errorf("pgseccomp status exited with %d: a process of the demo cluster is unconfined", code)
		}
	}

	step("what the session has loaded: SELECT filter_action, context, count(*) FROM seccomp_filter()")
	if err := filterSummary(ctx, conn, out); err != nil {
		return err
	}

	step("what the session filter blocks, and a session restricting itself (set_client_filter)")
	return blockedSyscalls(ctx, c, conn, out)
}

func workload(ctx context.Context, c *cluster.Cluster, conn *pgx.Conn, d time.Duration, out io.Writer) error {
	for _, args := range [][]string{
		{"-i", "-q", "-s", "2"},
		{"-c", "2", "-j", "2", "-T", strconv.Itoa(int(d.Seconds()))},
	} {
		cmd := c.Command(ctx, "pgbench", args...)
		output, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("pgbench %s: %v\n%s", strings.Join(args, " "), err, output)
		}
		for _, line := range strings.Split(string(output), "\n") {
			if strings.HasPrefix(line, "tps") || strings.HasPrefix(line, "number of failed") ||
				strings.HasPrefix(line, "number of transactions actually processed") {
				fmt.Fprintln(out, "pgbench:", line)
			}
		}
	}
	for _, sql := range []string{
		"CREATE TABLE demo AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g",
		"CREATE INDEX ON demo (v)",
		"SET work_mem = '64kB'",
		"SELECT count(*) FROM (SELECT * FROM demo ORDER BY v) s",
		"VACUUM ANALYZE demo",
		"RESET work_mem",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	fmt.Fprintln(out, "SQL workload: CREATE TABLE AS, CREATE INDEX, an external sort, VACUUM ANALYZE: all ran")
	return nil
}

func filterSummary(ctx context.Context, conn *pgx.Conn, out io.Writer) error {
	rows, err := conn.Query(ctx, `
		SELECT context, filter_action, count(*) FILTER (WHERE syscall <> '<default>'),
		       bool_or(syscall = '<default>')
		FROM seccomp_filter()
		GROUP BY context, filter_action
		ORDER BY context, filter_action`)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CONTEXT\tFILTER_ACTION\tSYSCALLS\tDEFAULT")
	var context, action string
	var count int
	var isDefault bool
	_, err = pgx.ForEachRow(rows, []any{&context, &action, &count, &isDefault}, func() error {
		mark := ""
		if isDefault {
			mark = "<default>"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", context, action, count, mark)
		return nil
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

func blockedSyscalls(ctx context.Context, c *cluster.Cluster, conn *pgx.Conn, out io.Writer) error {
	const program = "COPY (SELECT 1) TO PROGRAM 'cat'"
	fmt.Fprintln(out, "running a program needs clone and execve, which no client backend was recorded making:")
	fmt.Fprintln(out, program+";")
	if _, err := conn.Exec(ctx, program); err == nil {
		return errors.New("COPY TO PROGRAM ran: the session filter did not block it")
	} else {
		fmt.Fprintf(out, "ERROR: %v\n", pgErrorText(err))
		fmt.Fprintln(out, "(the C library reports the denied clone3 with an errno of its own choosing)")
	}

	dir := filepath.Join(c.BaseDir, "demo_tblspc")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := c.Chown(dir); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE TABLESPACE demo_tblspc LOCATION '"+dir+"'"); err != nil {
		return err
	}
	const query = "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'demo_tblspc'"
	var location string
	if err := conn.QueryRow(ctx, query).Scan(&location); err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	fmt.Fprintf(out, "\n%s;\n%s  (readlink is in the recorded session list)\n", query, location)
	const restrict = "SELECT set_client_filter(NULL, NULL, NULL, 'readlink', NULL)"
	fmt.Fprintf(out, "\na session can restrict itself further (the talk's example 1), for good:\n%s;\n", restrict)
	if _, err := conn.Exec(ctx, restrict); err != nil {
		return fmt.Errorf("%s: %w", restrict, err)
	}
	rows, err := cluster.FilterRows(ctx, conn, "syscall = 'readlink' AND context = 'session'")
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return fmt.Errorf("seccomp_filter() has %d session rows for readlink, want 1: %v", len(rows), rows)
	}
	fmt.Fprintf(out, "seccomp_filter(): %s\n", rows[0])
	fmt.Fprintln(out, query+";")
	if err := conn.QueryRow(ctx, query).Scan(&location); err == nil {
		return fmt.Errorf("pg_tablespace_location() returned %q: readlink was not blocked", location)
	} else {
		fmt.Fprintf(out, "ERROR: %v\n", pgErrorText(err))
	}
	return nil
}

// pgErrorText is the server's message, without the driver's decoration.
func pgErrorText(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "ERROR: ")
	if i := strings.LastIndex(s, " (SQLSTATE"); i > 0 {
		s = s[:i]
	}
	return s
}
