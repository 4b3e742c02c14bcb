package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// server is the PostgreSQL server the suites run against: a throwaway
// cluster this program made, or one given with --server existing.
type server struct {
	Label string // for messages: what and where it is
	Host  string // socket directory or host name, for pg_regress --host
	Port  int
	User  string // a superuser role; pg_regress creates roles and databases
	// ClientEnv is what libpq clients (psql, isolationtester) need beyond
	// --host/--port/--user: passwords, SSL settings of an existing server.
	ClientEnv []string

	c       *cluster.Cluster // nil for an existing server
	logFrom int64            // server log offset where the current suite began
}

// confSettings reads --conf files as PostgreSQL reads a configuration file
// (includes followed; a later line wins) and returns their settings quoted
// for cluster.Options.Settings, with the file and line of each.
func confSettings(paths []string) (map[string]string, map[string]string, error) {
	settings := map[string]string{}
	where := map[string]string{}
	names := map[string]string{} // folded name -> name as first written
	for _, p := range paths {
		f, err := pgconf.LoadOptions(p, pgconf.Options{NoAutoConf: true})
		if err != nil {
			return nil, nil, fmt.Errorf("--conf %s: %w", p, err)
		}
		for _, s := range f.Lines {
			key := pgconf.FoldName(s.Name)
			name, seen := names[key]
			if !seen {
				name = s.Name
				names[key] = name
			}
			settings[name] = cluster.QuoteValue(s.Value)
			where[name] = s.Where()
		}
	}
	return settings, where, nil
}

// throwawayOptions configure newThrowaway.
type throwawayOptions struct {
	BinDir        string
	OSUser        string            // "" as in cluster.Options
	Settings      map[string]string // quoted, as for cluster.Options
	OpenSSLLegacy bool
	AuditSession  bool
	Label         string
	Logf          func(string, ...any)
}

// newThrowaway initdbs and starts a cluster (UTF8, locale C, as `make
// installcheck` expects) with the given settings.
func newThrowaway(ctx context.Context, o throwawayOptions) (*server, error) {
	c, err := cluster.New(ctx, cluster.Options{
		BinDir:       o.BinDir,
		OSUser:       o.OSUser,
		Settings:     o.Settings,
		Logf:         o.Logf,
		AuditSession: o.AuditSession,
	})
	if err != nil {
		return nil, err
	}
	s := &server{
		Label: fmt.Sprintf("%s cluster in %s (port %d)", o.Label, c.DataDir, c.Port),
		c:     c,
		User:  c.OSUser,
	}
	if o.OpenSSLLegacy {
		// pgcrypto's tests use Blowfish, CAST5 and DES, which OpenSSL 3 keeps
		// in its legacy provider; Debian does not load it, so without this
		// three pgcrypto tests fail on any server. The server reads
		// OPENSSL_CONF from the environment pg_ctl starts it with, which is
		// this process's (cluster.Env).
		conf := filepath.Join(c.BaseDir, "openssl-legacy.cnf")
		if err := os.WriteFile(conf, []byte(openSSLLegacyConf), 0o644); err != nil {
			c.Remove()
			return nil, fmt.Errorf("write %s: %w", conf, err)
		}
		if old, had := os.LookupEnv("OPENSSL_CONF"); had {
			defer os.Setenv("OPENSSL_CONF", old)
		} else {
			defer os.Unsetenv("OPENSSL_CONF")
		}
		os.Setenv("OPENSSL_CONF", conf)
	}
	if err := c.Start(ctx); err != nil {
		c.Remove()
		return nil, err
	}
	// Connections from the server to itself (dblink, postgres_fdw) find it
	// through PGHOST and PGPORT, which the server has from cluster.Env.
	s.Host, s.Port = c.SocketDir, c.Port
	return s, nil
}

