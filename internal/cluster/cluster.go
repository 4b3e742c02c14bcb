// Package cluster creates throwaway PostgreSQL clusters for tests, the demo,
// benchmarks and recording. It is the one way this project starts a cluster:
// initdb into a private directory, start, stop, restart and reload the server
// as an unprivileged OS user, manage a set of postgresql.conf settings, read
// the server log, and connect with pgx.
//
// A cluster listens on a private Unix socket directory (used for every
// connection this package makes) and on 127.0.0.1, with trust authentication
// for local, host 127.0.0.1/32 and replication connections. It is meant for
// tests only: anyone on the machine can connect to it as any role over TCP.
//
// A typical test:
//
//	c, err := cluster.New(ctx, cluster.Options{Logf: t.Logf})
//	if err != nil { ... }
//	t.Cleanup(func() { c.Remove() })
//	if err := c.Start(ctx); err != nil { ... }
//	conn, err := c.Connect(ctx, "", "")
//
// The clustertest subpackage wraps exactly this for tests.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/osuser"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// Names of the files a cluster keeps next to its data.
const (
	// ManagedConfFile is the include file, in DataDir, that holds the settings
	// given in Options.Settings and by SetSettings. It is included last from
	// postgresql.conf, so its settings win.
	ManagedConfFile = "pgseccomp-test.conf"
	// BaseConfFile is the include file, in DataDir, that holds the settings
	// this package needs (port, listen_addresses, socket directory). It is
	// included from postgresql.conf before ManagedConfFile.
	BaseConfFile = "pgseccomp-cluster.conf"
)

const (
	startTimeoutSeconds = 60
	stopTimeoutSeconds  = 60
	reloadTimeout       = 30 * time.Second
	reloadPollInterval  = 20 * time.Millisecond
	removeTimeout       = 2 * time.Minute
	startErrorLogLines  = 40
	connectErrLogLines  = 20
	maxPortRetries      = 3
	// sun_path is 108 bytes on Linux, including the terminating NUL.
	maxSocketPathLen = 107
)

// Options for New. The zero value is a valid configuration.
type Options struct {
	// BaseDir is the parent directory for the cluster: it will hold data/,
	// socket/ and server.log. "" creates a fresh directory with
	// os.MkdirTemp("", "pgseccomp-cluster-"). A BaseDir that does not exist is
	// created. Either way, a directory New creates is deleted by Remove; a
	// BaseDir that already existed is kept and only emptied of what New put
	// there. The OS user must be able to traverse every directory above it.
	BaseDir string
	// BinDir is the PostgreSQL bin directory (with initdb, pg_ctl, postgres).
	// "" means `pg_config --bindir` of $PG_CONFIG (default "pg_config"),
	// falling back to /usr/lib/postgresql/15/bin. See FindBinDir.
	BinDir string
	// Port is the TCP port on 127.0.0.1. 0 picks a free port; if another
	// process takes that port before the first successful Start, Start picks
	// another one and updates Cluster.Port.
	Port int
	// OSUser runs initdb, pg_ctl and the server. "" means "postgres" when this
	// process runs as root (uid 0), else the current user. Only root can run
	// them as another user; PostgreSQL refuses to run as root.
	OSUser string
	// Settings are extra postgresql.conf settings written into
	// ManagedConfFile at creation. Values are written verbatim: the caller
	// quotes strings, e.g. "'pgseccomp'". SetSettings replaces them.
	Settings map[string]string
	// Logf, if set, receives progress messages (e.g. t.Logf).
	Logf func(format string, args ...any)
	// AuditSession starts the server in an audit session of its own (see
	// Cluster.AuditSession), so that its seccomp audit records can be told
	// from every other process's. Needs root (CAP_AUDIT_CONTROL).
	AuditSession bool
}

