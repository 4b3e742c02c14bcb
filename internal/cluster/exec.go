package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/osuser"
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

// prepare is what every way of making a Cluster starts with: a logger
// (logf, or one that drops messages), the directory of PostgreSQL's
// programs (FindBinDir of binDir) and the OS account to run them as
// (lookupAccount of osUser).
func prepare(binDir, osUser string, logf func(string, ...any)) (string, osuser.Account, func(string, ...any), error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := FindBinDir(binDir)
	if err != nil {
		return "", osuser.Account{}, nil, fmt.Errorf("cluster: %w", err)
	}
	acct, err := lookupAccount(osUser)
	if err != nil {
		return "", osuser.Account{}, nil, fmt.Errorf("cluster: %w", err)
	}
	return bin, acct, logf, nil
}

// lookupAccount resolves Options.OSUser.
func lookupAccount(name string) (osuser.Account, error) {
	return osuser.Lookup(name, "run PostgreSQL as", "set Options.OSUser")
}

// Chown gives path to the cluster's OS user (when that is another user than
// this process's), e.g. a directory for a tablespace.
func (c *Cluster) Chown(path string) error {
	return c.acct.Chown(path)
}

// checkBaseDir checks that the cluster's OS user can reach dir.
func (c *Cluster) checkBaseDir(dir string) error {
	return c.acct.CheckTraverse(dir, fmt.Sprintf("choose an Options.BaseDir under a directory that user can search (or leave it empty to use %s)", os.TempDir()))
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
	c.acct.RunAs(cmd, c.BaseDir)
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
