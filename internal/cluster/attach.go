package cluster

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// AttachOptions say which existing cluster to attach to.
type AttachOptions struct {
	// Of is the cluster (FindExisting).
	Of *Existing
	// BinDir as in Options.
	BinDir string
	// WorkDir is a directory this package may use (it is created if
	// needed and made traversable by the cluster's OS user): it holds the
	// private socket directory, the temporary pg_hba.conf and the log file
	// the attached server writes while this package runs it.
	WorkDir string
	// AuditSession as in Options.
	AuditSession bool
	// Logf as in Options.
	Logf func(format string, args ...any)
	// LoginRole, if set, is a role that logs in by each connection type
	// and password method (scram-sha-256, md5, password) of the cluster's
	// pg_hba.conf: the server's pg_hba.conf gets a line for it with each
	// such type and method (from 127.0.0.1 for TCP types), before the
	// cluster's own, so that a method the cluster uses only for its own
	// roles, whose passwords must not change, is exercised too.
	LoginRole string
}

// inPlaceConf is how an attached cluster's server is run.
type inPlaceConf struct {
	listen     string // listen_addresses: loopback, or '' if the cluster listens on no TCP
	hbaOffset  int    // lines before the cluster's own in the server's pg_hba.conf
	madeDriver bool   // PrepareInPlace created CopyRole, which Remove drops
	// noTempDir: base/pgsql_tmp was not there when attached (a base
	// backup's walsender makes it for the manifest), so Remove removes it
	// once empty.
	noTempDir bool
}

// Attach returns a Cluster for an existing cluster, whose files it never
// changes: the server this package starts from it gets every setting on
// its command line (pg_ctl -o "-c name=value"), which beats the
// configuration files. It reads the cluster's configuration in place (its
// SSL keys and certificates, pg_ident.conf, ...) and runs with its real
// authentication and listen settings, out of its clients' reach: on a
// private Unix socket directory under WorkDir and a free port, with
// listen_addresses mapped to loopback as a copy's (Copy), no external pid
// file, and a pg_hba.conf under WorkDir that is the cluster's own lines
// after CopyRole's trust lines (driverHBA). CopyRole, the superuser
// connections use, is made by PrepareInPlace and dropped by Remove. The
// server writes its log under WorkDir. The OS user is the owner of the
// data directory.
//
// An attached cluster's Remove only stops the server this package
// started; Running tells whether the server was running when attached.
func Attach(ctx context.Context, opts AttachOptions) (*Cluster, error) {
	e := opts.Of
	binDir, owner, logf, err := prepare(opts.BinDir, e.Owner, opts.Logf)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		BinDir: binDir, OSUser: owner.Name, acct: owner, logf: logf,
		settings: map[string]string{}, attached: true, cmdline: true, configDir: e.ConfigDir,
		superuser: CopyRole,
	}
	if err := os.MkdirAll(opts.WorkDir, 0o711); err != nil {
		return nil, fmt.Errorf("cluster: create %s: %w", opts.WorkDir, err)
	}
	c.BaseDir, _ = filepath.Abs(opts.WorkDir)
	if err := os.Chmod(c.BaseDir, 0o711); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.DataDir = e.DataDir
	if c.Port, err = freePort(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.SocketDir = filepath.Join(c.BaseDir, "socket")
	c.LogFile = filepath.Join(c.BaseDir, "server.log")
	c.hbaFile = filepath.Join(c.BaseDir, "pg_hba.conf")
	if err := os.MkdirAll(c.SocketDir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	hba, offset, err := driverHBA(e, "the cluster")
	if err != nil {
		return nil, err
	}
	if opts.LoginRole != "" {
		if hba, offset, err = mirrorLogins(hba, offset, e, opts.LoginRole); err != nil {
			return nil, err
		}
	}
	c.inPlace = &inPlaceConf{listen: loopbackFor(e.Value("listen_addresses", "localhost")), hbaOffset: offset}
	if _, err := os.Lstat(filepath.Join(c.DataDir, "base", "pgsql_tmp")); os.IsNotExist(err) {
		c.inPlace.noTempDir = true
	}
	if err := os.WriteFile(c.hbaFile, hba, 0o600); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err := os.WriteFile(c.LogFile, nil, 0o600); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	for _, p := range []string{c.SocketDir, c.hbaFile, c.LogFile} {
		if err := c.acct.Chown(p); err != nil {
			return nil, err
		}
	}
	if err := c.checkBaseDir(c.BaseDir); err != nil {
		return nil, err
	}
	c.wasRunning = c.running()
	c.started = true
	if opts.AuditSession {
		if c.audit, err = newAuditSession(); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	logf("cluster: attached to %s (data %s, private port %d, OS user %s, running %v)", e, c.DataDir, c.Port, c.OSUser, c.wasRunning)
	return c, nil
}

// mirrorLogins inserts, after the first offset lines of hba (driverHBA's
// head), a line for role with each connection type and password method of
// e's pg_hba.conf, and returns the new offset of e's lines.
func mirrorLogins(hba []byte, offset int, e *Existing, role string) ([]byte, int, error) {
	lines, err := pgconf.ReadHBA(e.HBAFile)
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: %w", err)
	}
	var mirror []string
	for _, l := range lines {
		switch l.Method {
		case "scram-sha-256", "md5", "password":
		default:
			continue
		}
		line := fmt.Sprintf("%s all %s 127.0.0.1/32 %s", l.Type, role, l.Method)
		if l.Type == "local" {
			line = fmt.Sprintf("local all %s %s", role, l.Method)
		}
		if !slices.Contains(mirror, line) {
			mirror = append(mirror, line)
		}
	}
	if len(mirror) == 0 {
		return hba, offset, nil
	}
	head := strings.SplitAfterN(string(hba), "\n", offset+1)
	block := fmt.Sprintf("# pgseccomp: %s logs in by each type and password method of %s:\n%s\n", role, e.HBAFile, strings.Join(mirror, "\n"))
	out := strings.Join(head[:offset], "") + block + head[offset]
	return []byte(out), offset + strings.Count(block, "\n"), nil
}

// PrepareInPlace, once the cluster's own server is stopped, starts the
// server once (bootstrap) to make CopyRole, which the server's pg_hba.conf
// lets in with trust over the private socket; Remove drops it again.
func (c *Cluster) PrepareInPlace(ctx context.Context) error {
	if c.inPlace == nil {
		return fmt.Errorf("cluster: %s is not a cluster attached in place", c.DataDir)
	}
	if c.running() {
		return fmt.Errorf("cluster: the server of %s runs: stop it before PrepareInPlace", c.DataDir)
	}
	return c.bootstrap(ctx, map[string]string{}, func(conn *pgx.Conn) error {
		made, err := createDriver(ctx, conn)
		if err != nil {
			return fmt.Errorf("cluster: %s: %w", c.DataDir, err)
		}
		c.inPlace.madeDriver = made
		if made {
			c.logf("cluster: created role %s in %s for the recording (dropped at the end)", CopyRole, c.DataDir)
		}
		return nil
	})
}

// removeTempDir removes base/pgsql_tmp if the recording made it and the
// server left it empty (it removes temporary files, not the directory).
func (c *Cluster) removeTempDir() error {
	if !c.inPlace.noTempDir {
		return nil
	}
	dir := filepath.Join(c.DataDir, "base", "pgsql_tmp")
	if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("cluster: remove %s, made during the recording: %w", dir, err)
	}
	return nil
}

