// Package clustertest starts a throwaway PostgreSQL cluster for a test, with
// package cluster: one call instead of the same dozen lines in every test.
package clustertest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// New creates and starts a cluster for t, and removes it when t and its
// subtests finish (logging the end of the server log first if t failed). It
// skips t when no PostgreSQL server binaries are installed and fails it on
// any other error. A nil opts.Logf becomes t.Logf.
func New(t testing.TB, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	c := NewStopped(t, opts)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// NewStopped is New without starting the server.
func NewStopped(t testing.TB, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	c, err := cluster.New(context.Background(), opts)
	if errors.Is(err, cluster.ErrNoInitdb) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last 40 lines of %s:\n%s", c.LogFile, c.LogTail(40))
		}
		if err := c.Remove(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// SearchableTempDir makes a temporary directory, removed when the test
// ends, that the postgres OS user can search (t.TempDir's parent is not):
// for work directories that server processes must reach.
func SearchableTempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	return dir
}