// openSSLLegacyConf loads OpenSSL 3's default and legacy providers.
const openSSLLegacyConf = `# Written by pgseccomp tests/pgsuite: OpenSSL's default and legacy
# providers, for pgcrypto's Blowfish, CAST5 and DES tests.
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

// clientPassThrough are the libpq variables of this process that reach
// clients of an existing server: how to authenticate, never what to run.
var clientPassThrough = []string{"PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSSLCERT", "PGSSLKEY",
	"PGSSLROOTCERT", "PGSSLCRL", "PGGSSENCMODE", "PGKRBSRVNAME", "PGREQUIREAUTH", "PGCHANNELBINDING"}

// existingServer is a server given by --host/--port/--user, else PGHOST,
// PGPORT, PGUSER, else libpq's defaults on Debian.
func existingServer(host string, port int, user string) (*server, error) {
	if host == "" {
		host = os.Getenv("PGHOST")
	}
	if host == "" {
		host = "/var/run/postgresql"
	}
	if port == 0 {
		if p := os.Getenv("PGPORT"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("PGPORT=%q is not a port number; set it or pass --port", p)
			}
			port = n
		} else {
			port = 5432
		}
	}
	if user == "" {
		user = os.Getenv("PGUSER")
	}
	if user == "" {
		user = "postgres"
	}
	if strings.ContainsAny(host+user, " \t\n'\"\\") {
		return nil, fmt.Errorf("host %q or user %q contains a space, quote or backslash, which make's EXTRA_REGRESS_OPTS cannot carry; use a plain path, name or a symlink", host, user)
	}
	s := &server{Label: fmt.Sprintf("existing server at %s port %d", host, port), Host: host, Port: port, User: user}
	for _, k := range clientPassThrough {
		if v, ok := os.LookupEnv(k); ok {
			s.ClientEnv = append(s.ClientEnv, k+"="+v)
		}
	}
	return s, nil
}

// connect opens a connection to database postgres as the superuser.
func (s *server) connect(ctx context.Context) (*pgx.Conn, error) {
	if s.c != nil {
		return s.c.Connect(ctx, "", "")
	}
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database = s.Host, uint16(s.Port), s.User, "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the %s as %q: %w; check --host/--port/--user (or PGHOST/PGPORT/PGUSER) and that the role may log in", s.Label, s.User, err)
	}
	return conn, nil
}

// serverFacts are what the driver asks the server before running.
type serverFacts struct {
	Version     string            `json:"version"` // SHOW server_version
	Release     pgVersion         `json:"-"`
	PkgLibDir   string            `json:"pkglibdir"`
	Extensions  map[string]bool   `json:"-"`
	Preload     string            `json:"shared_preload_libraries"`
	Pgseccomp   map[string]string `json:"pgseccomp_settings,omitempty"` // pg_settings rows named pgseccomp.*
	AuditSessID uint32            `json:"audit_session,omitempty"`
	// Confinement is the seccomp state of the postmaster and of a client
	// backend, from /proc (local servers only), e.g. "2 filter, 2 filters".
	Confinement map[string]string `json:"confinement,omitempty"`
}

// facts asks the server its version, what it can load and its pgseccomp
// settings. The role must be a superuser: pg_regress creates roles and
// databases, and the suites load C functions.
func (s *server) facts(ctx context.Context) (serverFacts, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return serverFacts{}, err
	}
	defer conn.Close(context.Background())
	var f serverFacts
	var super bool
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('shared_preload_libraries'),
		(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`).Scan(&f.Version, &f.Preload, &super); err != nil {
		return f, fmt.Errorf("ask the %s its version: %w", s.Label, err)
	}
	if !super {
		return f, fmt.Errorf("role %q on the %s is not a superuser; pg_regress needs one (it creates roles and databases): pass --user", s.User, s.Label)
	}
	if f.Release, err = parsePGVersion(f.Version); err != nil {
		return f, fmt.Errorf("the %s: %w", s.Label, err)
	}
	if err := conn.QueryRow(ctx, `SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'`).Scan(&f.PkgLibDir); err != nil {
		return f, fmt.Errorf("ask the %s its PKGLIBDIR: %w", s.Label, err)
	}
	rows, err := conn.Query(ctx, `SELECT name FROM pg_available_extensions`)
	if err != nil {
		return f, fmt.Errorf("list the extensions of the %s: %w", s.Label, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return f, fmt.Errorf("list the extensions of the %s: %w", s.Label, err)
	}
	f.Extensions = map[string]bool{}
	for _, n := range names {
		f.Extensions[n] = true
	}
	rows, err = conn.Query(ctx, `SELECT name, setting FROM pg_settings WHERE name LIKE 'pgseccomp.%' ORDER BY name`)
	if err != nil {
		return f, fmt.Errorf("read the pgseccomp settings of the %s: %w", s.Label, err)
	}
	type kv struct {
		Name, Setting string
	}
	settings, err := pgx.CollectRows(rows, pgx.RowToStructByPos[kv])
	if err != nil {
		return f, fmt.Errorf("read the pgseccomp settings of the %s: %w", s.Label, err)
	}
	if len(settings) > 0 {
		f.Pgseccomp = map[string]string{}
		for _, s := range settings {
			f.Pgseccomp[s.Name] = s.Setting
		}
	}
	if s.c != nil {
		if id, ok := s.c.AuditSession(); ok {
			f.AuditSessID = id
		}
	}
	if strings.HasPrefix(s.Host, "/") { // a Unix socket: the server runs here
		var backend int
		if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err == nil {
			state, ppid := seccompState(backend)
			f.Confinement = map[string]string{"backend": state}
			if ppid > 0 { // a backend's parent is the postmaster
				f.Confinement["postmaster"], _ = seccompState(ppid)
			}
		}
	}
	return f, nil
}