// Cluster is one throwaway PostgreSQL cluster made by New.
//
// ConnString, TCPConnString, Connect, Env, Command, LogTail, LogSince,
// PostmasterPID, Settings and SetSettings may be called from several
// goroutines. Start, Stop, Restart, Reload and Remove change the server's
// state and must not run concurrently with each other.
type Cluster struct {
	BaseDir   string // parent directory of everything below
	DataDir   string // BaseDir/data
	SocketDir string // BaseDir/socket: Unix socket directory, used for all connections
	Port      int    // TCP port on 127.0.0.1 (and the socket's port number)
	BinDir    string // PostgreSQL bin directory
	LogFile   string // BaseDir/server.log, the server's stderr (pg_ctl -l)
	OSUser    string // the OS user that runs the server; also the bootstrap superuser

	acct       osuser.Account
	logf       func(format string, args ...any)
	ownBaseDir bool // New created BaseDir, so Remove deletes it
	autoPort   bool // Port was picked by New and may be re-picked
	started    bool // the server has started successfully at least once

	mu       sync.Mutex
	settings map[string]string // contents of ManagedConfFile

	audit *auditSession // nil unless Options.AuditSession

	// An existing cluster (Attach), or a copy of one (Copy): settings go
	// on the command line (cmdline).
	cmdline    bool
	copy       *copyConf    // a copy: what it reads of the original
	inPlace    *inPlaceConf // an existing cluster recorded in place (Attach)
	superuser  string       // the role connections use by default; "" means OSUser
	attached   bool
	configDir  string // what pg_ctl -D takes
	hbaFile    string
	wasRunning bool
	serverOurs bool // this package started the attached cluster's server
}

// AuditSession returns the audit session id (ses= in audit records) of
// every process of the server, when Options.AuditSession was set; ok is
// false otherwise.
func (c *Cluster) AuditSession() (id uint32, ok bool) {
	if c.audit == nil {
		return 0, false
	}
	return c.audit.id, true
}

