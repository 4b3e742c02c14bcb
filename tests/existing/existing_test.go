// Package existing tests pgseccomp on a cluster managed as Debian manages
// one: made with pg_createcluster (configuration in /etc/postgresql,
// ssl = on with the snakeoil certificate, peer for postgres, a SCRAM role
// over hostssl), driven with pg_ctlcluster, confined and unconfined with
// the pgseccomp tool as a DBA runs it.
package existing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

const (
	version  = "15"
	appRole  = "pgseccomp_app"
	appPass  = "app-secret"
	appDB    = "pgseccomp_appdb"
	snakeoil = "/etc/ssl/private/ssl-cert-snakeoil.key"
)

// debianCluster is a cluster made with pg_createcluster for one test.
type debianCluster struct {
	t      *testing.T
	name   string // postgresql-common's NAME; VERSION is version
	port   int
	bin    string // PostgreSQL's bin directory
	tool   string // the pgseccomp binary
	ses    *cluster.AuditSession
	e      *cluster.Existing
	socket string
}

// probe skips t where the scenario cannot run, saying why.
func probe(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: pg_createcluster, pg_ctlcluster and the audit netlink socket")
	}
	for _, prog := range []string{"pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "runuser"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s not found: this test needs Debian's postgresql-common", prog)
		}
	}
	if _, err := os.Stat(filepath.Join("/usr/lib/postgresql", version, "lib", "pgseccomp.so")); err != nil {
		t.Skipf("pgseccomp is not installed for PostgreSQL %s (%v): make install first", version, err)
	}
	if _, err := os.Stat(snakeoil); err != nil {
		// pg_createcluster's ssl = on needs Debian's snakeoil certificate.
		if out, err := exec.Command("make-ssl-cert", "generate-default-snakeoil").CombinedOutput(); err != nil {
			t.Fatalf("%s is missing and make-ssl-cert could not make it (%v: %s): apt-get install ssl-cert", snakeoil, err, out)
		}
	}
}

