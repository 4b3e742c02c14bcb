package watch_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/watch"
)

// settings of the watched test clusters: joe's list denies readlink
// (error), kim's kills on it, lou's logs it; everyone else is allowed
// everything. The server logs jsonlog through the collector, with
// log_connections.
var settings = map[string]string{
	"shared_preload_libraries":          "'pgseccomp'",
	"pgseccomp.enabled":                 "on",
	"pgseccomp.global_syscall_default":  "'allow'",
	"pgseccomp.session_syscall_default": "'allow'",
	"pgseccomp.session_roles":           "'joe,kim,lou'",
	"session_syscall_error.joe":         "'readlink,execve'",
	"session_syscall_kill.kim":          "'readlink'",
	"session_syscall_log.lou":           "'readlink'",
	"logging_collector":                 "on",
	"log_destination":                   "'jsonlog'",
	"log_connections":                   "on",
	"max_parallel_workers_per_gather":   "2",
	"pgseccomp.session_syscall_allow":   "''",
}

// syncBuffer is an output both the watch and the test use.
type syncBuffer struct{ clustertest.SyncBuffer }

// line is an event or a note, as --json writes them.
type line struct {
	watch.Event
	Note string `json:"note"`
	Text string `json:"text"`
}

func (s *syncBuffer) lines(t *testing.T) []line {
	var out []line
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("watch wrote a line that is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// running is a watch of one cluster, in this process.
type running struct {
	out     *syncBuffer
	w       *watch.Watcher
	metrics string // http://.../metrics
	stop    func() error
}

func startWatch(t *testing.T, c *cluster.Cluster) *running {
	t.Helper()
	m := watch.NewMetrics()
	ln, err := m.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := runWatch(t, watch.Config{DataDir: c.DataDir, Policy: policyOf(c), Metrics: m, Hold: 700 * time.Millisecond})
	r.metrics = "http://" + ln.Addr().String() + "/metrics"
	// Wait for the watch to see the server.
	waitFor(t, r, "the watch to see the server", func(ls []line) bool {
		for _, l := range ls {
			if l.Note == "server_started" {
				return true
			}
		}
		return false
	})
	return r
}

// runWatch runs a watch with cfg (JSON into a buffer, a 300 ms interval)
// on a capture of its own until the test ends or r.stop is called.
func runWatch(t *testing.T, cfg watch.Config) *running {
	t.Helper()
	capture, err := audit.OpenCapture()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cfg.JSON, cfg.Out, cfg.Interval = true, out, 300*time.Millisecond
	w := watch.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, capture) }()
	r := &running{out: out, w: w}
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			capture.Close()
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	return r
}

// waitFor waits (at most 30 s: a bound on a broken watch, not a measure)
// until ok holds for the watch's output.
func waitFor(t *testing.T, r *running, what string, ok func([]line) bool) []line {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ls := r.out.lines(t)
		if ok(ls) {
			return ls
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s; the watch wrote:\n%s", what, r.out.String())
		}
	}
}

// eventsOf returns the events of pid (0: every event).
func eventsOf(ls []line, pid int) []watch.Event {
	var out []watch.Event
	for _, l := range ls {
		if l.Note == "" && (pid == 0 || l.PID == pid) {
			out = append(out, l.Event)
		}
	}
	return out
}

// newWatchedCluster starts a cluster with settings, changed by the
// name, value pairs of override.
func newWatchedCluster(t *testing.T, override ...string) (*cluster.Cluster, *pgx.Conn) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the audit multicast group")
	}
	conf := map[string]string{}
	for k, v := range settings {
		conf[k] = v
	}
	for i := 0; i+1 < len(override); i += 2 {
		conf[override[i]] = override[i+1]
	}
	c := clustertest.New(t, cluster.Options{Settings: conf})
	ctx := context.Background()
	admin, err := c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })
	dir := filepath.Join(c.BaseDir, "ts")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Chown(dir); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"CREATE ROLE joe LOGIN", "CREATE ROLE kim LOGIN", "CREATE ROLE lou LOGIN",
		"GRANT pg_execute_server_program TO joe",
		"CREATE TABLESPACE ts LOCATION '" + dir + "'",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return c, admin
}