// New creates a cluster: it makes the directories, runs initdb (trust
// authentication, UTF8, locale C, no fsync of the new files) as the OS user,
// writes pg_hba.conf and the settings, and returns the stopped cluster. Call
// Start to run it and Remove to delete it. If New fails it removes whatever it
// created.
func New(ctx context.Context, opts Options) (c *Cluster, err error) {
	binDir, acct, logf, err := prepare(opts.BinDir, opts.OSUser, opts.Logf)
	if err != nil {
		return nil, err
	}
	settings, err := copySettings(opts.Settings, "Options.Settings")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("cluster: Options.Port %d is not a TCP port; use 1-65535, or 0 to pick a free one", opts.Port)
	}

	c = &Cluster{
		BinDir:   binDir,
		Port:     opts.Port,
		OSUser:   acct.Name,
		acct:     acct,
		logf:     logf,
		settings: settings,
	}
	if opts.AuditSession {
		if c.audit, err = newAuditSession(); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	if err := c.makeDirs(opts.BaseDir); err != nil {
		c.closeAudit()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	defer func() {
		if err != nil {
			c.removeFiles()
			c.closeAudit()
		}
	}()

	if c.Port == 0 {
		if c.Port, err = freePort(); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		c.autoPort = true
	}

	begin := time.Now()
	out, err := c.run(ctx, "initdb", "-D", c.DataDir, "-U", c.OSUser,
		"-A", "trust", "-E", "UTF8", "--locale=C", "-N")
	if err != nil {
		return nil, fmt.Errorf("cluster: initdb -D %s as OS user %q failed: %w\ninitdb output:\n%s",
			c.DataDir, c.OSUser, err, strings.TrimSpace(out))
	}
	if err := c.writeConfig(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	logf("cluster: initdb %s as %q took %v (port %d)", c.DataDir, c.OSUser,
		time.Since(begin).Round(time.Millisecond), c.Port)
	return c, nil
}

// makeDirs sets BaseDir, DataDir, SocketDir and LogFile, creating BaseDir if
// needed, and creates DataDir, SocketDir and LogFile owned by the OS user.
func (c *Cluster) makeDirs(baseDir string) error {
	if baseDir == "" {
		dir, err := os.MkdirTemp("", "pgseccomp-cluster-")
		if err != nil {
			return fmt.Errorf("create a temporary base directory: %w; set TMPDIR to a writable directory or pass Options.BaseDir", err)
		}
		c.BaseDir, c.ownBaseDir = dir, true
	} else {
		abs, err := filepath.Abs(baseDir)
		if err != nil {
			return fmt.Errorf("resolve Options.BaseDir %q: %w", baseDir, err)
		}
		c.BaseDir = abs
		switch fi, err := os.Stat(abs); {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.MkdirAll(abs, 0o700); err != nil {
				return fmt.Errorf("create base directory: %w", err)
			}
			c.ownBaseDir = true
		case err != nil:
			return fmt.Errorf("check base directory: %w", err)
		case !fi.IsDir():
			return fmt.Errorf("base directory %s (Options.BaseDir) is not a directory; pass a directory, or leave it empty for a temporary one", abs)
		}
	}
	c.DataDir = filepath.Join(c.BaseDir, "data")
	c.SocketDir = filepath.Join(c.BaseDir, "socket")
	c.LogFile = filepath.Join(c.BaseDir, "server.log")

	// From here on, a failure must not delete a caller's existing files.
	fail := func(err error) error {
		if c.ownBaseDir {
			os.RemoveAll(c.BaseDir)
		}
		return err
	}
	for _, p := range []string{c.DataDir, c.SocketDir, c.LogFile} {
		if _, err := os.Lstat(p); err == nil {
			return fail(fmt.Errorf("%s already exists: remove the old cluster (Cluster.Remove) or choose another Options.BaseDir", p))
		}
	}
	// The server's socket is SocketDir/.s.PGSQL.<port> (plus ".lock").
	if n := len(c.SocketDir) + len("/.s.PGSQL.65535.lock"); n > maxSocketPathLen {
		return fail(fmt.Errorf("socket path under %s would be %d bytes, more than the %d Linux allows: choose a shorter Options.BaseDir", c.SocketDir, n, maxSocketPathLen))
	}
	if c.acct.Switch && c.ownBaseDir {
		if err := c.acct.Chown(c.BaseDir); err != nil {
			return fail(err)
		}
	}
	if err := c.checkBaseDir(c.BaseDir); err != nil {
		return fail(err)
	}
	for _, d := range []string{c.DataDir, c.SocketDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fail(fmt.Errorf("create directory: %w", err))
		}
		if err := c.acct.Chown(d); err != nil {
			c.removeFiles()
			return err
		}
	}
	f, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = c.acct.Chown(c.LogFile)
	}
	if err != nil {
		c.removeFiles()
		return fmt.Errorf("create server log file: %w", err)
	}
	return nil
}

