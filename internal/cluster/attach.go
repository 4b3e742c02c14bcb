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
}

// Attach returns a Cluster for an existing cluster, whose files it never
// changes: the server this package starts from it gets every setting on
// its command line (pg_ctl -o "-c name=value"), which beats the
// configuration files. It listens only on a private Unix socket directory
// under WorkDir (listen_addresses = ”, so no client of the real server
// can reach it meanwhile) with trust authentication from a temporary
// pg_hba.conf (hba_file), and writes its log under WorkDir. The OS user is
// the owner of the data directory.
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
	}
	if err := os.MkdirAll(opts.WorkDir, 0o711); err != nil {
		return nil, fmt.Errorf("cluster: create %s: %w", opts.WorkDir, err)
	}
	c.BaseDir, _ = filepath.Abs(opts.WorkDir)
	if err := os.Chmod(c.BaseDir, 0o711); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.DataDir, c.Port = e.DataDir, e.Port
	c.SocketDir = filepath.Join(c.BaseDir, "socket")
	c.LogFile = filepath.Join(c.BaseDir, "server.log")
	c.hbaFile = filepath.Join(c.BaseDir, "pg_hba.conf")
	if err := os.MkdirAll(c.SocketDir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	const hba = "# pgseccomp: the private socket of a server being recorded\nlocal all all trust\nlocal replication all trust\n"
	if err := os.WriteFile(c.hbaFile, []byte(hba), 0o600); err != nil {
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
	logf("cluster: attached to %s (data %s, port %d, OS user %s, running %v)", e, c.DataDir, c.Port, c.OSUser, c.wasRunning)
	return c, nil
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
		settings["listen_addresses"] = "''"
		settings["unix_socket_directories"] = QuoteValue(c.SocketDir)
		settings["hba_file"] = QuoteValue(c.hbaFile)
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