const location = "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts'"

// violate connects as role with application_name app, runs sql and
// disconnects; it returns the backend's pid and how long the connection
// lived.
func violate(t *testing.T, c *cluster.Cluster, role, app, sql string) (int, time.Duration) {
	t.Helper()
	ctx := context.Background()
	began := time.Now()
	conn, err := pgx.Connect(ctx, c.ConnString(role, "postgres")+" application_name="+app)
	if err != nil {
		t.Fatal(err)
	}
	pid := int(conn.PgConn().PID())
	conn.Exec(ctx, sql) // the error is the point
	conn.Close(ctx)
	return pid, time.Since(began)
}

// TestWatch runs the cases against one cluster, in order: a role
// denied readlink, the same from connections that live a few
// milliseconds, a parallel worker's denial, the exec of COPY ... TO
// PROGRAM denied in the process the backend forked, 200,000 log records,
// the metrics, a restart, and last a kill (which makes the server reset).
func TestWatch(t *testing.T) {
	c, _ := newWatchedCluster(t)
	r := startWatch(t, c)
	ctx := context.Background()

	check := func(t *testing.T, e watch.Event, role, app, action, layer string) {
		t.Helper()
		if e.Role != role || e.Database != "postgres" || e.Application != app || e.Syscall != "readlink" ||
			e.Action != action || e.Layer != layer || !strings.Contains(e.Statement, "pg_tablespace_location") {
			t.Errorf("event %+v\nwant role %s, database postgres, application_name %s, readlink, %s, layer %s, the statement", e, role, app, action, layer)
		}
	}

	t.Run("role denied readlink", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, c.ConnString("joe", "postgres")+" application_name=watchtest")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		pid := int(conn.PgConn().PID())
		if _, err := conn.Exec(ctx, location); err == nil {
			t.Fatal("readlink was not denied")
		}
		ls := waitFor(t, r, "joe's event", func(ls []line) bool { return len(eventsOf(ls, pid)) > 0 })
		evs := eventsOf(ls, pid)
		if len(evs) != 1 || evs[0].Count != 1 {
			t.Fatalf("events of pid %d: %+v, want one", pid, evs)
		}
		check(t, evs[0], "joe", "watchtest", "error", "role")
		b, _ := json.Marshal(evs[0])
		t.Logf("event: %s", b)
	})

	t.Run("short connection", func(t *testing.T) {
		// Ten connections that connect, violate and disconnect at once.
		var lived []time.Duration
		pids := map[int]string{}
		for i := range 10 {
			app := fmt.Sprintf("brief%d", i)
			pid, d := violate(t, c, "joe", app, location)
			pids[pid] = app
			lived = append(lived, d)
		}
		ls := waitFor(t, r, "the short connections' events", func(ls []line) bool {
			for pid := range pids {
				if len(eventsOf(ls, pid)) == 0 {
					return false
				}
			}
			return true
		})
		for pid, app := range pids {
			evs := eventsOf(ls, pid)
			if len(evs) != 1 {
				t.Fatalf("events of pid %d: %+v", pid, evs)
			}
			check(t, evs[0], "joe", app, "error", "role")
		}
		slices.Sort(lived)
		t.Logf("10 connections lived %v (shortest) to %v (longest), median %v, as the client saw them (connect to close)", lived[0], lived[9], lived[5])
	})

	t.Run("parallel worker", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, c.ConnString("joe", "postgres")+" application_name=par")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		leader := int(conn.PgConn().PID())
		for _, s := range []string{"SET force_parallel_mode = on", "SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0"} {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		_, err = conn.Exec(ctx, location)
		t.Logf("leader %d: %v", leader, err)
		ls := waitFor(t, r, "the parallel worker's event", func(ls []line) bool {
			for _, e := range eventsOf(ls, 0) {
				if e.LeaderPID == leader {
					return true
				}
			}
			return false
		})
		for _, e := range eventsOf(ls, 0) {
			if e.LeaderPID == leader {
				if e.Kind != "parallel worker" || e.Role != "joe" || e.Application != "par" || e.Syscall != "readlink" || e.Action != "error" {
					t.Errorf("parallel worker's event %+v: want kind parallel worker, joe's session (application par), readlink, error", e)
				}
				b, _ := json.Marshal(e)
				t.Logf("event: %s", b)
			}
		}
	})

	t.Run("COPY TO PROGRAM", func(t *testing.T) {
		pid, _ := violate(t, c, "joe", "copier", "COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'")
		ls := waitFor(t, r, "the denied execve's event", func(ls []line) bool {
			for _, e := range eventsOf(ls, 0) {
				if e.Syscall == "execve" {
					return true
				}
			}
			return false
		})
		for _, e := range eventsOf(ls, 0) {
			if e.Syscall == "execve" {
				if e.Kind != "subprocess" || e.Parent != pid || e.Role != "joe" || e.Application != "copier" ||
					e.Action != "error" || e.Layer != "role" || !strings.Contains(e.Statement, "TO PROGRAM") {
					t.Errorf("event %+v\nwant a subprocess of backend %d, joe's session (application copier), error by layer role, the COPY statement", e, pid)
				}
				b, _ := json.Marshal(e)
				t.Logf("event: %s (the backend was %d)", b, pid)
			}
		}
	})

	t.Run("200000 log records", func(t *testing.T) {
		const n = 200000
		rssBefore := rss(t)
		statsBefore := r.w.Stats()
		cpuBefore := cpu(t)
		began := time.Now()
		pid, _ := violate(t, c, "lou", "burst", fmt.Sprintf("SELECT count(pg_tablespace_location(%s)) FROM generate_series(1, %d)", "(SELECT oid FROM pg_tablespace WHERE spcname = 'ts')", n))
		took := time.Since(began)
		ls := waitFor(t, r, "every record of the burst", func(ls []line) bool {
			var sum uint64
			for _, e := range eventsOf(ls, pid) {
				sum += e.Count
			}
			return sum >= n
		})
		time.Sleep(2 * time.Second) // anything more would show now
		ls = r.out.lines(t)
		var sum uint64
		evs := eventsOf(ls, pid)
		for _, e := range evs {
			sum += e.Count
			if e.Syscall != "readlink" || e.Action != "log" || e.Layer != "role" || e.Role != "lou" {
				t.Errorf("burst event %+v", e)
			}
		}
		if sum != n {
			st := r.w.Stats()
			t.Errorf("%d records counted in %d events, want %d (capture overflows %d, kernel lost +%d meanwhile: another process on the host flooding the audit subsystem makes records drop, and the watch said so)",
				sum, len(evs), n, st.Overflows-statsBefore.Overflows, st.Lost-statsBefore.Lost)
		}
		t.Logf("CPU of the test process (capture, watch) per 100,000 records: %v", (cpu(t)-cpuBefore)*100000/time.Duration(sum+1))
		t.Logf("%d records in %v, counted in %d events; RSS of the test process %d kB before, %d kB after",
			sum, took.Round(time.Millisecond), len(evs), rssBefore, rss(t))
		if grown := rss(t) - rssBefore; grown > 64<<10 {
			t.Errorf("RSS grew by %d kB over the burst", grown)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		time.Sleep(1500 * time.Millisecond) // the last interval flushed
		resp, err := http.Get(r.metrics)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		parser := expfmt.NewTextParser(model.LegacyValidation)
		families, err := parser.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatalf("Prometheus's text parser: %v", err)
		}
		var counted float64
		if f := families["pgseccomp_violations_total"]; f != nil {
			for _, m := range f.Metric {
				counted += m.GetCounter().GetValue()
			}
		}
		var events float64
		for _, e := range eventsOf(r.out.lines(t), 0) {
			events += float64(e.Count)
		}
		if counted != events || counted == 0 {
			t.Errorf("pgseccomp_violations_total sums to %v, the events to %v", counted, events)
		}
		for _, name := range []string{"pgseccomp_server_up", "pgseccomp_processes", "pgseccomp_audit_records_lost_total"} {
			if families[name] == nil {
				t.Errorf("no %s", name)
			}
		}
		// pgseccomp_filters_outdated is there exactly when the server
		// writes its reload state (an extension of 1.1 or later).
		f := families["pgseccomp_filters_outdated"]
		if _, err := procs.ReadReloadState(c.DataDir); err == nil {
			if f == nil || f.GetMetric()[0].GetGauge().GetValue() != 0 {
				t.Errorf("the server writes its reload state, and pgseccomp_filters_outdated is %v, want 0", f)
			}
		} else if f != nil {
			t.Errorf("the server writes no reload state (%v), yet pgseccomp_filters_outdated is exported: %v", err, f)
		} else {
			t.Logf("pgseccomp_filters_outdated not exported: the installed extension writes no reload state (%v)", err)
		}
		t.Logf("pgseccomp_violations_total = %v over %d series", counted, len(families["pgseccomp_violations_total"].GetMetric()))
	})

	t.Run("restart", func(t *testing.T) {
		before, _ := c.PostmasterPID()
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		after, _ := c.PostmasterPID()
		waitFor(t, r, "the new postmaster", func(ls []line) bool {
			for _, l := range ls {
				if l.Note == "server_started" && l.PID == after {
					return true
				}
			}
			return false
		})
		pid, _ := violate(t, c, "joe", "after-restart", location)
		ls := waitFor(t, r, "an event after the restart", func(ls []line) bool { return len(eventsOf(ls, pid)) > 0 })
		check(t, eventsOf(ls, pid)[0], "joe", "after-restart", "error", "role")
		t.Logf("postmaster %d, then %d", before, after)
	})

	t.Run("kill", func(t *testing.T) {
		pid, _ := violate(t, c, "kim", "killer", location)
		ls := waitFor(t, r, "the kill's event with its statement", func(ls []line) bool {
			evs := eventsOf(ls, pid)
			return len(evs) > 0 && evs[0].Statement != ""
		})
		check(t, eventsOf(ls, pid)[0], "kim", "killer", "kill", "role")
		b, _ := json.Marshal(eventsOf(ls, pid)[0])
		t.Logf("event: %s", b)
		// The server resets after the kill (crash recovery, same
		// postmaster); the watch goes on with it.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			conn, err := c.Connect(ctx, "", "")
			if err == nil {
				conn.Close(ctx)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server did not recover from the kill: %v", err)
			}
		}
		pid, _ = violate(t, c, "joe", "after-recovery", location)
		ls = waitFor(t, r, "an event after crash recovery", func(ls []line) bool { return len(eventsOf(ls, pid)) > 0 })
		check(t, eventsOf(ls, pid)[0], "joe", "after-recovery", "error", "role")
	})

	if err := r.stop(); err != nil {
		t.Errorf("watch: %v", err)
	}
	st := r.w.Stats()
	t.Logf("watch totals: %+v", st)
}

