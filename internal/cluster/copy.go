package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CopyRole is the superuser a copy, or a cluster recorded in place, is
// driven with: the server's pg_hba.conf lets it in over the private
// socket with trust, before the cluster's own lines, which stay as they
// are for every other role (driverHBA). In place, it exists only while the
// recording runs (Attach).
const CopyRole = "pgseccomp_record"

// CopyOptions say which cluster to copy and how to run the copy.
type CopyOptions struct {
	Of           *Existing
	BinDir       string
	AuditSession bool
	Logf         func(format string, args ...any)
}

// copyConf is what a copy's server reads of the original's configuration.
type copyConf struct {
	of        *Existing
	config    string // config_file: the original's, read in place (never written)
	identFile string // the copy's pg_ident.conf
	listen    string // listen_addresses: loopback, or '' if the original listens on no TCP
	hbaOffset int    // lines before the original's in the copy's pg_hba.conf
}

// Copy makes a physical copy of an existing cluster in a temporary
// directory and returns it as a stopped Cluster whose Remove deletes it.
// A running server is copied online with pg_basebackup (through a
// walsender, over its Unix socket as its OS user, so peer authentication
// for replication must be allowed there, as Debian's pg_hba.conf does; the
// temporary slot it uses is dropped at the end), a stopped one with a file
// copy. Nothing is created in the original.
//
// The copy's server reads the original's configuration files in place
// (postgresql.conf, conf.d and includes, SSL keys and certificates; it
// writes none of them) with these settings on its command line: its own
// data directory, port and private socket directory, listen_addresses on
// 127.0.0.1 (if the original listens on TCP at all), no external pid
// file, and copies of pg_hba.conf (CopyRole's trust lines first, then the
// original's) and pg_ident.conf in BaseDir/conf. Its enabled subscriptions
// are disabled, in the copy, before anything else runs, so that it never
// consumes a publisher's changes; its tablespaces (and a linked pg_wal)
// are under BaseDir; a copy of a standby runs as a primary.
func Copy(ctx context.Context, opts CopyOptions) (c *Cluster, err error) {
	e := opts.Of
	binDir, acct, logf, err := prepare(opts.BinDir, e.Owner, opts.Logf)
	if err != nil {
		return nil, err
	}
	c = &Cluster{BinDir: binDir, OSUser: acct.Name, acct: acct, logf: logf, settings: map[string]string{},
		cmdline: true, superuser: CopyRole}
	if c.Port, err = freePort(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.autoPort = true
	if err := c.makeDirs(""); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	defer func() {
		if err != nil {
			c.removeFiles()
			c.closeAudit()
		}
	}()
	if err := os.Chmod(c.BaseDir, 0o711); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	conf := &copyConf{of: e, config: e.ConfigFile, listen: loopbackFor(e.Value("listen_addresses", "localhost"))}
	if e.ConfigDir == e.DataDir { // initdb's layout: the copy has its own
		conf.config = filepath.Join(c.DataDir, "postgresql.conf")
	}
	c.copy = conf

	begin := time.Now()
	if _, running := e.Running(); running {
		// pg_basebackup wants an empty or missing directory it can create.
		if err := os.Remove(c.DataDir); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		// No manifest: the walsender would build it in a temporary file
		// (base/pgsql_tmp) of the original.
		args := []string{"-D", c.DataDir, "-X", "stream", "-c", "fast", "--no-manifest",
			"-h", e.SocketDir(), "-p", strconv.Itoa(e.Port), "-U", e.Owner, "-d", "dbname=postgres"}
		// Tablespaces go under BaseDir, never where the original's are.
		tablespaces, err := os.ReadDir(filepath.Join(e.DataDir, "pg_tblspc"))
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		for _, t := range tablespaces {
			target, err := os.Readlink(filepath.Join(e.DataDir, "pg_tblspc", t.Name()))
			if err != nil {
				return nil, fmt.Errorf("cluster: tablespace %s of %s: %w", t.Name(), e, err)
			}
			args = append(args, "-T", strings.ReplaceAll(target, "=", `\=`)+"="+filepath.Join(c.BaseDir, "tblspc", t.Name()))
		}
		out, err := c.run(ctx, "pg_basebackup", args...)
		if err != nil {
			return nil, fmt.Errorf("cluster: copy %s with pg_basebackup (a replication connection over %s as %s, peer authentication): %w\n%s\n"+
				"allow it in %s (Debian's line: local replication all peer), or stop the server to copy its files",
				e, e.SocketDir(), e.Owner, err, strings.TrimSpace(out), e.HBAFile)
		}
		logf("cluster: copied the running %s with pg_basebackup in %v", e, time.Since(begin).Round(time.Millisecond))
	} else {
		if err := os.Remove(c.DataDir); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		if out, err := exec.CommandContext(ctx, "cp", "-a", e.DataDir, c.DataDir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("cluster: copy the files of the stopped %s: %w\n%s", e, err, out)
		}
		for _, stale := range []string{"postmaster.pid", "postmaster.opts"} {
			os.Remove(filepath.Join(c.DataDir, stale))
		}
		if err := c.unlinkCopy(ctx); err != nil {
			return nil, err
		}
		logf("cluster: copied the files of the stopped %s in %v", e, time.Since(begin).Round(time.Millisecond))
	}
	// A copy of a standby must not follow its primary (and use its slot)
	// as the standby does: it runs as a primary.
	for _, signal := range []string{"standby.signal", "recovery.signal"} {
		if err := os.Remove(filepath.Join(c.DataDir, signal)); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	if err := c.writeCopyAuth(); err != nil {
		return nil, err
	}
	if opts.AuditSession {
		if c.audit, err = newAuditSession(); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	if err := c.prepareCopy(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// unlinkCopy replaces the symbolic links a file copy of a data directory
// kept (pg_wal on another disk, pg_tblspc's tablespaces), which lead into
// the original's files, with copies of what they point to, under BaseDir.
func (c *Cluster) unlinkCopy(ctx context.Context) error {
	links := []string{filepath.Join(c.DataDir, "pg_wal")}
	tablespaces, err := os.ReadDir(filepath.Join(c.DataDir, "pg_tblspc"))
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("cluster: %w", err)
	}
	for _, t := range tablespaces {
		links = append(links, filepath.Join(c.DataDir, "pg_tblspc", t.Name()))
	}
	dir := filepath.Join(c.BaseDir, "linked")
	for i, link := range links {
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			return fmt.Errorf("cluster: %s: %w", link, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		if err := c.acct.Chown(dir); err != nil {
			return err
		}
		dst := filepath.Join(dir, strconv.Itoa(i))
		if out, err := exec.CommandContext(ctx, "cp", "-a", target, dst).CombinedOutput(); err != nil {
			return fmt.Errorf("cluster: copy %s (linked from %s): %w\n%s", target, link, err, out)
		}
		if err := os.Remove(link); err == nil {
			err = os.Symlink(dst, link)
		}
		if err != nil {
			return fmt.Errorf("cluster: point %s at the copy: %w", link, err)
		}
	}
	return nil
}

// writeCopyAuth writes the copy's pg_hba.conf and pg_ident.conf.
func (c *Cluster) writeCopyAuth() error {
	e := c.copy.of
	dir := filepath.Join(c.BaseDir, "conf")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	hba, offset, err := driverHBA(e, "a copy of")
	if err != nil {
		return err
	}
	ident, err := os.ReadFile(e.IdentFile)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("cluster: read %s: %w", e.IdentFile, err)
	}
	c.hbaFile = filepath.Join(dir, "pg_hba.conf")
	c.copy.identFile = filepath.Join(dir, "pg_ident.conf")
	c.copy.hbaOffset = offset
	for path, data := range map[string][]byte{c.hbaFile: hba, c.copy.identFile: ident} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
	}
	for _, p := range []string{dir, c.hbaFile, c.copy.identFile} {
		if err := c.acct.Chown(p); err != nil {
			return err
		}
	}
	return nil
}

// driverHBA is the pg_hba.conf of a server pgseccomp drives (what names
// it in the head's comment, e.g. "a copy of"): CopyRole's trust lines on
// the private socket, then e's own lines as they are. offset is the number
// of lines before e's.
func driverHBA(e *Existing, what string) (data []byte, offset int, err error) {
	hba, err := os.ReadFile(e.HBAFile)
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: read %s: %w", e.HBAFile, err)
	}
	head := fmt.Sprintf("# pgseccomp: %s %s being recorded; %s drives it over the private socket.\n"+
		"local all %s trust\nlocal replication %s trust\n# %s:\n", what, e, CopyRole, CopyRole, CopyRole, e.HBAFile)
	return append([]byte(head), hba...), strings.Count(head, "\n"), nil
}

// bootstrap starts the server once with a private trust-only pg_hba.conf
// (and settings besides the managed ones), runs f connected as the OS
// user over the private socket, and stops it.
func (c *Cluster) bootstrap(ctx context.Context, settings map[string]string, f func(conn *pgx.Conn) error) (err error) {
	hba := c.hbaFile
	boot := filepath.Join(c.BaseDir, "pg_hba.bootstrap.conf")
	if err := os.WriteFile(boot, []byte("local all all trust\n"), 0o600); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if err := c.acct.Chown(boot); err != nil {
		return err
	}
	c.hbaFile = boot
	c.settings = settings
	defer func() {
		c.hbaFile, c.settings = hba, map[string]string{}
		os.Remove(boot)
	}()
	if err := c.Start(ctx); err != nil {
		return err
	}
	defer func() {
		if serr := c.Stop(ctx); err == nil {
			err = serr
		}
	}()
	conn, err := pgx.Connect(ctx, c.connString(c.SocketDir, c.OSUser, "postgres"))
	if err != nil {
		return fmt.Errorf("cluster: connect to the server in %s over its private socket: %w", c.DataDir, err)
	}
	defer conn.Close(context.Background())
	return f(conn)
}

// createDriver makes CopyRole, unless it exists; created says whether it
// did.
func createDriver(ctx context.Context, conn *pgx.Conn) (created bool, err error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", CopyRole).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	if _, err := conn.Exec(ctx, "CREATE ROLE "+CopyRole+" SUPERUSER LOGIN"); err != nil {
		return false, fmt.Errorf("create role %s: %w", CopyRole, err)
	}
	return true, nil
}

// prepareCopy starts the copy once (bootstrap) with no logical
// replication workers, makes CopyRole and disables the copy's
// subscriptions.
func (c *Cluster) prepareCopy(ctx context.Context) error {
	return c.bootstrap(ctx, map[string]string{"max_logical_replication_workers": "0"}, func(conn *pgx.Conn) error {
		return c.prepareCopyConn(ctx, conn)
	})
}

func (c *Cluster) prepareCopyConn(ctx context.Context, conn *pgx.Conn) error {
	if _, err := createDriver(ctx, conn); err != nil {
		return fmt.Errorf("cluster: the copy of %s: %w", c.copy.of, err)
	}
	rows, err := conn.Query(ctx, "SELECT DISTINCT d.datname FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid WHERE s.subenabled")
	if err != nil {
		return fmt.Errorf("cluster: the copy of %s: list its subscriptions: %w", c.copy.of, err)
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("cluster: the copy of %s: list its subscriptions: %w", c.copy.of, err)
	}
	for _, db := range dbs {
		if err := c.disableSubscriptions(ctx, db); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) disableSubscriptions(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.connString(c.SocketDir, c.OSUser, db))
	if err != nil {
		return fmt.Errorf("cluster: connect to database %q of the copy: %w", db, err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT quote_ident(subname) FROM pg_subscription WHERE subenabled AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())")
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "ALTER SUBSCRIPTION "+n+" DISABLE"); err != nil {
			return fmt.Errorf("cluster: disable subscription %s in the copy: %w", n, err)
		}
		c.logf("cluster: disabled subscription %s in database %q of the copy, so that it consumes nothing from its publisher", n, db)
	}
	return nil
}

