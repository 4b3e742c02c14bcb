package cluster

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// newCluster creates a cluster for t, skipping t when PostgreSQL is not
// installed, and removes it when t ends.
func newCluster(t *testing.T, opts Options) *Cluster {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	c, err := New(context.Background(), opts)
	if errors.Is(err, ErrNoInitdb) {
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

// skipWithoutPostgres skips t when New could not find initdb.
func skipWithoutPostgres(t *testing.T) {
	t.Helper()
	if _, err := FindBinDir(""); errors.Is(err, ErrNoInitdb) {
		t.Skip(err)
	}
}

// queryString runs a one-value query on a fresh connection.
func queryString(t *testing.T, c *Cluster, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// TestCluster walks one cluster through its life: the subtests share it and
// run in order.
func TestCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCluster(t, Options{Settings: map[string]string{"work_mem": "'3MB'"}})

	t.Run("files", func(t *testing.T) {
		for _, p := range []string{c.DataDir, c.SocketDir, c.LogFile, filepath.Join(c.DataDir, ManagedConfFile)} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			u, err := user.Lookup(c.OSUser)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Sys().(*syscall.Stat_t).Uid; u.Uid != strconv.FormatUint(uint64(got), 10) {
				t.Errorf("%s is owned by uid %d, want %s (%s)", p, got, u.Uid, c.OSUser)
			}
		}
		if os.Getuid() == 0 && c.OSUser != "postgres" {
			t.Errorf("OSUser = %q when running as root, want postgres", c.OSUser)
		}
		b, err := os.ReadFile(filepath.Join(c.DataDir, ManagedConfFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "\nwork_mem = '3MB'\n") {
			t.Errorf("%s lacks work_mem = '3MB':\n%s", ManagedConfFile, b)
		}
	})

	// Take the port New picked: the first Start must move to a free one.
	held, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if heldPort := held.Addr().(*net.TCPAddr).Port; c.Port == heldPort {
		t.Fatalf("Start claims port %d, which the test holds", heldPort)
	}

	t.Run("connect", func(t *testing.T) {
		for _, tc := range []struct {
			name, dsn string
		}{
			{"unix socket", c.ConnString("", "")},
			{"tcp", c.TCPConnString("", "")},
			// A walsender speaks only the simple query protocol.
			{"replication", c.ConnString("", "") + " replication=database default_query_exec_mode=simple_protocol"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				conn, err := pgx.Connect(ctx, tc.dsn)
				if err != nil {
					t.Fatalf("connect with %q: %v", tc.dsn, err)
				}
				defer conn.Close(ctx)
				var one int
				var who string
				if err := conn.QueryRow(ctx, "SELECT 1, current_user::text").Scan(&one, &who); err != nil {
					t.Fatal(err)
				}
				if one != 1 || who != c.OSUser {
					t.Errorf("SELECT 1, current_user = %d, %q; want 1, %q", one, who, c.OSUser)
				}
			})
		}
	})

	t.Run("server major", func(t *testing.T) {
		major, err := c.ServerMajor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// server_version is "15.20 (Debian 15.20-0+deb12u1)", "19rc1 ...": it
		// starts with the major and then a character that is not a digit.
		version := queryString(t, c, "SHOW server_version")
		rest, ok := strings.CutPrefix(version, strconv.Itoa(major))
		if !ok || rest == "" || (rest[0] >= '0' && rest[0] <= '9') {
			t.Errorf("ServerMajor = %d, but server_version is %q", major, version)
		}
	})

	t.Run("creation settings", func(t *testing.T) {
		if got := queryString(t, c, "SHOW work_mem"); got != "3MB" {
			t.Errorf("work_mem = %q, want 3MB from Options.Settings", got)
		}
	})

	t.Run("reload", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			settings map[string]string
			wantLog  string // in the log the reload wrote
			want     string // work_mem afterwards
		}{
			{"change", map[string]string{"work_mem": "'5MB'"}, `parameter "work_mem" changed to "5MB"`, "5MB"},
			{"remove", map[string]string{}, `parameter "work_mem" removed from configuration file, reset to default`, "4MB"},
			{"set again", map[string]string{"work_mem": "'6MB'", "statement_timeout": "'1min'"}, `parameter "work_mem" changed to "6MB"`, "6MB"},
			// The load time changes but work_mem keeps its value.
			{"invalid value", map[string]string{"work_mem": "'nonsense'"}, `invalid value for parameter "work_mem": "nonsense"`, "6MB"},
			// Nothing is applied and the load time stays: Reload must notice from the log.
			{"unknown setting", map[string]string{"work_mem": "'7MB'", "no_such_setting": "1"}, "contains errors; no changes were applied", "6MB"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := c.SetSettings(tc.settings); err != nil {
					t.Fatal(err)
				}
				_, offset, err := c.LogSince(0)
				if err != nil {
					t.Fatal(err)
				}
				begin := time.Now()
				if err := c.Reload(ctx); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(begin); d > 10*time.Second {
					t.Errorf("Reload took %v; it should notice the reload within a second", d)
				}
				logged, _, err := c.LogSince(offset)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(logged, tc.wantLog) {
					t.Errorf("log since the reload lacks %q:\n%s", tc.wantLog, logged)
				}
				if got := queryString(t, c, "SHOW work_mem"); got != tc.want {
					t.Errorf("work_mem = %q, want %q", got, tc.want)
				}
				if got := c.Settings(); len(got) != len(tc.settings) {
					t.Errorf("Settings() = %v, want %v", got, tc.settings)
				}
			})
		}
	})

	t.Run("restart", func(t *testing.T) {
		before, err := c.PostmasterPID()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetSettings(map[string]string{"shared_buffers": "'16MB'"}); err != nil {
			t.Fatal(err)
		}
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		after, err := c.PostmasterPID()
		if err != nil {
			t.Fatal(err)
		}
		if after == before {
			t.Errorf("postmaster pid %d did not change across Restart", after)
		}
		if got := queryString(t, c, "SHOW shared_buffers"); got != "16MB" {
			t.Errorf("shared_buffers = %q after Restart, want 16MB", got)
		}
	})

	t.Run("command", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"psql", []string{"psql", "-XAtc", "SELECT current_user || ' ' || current_database()"}, c.OSUser + " postgres"},
			{"runs as OSUser", []string{"id", "-un"}, c.OSUser},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cmd := c.Command(ctx, tc.args[0], tc.args[1:]...)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
				}
				if got := strings.TrimSpace(string(out)); got != tc.want {
					t.Errorf("%v printed %q, want %q", cmd.Args, got, tc.want)
				}
			})
		}
	})

	t.Run("stop", func(t *testing.T) {
		for i := range 2 { // the second Stop finds nothing running
			if err := c.Stop(ctx); err != nil {
				t.Fatalf("Stop #%d: %v", i+1, err)
			}
		}
		if _, err := c.PostmasterPID(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("PostmasterPID after Stop: err = %v, want fs.ErrNotExist", err)
		}
		_, err := c.Connect(ctx, "", "")
		if err == nil || !strings.Contains(err.Error(), "database system is shut down") {
			t.Errorf("Connect to a stopped cluster: err = %v, want one with the log tail", err)
		}
	})

	t.Run("remove", func(t *testing.T) {
		if err := c.Remove(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(c.BaseDir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("BaseDir %s still there after Remove (err %v)", c.BaseDir, err)
		}
		if err := c.Remove(); err != nil {
			t.Errorf("second Remove: %v", err)
		}
	})
}