// TestWatchTwoClusters: two clusters of the same binaries and settings,
// the same violation in each; the watch of one shows only its own.
func TestWatchTwoClusters(t *testing.T) {
	a, _ := newWatchedCluster(t)
	b, _ := newWatchedCluster(t)
	r := startWatch(t, a)
	var bPIDs []int
	for i := range 5 {
		pa, _ := violate(t, a, "joe", fmt.Sprintf("a%d", i), location)
		pb, _ := violate(t, b, "joe", fmt.Sprintf("b%d", i), location)
		bPIDs = append(bPIDs, pb)
		waitFor(t, r, "cluster a's event", func(ls []line) bool { return len(eventsOf(ls, pa)) > 0 })
	}
	time.Sleep(2 * time.Second)
	ls := r.out.lines(t)
	for _, e := range eventsOf(ls, 0) {
		if strings.HasPrefix(e.Application, "b") {
			t.Errorf("an event of the other cluster: %+v", e)
		}
		for _, p := range bPIDs {
			if e.PID == p {
				t.Errorf("an event of the other cluster's pid %d: %+v", p, e)
			}
		}
	}
	if n := len(eventsOf(ls, 0)); n != 5 {
		t.Errorf("%d events, want 5 (cluster a's)", n)
	}
	t.Logf("%d events of cluster a; %d records not placed", len(eventsOf(ls, 0)), r.w.Stats().Unplaced)
}

