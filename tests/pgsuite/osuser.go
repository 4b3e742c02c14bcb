package main

import (
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/osuser"
)

// runner is the OS user that builds the source tree and runs the suites.
// It must be the user the server runs as (or at least one that shares files
// with it both ways): the server loads regress.so from the tree and reads
// and writes files in the suites' output directories (COPY ... TO and FROM
// a file, lo_export), and pg_regress must read what the server wrote.
type runner struct {
	osuser.Account
}

// lookupRunner resolves --os-user: "" means postgres when this process is
// root (PostgreSQL refuses to run as root, so root's clusters run as
// postgres), else the current user.
func lookupRunner(name string) (runner, error) {
	a, err := osuser.Lookup(name, "build and run the suites as", "pass --os-user")
	return runner{a}, err
}

// canReach checks that the runner can search dir and every directory above
// it.
func (r runner) canReach(dir string) error {
	return r.CheckTraverse(dir, "choose a --cache-dir (or --out) that user can search")
}

// command returns a command that runs as the runner in dir. Its environment
// is this process's without libpq variables (PG followed by a capital
// letter) and locale variables, with LANG=C.UTF-8 (English messages, UTF-8
// client encoding, as the expected outputs assume), HOME, USER and LOGNAME
// of the runner, and extra appended (extra wins).
func (r runner) command(ctx context.Context, dir string, extra []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case len(k) > 2 && strings.HasPrefix(k, "PG") && k[2] >= 'A' && k[2] <= 'Z':
		case k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_"):
		case r.Switch && (k == "HOME" || k == "USER" || k == "LOGNAME"):
		case k == "MAKEFLAGS" || k == "MFLAGS" || k == "MAKELEVEL":
			// a make above us must not pass its jobserver or options down
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "LANG=C.UTF-8")
	r.RunAs(cmd, dir)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}
