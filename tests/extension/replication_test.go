package extension

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// TestReplicationSessionFilter: a replication connection authenticates like
// any other, so its walsender loads the session filter of its role: a
// physical walsender of role repl, whose per-role list denies readlink,
// cannot send a base backup of a cluster with a tablespace (it reads the
// pg_tblspc symlinks), while another replication role can; a logical
// walsender (replication=database) runs SQL under the same filter. Both
// walsenders have two filters, the global one and the session one.
func TestReplicationSessionFilter(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{
		"pgseccomp.session_roles":    "repl",
		"session_syscall_error.repl": readlink,
	})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	for _, role := range []string{"repl", "repl_free"} {
		mustExec(t, admin, "CREATE ROLE "+role+" REPLICATION LOGIN")
		mustExec(t, admin, "GRANT EXECUTE ON FUNCTION seccomp_filter() TO "+role)
	}
	dir := createTablespace(t, c, admin, "regress_repl")
	mustExec(t, admin, "CREATE TABLE in_tablespace TABLESPACE regress_repl AS SELECT 1 AS x")
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	globalFilters := seccompFilters(t, postmaster)

	// checkWalsender: the process behind conn is a walsender of role with
	// the global filter and one session filter.
	checkWalsender := func(t *testing.T, conn *pgconn.PgConn, role string) {
		t.Helper()
		pid := int(conn.PID())
		if got := seccompFilters(t, pid); got != globalFilters+1 {
			t.Errorf("walsender %d has %d filters, want %d (global and session)", pid, got, globalFilters+1)
		}
		// PostgreSQL 15 leaves the database out of every walsender's
		// title, so physical and logical ones look alike.
		p := discoverProcess(t, postmaster, pid)
		if p.Kind != procs.KindWalSender || p.Role != role {
			t.Errorf("procs.Discover: pid %d (%q) is %q of role %q, want a walsender of %q",
				pid, p.Cmdline, p.Kind, p.Role, role)
		}
		t.Logf("walsender %d: %q, %d seccomp filters", pid, p.Cmdline, seccompFilters(t, pid))
	}

	t.Run("physical", func(t *testing.T) {
		for _, role := range []string{"repl", "repl_free"} {
			conn := replicationConnect(t, c, role, "true")
			results, err := conn.Exec(context.Background(), "IDENTIFY_SYSTEM").ReadAll()
			if err != nil || len(results) != 1 || len(results[0].Rows) != 1 {
				t.Fatalf("IDENTIFY_SYSTEM as %s: %v", role, err)
			}
			checkWalsender(t, conn, role)
		}
	})

	t.Run("pg_basebackup", func(t *testing.T) {
		for _, tt := range []struct {
			role   string
			denied bool
		}{{"repl", true}, {"repl_free", false}} {
			target := filepath.Join(c.BaseDir, "backup_"+tt.role)
			if err := os.Mkdir(target, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := c.Chown(target); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			out, err := c.Command(ctx, "pg_basebackup", "-U", tt.role, "-D", target,
				"-Ft", "-X", "fetch", "--no-sync", "--checkpoint=fast").CombinedOutput()
			cancel()
			switch {
			case tt.denied && (err == nil || !strings.Contains(string(out), "could not read symbolic link") ||
				!strings.Contains(string(out), "pg_tblspc/") || !strings.Contains(string(out), "Permission denied")):
				t.Errorf("pg_basebackup as %s (%s denied): %v, want could not read symbolic link \"pg_tblspc/...\": Permission denied\n%s",
					tt.role, readlink, err, out)
			case !tt.denied && err != nil:
				t.Errorf("pg_basebackup as %s: %v\n%s", tt.role, err, out)
			case !tt.denied:
				tars, _ := filepath.Glob(filepath.Join(target, "*.tar"))
				if len(tars) != 2 { // base.tar and the tablespace's <oid>.tar
					t.Errorf("pg_basebackup as %s wrote %v, want base.tar and the tablespace's tar", tt.role, tars)
				}
			}
			t.Logf("pg_basebackup as %s: %v\n%s", tt.role, err, strings.TrimSpace(string(out)))
		}
	})

	t.Run("logical", func(t *testing.T) {
		for _, tt := range []struct {
			role   string
			action string // of readlink in the walsender's session context
		}{{"repl", "session->error"}, {"repl_free", "session->allow"}} {
			conn := replicationConnect(t, c, tt.role, "database")
			checkWalsender(t, conn, tt.role)
			rows, err := conn.Exec(context.Background(), cluster.FilterRowsSQL).ReadAll()
			if err != nil {
				t.Fatalf("seccomp_filter() in a logical walsender of %s: %v", tt.role, err)
			}
			filterRows, err := cluster.FilterRowsOfResults(rows)
			if err != nil {
				t.Fatalf("seccomp_filter() in a logical walsender of %s: %v", tt.role, err)
			}
			if got := effectiveAction(filterRows, readlink, "session"); got != tt.action {
				t.Errorf("seccomp_filter() in a logical walsender of %s: %s is %q, want %s", tt.role, readlink, got, tt.action)
			}
			rows, err = conn.Exec(context.Background(), tablespaceLocation("regress_repl")).ReadAll()
			if tt.action == "session->error" {
				if err == nil || !strings.Contains(err.Error(), "Permission denied") {
					t.Errorf("pg_tablespace_location() in a logical walsender of %s: %v %v, want Permission denied", tt.role, simpleRows(rows), err)
				}
				t.Logf("logical walsender of %s: %v", tt.role, err)
			} else if got := simpleRows(rows); err != nil || len(got) != 1 || got[0] != dir {
				t.Errorf("pg_tablespace_location() in a logical walsender of %s: %v %v, want %s", tt.role, got, err, dir)
			}
		}
	})
}

// replicationConnect opens a replication connection (mode "true" for
// physical, "database" for logical) as role over the cluster's socket.
func replicationConnect(t *testing.T, c *cluster.Cluster, role, mode string) *pgconn.PgConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, c.ConnString(role, "postgres")+" replication="+mode)
	if err != nil {
		t.Fatalf("replication=%s connection as %s: %v", mode, role, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// simpleRows returns the first column of every row of simple-query results.
func simpleRows(results []*pgconn.Result) []string {
	var out []string
	for _, r := range results {
		for _, row := range r.Rows {
			if len(row) > 0 {
				out = append(out, string(row[0]))
			}
		}
	}
	return out
}