// newDebianCluster creates and starts a cluster with pg_createcluster, and
// drops it (pg_dropcluster --stop) when t ends, also when it fails.
func newDebianCluster(t *testing.T) *debianCluster {
	probe(t)
	bin, err := cluster.FindBinDir("")
	if err != nil {
		t.Skip(err)
	}
	d := &debianCluster{t: t, name: fmt.Sprintf("pgseccomp_test_%d", os.Getpid()), bin: bin, socket: "/var/run/postgresql"}
	d.port = freePort(t)
	d.tool = buildTool(t)
	if d.ses, err = cluster.NewAuditSession(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.ses.Close)
	d.run("pg_createcluster", version, d.name, "-p", strconv.Itoa(d.port))
	t.Cleanup(func() {
		if t.Failed() {
			log := fmt.Sprintf("/var/log/postgresql/postgresql-%s-%s.log", version, d.name)
			if data, err := os.ReadFile(log); err == nil {
				t.Logf("end of %s:\n%s", log, tail(string(data), 80))
			}
		}
		out, err := exec.Command("pg_dropcluster", "--stop", version, d.name).CombinedOutput()
		if err != nil {
			t.Errorf("pg_dropcluster --stop %s %s: %v\n%s", version, d.name, err, out)
		}
		// pg_dropcluster leaves the configuration directory when it holds
		// files it did not make (the test's conf.d file, a snippet install
		// wrote before a failure).
		if err := os.RemoveAll(filepath.Join(cluster.ConfRoot(), version, d.name)); err != nil {
			t.Error(err)
		}
	})
	if d.e, err = cluster.FindExisting(version+"/"+d.name, ""); err != nil {
		t.Fatal(err)
	}
	// Connections in the server log, to tie a denial's pid to a session.
	if err := os.WriteFile(filepath.Join(d.e.ConfigDir, "conf.d", "00-test.conf"), []byte("log_connections = on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An application role that logs in with SCRAM over hostssl only,
	// before Debian's lines (peer for local, scram-sha-256 for host).
	hba, err := os.ReadFile(d.e.HBAFile)
	if err != nil {
		t.Fatal(err)
	}
	hba = append([]byte(fmt.Sprintf("hostssl all %s 127.0.0.1/32 scram-sha-256\nhostnossl all %s all reject\n", appRole, appRole)), hba...)
	if err := os.WriteFile(d.e.HBAFile, hba, 0o640); err != nil {
		t.Fatal(err)
	}
	if v := d.e.Value("ssl", ""); v != "on" && v != "true" {
		t.Fatalf("pg_createcluster made %s with ssl = %q, want on (/etc/postgresql-common/createcluster.conf)", d.e, v)
	}
	d.control("start", "")
	d.psql("postgres", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", appRole, appPass))
	d.psql("postgres", fmt.Sprintf("CREATE DATABASE %s OWNER %s", appDB, appRole))
	d.psql(appDB, fmt.Sprintf("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 10000) g; ALTER TABLE t OWNER TO %s", appRole))
	return d
}

// run runs a command as root and fails t on error.
func (d *debianCluster) run(name string, args ...string) string {
	d.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// control starts, stops or restarts the server with pg_ctlcluster (as
// the cluster is managed), in the test's audit session.
func (d *debianCluster) control(action, mode string) {
	d.t.Helper()
	cmd := d.e.ControlCommand(context.Background(), action, mode)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := d.ses.Run(cmd); err != nil {
		d.t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
}

// asOwner runs one of PostgreSQL's programs as the postgres OS user,
// over the Unix socket (peer authentication).
func (d *debianCluster) asOwner(prog string, args ...string) (string, error) {
	full := append([]string{"-u", d.e.Owner, "--", filepath.Join(d.bin, prog), "-h", d.socket, "-p", strconv.Itoa(d.port)}, args...)
	cmd := exec.Command("runuser", full...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// psql runs sql as postgres with peer authentication and returns its
// unaligned output.
func (d *debianCluster) psql(db, sql string) string {
	d.t.Helper()
	out, err := d.asOwner("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql)
	if err != nil {
		d.t.Fatalf("psql (peer as postgres) -d %s -c %q: %v\n%s", db, sql, err, out)
	}
	return strings.TrimSpace(out)
}

// appConnString is the application's login: SCRAM over hostssl.
func (d *debianCluster) appConnString() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=require connect_timeout=10", d.port, appRole, appPass, appDB)
}

// appQuery logs in as the application over hostssl with SCRAM, checks the
// connection is encrypted, and counts the rows of its table.
func (d *debianCluster) appQuery(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, d.appConnString())
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var ssl bool
	var n int
	if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
		return 0, err
	}
	if !ssl {
		return 0, errors.New("the application's connection is not encrypted")
	}
	err = conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n)
	return n, err
}

// tool runs the pgseccomp binary and returns its exit status and output.
func (d *debianCluster) runTool(args ...string) (int, string) {
	d.t.Helper()
	out, err := exec.Command(d.tool, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	case err != nil:
		d.t.Fatalf("pgseccomp %s: %v", strings.Join(args, " "), err)
	}
	return 0, string(out)
}

// postmasterSeccomp is the Seccomp mode of the running postmaster
// (0 none, 2 filter), as /proc shows it.
func (d *debianCluster) postmasterSeccomp() int {
	d.t.Helper()
	pid, ok := d.e.Running()
	if !ok {
		d.t.Fatalf("the server of %s is not running", d.e)
	}
	st, err := procs.Reader{}.Status(pid)
	if err != nil {
		d.t.Fatal(err)
	}
	return st.SeccompMode
}

// denials reads the seccomp records of the test's audit session while it
// runs: every record of a server started by control carries that session.
type denials struct {
	mu      sync.Mutex
	session uint32
	seen    []string
	capture *audit.Capture
	done    chan error
	once    sync.Once
}

func watchDenials(t *testing.T, session uint32) *denials {
	t.Helper()
	c, err := audit.OpenCapture()
	if err != nil {
		t.Fatal(err)
	}
	w := &denials{session: session, capture: c, done: make(chan error, 1)}
	go func() {
		w.done <- c.Run(func(r *audit.Record) {
			if r.Session != w.session {
				return
			}
			_, name, _ := r.Resolve()
			w.mu.Lock()
			w.seen = append(w.seen, fmt.Sprintf("pid %d (%s) %s: %s", r.PID, r.Comm, name, r.Action()))
			w.mu.Unlock()
		}, nil)
	}()
	t.Cleanup(func() {
		if seen := w.stop(t); t.Failed() && len(seen) > 0 {
			t.Logf("seccomp records of the cluster:\n  %s", strings.Join(seen, "\n  "))
		}
	})
	return w
}

// stop ends the capture after the kernel's queue has drained and returns
// the records seen.
func (w *denials) stop(t *testing.T) []string {
	t.Helper()
	w.once.Do(func() {
		time.Sleep(500 * time.Millisecond) // records already queued in the socket are read before Stop
		w.capture.Stop()
		if err := <-w.done; err != nil {
			t.Errorf("audit capture: %v", err)
		}
		w.capture.Close()
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

func TestConfineDebianCluster(t *testing.T) {
	began := time.Now()
	d := newDebianCluster(t)
	ctx := context.Background()
	step := func(format string, args ...any) {
		t.Logf("%6.1fs  %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	step("pg_createcluster %s %s on port %d, data %s", version, d.name, d.port, d.e.DataDir)
	if n, err := d.appQuery(ctx); err != nil || n != 10000 {
		t.Fatalf("the application's login before confinement: %d rows, %v", n, err)
	}

	// Record on a copy while a client keeps querying the cluster itself.
	catalog := d.catalog()
	client := d.keepQuerying(ctx)
	out := filepath.Join(t.TempDir(), "recorded")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// The application's own queries, as it runs them on the cluster.
	appWorkload := fmt.Sprintf("PGHOST=$PGSECCOMP_TCP_HOST PGUSER=%s PGPASSWORD=%s PGSSLMODE=require psql -X -d %s -c %s -c 'SELECT count(*) FROM t' -c 'UPDATE t SET v = v WHERE id < 100'",
		appRole, appPass, appDB, "'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'")
	code, rec := d.runTool("record", "--cluster", version+"/"+d.name, "--builtin=false", "--workload", appWorkload, "--out", out)
	queries, failures := client.stop()
	if code != 0 {
		t.Fatalf("pgseccomp record --cluster: exit %d\n%s", code, rec)
	}
	step("record --cluster on a copy: %d queries on the cluster meanwhile, %d failed\n%s", queries, len(failures), tail(rec, 6))
	for _, line := range strings.Split(rec, "\n") {
		if strings.HasPrefix(line, "added to the ") {
			t.Log(line)
		}
	}
	if queries == 0 || len(failures) > 0 {
		t.Errorf("while recording, %d queries on the cluster itself, %d failed: %v", queries, len(failures), failures)
	}
	if after := d.catalog(); after != catalog {
		t.Errorf("recording changed the cluster:\nbefore:\n%s\nafter:\n%s", catalog, after)
	}
	recorded := filepath.Join(out, "pgseccomp-profile.json")

	// The README's check before installing: the cluster's configuration as
	// it will read with the profile in place (conf.d/pgseccomp.conf).
	code, out = d.runTool("lint", "--cluster", version+"/"+d.name, "--profile", recorded)
	if code != 0 {
		t.Fatalf("pgseccomp lint --cluster --profile: exit %d\n%s", code, out)
	}
	if want := filepath.Join(d.e.ConfigDir, "conf.d", "pgseccomp.conf") + ":"; !strings.Contains(out, want) && !strings.Contains(out, "no findings") {
		t.Errorf("lint --cluster --profile did not read the profile as installed (no finding at %s):\n%s", want, out)
	}
	step("lint --cluster --profile: %s", tail(out, 1))

	// Install with error defaults, through the tool as a DBA runs it.
	code, out = d.runTool("install", "--cluster", version+"/"+d.name, "--profile", recorded, "--enforce", "error")
	if code != 0 {
		t.Fatalf("pgseccomp install: exit %d\n%s", code, out)
	}
	if want := fmt.Sprintf("pg_ctlcluster %s %s restart", version, d.name); !strings.Contains(out, want) {
		t.Errorf("install's output does not name the restart command %q:\n%s", want, out)
	}
	step("install --enforce error:\n%s", out)

	w := watchDenials(t, d.ses.ID())
	d.control("restart", "")
	if got := d.postmasterSeccomp(); got != 2 {
		t.Fatalf("after install and restart the postmaster has Seccomp %d, want 2 (filter)", got)
	}
	if code, out := d.runTool("status", "--cluster", version+"/"+d.name); code != 0 {
		t.Errorf("pgseccomp status --cluster: exit %d\n%s", code, out)
	}
	if code, out := d.runTool("status", "--pgdata", d.e.ConfigDir); code != 0 {
		t.Errorf("pgseccomp status --pgdata on the configuration directory: exit %d\n%s", code, out)
	}
	step("restarted with pg_ctlcluster: confined")

	// Every event a server meets, under error defaults.
	if n, err := d.appQuery(ctx); err != nil || n != 10000 {
		t.Errorf("login over hostssl with SCRAM: %d rows, %v", n, err)
	}
	if got := d.psql("postgres", "SELECT current_user"); got != "postgres" {
		t.Errorf("peer login as postgres: %q", got)
	}
	step("hostssl SCRAM and local peer logins")

	backup, err := os.MkdirTemp("", "pgseccomp-basebackup-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(backup) })
	if err := os.Chown(backup, uidOf(t, d.e.Owner), -1); err != nil {
		t.Fatal(err)
	}
	if out, err := d.asOwner("pg_basebackup", "-D", filepath.Join(backup, "b"), "-X", "stream", "-c", "fast"); err != nil {
		t.Errorf("pg_basebackup: %v\n%s", err, out)
	}
	step("pg_basebackup through a walsender")

	segments := func() map[string]bool {
		m := map[string]bool{}
		for _, n := range strings.Fields(d.psql("postgres", "SELECT name FROM pg_ls_waldir()")) {
			m[n] = true
		}
		return m
	}
	first := segments()
	created, rows := 0, 10000
	for i := 0; i < 20 && created == 0; i++ {
		rows += 1000
		d.psql(appDB, "INSERT INTO t SELECT g, 'x' FROM generate_series(100001 + 1000 * "+strconv.Itoa(i)+", 100000 + 1000 * "+strconv.Itoa(i+1)+") g; SELECT pg_switch_wal(); CHECKPOINT")
		for n := range segments() {
			if !first[n] {
				created++
			}
		}
	}
	if created == 0 {
		t.Errorf("20 rounds of pg_switch_wal() and CHECKPOINT created no new WAL segment")
	}
	step("pg_switch_wal() + CHECKPOINT: %d new segment names", created)

	d.control("stop", "immediate")
	d.control("start", "")
	if n, err := d.appQuery(ctx); err != nil || n != rows {
		t.Errorf("after an immediate stop and crash recovery: %d rows, %v; want %d, every committed row", n, err, rows)
	}
	step("immediate stop, crash recovery")

	if seen := w.stop(t); len(seen) > 0 {
		t.Errorf("%d seccomp records of the confined cluster, want none:\n  %s", len(seen), strings.Join(seen, "\n  "))
	}

	// Uninstall and restart: unconfined again.
	code, out = d.runTool("uninstall", "--cluster", version+"/"+d.name)
	if code != 0 {
		t.Fatalf("pgseccomp uninstall: exit %d\n%s", code, out)
	}
	d.control("restart", "")
	if got := d.postmasterSeccomp(); got != 0 {
		t.Errorf("after uninstall and restart the postmaster has Seccomp %d, want 0", got)
	}
	if got := d.psql("postgres", "SHOW shared_preload_libraries"); strings.Contains(got, "pgseccomp") {
		t.Errorf("after uninstall shared_preload_libraries = %q", got)
	}
	if _, err := os.Stat(filepath.Join(d.e.ConfigDir, "conf.d", "pgseccomp.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("uninstall left conf.d/pgseccomp.conf: %v", err)
	}
	step("uninstall and restart: unconfined")
}

// catalog is what recording must leave as it was: the databases and
// roles, and the data directory's top level, databases and slots.
func (d *debianCluster) catalog() string {
	d.t.Helper()
	var b strings.Builder
	b.WriteString(d.psql("postgres", "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database") + "\n")
	b.WriteString(d.psql("postgres", "SELECT string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles") + "\n")
	for _, dir := range []string{"", "base", "pg_replslot", "pg_tblspc"} {
		entries, err := os.ReadDir(filepath.Join(d.e.DataDir, dir))
		if err != nil {
			d.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s/:", dir)
		for _, e := range entries {
			b.WriteString(" " + e.Name())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// querier keeps querying the cluster as the application does, one new
// connection every 100 ms beside one that stays open.
type querier struct {
	cancel   context.CancelFunc
	done     chan struct{}
	queries  int
	failures []string
}

func (d *debianCluster) keepQuerying(ctx context.Context) *querier {
	ctx, cancel := context.WithCancel(ctx)
	q := &querier{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(q.done)
		conn, err := pgx.Connect(ctx, d.appConnString())
		if err != nil {
			q.failures = append(q.failures, err.Error())
			return
		}
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil && ctx.Err() == nil {
				q.failures = append(q.failures, "open connection: "+err.Error())
			}
			if _, err := d.appQuery(ctx); err != nil && ctx.Err() == nil {
				q.failures = append(q.failures, "new connection: "+err.Error())
			}
			q.queries += 2
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return q
}

// stop ends the queries and returns how many ran and which failed.
func (q *querier) stop() (int, []string) {
	q.cancel()
	<-q.done
	return q.queries, q.failures
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// buildTool builds the pgseccomp binary the DBA runs.
func buildTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pgseccomp")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/pgseccomp").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/pgseccomp: %v\n%s", err, out)
	}
	return bin
}

func uidOf(t *testing.T, name string) int {
	t.Helper()
	out, err := exec.Command("id", "-u", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	uid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestRecordInPlaceDebianCluster records the cluster in place (record
// --in-place --yes): its server is stopped with pg_ctlcluster, recorded
// with its own listen, SSL and authentication settings on a private port
// and socket, and started again with pg_ctlcluster. The recording logs in
// by hostssl SCRAM (the application's method, which only the
// application's role has in pg_hba.conf: the recording's own role gets a
// line with that type and method) and by peer (postgres), as the
// profile's provenance.paths shows, and the application's workload logs
// in over hostssl with its own password; the output says proven. The
// catalog and the data directory's listing are what they were, and
// nothing is left in the temporary directory.
func TestRecordInPlaceDebianCluster(t *testing.T) {
	began := time.Now()
	d := newDebianCluster(t)
	// The recording's work directory goes in TMPDIR, which the postgres
	// OS user must be able to search (t.TempDir's parent is not).
	tmp := clustertest.SearchableTempDir(t, "pgseccomp-inplace-")
	t.Setenv("TMPDIR", tmp)
	catalog := d.catalog()
	out := t.TempDir()
	appWorkload := fmt.Sprintf("PGHOST=$PGSECCOMP_TCP_HOST PGUSER=%s PGPASSWORD=%s PGSSLMODE=require psql -X -d %s -c 'SELECT count(*) FROM t'",
		appRole, appPass, appDB)
	code, rec := d.runTool("record", "--cluster", version+"/"+d.name, "--in-place", "--yes", "--workload", appWorkload, "--out", out)
	if code != 0 {
		t.Fatalf("pgseccomp record --in-place: exit %d\n%s", code, rec)
	}
	t.Logf("%6.1fs  record --in-place:\n%s", time.Since(began).Seconds(), tail(rec, 12))
	for _, line := range strings.Split(rec, "\n") {
		if strings.HasPrefix(line, "added to the ") {
			t.Log(line)
		}
	}
	if !strings.Contains(rec, "proven with the recorded lists and error defaults: ") || !strings.Contains(rec, "built-in/pg-hba-logins") {
		t.Errorf("the output does not say the logins were proven:\n%s", rec)
	}
	p, err := profile.Read(filepath.Join(out, "pgseccomp-profile.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"login hostssl scram-sha-256", "login local peer"} {
		if ps, ok := p.Provenance.Paths[path]; !ok || len(ps.Global) == 0 {
			t.Errorf("provenance.paths has no global syscalls for %q: the recording did not log in by it (paths: %v)", path, slices.Sorted(maps.Keys(p.Provenance.Paths)))
		}
	}
	if _, ok := d.e.Running(); !ok {
		t.Fatalf("the server of %s was not started again", d.e)
	}
	if n, err := d.appQuery(context.Background()); err != nil || n != 10000 {
		t.Errorf("the application's login after the recording: %d rows, %v", n, err)
	}
	if after := d.catalog(); after != catalog {
		t.Errorf("recording in place changed the cluster:\nbefore:\n%s\nafter:\n%s", catalog, after)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left in the temporary directory: %v", left)
	}
}
