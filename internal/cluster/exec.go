package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoInitdb is wrapped by the error of FindBinDir (and so of New) when no
// PostgreSQL server binaries are found. Tests skip on it.
var ErrNoInitdb = errors.New("no PostgreSQL initdb found")

// fallbackBinDir is where Debian's postgresql-15 package installs the server.
const fallbackBinDir = "/usr/lib/postgresql/15/bin"

// FindBinDir returns the PostgreSQL bin directory New would use for
// Options.BinDir = binDir: binDir itself if not empty, else the output of
// `$PG_CONFIG --bindir` (PG_CONFIG defaults to "pg_config"), else
// /usr/lib/postgresql/15/bin. The directory must contain initdb and pg_ctl;
// if not, the error wraps ErrNoInitdb.
func FindBinDir(binDir string) (string, error) {
	if binDir != "" {
		if err := checkBinDir(binDir); err != nil {
			return "", fmt.Errorf("bin directory %s (Options.BinDir): %w; point it at the directory with initdb, pg_ctl and postgres (see pg_config --bindir), or leave it empty", binDir, err)
		}
		return binDir, nil
	}
	pgConfig := os.Getenv("PG_CONFIG")
	if pgConfig == "" {
		pgConfig = "pg_config"
	}
	var tried []string
	if out, err := exec.Command(pgConfig, "--bindir").Output(); err != nil {
		tried = append(tried, fmt.Sprintf("%s --bindir: %v", pgConfig, err))
	} else {
		dir := strings.TrimSpace(string(out))
		if err := checkBinDir(dir); err != nil {
			tried = append(tried, fmt.Sprintf("%s --bindir: %v", pgConfig, err))
		} else {
			return dir, nil
		}
	}
	if err := checkBinDir(fallbackBinDir); err != nil {
		tried = append(tried, err.Error())
	} else {
		return fallbackBinDir, nil
	}
	return "", fmt.Errorf("%w (%s); install the PostgreSQL server (e.g. apt-get install postgresql-15), or set PG_CONFIG or Options.BinDir",
		ErrNoInitdb, strings.Join(tried, "; "))
}

// checkBinDir checks that dir holds the programs a cluster needs.
func checkBinDir(dir string) error {
	for _, prog := range []string{"initdb", "pg_ctl", "postgres"} {
		p := filepath.Join(dir, prog)
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNoInitdb, err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%w: %s is not an executable file", ErrNoInitdb, p)
		}
	}
	return nil
}

// account is the OS user that runs initdb, pg_ctl and the server.
type account struct {
	name       string
	uid, gid   uint32
	groups     []uint32
	home       string
	switchUser bool // differs from this process's user: needs a credential switch
}

// lookupAccount resolves Options.OSUser.
func lookupAccount(name string) (account, error) {
	self := os.Getuid()
	var u *user.User
	var err error
	switch {
	case name != "":
		u, err = user.Lookup(name)
	case self == 0:
		name = "postgres"
		u, err = user.Lookup(name)
	default:
		u, err = user.LookupId(strconv.Itoa(self))
	}
	if err != nil {
		return account{}, fmt.Errorf("look up OS user %q to run PostgreSQL as: %w; create it (e.g. useradd --system postgres) or set Options.OSUser", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return account{}, fmt.Errorf("OS user %q has a non-numeric uid or gid: %w", u.Username, err)
	}
	if uid == 0 {
		return account{}, fmt.Errorf("cannot run PostgreSQL as OS user %q: it has uid 0, and PostgreSQL refuses to run as root; set Options.OSUser to an unprivileged user such as postgres", u.Username)
	}
	a := account{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
	if int(a.uid) == self {
		return a, nil
	}
	if self != 0 {
		return account{}, fmt.Errorf("cannot run PostgreSQL as OS user %q: this process runs as uid %d, and only root can switch users; leave Options.OSUser empty to use the current user", u.Username, self)
	}
	a.switchUser = true
	gids, err := u.GroupIds()
	if err != nil {
		return account{}, fmt.Errorf("look up the groups of OS user %q: %w", u.Username, err)
	}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return account{}, fmt.Errorf("OS user %q is in group %q, which is not numeric: %w", u.Username, g, err)
		}
		a.groups = append(a.groups, uint32(n))
	}
	return a, nil
}