// cpu returns the user and system CPU time this process has used.
func cpu(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss returns this process's resident set in kB.
func rss(t *testing.T) int {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}

// TestWatchReplay: records the kernel wrote for a short connection, kept
// as auditd writes them, replayed afterwards (the connection long gone):
// the same attribution from the server log, a csvlog here.
func TestWatchReplay(t *testing.T) {
	c, _ := newWatchedCluster(t, "log_destination", "'csvlog'")
	capture, err := audit.OpenCapture()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	done := make(chan error, 1)
	go func() {
		done <- capture.Run(func(rec *audit.Record) {
			if !procs.IsPostgresProgram(string(rec.Exe)) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, auditdLine(rec))
		}, nil)
	}()
	since := time.Now().Add(-time.Second)
	pid, _ := violate(t, c, "joe", "replayed", location)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		found := slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, fmt.Sprintf(" pid=%d ", pid)) })
		mu.Unlock()
		if found || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	capture.Stop()
	<-done
	capture.Close()
	time.Sleep(500 * time.Millisecond) // the server log written

	out := &syncBuffer{}
	w := watch.New(watch.Config{DataDir: c.DataDir, Policy: policyOf(c), JSON: true, Out: out})
	mu.Lock()
	log := strings.Join(lines, "\n") + "\n"
	mu.Unlock()
	if err := w.Replay(context.Background(), strings.NewReader(log), "audit.log", since); err != nil {
		t.Fatal(err)
	}
	r := &running{out: out}
	evs := eventsOf(r.out.lines(t), pid)
	if len(evs) != 1 {
		t.Fatalf("replayed events of pid %d: %+v; output:\n%s", pid, evs, out.String())
	}
	e := evs[0]
	if e.Role != "joe" || e.Application != "replayed" || e.Syscall != "readlink" || e.Action != "error" || e.Layer != "role" || !strings.Contains(e.Statement, "pg_tablespace_location") {
		t.Errorf("replayed event %+v", e)
	}
	b, _ := json.Marshal(e)
	t.Logf("replayed from %d auditd lines: %s", len(lines), b)
}

