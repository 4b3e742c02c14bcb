// Package osuser is the OS account that runs PostgreSQL's programs for the
// tool and the tests: the postgres user when this process is root
// (PostgreSQL refuses to run as root), else this process's own user. It
// resolves the account, hands files to it, checks that it can reach a
// directory, and makes commands run as it.
package osuser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// Account is a resolved OS user.
type Account struct {
	Name     string
	UID, GID uint32
	Groups   []uint32
	Home     string
	// Switch is true when the account is not this process's user, so that
	// commands need a credential switch (only root can make one).
	Switch bool
}

// Lookup resolves name: "" means postgres when this process is root, else
// this process's user. purpose completes "look up OS user %q to ..." in
// errors (e.g. "run PostgreSQL as"), and remedy says what to set instead
// (e.g. "set Options.OSUser", "pass --os-user").
func Lookup(name, purpose, remedy string) (Account, error) {
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
		return Account{}, fmt.Errorf("look up OS user %q to %s: %w; create it (e.g. useradd --system postgres) or %s", name, purpose, err, remedy)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return Account{}, fmt.Errorf("OS user %q has a non-numeric uid or gid: %w", u.Username, err)
	}
	if uid == 0 {
		return Account{}, fmt.Errorf("cannot %s OS user %q: it has uid 0, and PostgreSQL refuses to run as root; %s with an unprivileged user such as postgres", purpose, u.Username, remedy)
	}
	a := Account{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir}
	if int(a.UID) == self {
		return a, nil
	}
	if self != 0 {
		return Account{}, fmt.Errorf("cannot %s OS user %q: this process runs as uid %d, and only root can switch users; run as root or as %q, or leave the user empty to use the current one",
			purpose, u.Username, self, u.Username)
	}
	a.Switch = true
	gids, err := u.GroupIds()
	if err != nil {
		return Account{}, fmt.Errorf("look up the groups of OS user %q: %w", u.Username, err)
	}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return Account{}, fmt.Errorf("OS user %q is in group %q, which is not numeric: %w", u.Username, g, err)
		}
		a.Groups = append(a.Groups, uint32(n))
	}
	return a, nil
}

// Chown gives path to the account, when that is not this process's user.
func (a Account) Chown(path string) error {
	if !a.Switch {
		return nil
	}
	if err := os.Lchown(path, int(a.UID), int(a.GID)); err != nil {
		return fmt.Errorf("give %s to OS user %q: %w", path, a.Name, err)
	}
	return nil
}

// MkdirOwned creates dir (and missing parents, which stay this process's)
// and gives dir itself to the account.
func (a Account) MkdirOwned(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return a.Chown(dir)
}

// CheckTraverse checks from the permission bits that the account can
// search dir and every directory above it, so that a program run as it
// does not fail later with a bare "Permission denied". remedy ends the
// error (what to choose instead).
func (a Account) CheckTraverse(dir, remedy string) error {
	if !a.Switch {
		return nil // our own process created or was given it
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("check that OS user %q can reach %s: %w", a.Name, dir, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil // cannot tell; let the program report it
		}
		perm := fi.Mode().Perm()
		var can bool
		switch {
		case st.Uid == a.UID:
			can = perm&0o100 != 0
		case st.Gid == a.GID || slices.Contains(a.Groups, st.Gid):
			can = perm&0o010 != 0
		default:
			can = perm&0o001 != 0
		}
		if !can {
			return fmt.Errorf("OS user %q cannot reach %s: %s is mode %v, owner uid %d, group gid %d; %s, or chmod o+x %s",
				a.Name, dir, p, perm, st.Uid, st.Gid, remedy, p)
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}

// RunAs makes cmd run as the account, when that is not this process's
// user: its credentials (with its groups), and HOME, USER and LOGNAME
// appended to cmd.Env. HOME is fallbackHome when the account's home
// directory does not exist.
func (a Account) RunAs(cmd *exec.Cmd, fallbackHome string) {
	if !a.Switch {
		return
	}
	home := a.Home
	if fi, err := os.Stat(home); home == "" || err != nil || !fi.IsDir() {
		home = fallbackHome
	}
	cmd.Env = append(cmd.Env, "HOME="+home, "USER="+a.Name, "LOGNAME="+a.Name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: a.UID, Gid: a.GID, Groups: a.Groups}}
}