// IsCopy reports whether c is a copy made by Copy, and of what.
func (c *Cluster) IsCopy() (*Existing, bool) {
	if c.copy == nil {
		return nil, false
	}
	return c.copy.of, true
}

// copyStartSettings are the settings a copy's server gets on its command
// line besides the managed ones.
func (c *Cluster) copyStartSettings(settings map[string]string) {
	settings["config_file"] = QuoteValue(c.copy.config)
	settings["data_directory"] = QuoteValue(c.DataDir)
	settings["hba_file"] = QuoteValue(c.hbaFile)
	settings["ident_file"] = QuoteValue(c.copy.identFile)
	settings["port"] = strconv.Itoa(c.Port)
	settings["listen_addresses"] = QuoteValue(c.copy.listen)
	settings["unix_socket_directories"] = QuoteValue(c.SocketDir)
	settings["external_pid_file"] = "''"
}

// OriginalHBALine is the line of the original's pg_hba.conf that line n of
// the server's pg_hba.conf is (driverHBA's lines come first in a copy and
// in place).
func (c *Cluster) OriginalHBALine(n int) int {
	switch {
	case c.copy != nil:
		return n - c.copy.hbaOffset
	case c.inPlace != nil:
		return n - c.inPlace.hbaOffset
	}
	return n
}

// loopbackFor maps the original's listen_addresses to the loopback
// interface, the same way: a list that names a host (localhost, or any
// name) becomes "localhost", so that the postmaster resolves a name as
// the original does (glibc's resolver asks uname() for the host name);
// addresses and "*" become 127.0.0.1; an empty list stays empty.
func loopbackFor(listen string) string {
	listen = strings.TrimSpace(listen)
	if listen == "" {
		return ""
	}
	for _, a := range strings.Split(listen, ",") {
		a = strings.TrimSpace(a)
		if a != "*" && net.ParseIP(a) == nil {
			return "localhost"
		}
	}
	return "127.0.0.1"
}