// auditdLine writes a record as auditd's audit.log has it.
func auditdLine(r *audit.Record) string {
	return fmt.Sprintf(`type=SECCOMP msg=audit(%d.%03d:%d): auid=%d uid=%d gid=%d ses=%d pid=%d comm=%q exe=%q sig=%d arch=%x syscall=%d compat=%d ip=0x%x code=0x%x`,
		r.Time.Unix(), r.Time.Nanosecond()/1e6, r.Serial, r.AUID, r.UID, r.GID, r.Session, r.PID, r.Comm, r.Exe, r.Signal, r.AuditArch, r.Syscall, max(r.Compat, 0), r.IP, r.Code)
}

// policyOf reads the cluster's configuration as pgseccomp watch does.
func policyOf(c *cluster.Cluster) func(policy.Arch) (*policy.Policy, error) {
	return func(arch policy.Arch) (*policy.Policy, error) {
		f, err := pgconf.LoadOptions(filepath.Join(c.DataDir, "postgresql.conf"), pgconf.Options{DataDir: c.DataDir})
		if err != nil {
			return nil, err
		}
		s, err := policy.SettingsFromConf(f)
		if err != nil {
			return nil, err
		}
		return s.Build(arch)
	}
}

// TestWatchStderrLogAndAuditSession: a server that logs to stderr (with
// PostgreSQL's default log_line_prefix, '%m [%p] ') in an audit session
// of its own: the watch reads the stderr log it is given, places records
// by the session, and attributes a short connection from the log.
func TestWatchStderrLogAndAuditSession(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the audit multicast group, an audit session")
	}
	conf := map[string]string{}
	for k, v := range settings {
		switch k {
		case "logging_collector", "log_destination":
		default:
			conf[k] = v
		}
	}
	c := clustertest.New(t, cluster.Options{Settings: conf, AuditSession: true})
	ctx := context.Background()
	admin, err := c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	dir := filepath.Join(c.BaseDir, "ts")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Chown(dir); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"CREATE ROLE joe LOGIN", "CREATE TABLESPACE ts LOCATION '" + dir + "'"} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	r := runWatch(t, watch.Config{DataDir: c.DataDir, Log: watch.LogSource{Path: c.LogFile, Prefix: "%m [%p] "}, Policy: policyOf(c)})
	ses, _ := c.AuditSession()
	waitFor(t, r, "the watch to see the server in its audit session", func(ls []line) bool {
		for _, l := range ls {
			if l.Note == "server_started" && strings.Contains(l.Text, fmt.Sprintf("audit session %d of its own", ses)) {
				return true
			}
		}
		return false
	})
	pid, lived := violate(t, c, "joe", "stderr-app", location)
	ls := waitFor(t, r, "the event", func(ls []line) bool { return len(eventsOf(ls, pid)) > 0 })
	e := eventsOf(ls, pid)[0]
	if e.Role != "joe" || e.Application != "stderr-app" || e.Layer != "role" || e.AuditSession == nil || *e.AuditSession != ses ||
		!strings.Contains(e.Statement, "pg_tablespace_location") {
		t.Errorf("event %+v, want joe's, application stderr-app, layer role, audit session %d, the statement", e, ses)
	}
	b, _ := json.Marshal(e)
	t.Logf("connection lived %v; event: %s", lived, b)
}

