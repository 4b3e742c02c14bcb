package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// Existing is a cluster installed on this machine (not a throwaway one),
// found the way its owner names it: postgresql-common's "15/main", or a
// directory that is either its data directory or its configuration
// directory. Its files are only read here.
type Existing struct {
	// Version and Name are postgresql-common's names for the cluster
	// (pg_lsclusters' Ver and Cluster); both "" when postgresql-common
	// does not manage it.
	Version, Name string
	ConfigDir     string // the directory of ConfigFile
	ConfigFile    string // postgresql.conf
	DataDir       string // data_directory
	HBAFile       string // hba_file
	IdentFile     string // ident_file
	Port          int
	Owner         string       // the OS user that owns the data directory
	Conf          *pgconf.File // the configuration as the postmaster reads it
}

// ConfRoot is postgresql-common's configuration root: $PG_CLUSTER_CONF_ROOT,
// as pg_lsclusters and pg_ctlcluster read it, else /etc/postgresql.
func ConfRoot() string {
	if r := os.Getenv("PG_CLUSTER_CONF_ROOT"); r != "" {
		return r
	}
	return "/etc/postgresql"
}

// FindExisting returns the cluster that name (postgresql-common's
// "VERSION/NAME", as pg_lsclusters shows it; "VERSION-NAME" as systemd
// units spell it) or dir (its data directory or its configuration
// directory, whichever the caller has) names. Exactly one must be given.
func FindExisting(name, dir string) (*Existing, error) {
	switch {
	case name != "" && dir != "":
		return nil, errors.New("--cluster and --pgdata name the same thing: give one of them")
	case name != "":
		ver, cname, err := ParseClusterName(name)
		if err != nil {
			return nil, err
		}
		confDir := filepath.Join(ConfRoot(), ver, cname)
		if _, err := os.Stat(filepath.Join(confDir, "postgresql.conf")); err != nil {
			return nil, fmt.Errorf("cluster %s: %s does not exist (%v); pg_lsclusters lists the clusters postgresql-common knows", name, filepath.Join(confDir, "postgresql.conf"), pgconf.UnwrapPathError(err))
		}
		return fromConfigDir(confDir)
	case dir == "":
		return nil, errors.New("no cluster given: use --cluster VERSION/NAME (as pg_lsclusters shows it) or --pgdata DIR")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("--pgdata %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("--pgdata %s: %v; give the cluster's data directory or its configuration directory", abs, pgconf.UnwrapPathError(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--pgdata %s is not a directory; give the cluster's data directory or its configuration directory (the one with postgresql.conf)", abs)
	}
	if _, err := os.Stat(filepath.Join(abs, "postgresql.conf")); err == nil {
		return fromConfigDir(abs)
	}
	// A data directory whose configuration lives elsewhere (Debian).
	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); err != nil {
		return nil, fmt.Errorf("--pgdata %s has neither postgresql.conf nor PG_VERSION: it is not a cluster's data or configuration directory", abs)
	}
	if confFile := configFileOf(abs); confFile != "" {
		return fromConfigDir(filepath.Dir(confFile))
	}
	return nil, fmt.Errorf("--pgdata %s is a data directory without postgresql.conf, and no configuration directory under %s names it as data_directory (and its postmaster.opts names no config_file): give the configuration directory instead", abs, ConfRoot())
}

// ParseClusterName splits "15/main" (or "15-main") into version and name.
func ParseClusterName(s string) (version, name string, err error) {
	version, name, ok := strings.Cut(s, "/")
	if !ok {
		version, name, ok = strings.Cut(s, "-")
	}
	if !ok || version == "" || name == "" || strings.ContainsAny(name, "/") || strings.Trim(version, "0123456789.") != "" || name == "." || name == ".." {
		return "", "", fmt.Errorf("--cluster %q: give VERSION/NAME as pg_lsclusters shows it, for example 15/main", s)
	}
	return version, name, nil
}