// chown gives path to the account, if this process is someone else.
func (a account) chown(path string) error {
	if !a.switchUser {
		return nil
	}
	if err := os.Lchown(path, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("give %s to OS user %q: %w", path, a.name, err)
	}
	return nil
}

// Chown gives path to the cluster's OS user (when that is another user than
// this process's), e.g. a directory for a tablespace.
func (c *Cluster) Chown(path string) error {
	return c.acct.chown(path)
}

// checkTraverse checks, from the permission bits, that the account can reach
// dir: it needs search (x) permission on dir and every directory above it.
func (a account) checkTraverse(dir string) error {
	if !a.switchUser {
		return nil // our own process created or was given it
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check that OS user %q can reach %s: %w", a.name, dir, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil // cannot tell; let initdb report it
		}
		perm := fi.Mode().Perm()
		var can bool
		switch {
		case st.Uid == a.uid:
			can = perm&0o100 != 0
		case st.Gid == a.gid || slices.Contains(a.groups, st.Gid):
			can = perm&0o010 != 0
		default:
			can = perm&0o001 != 0
		}
		if !can {
			return fmt.Errorf("OS user %q cannot reach %s: %s is mode %v, owner uid %d, group gid %d; "+
				"choose an Options.BaseDir under a directory that user can search (or leave it empty to use %s), or chmod o+x %s",
				a.name, dir, p, perm, st.Uid, st.Gid, os.TempDir(), p)
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}

// Env returns the environment for running clients (psql, pgbench, workloads)
// against the cluster: this process's environment without its libpq
// variables (PG followed by a capital letter, e.g. PGPASSWORD, PGOPTIONS),
// plus PGHOST=SocketDir, PGPORT, PGUSER=Superuser(), PGDATABASE=postgres,
// PGSSLMODE=disable, and PATH with BinDir first. Assign it to exec.Cmd.Env.
func (c *Cluster) Env() []string {
	path := "/usr/local/bin:/usr/bin:/bin"
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH":
			path = v
		case len(k) > 2 && strings.HasPrefix(k, "PG") && k[2] >= 'A' && k[2] <= 'Z':
		default:
			env = append(env, kv)
		}
	}
	return append(env,
		"PGHOST="+c.SocketDir,
		"PGPORT="+strconv.Itoa(c.Port),
		"PGUSER="+c.Superuser(),
		"PGDATABASE=postgres",
		"PGSSLMODE=disable",
		"PATH="+c.BinDir+string(os.PathListSeparator)+path,
	)
}

// Command returns an exec.Cmd for BinDir/name if that exists, else name
// looked up in PATH, with Env() as its environment and BaseDir as its working
// directory. When OSUser is not this process's user, the command runs as
// OSUser (with its groups, and HOME, USER and LOGNAME set for it; HOME is
// BaseDir if the user's home directory does not exist).
func (c *Cluster) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	prog := name
	if !strings.Contains(name, "/") {
		if p := filepath.Join(c.BinDir, name); isExecutable(p) {
			prog = p
		}
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = c.Env()
	cmd.Dir = c.BaseDir
	if c.acct.switchUser {
		home := c.acct.home
		if fi, err := os.Stat(home); home == "" || err != nil || !fi.IsDir() {
			home = c.BaseDir
		}
		cmd.Env = append(cmd.Env, "HOME="+home, "USER="+c.OSUser, "LOGNAME="+c.OSUser)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid:    c.acct.uid,
			Gid:    c.acct.gid,
			Groups: c.acct.groups,
		}}
	}
	return cmd
}

// run runs a PostgreSQL program as the OS user with messages in English and
// returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := c.Command(ctx, name, args...)
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl's server gets its own stdout, but never hang on a leaked pipe.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s: %w", cmd.Path, err)
	}
	return out.String(), err
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
