package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/status"
)

// TestStatusLiveCluster runs status against a real cluster under pgseccomp,
// with a client backend connected: every process is confined, the backend
// is named with its role and database, and the exit status is 0.
func TestStatusLiveCluster(t *testing.T) {
	c := clustertest.New(t, cluster.Options{Settings: map[string]string{
		"shared_preload_libraries":        "'pgseccomp'",
		"pgseccomp.enabled":               "on",
		"pgseccomp.session_syscall_error": "'chroot'",
	}})
	conn, err := c.Connect(context.Background(), "", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	backend := int(conn.PgConn().PID())

	code, out, errOut := runCLI(t, "status", "--pgdata", c.DataDir, "--json")
	if code != 0 {
		t.Fatalf("status --json exited %d: %s", code, errOut)
	}
	var procs []status.Process
	if err := json.Unmarshal([]byte(out), &procs); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, p := range procs {
		kinds[p.Kind] = true
		if !p.Confined || p.SeccompMode != 2 || !p.NoNewPrivs || !p.PgseccompLoaded || p.PostmasterPID != postmaster {
			t.Errorf("process %+v: want confined, mode 2, NNP, pgseccomp loaded, postmaster %d", p, postmaster)
		}
		if p.PID == backend && (p.Kind != "client backend" || p.Role != c.OSUser || p.Database != "postgres" || p.SeccompFilters != 2) {
			t.Errorf("the client backend reads as %+v; want client backend of %s on postgres with 2 filters", p, c.OSUser)
		}
	}
	for _, k := range []string{"postmaster", "checkpointer", "background writer", "walwriter", "client backend"} {
		if !kinds[k] {
			t.Errorf("no %s in status output: %s", k, out)
		}
	}

	code, out, _ = runCLI(t, "status", "--pgdata", c.DataDir)
	if code != 0 || !strings.Contains(out, "confined, pgseccomp loaded") {
		t.Errorf("status table exited %d:\n%s", code, out)
	}
}

// TestStatusRejectedReload: after a reload pgseccomp rejected, status says
// since when the server runs session filters older than its configuration,
// the setting and the word, and exits 1; after a valid reload, 0 again.
func TestStatusRejectedReload(t *testing.T) {
	good := map[string]string{
		"shared_preload_libraries":        "'pgseccomp'",
		"pgseccomp.enabled":               "on",
		"pgseccomp.session_syscall_error": "'chroot'",
	}
	c := clustertest.New(t, cluster.Options{Settings: good})
	reload := func(settings map[string]string) {
		t.Helper()
		if err := c.SetSettings(settings); err != nil {
			t.Fatal(err)
		}
		if err := c.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	bad := map[string]string{}
	for k, v := range good {
		bad[k] = v
	}
	bad["pgseccomp.session_syscall_error"] = "'chroot,getpriorty'"
	reload(bad)
	code, _, errOut := runCLI(t, "status", "--pgdata", c.DataDir)
	for _, want := range []string{"runs session filters older than its configuration since",
		"setting pgseccomp.session_syscall_error", `Unknown syscall "getpriorty" (word 2 of the list). Did you mean "getpriority"?`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("status after a rejected reload: stderr does not say %q:\n%s", want, errOut)
		}
	}
	if code != 1 {
		t.Errorf("status after a rejected reload exited %d, want 1", code)
	}

	reload(good)
	if code, _, errOut := runCLI(t, "status", "--pgdata", c.DataDir); code != 0 || errOut != "" {
		t.Errorf("status after a valid reload exited %d:\n%s", code, errOut)
	}
}