// configFileOf finds the configuration file of a data directory that has
// none in it: the config_file the running (or last) server was started
// with (postmaster.opts, which pg_ctlcluster's command line fills), else
// the postgresql.conf under ConfRoot whose data_directory is dataDir.
func configFileOf(dataDir string) string {
	if opts, err := os.ReadFile(filepath.Join(dataDir, "postmaster.opts")); err == nil {
		for _, f := range strings.Fields(string(opts)) {
			f = strings.Trim(f, `"`)
			if v, ok := strings.CutPrefix(f, "config_file="); ok {
				if _, err := os.Stat(v); err == nil {
					return v
				}
			}
		}
	}
	want, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return ""
	}
	confs, _ := filepath.Glob(filepath.Join(ConfRoot(), "*", "*", "postgresql.conf"))
	for _, c := range confs {
		e, err := fromConfigDir(filepath.Dir(c))
		if err != nil {
			continue
		}
		if got, err := filepath.EvalSymlinks(e.DataDir); err == nil && got == want {
			return c
		}
	}
	return ""
}

// fromConfigDir reads the cluster whose postgresql.conf is in dir.
func fromConfigDir(dir string) (*Existing, error) {
	e := &Existing{ConfigDir: dir, ConfigFile: filepath.Join(dir, "postgresql.conf")}
	if rel, err := filepath.Rel(ConfRoot(), dir); err == nil {
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) == 2 && parts[0] != ".." {
			e.Version, e.Name = parts[0], parts[1]
		}
	}
	// data_directory first: postgresql.auto.conf is in it.
	head, err := pgconf.LoadOptions(e.ConfigFile, pgconf.Options{NoAutoConf: true})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.ConfigFile, err)
	}
	e.DataDir = dir
	if s, ok := head.Lookup("data_directory"); ok && s.Value != "" {
		e.DataDir = absoluteTo(s.Value, s.File)
	} else if link, err := filepath.EvalSymlinks(filepath.Join(dir, "pgdata")); err == nil && e.Version != "" {
		e.DataDir = link // postgresql-common's fallback, as pg_lsclusters reads it
	}
	if e.Conf, err = pgconf.LoadOptions(e.ConfigFile, pgconf.Options{DataDir: e.DataDir}); err != nil {
		return nil, fmt.Errorf("read the configuration of %s: %w", e.ConfigFile, err)
	}
	// The owner of the data directory; a configuration checked without
	// its data (a copy under review) is its file's owner's.
	fi, err := os.Stat(filepath.Join(e.DataDir, "PG_VERSION"))
	if err != nil {
		fi, err = os.Stat(e.ConfigFile)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.ConfigFile, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("cannot tell the owner of %s", e.DataDir)
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(st.Uid), 10))
	if err != nil {
		return nil, fmt.Errorf("look up the owner (uid %d) of %s: %w", st.Uid, e.DataDir, err)
	}
	e.Owner = u.Username
	e.HBAFile = e.setting("hba_file", filepath.Join(dir, "pg_hba.conf"))
	e.IdentFile = e.setting("ident_file", filepath.Join(dir, "pg_ident.conf"))
	port := e.Value("port", "5432")
	if e.Port, err = strconv.Atoi(port); err != nil || e.Port <= 0 || e.Port > 65535 {
		return nil, fmt.Errorf("%s: port %q is not a TCP port", e.ConfigFile, port)
	}
	return e, nil
}

// setting is a path setting, absolute, or def when not set.
func (e *Existing) setting(name, def string) string {
	if s, ok := e.Conf.Lookup(name); ok && s.Value != "" {
		return absoluteTo(s.Value, s.File)
	}
	return def
}

// Value is the value in force of a setting in the configuration files,
// or def when none sets it.
func (e *Existing) Value(name, def string) string {
	if s, ok := e.Conf.Lookup(name); ok {
		return s.Value
	}
	return def
}

// absoluteTo makes a relative path in a configuration file absolute, as
// pgconf takes include paths: relative to the file's directory.
func absoluteTo(path, file string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(filepath.Dir(file), path)
}

// String names the cluster as its owner does.
func (e *Existing) String() string {
	if e.Version != "" {
		return e.Version + "/" + e.Name
	}
	return e.DataDir
}

