package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// inRootEnv carries a rootCommand to this program re-executed in a new
// mount namespace (see enterRoot).
const inRootEnv = "PGSECCOMP_MATRIX_IN_ROOT"

// session is one major's run: its cached root, seen read-only through an
// overlay whose upper layer lives in scratch, so the cache is never changed
// and what a run installs (the extension) lasts from one command to the
// next of the same session.
type session struct {
	Root    string    // the cached root (lower layer)
	Scratch string    // upper/, work/ and merged/ of the overlay
	Binds   []string  // host directories seen at the same path inside
	Env     []string  // environment of every command (PATH, PG_CONFIG, ...)
	in      io.Reader // stdin of every command, nil for none
	out     io.Writer
}

// rootCommand is what the re-executed program does: mount, chroot, exec.
type rootCommand struct {
	Root, Upper, Work, Merged string
	Binds                     []string
	Dir                       string
	Env                       []string
	Args                      []string
}

func newSession(root string, binds, env []string, out io.Writer) (*session, error) {
	scratch, err := os.MkdirTemp(filepath.Dir(root), ".run-"+filepath.Base(root)+"-")
	if err != nil {
		return nil, fmt.Errorf("create the scratch directory of a run: %w", err)
	}
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(scratch, d), 0o755); err != nil {
			os.RemoveAll(scratch)
			return nil, err
		}
	}
	return &session{Root: root, Scratch: scratch, Binds: binds, Env: env, out: out}, nil
}

// close removes the scratch directory (the overlay's mounts lived only in
// the commands' namespaces, which are gone).
func (s *session) close() error {
	return os.RemoveAll(s.Scratch)
}

// run runs args in the root, in dir, and waits for it. Processes it leaves
// behind in its namespace (a server a failed test did not stop) are killed,
// by pid, and named in the error.
func (s *session) run(dir string, args ...string) error {
	rc := rootCommand{
		Root: s.Root, Upper: filepath.Join(s.Scratch, "upper"), Work: filepath.Join(s.Scratch, "work"),
		Merged: filepath.Join(s.Scratch, "merged"),
		Binds:  s.Binds, Dir: dir, Env: s.Env, Args: args,
	}
	b, err := json.Marshal(rc)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to run it in the root: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), inRootEnv+"="+string(b))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.in, s.out, s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s in a new mount namespace (needs root): %w", strings.Join(args, " "), err)
	}
	// Holding the namespace open keeps it alive after its last process,
	// so that its inode number, which names it, is not reused for another
	// run's namespace (concurrent runs would kill each other's processes).
	var ns string
	nsFile, nsErr := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", cmd.Process.Pid))
	if nsErr == nil {
		defer nsFile.Close()
		ns, nsErr = os.Readlink(fmt.Sprintf("/proc/self/fd/%d", nsFile.Fd()))
	}
	err = cmd.Wait()
	if err != nil {
		err = fmt.Errorf("%s (in %s, root %s): %w", strings.Join(args, " "), dir, s.Root, err)
	}
	if nsErr == nil {
		if left := killNamespace(ns); len(left) > 0 {
			err = errors.Join(err, fmt.Errorf("%s left processes running in its root, killed: %s", strings.Join(args, " "), strings.Join(left, "; ")))
		}
	}
	return err
}

// output is run, returning what the command wrote instead of showing it.
func (s *session) output(dir string, args ...string) (string, error) {
	var buf strings.Builder
	shown := s.out
	s.out = &buf
	defer func() { s.out = shown }()
	err := s.run(dir, args...)
	return buf.String(), err
}

// killNamespace kills every process in mount namespace ns (a
// "mnt:[4026532...]" link) and returns them as "pid (comm)".
func killNamespace(ns string) []string {
	var left []string
	for attempt := 0; attempt < 50; attempt++ {
		found := false
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err != nil || l != ns {
				continue
			}
			found = true
			if attempt == 0 {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				left = append(left, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(comm))))
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if !found {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return left
}

// enterRoot is the re-executed program: in its own mount namespace, with
// nothing propagating back to the host, it mounts the overlay, /proc, a
// minimal /dev with a /dev/shm tmpfs and the bind mounts, chroots and
// executes the command. The kernel is the host's, so seccomp filters,
// audit records and no_new_privs behave as in production.
func enterRoot(spec string) error {
	var rc rootCommand
	if err := json.Unmarshal([]byte(spec), &rc); err != nil {
		return fmt.Errorf("%s: %w", inRootEnv, err)
	}
	m := rc.Merged
	steps := []struct {
		what string
		do   func() error
	}{
		{"make every mount private", func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") }},
		{"mount the overlay", func() error {
			return unix.Mount("overlay", m, "overlay", 0,
				"lowerdir="+rc.Root+",upperdir="+rc.Upper+",workdir="+rc.Work)
		}},
		{"mount /proc", func() error {
			return unix.Mount("proc", filepath.Join(m, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		}},
		{"mount /dev", func() error { return mountDev(filepath.Join(m, "dev")) }},
		{"bind-mount the host's directories", func() error {
			for _, b := range rc.Binds {
				target := filepath.Join(m, b)
				if err := os.MkdirAll(target, 0o755); err != nil {
					return err
				}
				if err := unix.Mount(b, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return fmt.Errorf("bind %s: %w", b, err)
				}
			}
			return nil
		}},
		{"chroot", func() error { return unix.Chroot(m) }},
		{"change directory", func() error { return os.Chdir(rc.Dir) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return fmt.Errorf("in the root %s: %s: %w", rc.Root, st.what, err)
		}
	}
	os.Clearenv()
	for _, kv := range rc.Env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	path, err := exec.LookPath(rc.Args[0])
	if err != nil {
		return fmt.Errorf("in the root %s: %w", rc.Root, err)
	}
	return syscall.Exec(path, rc.Args, rc.Env)
}

// mountDev mounts a tmpfs on dir with the host's null, zero, full, random,
// urandom and tty (and kmsg, where the host has it: tests probe for it)
// bound in, the usual symlinks, and a tmpfs on shm for PostgreSQL's
// dynamic shared memory.
func mountDev(dir string) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=64k"); err != nil {
		return err
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty", "kmsg"} {
		host := filepath.Join("/dev", name)
		if _, err := os.Stat(host); err != nil {
			if name == "kmsg" {
				continue
			}
			return err
		}
		target := filepath.Join(dir, name)
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return err
		}
		if err := unix.Mount(host, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s: %w", host, err)
		}
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	shm := filepath.Join(dir, "shm")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return err
	}
	return unix.Mount("tmpfs", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
}