// removeFiles deletes BaseDir if New created it, else what New put into it.
func (c *Cluster) removeFiles() error {
	if c.ownBaseDir {
		if err := os.RemoveAll(c.BaseDir); err != nil {
			return fmt.Errorf("remove cluster directory: %w", err)
		}
		return nil
	}
	var errs []error
	for _, p := range []string{c.DataDir, c.SocketDir, c.LogFile} {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove cluster file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Start starts the server with pg_ctl and waits (up to 60s) until it accepts
// connections. On failure the error contains pg_ctl's output and the last 40
// lines of LogFile.
func (c *Cluster) Start(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		offset := c.logSize()
		begin := time.Now()
		out, err := c.startServer(ctx)
		if err == nil {
			c.serverOurs = true
			c.started = true
			c.logf("cluster: started %s on port %d in %v", c.DataDir, c.Port, time.Since(begin).Round(time.Millisecond))
			return nil
		}
		if c.autoPort && !c.started && attempt < maxPortRetries && ctx.Err() == nil {
			if logged, _, lerr := c.LogSince(offset); lerr == nil && portTaken(logged) {
				old := c.Port
				if c.Port, err = freePort(); err != nil {
					return fmt.Errorf("cluster: %w", err)
				}
				if err := c.writeBaseConf(); err != nil {
					return fmt.Errorf("cluster: %w", err)
				}
				c.logf("cluster: port %d was taken, retrying on port %d", old, c.Port)
				continue
			}
		}
		return fmt.Errorf("cluster: start server in %s (port %d) with pg_ctl failed: %w\n"+
			"pg_ctl output:\n%s\n"+
			"last %d lines of %s:\n%s\n"+
			"fix what the log reports (settings are in %s), then Start again",
			c.DataDir, c.Port, err, strings.TrimSpace(out),
			startErrorLogLines, c.LogFile, c.LogTail(startErrorLogLines),
			filepath.Join(c.DataDir, ManagedConfFile))
	}
}

// startServer runs pg_ctl start, on the audit session's thread if there
// is one, so that the server inherits the session.
func (c *Cluster) startServer(ctx context.Context) (out string, err error) {
	start := func() {
		if c.cmdline {
			out, err = c.run(ctx, "pg_ctl", c.attachedStartArgs()...)
			return
		}
		out, err = c.pgCtl(ctx, "-w", "-t", strconv.Itoa(startTimeoutSeconds), "-l", c.LogFile, "start")
	}
	if c.audit == nil {
		start()
	} else {
		c.audit.do(start)
	}
	return out, err
}

func (c *Cluster) closeAudit() {
	if c.audit != nil {
		c.audit.close()
		c.audit = nil
	}
}

// portTaken reports whether a server log says the TCP port was in use.
func portTaken(log string) bool {
	return strings.Contains(log, "Address already in use") ||
		strings.Contains(log, "could not create any TCP/IP sockets")
}

// Stop stops the server with a fast shutdown (pg_ctl -m fast) and waits up to
// 60s for it to exit. Stopping a cluster that is not running is not an error.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.running() {
		return nil
	}
	begin := time.Now()
	out, err := c.pgCtl(ctx, "-w", "-t", strconv.Itoa(stopTimeoutSeconds), "-m", "fast", "stop")
	if err != nil {
		if !c.running() {
			return nil // it exited on its own meanwhile
		}
		return fmt.Errorf("cluster: stop server in %s with pg_ctl -m fast failed: %w\npg_ctl output:\n%s\nlast %d lines of %s:\n%s\n"+
			"if it hangs, stop it with pg_ctl -D %s -m immediate stop (Remove does that)",
			c.DataDir, err, strings.TrimSpace(out), startErrorLogLines, c.LogFile, c.LogTail(startErrorLogLines), c.DataDir)
	}
	c.logf("cluster: stopped %s in %v", c.DataDir, time.Since(begin).Round(time.Millisecond))
	return nil
}

// running reports whether postmaster.pid names a live process.
func (c *Cluster) running() bool {
	pid, err := c.PostmasterPID()
	if err != nil {
		// No pid file means not running; an unreadable one, let pg_ctl judge.
		return !errors.Is(err, fs.ErrNotExist)
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Restart stops the server (if running) and starts it again, so that settings
// which need a restart take effect.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	return c.Start(ctx)
}

// Reload tells the server to re-read its configuration (pg_ctl reload) and
// waits, up to 30s, until the postmaster has processed it: until a fresh
// connection sees a new pg_conf_load_time() (new backends inherit the
// postmaster's), or the log says the configuration files contained errors and
// nothing was applied. Reload does not report settings the server rejected:
// read them from the log with LogSince.
func (c *Cluster) Reload(ctx context.Context) error {
	before, err := c.confLoadTime(ctx)
	if err != nil {
		return fmt.Errorf("cluster: reload: read pg_conf_load_time() before reloading: %w", err)
	}
	offset := c.logSize()
	if out, err := c.pgCtl(ctx, "reload"); err != nil {
		return fmt.Errorf("cluster: pg_ctl reload of %s failed: %w\npg_ctl output:\n%s\nlast %d lines of %s:\n%s",
			c.DataDir, err, strings.TrimSpace(out), connectErrLogLines, c.LogFile, c.LogTail(connectErrLogLines))
	}
	begin := time.Now()
	wctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	var lastErr error
	for {
		after, err := c.confLoadTime(wctx)
		if err == nil && !after.Equal(before) {
			c.logf("cluster: reloaded %s in %v", c.DataDir, time.Since(begin).Round(time.Millisecond))
			return nil
		}
		lastErr = err
		if logged, _, lerr := c.LogSince(offset); lerr == nil && strings.Contains(logged, "contains errors; no changes were applied") {
			c.logf("cluster: reloaded %s in %v; the server applied no changes (see its log)", c.DataDir, time.Since(begin).Round(time.Millisecond))
			return nil
		}
		select {
		case <-wctx.Done():
			why := "pg_conf_load_time() did not change"
			if lastErr != nil {
				why = fmt.Sprintf("last attempt: %v", lastErr)
			}
			logged, _, _ := c.LogSince(offset)
			return fmt.Errorf("cluster: reload of %s not processed after %v (%s): %w\nserver log since the reload:\n%s",
				c.DataDir, time.Since(begin).Round(time.Millisecond), why, wctx.Err(), lastLines(logged, startErrorLogLines))
		case <-time.After(reloadPollInterval):
		}
	}
}

// confLoadTime returns pg_conf_load_time() as seen by a new backend.
func (c *Cluster) confLoadTime(ctx context.Context) (time.Time, error) {
	conn, err := c.Connect(ctx, "", "")
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close(context.Background())
	var t time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("SELECT pg_conf_load_time() on %s: %w", c.DataDir, err)
	}
	return t, nil
}