// dropDriver drops the CopyRole PrepareInPlace made, with the server
// started once more (bootstrap); the server must be stopped.
func (c *Cluster) dropDriver(ctx context.Context) error {
	err := c.bootstrap(ctx, map[string]string{}, func(conn *pgx.Conn) error {
		// What a workload made as CopyRole stays, as the OS user's.
		for _, sql := range []string{"REASSIGN OWNED BY " + CopyRole + " TO " + pgx.Identifier{c.OSUser}.Sanitize(),
			"DROP OWNED BY " + CopyRole, "DROP ROLE " + CopyRole} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cluster: drop role %s, made for the recording, from %s: %w; drop it by hand (DROP OWNED BY %s; DROP ROLE %s)",
			CopyRole, c.DataDir, err, CopyRole, CopyRole)
	}
	c.inPlace.madeDriver = false
	c.logf("cluster: dropped role %s from %s", CopyRole, c.DataDir)
	return nil
}

// Attached reports whether c is an existing cluster (Attach), and whether
// its server was running when attached.
func (c *Cluster) Attached() (attached, wasRunning bool) { return c.attached, c.wasRunning }

// StartAsConfigured starts an attached cluster's server as its own
// configuration says, with its log written to logFile: how a recording
// that stopped a running server gives it back.
func (c *Cluster) StartAsConfigured(ctx context.Context, logFile string) error {
	out, err := c.run(ctx, "pg_ctl", "-D", c.configDir, "-w", "-t", strconv.Itoa(startTimeoutSeconds), "-l", logFile, "start")
	if err != nil {
		return fmt.Errorf("cluster: start the server at %s again as configured: %w\n%s", c.configDir, err, strings.TrimSpace(out))
	}
	return nil
}

// attachedStartArgs are pg_ctl's arguments to start an attached cluster
// with the managed settings on the server's command line.
func (c *Cluster) attachedStartArgs() []string {
	c.mu.Lock()
	settings := maps.Clone(c.settings)
	c.mu.Unlock()
	dir := c.configDir
	if c.copy != nil {
		c.copyStartSettings(settings)
		dir = c.DataDir
	} else {
		settings["listen_addresses"] = QuoteValue(c.inPlace.listen)
		settings["port"] = strconv.Itoa(c.Port)
		settings["unix_socket_directories"] = QuoteValue(c.SocketDir)
		settings["hba_file"] = QuoteValue(c.hbaFile)
		settings["external_pid_file"] = "''"
	}
	var opts []string
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		opts = append(opts, "-c", shellQuote(name+"="+pgconf.Unquote(settings[name])))
	}
	return []string{"-D", dir, "-w", "-t", strconv.Itoa(startTimeoutSeconds), "-l", c.LogFile,
		"-o", strings.Join(opts, " "), "start"}
}

// shellQuote quotes s for /bin/sh, which pg_ctl runs the server with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
