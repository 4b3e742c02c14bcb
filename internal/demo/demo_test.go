package demo

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// TestRun runs the whole demo against the installed extension.
func TestRun(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the demo's allow-list names x86_64 syscalls")
	}
	if _, err := exec.LookPath("pg_config"); err != nil {
		t.Skip("no PostgreSQL installation")
	}
	var out bytes.Buffer
	var statusRuns int
	err := Run(context.Background(), Options{
		Out:      &out,
		Workload: time.Second,
		Status: func(dataDir string) int {
			statusRuns++
			pidFile, err := procs.ReadPostmasterPID(dataDir)
			if err != nil {
				t.Error(err)
				return 2
			}
			cl, _, err := procs.Reader{}.OfPostmaster(pidFile.PID)
			if err != nil {
				t.Error(err)
				return 2
			}
			if u := cl.Unconfined(); len(u) > 0 || !cl.PgseccompLoaded {
				t.Errorf("unconfined processes: %+v (pgseccomp loaded: %v)", u, cl.PgseccompLoaded)
				return 1
			}
			return 0
		},
	})
	t.Logf("%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if statusRuns != 1 {
		t.Errorf("status ran %d times, want 1", statusRuns)
	}
	for _, want := range []string{
		"readlink | ",
		`could not read symbolic link "pg_tblspc/`,
		"Permission denied",
		`could not execute command "cat"`,
		"number of failed transactions: 0",
		"session  session->error",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// TestRunCancelled: a demo interrupted during its workload still stops and
// removes its cluster.
func TestRunCancelled(t *testing.T) {
	if _, err := exec.LookPath("pg_config"); err != nil {
		t.Skip("no PostgreSQL installation")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out clustertest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Out: &out, Workload: time.Minute, Status: func(string) int {
			t.Error("status ran although the demo was cancelled during the workload")
			return 0
		}})
	}()
	for !strings.Contains(out.String(), "running a small workload") {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled demo returned no error")
	}
	var dataDir string
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "data directory "); ok {
			dataDir, _, _ = strings.Cut(rest, ",")
		}
	}
	if dataDir == "" {
		t.Fatalf("no data directory in output:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Dir(dataDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists after the cancelled demo (%v)", filepath.Dir(dataDir), err)
	}
}
