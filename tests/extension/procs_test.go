package extension

import (
	"context"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/procs"
)

func seccompMode(t *testing.T, pid int) int {
	t.Helper()
	s, err := procs.Reader{}.Status(pid)
	if err != nil {
		t.Fatal(err)
	}
	return s.SeccompMode
}

// TestEveryProcessConfined: every process of the cluster runs under a filter
// with no_new_privs; a client backend has one filter more than the
// postmaster, and two more after set_client_filter().
func TestEveryProcessConfined(t *testing.T) {
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_error": "chroot"})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	_, offset, err := c.LogSince(0)
	if err != nil {
		t.Fatal(err)
	}
	client := connect(t, c, "")
	if logged, _, _ := c.LogSince(offset); strings.Contains(logged, "LOG:") {
		t.Errorf("a connection logged at LOG level; routine messages belong at DEBUG:\n%s", logged)
	}
	var backend int
	if err := client.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}

	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	filters := func(pid int) int {
		s, err := procs.Reader{}.Status(pid)
		if err != nil {
			t.Fatal(err)
		}
		return s.SeccompFilters
	}
	base := filters(postmaster)
	if base < 1 {
		t.Fatalf("postmaster has %d filters", base)
	}

	cl, warnings, err := procs.Reader{}.OfPostmaster(postmaster)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Log(w)
	}
	if !cl.PgseccompLoaded {
		t.Error("the postmaster does not have pgseccomp.so mapped")
	}
	kinds := map[procs.Kind]bool{}
	for _, p := range cl.Processes {
		kinds[p.Kind] = true
		if p.Status.SeccompMode != procs.SeccompFilter || !p.Status.NoNewPrivs {
			t.Errorf("pid %d (%s): Seccomp %d, NoNewPrivs %v; want 2 and 1",
				p.PID, p.Cmdline, p.Status.SeccompMode, p.Status.NoNewPrivs)
		}
		want := base
		if p.PID == backend || p.PID == int(admin.PgConn().PID()) {
			want = base + 1
		}
		if p.Status.SeccompFilters != want {
			t.Errorf("pid %d (%s): %d filters, want %d", p.PID, p.Cmdline, p.Status.SeccompFilters, want)
		}
	}
	if len(cl.Processes) < 6 {
		t.Errorf("found %d processes of the cluster, want the postmaster, its auxiliary processes and two backends", len(cl.Processes))
	}

	if got := queryString(t, client, "SELECT set_client_filter(NULL, NULL, NULL, NULL, NULL)"); got != "OK" {
		t.Fatalf("set_client_filter returned %q", got)
	}
	if got := filters(backend); got != base+2 {
		t.Errorf("after set_client_filter: %d filters, want %d", got, base+2)
	}
}
