package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyStaysInItsDirectory copies a cluster with a tablespace outside
// its data directory, running (pg_basebackup) and stopped (a file copy):
// the copy's tablespace is under its own directory, its data is there, and
// the original's tablespace directory is what it was.
func TestCopyStaysInItsDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the copy runs as the cluster's owner")
	}
	ctx := context.Background()
	c := newCluster(t, Options{})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	spc := filepath.Join(c.BaseDir, "spc")
	if err := os.Mkdir(spc, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Chown(spc); err != nil {
		t.Fatal(err)
	}
	queryString(t, c, "SELECT 'x'") // the server answers
	conn, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"CREATE TABLESPACE spc LOCATION '" + spc + "'", "CREATE TABLE kept TABLESPACE spc AS SELECT 42 AS v", "CHECKPOINT"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(ctx)
	listing := func() string {
		var names []string
		filepath.Walk(spc, func(p string, _ os.FileInfo, _ error) error { names = append(names, p); return nil })
		return strings.Join(names, "\n")
	}
	before := listing()
	e, err := FindExisting("", c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"running", "stopped"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "stopped" {
				if err := c.Stop(ctx); err != nil {
					t.Fatal(err)
				}
			}
			cp, err := Copy(ctx, CopyOptions{Of: e, Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			defer cp.Remove()
			links, _ := filepath.Glob(filepath.Join(cp.DataDir, "pg_tblspc", "*"))
			if len(links) != 1 {
				t.Fatalf("the copy has tablespaces %v, want one", links)
			}
			target, err := filepath.EvalSymlinks(links[0])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(target, cp.BaseDir+"/") {
				t.Fatalf("the copy's tablespace is %s, outside the copy (%s)", target, cp.BaseDir)
			}
			if err := cp.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if got := queryString(t, cp, "SELECT v::text FROM kept"); got != "42" {
				t.Errorf("the copy's table in its tablespace has %q, want 42", got)
			}
			if err := cp.Remove(); err != nil {
				t.Fatal(err)
			}
			if after := listing(); after != before {
				t.Errorf("the original's tablespace changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