// Manager says what starts and stops the cluster: "systemd" (postgresql@
// units of postgresql-common, on a host that runs systemd),
// "pg_ctlcluster" (postgresql-common without systemd), or "pg_ctl".
func (e *Existing) Manager() string {
	switch {
	case e.Version == "":
		return "pg_ctl"
	case systemdRuns() && unitExists("postgresql@.service"):
		return "systemd"
	default:
		return "pg_ctlcluster"
	}
}

// RestartCommand is the command that restarts the server the way it is
// managed, for messages.
func (e *Existing) RestartCommand() string { return e.CommandLine("restart") }

// CommandLine is the command that runs pg_ctl's action (start, stop,
// restart, status) the way the server is managed, for messages.
func (e *Existing) CommandLine(action string) string {
	switch e.Manager() {
	case "systemd":
		return "systemctl " + action + " postgresql@" + e.Version + "-" + e.Name
	case "pg_ctlcluster":
		return "pg_ctlcluster " + e.Version + " " + e.Name + " " + action
	}
	return "sudo -u " + e.Owner + " pg_ctl -D " + shellQuote(e.ConfigDir) + " " + action
}

// Running returns the postmaster's pid when the server runs.
func (e *Existing) Running() (int, bool) {
	f, err := procs.ReadPostmasterPID(e.DataDir)
	if err != nil || f.Standalone {
		return 0, false
	}
	if err := syscall.Kill(f.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, false
	}
	return f.PID, true
}

// SocketDir is the first of the cluster's unix_socket_directories
// (Debian's default, /var/run/postgresql, when not set), or "" when it
// listens on no Unix socket.
func (e *Existing) SocketDir() string {
	v := e.Value("unix_socket_directories", "/var/run/postgresql")
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// Where Manager looks (variables so that a test can point them at a
// directory of its own on a machine without systemd): systemdRunDir is
// what sd_booted() checks, unitDirs where postgresql-common installs its
// postgresql@.service template.
var (
	systemdRunDir = "/run/systemd/system"
	unitDirs      = []string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}
)

func systemdRuns() bool {
	fi, err := os.Stat(systemdRunDir)
	return err == nil && fi.IsDir()
}

func unitExists(unit string) bool {
	for _, d := range unitDirs {
		if _, err := os.Stat(filepath.Join(d, unit)); err == nil {
			return true
		}
	}
	return false
}

// ControlCommand is the command that runs pg_ctl's action (start, stop,
// restart, reload) on the server the way it is managed; mode, when not
// "", is the shutdown mode (fast, immediate). Run it as root: pg_ctlcluster
// switches to the owner itself, pg_ctl is run as the owner.
func (e *Existing) ControlCommand(ctx context.Context, action, mode string) *exec.Cmd {
	switch e.Manager() {
	case "systemd":
		if mode == "" || mode == "fast" {
			return exec.CommandContext(ctx, "systemctl", action, "postgresql@"+e.Version+"-"+e.Name)
		}
		fallthrough // systemd has no shutdown modes; pg_ctlcluster tells it
	case "pg_ctlcluster":
		args := []string{e.Version, e.Name, action}
		if mode != "" {
			args = append(args, "-m", mode)
		}
		return exec.CommandContext(ctx, "pg_ctlcluster", args...)
	}
	pgCtl := "pg_ctl"
	if bin, err := FindBinDir(""); err == nil {
		pgCtl = filepath.Join(bin, "pg_ctl")
	}
	args := []string{"-u", e.Owner, "--", pgCtl, "-D", e.ConfigDir, "-w", action}
	if mode != "" {
		args = append(args, "-m", mode)
	}
	return exec.CommandContext(ctx, "runuser", args...)
}

// Major is the PostgreSQL major of the cluster's data directory, from its
// PG_VERSION file (what the server of that major checks at start).
func (e *Existing) Major() (int, error) {
	data, err := os.ReadFile(filepath.Join(e.DataDir, "PG_VERSION"))
	if err != nil {
		return 0, fmt.Errorf("read the cluster's major: %w", err)
	}
	m, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || m <= 0 {
		return 0, fmt.Errorf("%s: %q is not a PostgreSQL major", filepath.Join(e.DataDir, "PG_VERSION"), strings.TrimSpace(string(data)))
	}
	return m, nil
}