// Remove stops the server (best effort, with a fresh context: a fast
// shutdown, then an immediate one if that fails) and deletes the cluster:
// BaseDir if New created it, else DataDir, SocketDir and LogFile. Calling it
// again is harmless.
func (c *Cluster) Remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	var errs []error
	if c.attached && !c.serverOurs {
		c.closeAudit()
		return nil // the server runs as its owner started it: leave it be
	}
	if err := c.Stop(ctx); err != nil {
		c.logf("cluster: %v; trying an immediate shutdown", err)
		if out, err := c.pgCtl(ctx, "-w", "-m", "immediate", "stop"); err != nil && c.running() {
			errs = append(errs, fmt.Errorf("cluster: could not stop the server in %s, not even with pg_ctl -m immediate: %w\n%s\nkill the postmaster (pid in %s) by hand",
				c.DataDir, err, strings.TrimSpace(out), filepath.Join(c.DataDir, "postmaster.pid")))
		}
	}
	if c.inPlace != nil && c.inPlace.madeDriver && len(errs) == 0 {
		if err := c.dropDriver(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.inPlace != nil && len(errs) == 0 {
		if err := c.removeTempDir(); err != nil {
			errs = append(errs, err)
		}
	}
	c.closeAudit()
	if c.attached && c.copy == nil {
		return errors.Join(errs...) // never the cluster's files
	}
	_, statErr := os.Stat(c.DataDir)
	if err := c.removeFiles(); err != nil {
		errs = append(errs, fmt.Errorf("cluster: %w", err))
	} else if statErr == nil {
		c.logf("cluster: removed %s", c.BaseDir)
	}
	return errors.Join(errs...)
}

// PostmasterPID returns the postmaster's process id from the first line of
// DataDir/postmaster.pid. The error wraps fs.ErrNotExist when the server is
// not running.
func (c *Cluster) PostmasterPID() (int, error) {
	path := filepath.Join(c.DataDir, "postmaster.pid")
	f, err := procs.ReadPostmasterPID(c.DataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("cluster: no %s, so the server is not running (Start it): %w", path, err)
	case err != nil:
		return 0, fmt.Errorf("cluster: read postmaster pid: %w; the file is damaged (is another program writing it?)", err)
	case f.Standalone:
		return 0, fmt.Errorf("cluster: %s names a single-user backend (pid %d), not a postmaster", path, f.PID)
	}
	return f.PID, nil
}

// pgCtl runs pg_ctl -D DataDir with args as the OS user.
func (c *Cluster) pgCtl(ctx context.Context, args ...string) (string, error) {
	return c.run(ctx, "pg_ctl", append([]string{"-D", c.DataDir}, args...)...)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free TCP port on 127.0.0.1: %w; pass Options.Port", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
