package main

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
)

// runner is the OS user that builds the source tree and runs the suites.
// It must be the user the server runs as (or at least one that shares files
// with it both ways): the server loads regress.so from the tree and reads
// and writes files in the suites' output directories (COPY ... TO and FROM
// a file, lo_export), and pg_regress must read what the server wrote.
type runner struct {
	name       string
	uid, gid   uint32
	groups     []uint32
	home       string
	switchUser bool // differs from this process's user
}

// lookupRunner resolves --os-user: "" means postgres when this process is
// root (PostgreSQL refuses to run as root, so root's clusters run as
// postgres), else the current user.
func lookupRunner(name string) (runner, error) {
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
		return runner{}, fmt.Errorf("look up OS user %q to build and run the suites as: %w; create it or pass --os-user", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return runner{}, fmt.Errorf("OS user %q has a non-numeric uid or gid: %w", u.Username, err)
	}
	if uid == 0 {
		return runner{}, fmt.Errorf("--os-user %q is root: the suites run as the user the server runs as, never root; pass --os-user postgres", u.Username)
	}
	r := runner{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
	if int(r.uid) == self {
		return r, nil
	}
	if self != 0 {
		return runner{}, fmt.Errorf("cannot build and run as OS user %q: this process runs as uid %d and only root can switch users; run as root or as %q, or leave --os-user empty",
			u.Username, self, u.Username)
	}
	r.switchUser = true
	gids, err := u.GroupIds()
	if err != nil {
		return runner{}, fmt.Errorf("look up the groups of OS user %q: %w", u.Username, err)
	}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return runner{}, fmt.Errorf("OS user %q is in group %q, which is not numeric: %w", u.Username, g, err)
		}
		r.groups = append(r.groups, uint32(n))
	}
	return r, nil
}

// chown gives path to the runner (when that is another user).
func (r runner) chown(path string) error {
	if !r.switchUser {
		return nil
	}
	if err := os.Lchown(path, int(r.uid), int(r.gid)); err != nil {
		return fmt.Errorf("give %s to OS user %q: %w", path, r.name, err)
	}
	return nil
}

// mkdirOwned creates dir (and missing parents, which stay this process's)
// and gives dir itself to the runner.
func (r runner) mkdirOwned(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return r.chown(dir)
}

// canReach checks from the permission bits that the runner can search dir
// and every directory above it, so that a build or a test does not fail
// later with a bare "Permission denied".
func (r runner) canReach(dir string) error {
	if !r.switchUser {
		return nil
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check that OS user %q can reach %s: %w", r.name, dir, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		perm := fi.Mode().Perm()
		var can bool
		switch {
		case st.Uid == r.uid:
			can = perm&0o100 != 0
		case st.Gid == r.gid || containsUint32(r.groups, st.Gid):
			can = perm&0o010 != 0
		default:
			can = perm&0o001 != 0
		}
		if !can {
			return fmt.Errorf("OS user %q cannot reach %s: %s is mode %v (owner uid %d, group gid %d); choose a --cache-dir (or --out) that user can search, or chmod o+x %s",
				r.name, dir, p, perm, st.Uid, st.Gid, p)
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}

func containsUint32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
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
		case r.switchUser && (k == "HOME" || k == "USER" || k == "LOGNAME"):
		case k == "MAKEFLAGS" || k == "MFLAGS" || k == "MAKELEVEL":
			// a make above us must not pass its jobserver or options down
		default:
			env = append(env, kv)
		}
	}
	env = append(env, "LANG=C.UTF-8")
	if r.switchUser {
		home := r.home
		if fi, err := os.Stat(home); home == "" || err != nil || !fi.IsDir() {
			home = dir
		}
		env = append(env, "HOME="+home, "USER="+r.name, "LOGNAME="+r.name)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: r.groups}}
	}
	cmd.Env = append(env, extra...)
	return cmd
}
