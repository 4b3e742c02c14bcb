package extension

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// Parallel workers are forked by the postmaster and never authenticate, so
// without help they would run a session's SQL under the global filter only
// (docs/SPEC.md §6). These tests force every query into a parallel worker and check
// that a syscall blocked for the session is blocked there too, for session,
// per-role and client filters.

// forceParallel makes every query of conn run in a parallel worker.
func forceParallel(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	major, err := cluster.ConnMajor(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	force := "SET debug_parallel_query = on"
	if major < 16 {
		force = "SET force_parallel_mode = on" // renamed in 16, no alias
	}
	for _, set := range []string{
		force,
		"SET parallel_setup_cost = 0",
		"SET parallel_tuple_cost = 0",
		"SET max_parallel_workers_per_gather = 2",
		// the leader must not run the plan itself while it waits
		"SET parallel_leader_participation = off",
	} {
		mustExec(t, conn, set)
	}
}

// workersLaunched runs query under EXPLAIN ANALYZE and returns how many
// parallel workers it launched.
func workersLaunched(t *testing.T, conn *pgx.Conn, query string) int {
	t.Helper()
	var plan string
	if err := conn.QueryRow(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+query).Scan(&plan); err != nil {
		t.Fatalf("EXPLAIN ANALYZE %s: %v", query, err)
	}
	var parsed []struct {
		Plan struct {
			NodeType        string `json:"Node Type"`
			WorkersLaunched int    `json:"Workers Launched"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &parsed); err != nil || len(parsed) != 1 {
		t.Fatalf("EXPLAIN output %q: %v", plan, err)
	}
	if parsed[0].Plan.NodeType != "Gather" {
		t.Fatalf("plan of %s starts with %q, want Gather: %s", query, parsed[0].Plan.NodeType, plan)
	}
	return parsed[0].Plan.WorkersLaunched
}

// wantParallelWorks checks that query runs, in a parallel worker.
func wantParallelWorks(t *testing.T, conn *pgx.Conn, query, want string) {
	t.Helper()
	forceParallel(t, conn)
	if n := workersLaunched(t, conn, query); n < 1 {
		t.Fatalf("%s launched %d parallel workers, want at least 1 (is max_worker_processes too low?)", query, n)
	}
	if got := queryString(t, conn, query, pgx.QueryExecModeSimpleProtocol); got != want {
		t.Fatalf("%s = %q, want %q", query, got, want)
	}
}

// wantDeniedInWorker checks that query fails with "Permission denied" in a
// parallel worker, as it does in the leader.
func wantDeniedInWorker(t *testing.T, conn *pgx.Conn, query string) {
	t.Helper()
	// The simple protocol plans each query afresh: a cached plan made
	// before forceParallel would stay serial.
	mustExec(t, conn, "RESET ALL")
	_, err := conn.Exec(context.Background(), query, pgx.QueryExecModeSimpleProtocol)
	if err == nil || !strings.Contains(err.Error(), "Permission denied") {
		t.Fatalf("in the leader: %s: error %v, want Permission denied", query, err)
	}

	forceParallel(t, conn)
	_, err = conn.Exec(context.Background(), query, pgx.QueryExecModeSimpleProtocol)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || !strings.Contains(pgErr.Message, "Permission denied") {
		t.Fatalf("in a parallel worker: %s: error %v, want Permission denied", query, err)
	}
	if !strings.Contains(pgErr.Where, "parallel worker") {
		t.Fatalf("%s failed outside a parallel worker (context %q): %v", query, pgErr.Where, err)
	}
	t.Logf("in a parallel worker: %s: %s (context: %s)", query, pgErr.Message, pgErr.Where)
}

func TestParallelWorkersCarryTheSessionFilters(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_error": readlink})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	dir := createTablespace(t, c, admin, "regress_par_ts")
	location := tablespaceLocation("regress_par_ts")
	for _, role := range []string{"regress_par_user", "regress_par_client"} {
		createRole(t, admin, role)
		mustExec(t, admin, "GRANT EXECUTE ON FUNCTION set_client_filter(text,text,text,text,text) TO "+role)
	}

	t.Run("session list", func(t *testing.T) {
		wantDeniedInWorker(t, connect(t, c, "regress_par_user"), location)
	})

	// From here on, only the per-role and client layers block readlink.
	reload(t, c, map[string]string{
		"pgseccomp.session_roles":                "regress_par_user",
		"session_syscall_error.regress_par_user": readlink,
	})

	t.Run("unconfined control", func(t *testing.T) {
		wantParallelWorks(t, connect(t, c, "regress_par_client"), location, dir)
	})

	t.Run("per-role list", func(t *testing.T) {
		wantDeniedInWorker(t, connect(t, c, "regress_par_user"), location)
	})

	t.Run("client filter", func(t *testing.T) {
		conn := connect(t, c, "regress_par_client")
		mustExec(t, conn, "SELECT set_client_filter(NULL, NULL, NULL, $1, NULL)", readlink)
		wantDeniedInWorker(t, conn, location)
	})

	t.Run("client filter in a rolled-back transaction", func(t *testing.T) {
		// The filter is loaded whatever happens to the transaction, so
		// its workers must keep it too.
		conn := connect(t, c, "regress_par_client")
		mustExec(t, conn, "BEGIN")
		mustExec(t, conn, "SELECT set_client_filter(NULL, NULL, NULL, $1, NULL)", readlink)
		mustExec(t, conn, "ROLLBACK")
		wantDeniedInWorker(t, conn, location)
	})

	t.Run("client filter on top of a per-role list", func(t *testing.T) {
		conn := connect(t, c, "regress_par_user")
		mustExec(t, conn, "SELECT set_client_filter(NULL, NULL, NULL, 'nanosleep', NULL)")
		wantDeniedInWorker(t, conn, location)
	})
}

// TestParallelWorkerFiltersCannotBeChanged: the setting that carries a
// session's filters to its workers resists every way a session has to
// change a setting.
func TestParallelWorkerFiltersCannotBeChanged(t *testing.T) {
	readlink := readlinkSyscall()
	const setting = "pgseccomp.parallel_worker_filters"
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_error": readlink})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	createTablespace(t, c, admin, "regress_par_ts")
	location := tablespaceLocation("regress_par_ts")
	createRole(t, admin, "regress_par_user")

	t.Run("superuser", func(t *testing.T) {
		conn := connect(t, c, "")
		for _, attempt := range []string{
			"SET " + setting + " = ''",
			"SET LOCAL " + setting + " = ''",
			"SELECT set_config('" + setting + "', '', false)",
			"RESET " + setting,
			"RESET ALL",
			"DISCARD ALL",
			"ALTER SYSTEM SET " + setting + " = ''",
		} {
			// Each is refused or has no effect; either way the workers
			// keep the filter.
			_, err := conn.Exec(context.Background(), attempt)
			t.Logf("%s: %v", attempt, err)
			wantDeniedInWorker(t, conn, location)
		}
	})

	t.Run("non-superuser", func(t *testing.T) {
		conn := connect(t, c, "regress_par_user")
		_, err := conn.Exec(context.Background(), "SET "+setting+" = ''")
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("SET by a non-superuser: %v, want permission denied", err)
		}
		wantDeniedInWorker(t, conn, location)
	})

	t.Run("connection option", func(t *testing.T) {
		cfg, err := pgx.ParseConfig(c.ConnString("", "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams[setting] = ""
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		if err == nil {
			defer conn.Close(context.Background())
			wantDeniedInWorker(t, conn, location)
			return
		}
		if !strings.Contains(err.Error(), setting) {
			t.Fatalf("connecting with -c %s='': %v, want an error naming it", setting, err)
		}
	})
}
