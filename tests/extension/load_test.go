package extension

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/pgbench"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// loadSettings enforce allow-lists: both defaults are "error"; the session
// layer allows demo.HandDerivedSessionAllowList, the global layer demo.HandDerivedGlobalAllowList
// (the same plus what only the postmaster makes, policy.PostmasterOnly).
func loadSettings() map[string]string {
	return map[string]string{
		"pgseccomp.global_syscall_default":  "error",
		"pgseccomp.global_syscall_allow":    strings.Join(demo.HandDerivedGlobalAllowList(), ","),
		"pgseccomp.session_syscall_default": "error",
		"pgseccomp.session_syscall_allow":   demo.HandDerivedSessionAllowSetting(),
		"pgseccomp.session_syscall_log":     "",
		"pgseccomp.session_syscall_error":   "",
		"pgseccomp.session_syscall_kill":    "",
	}
}

// TestLoadUnderEnforcingFilters: 16 pgbench clients (TPC-B-like) for 60 s
// under filters whose defaults deny every syscall not allowed: no
// transaction fails, and the kernel writes no seccomp audit record for any
// process of the cluster (a denial is always recorded: the filters set the
// log flag). A denied readlink at the end proves the records would be seen.
func TestLoadUnderEnforcingFilters(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the hand-derived allow-list names x86_64 syscalls")
	}
	if testing.Short() {
		t.Skip("runs pgbench for 60 s")
	}
	ctx := context.Background()
	watch := watchSeccompAudit(t)
	c := clustertest.NewStopped(t, cluster.Options{Settings: confSettings(loadSettings())})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	watch.cluster(c.DataDir)

	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	for _, row := range filterRows(t, admin, "syscall = '<default>'") {
		if want := row.Context + "->error"; row.FilterAction() != want {
			t.Fatalf("<default> row of context %s: %s, want %s", row.Context, row.FilterAction(), want)
		}
	}
	if out, err := c.Command(ctx, "pgbench", "-i", "-q", "-s", "4").CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i under enforcing filters: %v\n%s", err, out)
	}

	// While pgbench runs, check that its 16 backends are confined: the
	// global filter and a session filter each.
	globalFilters := seccompFilters(t, postmaster)
	runCtx, stopChecking := context.WithCancel(ctx)
	var confined sync.WaitGroup
	confined.Add(1)
	var backendsSeen int
	var confinementErrs []string
	go func() {
		defer confined.Done()
		for runCtx.Err() == nil && backendsSeen < 16 {
			time.Sleep(100 * time.Millisecond)
			cl, _, err := procs.Reader{}.OfPostmaster(postmaster)
			if err != nil {
				continue
			}
			n := 0
			confinementErrs = confinementErrs[:0]
			for _, p := range cl.Processes {
				if p.Kind == procs.KindStarting || strings.HasPrefix(p.Detail, "authentication") || strings.HasPrefix(p.Detail, "startup") {
					continue // the session filter comes right after authentication
				}
				want := globalFilters
				if p.Kind == procs.KindClientBackend {
					n++
					want++
				}
				if p.Status.SeccompMode != procs.SeccompFilter || p.Status.SeccompFilters != want {
					confinementErrs = append(confinementErrs, p.Cmdline)
				}
			}
			backendsSeen = n
		}
	}()
	out, err := c.Command(ctx, "pgbench", "-c", "16", "-j", "2", "-T", "60").CombinedOutput()
	stopChecking()
	confined.Wait()
	if err != nil {
		t.Fatalf("pgbench -c 16 -T 60 under enforcing filters: %v\n%s", err, out)
	}
	summary, err := pgbench.Parse(string(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("pgbench: %s", lastLinesOf(string(out), 6))
	if summary.Clients != 16 || summary.Transactions == 0 || summary.Failed != 0 {
		t.Errorf("pgbench: %d clients, %d transactions, %d failed; want 16 clients, some transactions, none failed",
			summary.Clients, summary.Transactions, summary.Failed)
	}
	if backendsSeen < 16 {
		t.Errorf("saw %d client backends while pgbench ran, want its 16", backendsSeen)
	}
	if len(confinementErrs) > 0 {
		t.Errorf("processes without the expected filters while pgbench ran: %v", confinementErrs)
	}
	mustExec(t, admin, "CHECKPOINT")

	// The control: readlink is in no allow-list. Its record also marks the
	// end: the kernel queues audit records in order, so once it arrives,
	// every earlier record has.
	createTablespace(t, c, admin, "regress_load")
	control := connect(t, c, "")
	controlPID := int(control.PgConn().PID())
	readlink := readlinkProbe("regress_load")
	if err := readlink.run(control); err == nil || !strings.Contains(err.Error(), readlink.denied) {
		t.Fatalf("readlink under enforcing filters: %v, want %q", err, readlink.denied)
	}
	waitFor(t, "the audit record of the denied readlink", func() bool {
		return watch.seen(func(r seccompRecord) bool {
			return r.PID == controlPID && r.Syscall == readlinkSyscall() && r.Action == "error"
		})
	})
	ours, unplaced, lost := watch.records()
	var unexpected []string
	for _, r := range ours {
		if r.PID != controlPID || r.Syscall != readlinkSyscall() {
			unexpected = append(unexpected, r.String())
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("%d seccomp audit records from the cluster's processes besides the control; the allow-lists miss:\n%s",
			len(unexpected), strings.Join(unexpected, "\n"))
	}
	if len(unplaced) > 0 {
		// This cluster's filters only deny (no log lists): a "log" record is
		// another cluster's.
		var denials []string
		for _, r := range unplaced {
			if r.Action != "log" {
				denials = append(denials, r.String())
			}
		}
		t.Logf("not counted: %d records of PostgreSQL processes that exited before they could be placed, while other servers ran on this machine; %d of them not log actions: %v",
			len(unplaced), len(denials), denials)
	}
	if lost != nil {
		t.Errorf("cannot tell whether the cluster's processes were denied anything: %v", lost)
	}
	t.Logf("%d audit records of the cluster, all from the control readlink", len(ours))
}