// TestWatchCheckpointer: a syscall the global layer logs, made by the
// checkpointer at a CHECKPOINT: events of kind checkpointer, layer global,
// naming the global list.
func TestWatchCheckpointer(t *testing.T) {
	c, admin := newWatchedCluster(t, "pgseccomp.global_syscall_log", "'fsync'")
	r := startWatch(t, c)
	ctx := context.Background()
	for _, sql := range []string{"CREATE TABLE dirty AS SELECT g FROM generate_series(1, 10000) g", "CHECKPOINT"} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	ls := waitFor(t, r, "the checkpointer's fsync", func(ls []line) bool {
		for _, e := range eventsOf(ls, 0) {
			if e.Kind == "checkpointer" && e.Syscall == "fsync" {
				return true
			}
		}
		return false
	})
	for _, e := range eventsOf(ls, 0) {
		if e.Kind == "checkpointer" && e.Syscall == "fsync" {
			if e.Action != "log" || e.Layer != "global" || e.Setting != "pgseccomp.global_syscall_log" || e.Role != "" {
				t.Errorf("checkpointer's event %+v: want log by layer global (pgseccomp.global_syscall_log), no role", e)
			}
			b, _ := json.Marshal(e)
			t.Logf("event: %s", b)
			break
		}
	}
}

// TestWatchPostmasterAuditSession: with pgseccomp.audit_session the
// postmaster starts an audit session of its own while it loads its
// libraries, after it wrote postmaster.pid; a watch that sees the pid
// first must still learn the session (server_audit_session), across
// restarts.
func TestWatchPostmasterAuditSession(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the audit multicast group, an audit session")
	}
	conf := map[string]string{policy.AuditSessionName: "on"}
	for k, v := range settings {
		conf[k] = v
	}
	c := clustertest.New(t, cluster.Options{Settings: conf})
	ctx := context.Background()
	r := runWatch(t, watch.Config{DataDir: c.DataDir, Log: watch.LogSource{Path: c.LogFile}, Policy: policyOf(c)})
	for i := 0; i < 3; i++ {
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		pid, _ := c.PostmasterPID()
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/sessionid", pid))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("audit session %s of its own", strings.TrimSpace(string(raw)))
		waitFor(t, r, "the watch to learn the new postmaster's "+want, func(ls []line) bool {
			for _, l := range ls {
				if l.PID == pid && (l.Note == "server_started" || l.Note == "server_audit_session") && strings.Contains(l.Text, want) {
					return true
				}
			}
			return false
		})
	}
}