// TestStartFailure checks that a server that cannot start yields an error
// with the log tail, and that Remove keeps a caller's BaseDir but empties it.
func TestStartFailure(t *testing.T) {
	t.Parallel()
	skipWithoutPostgres(t)
	base, err := os.MkdirTemp("", "pgseccomp-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	if err := os.Chmod(base, 0o711); err != nil { // let the postgres user in
		t.Fatal(err)
	}
	c := newCluster(t, Options{BaseDir: base, Settings: map[string]string{"shared_buffers": "'nonsense'"}})

	err = c.Start(context.Background())
	if err == nil {
		t.Fatal("Start with shared_buffers = 'nonsense' succeeded")
	}
	for _, want := range []string{
		`invalid value for parameter "shared_buffers": "nonsense"`,
		c.LogTail(40),
		c.LogFile,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error lacks %q:\n%v", want, err)
		}
	}

	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	left, err := os.ReadDir(base)
	if err != nil {
		t.Fatalf("caller's BaseDir: %v", err)
	}
	if len(left) != 0 {
		t.Errorf("Remove left %d entries in the caller's BaseDir, e.g. %s", len(left), left[0].Name())
	}
}

// TestNewErrors checks that New refuses bad options before running initdb,
// and leaves nothing behind in a caller's BaseDir.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	skipWithoutPostgres(t)
	taken := t.TempDir()
	if err := os.Mkdir(filepath.Join(taken, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"port setting", Options{Settings: map[string]string{"port": "5432"}}, `may not set "port"`},
		{"socket setting", Options{Settings: map[string]string{"Unix_Socket_Directories": "'/tmp'"}}, "may not set"},
		{"bad name", Options{Settings: map[string]string{"work mem": "'1MB'"}}, "is not a setting name"},
		{"two lines", Options{Settings: map[string]string{"work_mem": "'1MB'\nport = 1"}}, "line break"},
		{"empty value", Options{Settings: map[string]string{"work_mem": ""}}, "is empty"},
		{"bad port", Options{Port: 70000}, "is not a TCP port"},
		{"root", Options{OSUser: "root"}, "refuses to run as root"},
		{"unknown user", Options{OSUser: "no-such-user-pgseccomp"}, `look up OS user "no-such-user-pgseccomp"`},
		{"bad bin dir", Options{BinDir: t.TempDir()}, "no PostgreSQL initdb found"},
		{"data dir exists", Options{BaseDir: taken}, "already exists"},
		{"long socket path", Options{BaseDir: filepath.Join(t.TempDir(), strings.Repeat("x", 100))}, "socket path"},
	}
	if os.Getuid() == 0 {
		// t.TempDir's parent is mode 0700, owned by root.
		tests = append(tests, struct {
			name string
			opts Options
			want string
		}{"unreachable", Options{BaseDir: t.TempDir()}, "cannot reach"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(context.Background(), tc.opts)
			if err == nil {
				c.Remove()
				t.Fatalf("New(%+v) succeeded, want an error with %q", tc.opts, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one with %q", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(taken); len(entries) != 1 {
		t.Errorf("New left files in the caller's BaseDir %s: %v", taken, entries)
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc"},
		{"a\nb\nc\n", 0, ""},
		{"one", 1, "one"},
		{"a\n\nb\n", 2, "\nb"},
	} {
		if got := lastLines(tc.in, tc.n); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestTailLines(t *testing.T) {
	var b strings.Builder
	for i := range 50000 { // ~0.5 MB: several chunks
		b.WriteString("line " + strconv.Itoa(i) + " of the log\n")
	}
	s := b.String()
	for _, n := range []int{1, 3, 40, 6000} {
		got, err := tailLines(strings.NewReader(s), int64(len(s)), n)
		if err != nil {
			t.Fatal(err)
		}
		if want := lastLines(s, n); got != want {
			t.Errorf("tailLines(n=%d) = %d bytes, want %d bytes", n, len(got), len(want))
		}
	}
}

func TestLogSince(t *testing.T) {
	c := &Cluster{LogFile: filepath.Join(t.TempDir(), "server.log")}
	if _, _, err := c.LogSince(0); err == nil {
		t.Error("LogSince on a missing log succeeded")
	}
	if got := c.LogTail(3); !strings.Contains(got, "cannot read the server log") {
		t.Errorf("LogTail on a missing log = %q", got)
	}
	appendLog := func(s string) {
		f, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	var offset int64
	for _, step := range []struct{ write, want string }{
		{"one\ntw", "one\n"},
		{"", ""},
		{"o\nthree\n", "two\nthree\n"},
	} {
		appendLog(step.write)
		got, next, err := c.LogSince(offset)
		if err != nil {
			t.Fatal(err)
		}
		if got != step.want || next != offset+int64(len(got)) {
			t.Errorf("LogSince(%d) = %q, %d; want %q, %d", offset, got, next, step.want, offset+int64(len(step.want)))
		}
		offset = next
	}
	if got := c.LogTail(2); got != "two\nthree" {
		t.Errorf("LogTail(2) = %q", got)
	}
	if _, _, err := c.LogSince(offset + 1); err == nil {
		t.Error("LogSince past the end succeeded")
	}
}

func TestConnString(t *testing.T) {
	c := &Cluster{SocketDir: "/tmp/a b/it's", Port: 5999, OSUser: "postgres"}
	for _, tc := range []struct {
		user, db                   string
		wantHost, wantUser, wantDB string
	}{
		{"", "", c.SocketDir, "postgres", "postgres"},
		{"joe", "db one", c.SocketDir, "joe", "db one"},
		{`we\ird'`, "x=y", c.SocketDir, `we\ird'`, "x=y"},
	} {
		dsn := c.ConnString(tc.user, tc.db)
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", dsn, err)
		}
		if cfg.Host != tc.wantHost || cfg.Port != 5999 || cfg.User != tc.wantUser || cfg.Database != tc.wantDB || cfg.TLSConfig != nil {
			t.Errorf("ConnString(%q, %q) = %q parses to host %q port %d user %q db %q tls %v",
				tc.user, tc.db, dsn, cfg.Host, cfg.Port, cfg.User, cfg.Database, cfg.TLSConfig != nil)
		}
	}
	if cfg, err := pgx.ParseConfig(c.TCPConnString("", "")); err != nil || cfg.Host != "127.0.0.1" {
		t.Errorf("TCPConnString parses to %+v, %v", cfg, err)
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("PGPASSWORD", "secret")
	t.Setenv("PGHOST", "elsewhere")
	t.Setenv("PG_CONFIG", "/opt/pg/bin/pg_config")
	t.Setenv("PATH", "/usr/bin:/bin")
	c := &Cluster{SocketDir: "/s", Port: 5999, OSUser: "postgres", BinDir: "/pg/bin"}
	got := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("Env has %s twice", k)
		}
		got[k] = v
	}
	for k, want := range map[string]string{
		"PGHOST": "/s", "PGPORT": "5999", "PGUSER": "postgres", "PGDATABASE": "postgres",
		"PGSSLMODE": "disable", "PATH": "/pg/bin:/usr/bin:/bin", "PG_CONFIG": "/opt/pg/bin/pg_config",
	} {
		if got[k] != want {
			t.Errorf("Env %s = %q, want %q", k, got[k], want)
		}
	}
	if v, ok := got["PGPASSWORD"]; ok {
		t.Errorf("Env kept PGPASSWORD=%q", v)
	}
}

func TestManagedConf(t *testing.T) {
	got := managedConf(map[string]string{"b.x": "'2'", "a": "1", "shared_preload_libraries": "'pgseccomp'"})
	want := "a = 1\nb.x = '2'\nshared_preload_libraries = 'pgseccomp'\n"
	if !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 5 {
		t.Errorf("managedConf =\n%s\nwant two comment lines then\n%s", got, want)
	}
	if got, want := QuoteValue(`/a'b\c`), `'/a''b\\c'`; got != want {
		t.Errorf("QuoteValue = %s, want %s", got, want)
	}
}
