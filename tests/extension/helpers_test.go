package extension

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// confSettings turns plain values into postgresql.conf settings with
// pgseccomp preloaded and enabled; settings may override both.
func confSettings(settings map[string]string) map[string]string {
	conf := map[string]string{
		"shared_preload_libraries": cluster.QuoteValue("pgseccomp"),
		"pgseccomp.enabled":        "on",
	}
	for k, v := range settings {
		conf[k] = cluster.QuoteValue(v)
	}
	return conf
}

// newCluster starts a throwaway cluster running pgseccomp with settings.
func newCluster(t *testing.T, settings map[string]string) *cluster.Cluster {
	t.Helper()
	return clustertest.New(t, cluster.Options{Settings: confSettings(settings)})
}

// reconfigure replaces the cluster's settings and restarts it, failing t
// if the server does not come back.
func reconfigure(t *testing.T, c *cluster.Cluster, settings map[string]string) {
	t.Helper()
	if err := c.SetSettings(confSettings(settings)); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// reload replaces the settings and reloads, returning what the server logged.
func reload(t *testing.T, c *cluster.Cluster, settings map[string]string) string {
	t.Helper()
	_, offset, err := c.LogSince(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSettings(confSettings(settings)); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	logged, _, err := c.LogSince(offset)
	if err != nil {
		t.Fatal(err)
	}
	return logged
}

func connect(t *testing.T, c *cluster.Cluster, user string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := c.Connect(ctx, user, "postgres")
	if err != nil {
		t.Fatalf("connect as %q: %v", user, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryString(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// filterRows returns the rows of seccomp_filter() in conn's session that
// the SQL condition where selects ("" for all), ordered by context and
// syscall.
func filterRows(t *testing.T, conn *pgx.Conn, where string) []policy.Row {
	t.Helper()
	rows, err := cluster.FilterRows(context.Background(), conn, where)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// createRole creates a login role allowed to run both functions.
func createRole(t *testing.T, conn *pgx.Conn, role string) {
	t.Helper()
	mustExec(t, conn, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN")
	mustExec(t, conn, "GRANT EXECUTE ON FUNCTION seccomp_filter() TO "+pgx.Identifier{role}.Sanitize())
}

// readlinkSyscall is the syscall readlink(3) makes on this architecture.
func readlinkSyscall() string {
	if runtime.GOARCH == "arm64" {
		return "readlinkat"
	}
	return "readlink"
}

// with returns a copy of m with more settings.
func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// createTablespace creates tablespace name in a new directory of the
// cluster's, owned by its OS user, and returns the directory. Reading its
// location makes the backend call readlink (readlinkSyscall).
func createTablespace(t *testing.T, c *cluster.Cluster, conn *pgx.Conn, name string) string {
	t.Helper()
	dir := filepath.Join(c.BaseDir, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Chown(dir); err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, "CREATE TABLESPACE "+pgx.Identifier{name}.Sanitize()+" LOCATION '"+dir+"'")
	return dir
}

// tablespaceLocation is the query that makes a backend call readlink.
func tablespaceLocation(name string) string {
	return "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = '" + name + "'"
}

// connectRetry connects once the server accepts connections again, e.g.
// after crash recovery.
func connectRetry(t *testing.T, c *cluster.Cluster) *pgx.Conn {
	t.Helper()
	var lastErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		conn, err := c.Connect(context.Background(), "", "postgres")
		if err == nil {
			t.Cleanup(func() { conn.Close(context.Background()) })
			return conn
		}
		lastErr = err
	}
	t.Fatalf("no connection within 30 s: %v", lastErr)
	return nil
}
