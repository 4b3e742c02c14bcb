package extension

import (
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// TestOtherBackgroundWorkersGetGlobalFilterOnly: a background worker of
// another extension (pg_prewarm's autoprewarm leader) never authenticates,
// so it runs under the global filter alone; the session lists, which a
// client backend loads on top, do not reach it. SECURITY.md states this
// limit, and this test keeps that statement true: if workers ever get a
// session filter, it fails, and SECURITY.md must change with it.
func TestOtherBackgroundWorkersGetGlobalFilterOnly(t *testing.T) {
	c := newCluster(t, map[string]string{
		"shared_preload_libraries":        "pgseccomp,pg_prewarm",
		"pgseccomp.session_syscall_error": "chroot",
	})
	client := connect(t, c, "")
	backend := int(client.PgConn().PID())
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	global := seccompFilters(t, postmaster)

	var leader procs.Process
	waitFor(t, "pg_prewarm's autoprewarm leader to start", func() bool {
		cl, _, err := procs.Reader{}.OfPostmaster(postmaster)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range cl.Processes {
			if strings.HasSuffix(p.Cmdline, "autoprewarm leader") {
				leader = p
				return true
			}
		}
		return false
	})
	if leader.Kind != procs.KindBackgroundWorker {
		t.Errorf("procs classifies %q as %q, want %q", leader.Cmdline, leader.Kind, procs.KindBackgroundWorker)
	}
	if got := leader.Status.SeccompFilters; got != global {
		t.Errorf("%q (pid %d) has %d seccomp filters, want the postmaster's %d: the global filter only", leader.Cmdline, leader.PID, got, global)
	}
	if got := seccompFilters(t, backend); got != global+1 {
		t.Errorf("client backend %d has %d seccomp filters, want %d: global and session", backend, got, global+1)
	}
	t.Logf("%q: %d filter(s); client backend: %d", leader.Cmdline, leader.Status.SeccompFilters, seccompFilters(t, backend))
}
