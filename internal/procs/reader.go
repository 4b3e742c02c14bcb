package procs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// DefaultRoot is where the kernel's process filesystem is mounted.
const DefaultRoot = "/proc"

// Reader reads process information from a procfs tree.
type Reader struct {
	// Root is the procfs mount point; empty means DefaultRoot. Tests point it
	// at a fixture directory with the same layout (PID/status, PID/stat,
	// PID/cmdline, PID/maps, and PID/exe and PID/cwd as symbolic links).
	Root string
}

// IsVanished reports whether err says that a process went away while it was
// being read: its /proc directory or one of its files no longer exists
// (ENOENT) or the kernel refused because the task is gone (ESRCH). Callers
// skip such processes silently.
func IsVanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

func (r Reader) root() string {
	if r.Root == "" {
		return DefaultRoot
	}
	return r.Root
}

// Path returns the path of file name of process pid, e.g. /proc/42/status.
func (r Reader) Path(pid int, name string) string {
	return filepath.Join(r.root(), strconv.Itoa(pid), name)
}

// PIDs lists the processes in the tree, in increasing order.
func (r Reader) PIDs() ([]int, error) {
	entries, err := os.ReadDir(r.root())
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// Children returns the processes whose parent is pid, from
// /proc/PID/task/TID/children of each of its threads (CONFIG_PROC_CHILDREN):
// reading a cluster's tree costs one read per process, not a scan of
// every process on the machine.
func (r Reader) Children(pid int) ([]int, error) {
	tasks, err := os.ReadDir(r.Path(pid, "task"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join(r.Path(pid, "task"), task.Name(), "children"))
		if err != nil {
			if IsVanished(err) {
				continue
			}
			return nil, err
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil && c > 0 {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// Stat reads and parses /proc/PID/stat.
func (r Reader) Stat(pid int) (Stat, error) {
	data, err := os.ReadFile(r.Path(pid, "stat"))
	if err != nil {
		return Stat{}, err
	}
	st, err := ParseStat(data)
	if err != nil {
		return Stat{}, fmt.Errorf("%s: %w", r.Path(pid, "stat"), err)
	}
	return st, nil
}

// Status reads and parses /proc/PID/status. Seccomp and no_new_privs are
// properties of each thread, so for a process with more than one thread the
// confinement fields (NoNewPrivs, SeccompMode, SeccompFilters,
// SpeculationStoreBypass, SpeculationIndirectBranch) are those of its least-confined thread; the other
// fields are the main thread's.
func (r Reader) Status(pid int) (Status, error) {
	s, err := readStatus(r.Path(pid, "status"))
	if err != nil || s.Threads <= 1 {
		return s, err
	}
	tasks, err := os.ReadDir(r.Path(pid, "task"))
	if err != nil {
		// Fixture trees and very old kernels have no task directory; the
		// main thread's status is the best there is.
		return s, nil
	}
	for _, t := range tasks {
		if t.Name() == strconv.Itoa(pid) {
			continue
		}
		ts, err := readStatus(filepath.Join(r.Path(pid, "task"), t.Name(), "status"))
		if err != nil {
			if IsVanished(err) {
				continue // the thread exited
			}
			return Status{}, err
		}
		if lessConfined(ts, s) {
			s.NoNewPrivs = ts.NoNewPrivs
			s.SeccompMode = ts.SeccompMode
			s.SeccompFilters = ts.SeccompFilters
			s.SpeculationStoreBypass = ts.SpeculationStoreBypass
			s.SpeculationIndirectBranch = ts.SpeculationIndirectBranch
		}
	}
	return s, nil
}

func readStatus(path string) (Status, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	s, err := ParseStatus(data)
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// lessConfined reports whether a is less confined than b: unconfined before
// confined, then lower seccomp mode, no no_new_privs, fewer filters.
func lessConfined(a, b Status) bool {
	if a.Confined() != b.Confined() {
		return !a.Confined()
	}
	if a.SeccompMode != b.SeccompMode {
		return a.SeccompMode < b.SeccompMode
	}
	if a.NoNewPrivs != b.NoNewPrivs {
		return !a.NoNewPrivs
	}
	return a.SeccompFilters < b.SeccompFilters
}

// Cmdline reads /proc/PID/cmdline and splits it with ParseCmdline. A kernel
// thread or a zombie has an empty command line.
func (r Reader) Cmdline(pid int) ([]string, error) {
	data, err := os.ReadFile(r.Path(pid, "cmdline"))
	if err != nil {
		return nil, err
	}
	return ParseCmdline(data), nil
}

// Exe returns the path of the program process pid runs, from the
// /proc/PID/exe link. Reading it needs the same privileges as ptrace: root,
// or the process's own user.
func (r Reader) Exe(pid int) (string, error) {
	return os.Readlink(r.Path(pid, "exe"))
}

// Cwd returns the working directory of process pid, from the /proc/PID/cwd
// link (same privileges as Exe). A postmaster's working directory is its
// data directory.
func (r Reader) Cwd(pid int) (string, error) {
	return os.Readlink(r.Path(pid, "cwd"))
}

// HasLibrary reports whether process pid has a file whose base name is
// library mapped into memory, from /proc/PID/maps (same privileges as Exe).
func (r Reader) HasLibrary(pid int, library string) (bool, error) {
	data, err := os.ReadFile(r.Path(pid, "maps"))
	if err != nil {
		return false, err
	}
	return MapsHasLibrary(data, library), nil
}

// MapsHasLibrary reports whether the contents of a /proc/PID/maps file map a
// file whose base name is library, e.g. "pgseccomp.so". A mapping of a file
// that was deleted after it was loaded (shown with a " (deleted)" suffix)
// counts.
func MapsHasLibrary(maps []byte, library string) bool {
	for line := range strings.Lines(string(maps)) {
		// address perms offset dev inode [pathname]; the path may hold spaces.
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.Join(f[5:], " "), " (deleted)")
		if filepath.Base(p) == library {
			return true
		}
	}
	return false
}