// seccompState describes a process's seccomp confinement from /proc, and
// returns its parent's pid.
func seccompState(pid int) (string, int) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err), 0
	}
	st, err := procs.ParseStatus(data)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err), 0
	}
	state := "seccomp " + procs.SeccompModeName(st.SeccompMode)
	if st.SeccompFilters >= 0 {
		state += fmt.Sprintf(", %d filter(s)", st.SeccompFilters)
	}
	return state, st.PPID
}

// hasModules reports whether each shared library (name without suffix)
// exists in the server's PKGLIBDIR, as the server sees its file system.
func (s *server) hasModules(ctx context.Context, pkglibdir string, modules []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(modules) == 0 {
		return out, nil
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	for _, m := range modules {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT (pg_stat_file($1, true)).size IS NOT NULL`, pkglibdir+"/"+m+".so").Scan(&ok); err != nil {
			return nil, fmt.Errorf("look for %s.so on the %s: %w", m, s.Label, err)
		}
		out[m] = ok
	}
	return out, nil
}

// markLog remembers where the server log ends, so that logSinceMark reports
// only what a suite caused.
func (s *server) markLog() {
	if s.c == nil {
		return
	}
	if _, off, err := s.c.LogSince(s.logFrom); err == nil {
		s.logFrom = off
	}
}

// crashSignsRe matches the log lines of a server that crashed or was told
// to: a PANIC, a child killed by a signal (SIGSYS is seccomp's kill), the
// crash-restart cycle that follows.
var crashSignsRe = regexp.MustCompile(`PANIC: |was terminated by signal|terminating any other active server processes|all server processes terminated; reinitializing|database system was not properly shut down`)

// deniedRe matches what a syscall failing with EACCES looks like in the
// log: strerror's "Permission denied" after an operating system call. SQL
// privilege errors say "permission denied for ...", in lower case.
var deniedRe = regexp.MustCompile(`: Permission denied\b`)

// scanLog picks the lines of a server log that show a crash, and those that
// show an operating system call refused with EACCES (what pgseccomp's error
// action does; some the server tolerates without failing a test).
func scanLog(text string) (crash, denied []string) {
	for _, line := range strings.Split(text, "\n") {
		switch {
		case crashSignsRe.MatchString(line):
			crash = append(crash, line)
		case deniedRe.MatchString(line):
			denied = append(denied, line)
		}
	}
	return crash, denied
}

// logSinceMark returns the crash and denied lines (see scanLog) the server
// logged since markLog; nothing for an existing server, whose log this
// program cannot read.
func (s *server) logSinceMark() (crash, denied []string) {
	if s.c == nil {
		return nil, nil
	}
	text, off, err := s.c.LogSince(s.logFrom)
	if err != nil {
		return []string{fmt.Sprintf("(cannot read the server log: %v)", err)}, nil
	}
	s.logFrom = off
	return scanLog(text)
}

// alive reports whether the server still accepts connections.
func (s *server) alive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	return conn.Close(context.Background())
}

// remove stops and deletes a throwaway cluster, first copying its log to
// logCopy (when not empty). An existing server is left alone.
func (s *server) remove(logCopy string) error {
	if s.c == nil {
		return nil
	}
	var errs []error
	if logCopy != "" {
		if data, err := os.ReadFile(s.c.LogFile); err != nil {
			errs = append(errs, fmt.Errorf("keep the server log: %w", err))
		} else if err := os.WriteFile(logCopy, data, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("keep the server log: %w", err))
		}
	}
	if err := s.c.Remove(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// settingsSummary renders settings as sorted "name = value" lines.
func settingsSummary(settings map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		out = append(out, k+" = "+settings[k])
	}
	return out
}
