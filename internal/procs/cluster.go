package procs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// LibraryName is the file name of the pgseccomp extension's shared library.
// A cluster runs pgseccomp when its postmaster has it mapped.
const LibraryName = "pgseccomp.so"

// Process is one process with its confinement and, for a PostgreSQL process,
// what its title says about it.
type Process struct {
	PID  int
	PPID int
	Comm string // command name from /proc/PID/stat
	Exe  string // program path from /proc/PID/exe; empty if unreadable
	// Cmdline is the process title of a PostgreSQL child process, or the
	// command line of any other process, as one line (see TitleOf).
	Cmdline string
	Args    []string // Cmdline as read, split into arguments
	// Title is what Cmdline says about the process; Kind is always set.
	Title
	Status Status
	// Postgres reports whether the process runs the PostgreSQL server
	// binary (its program or command name is postgres or postmaster).
	Postgres bool
}

// ServerProcesses is a postmaster and its descendants as /proc shows them,
// or the processes selected from them (not a cluster.Cluster, which is a
// throwaway server this tool runs).
type ServerProcesses struct {
	// PostmasterPID is 0 when no postmaster was found: for a process that
	// belongs to no cluster, or PostgreSQL processes whose postmaster is gone.
	PostmasterPID int
	// DataDir is the postmaster's data directory (its working directory,
	// else its -D argument); empty if unknown.
	DataDir string
	// Name is the cluster_name shown in the process titles, if any.
	Name string
	// PgseccompLoaded reports whether the postmaster has LibraryName mapped.
	PgseccompLoaded bool
	// LoadedErr says why PgseccompLoaded could not be determined (e.g.
	// permission denied reading /proc/PID/maps); nil when it is known.
	LoadedErr error
	// Processes has the postmaster first, then the rest by PID.
	Processes []Process
}

// Unconfined returns the processes that do not run under a seccomp filter
// with no_new_privs set.
func (c ServerProcesses) Unconfined() []Process {
	var out []Process
	for _, p := range c.Processes {
		if !p.Status.Confined() {
			out = append(out, p)
		}
	}
	return out
}

// ErrNotPostmaster is returned by Reader.OfPostmaster when the PID is not a
// running postmaster.
var ErrNotPostmaster = errors.New("not a postmaster")

// PIDFile is what DATADIR/postmaster.pid says.
type PIDFile struct {
	PID     int    // the postmaster's PID (line 1)
	DataDir string // the data directory as the postmaster wrote it (line 2); may be empty
	// Standalone is true for a single-user backend (postgres --single),
	// which writes its PID negated.
	Standalone bool
}

// ParsePostmasterPID parses the contents of a postmaster.pid file.
func ParsePostmasterPID(data []byte) (PIDFile, error) {
	lines := strings.Split(string(data), "\n")
	first := strings.TrimSpace(lines[0])
	pid, err := strconv.Atoi(first)
	if err != nil || pid == 0 {
		return PIDFile{}, fmt.Errorf("first line %q is not a process ID", abbreviate([]byte(first)))
	}
	f := PIDFile{PID: pid}
	if pid < 0 {
		f.PID, f.Standalone = -pid, true
	}
	if len(lines) > 1 {
		f.DataDir = strings.TrimSpace(lines[1])
	}
	return f, nil
}

// ReadPostmasterPID reads and parses DATADIR/postmaster.pid. A missing file
// is reported with an error that wraps fs.ErrNotExist.
func ReadPostmasterPID(dataDir string) (PIDFile, error) {
	path := filepath.Join(dataDir, "postmaster.pid")
	data, err := os.ReadFile(path)
	if err != nil {
		return PIDFile{}, err
	}
	f, err := ParsePostmasterPID(data)
	if err != nil {
		return PIDFile{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// node is one process in a snapshot of the process tree.
type node struct {
	stat     Stat
	exe      string
	postgres bool
	children []int
}

// tree is a snapshot of the process tree: who is whose parent, and which
// processes run the PostgreSQL binary. Processes that vanish while it is
// taken are left out.
type tree map[int]*node

func (r Reader) snapshot() (tree, error) {
	pids, err := r.PIDs()
	if err != nil {
		return nil, err
	}
	t := make(tree, len(pids))
	for _, pid := range pids {
		st, err := r.Stat(pid)
		if err != nil {
			continue // vanished, or not a process directory we understand
		}
		n := &node{stat: st}
		n.exe, _ = r.Exe(pid) // kernel threads have none; others' need privileges
		n.postgres = IsPostgresProgram(st.Comm) || (n.exe != "" && IsPostgresProgram(n.exe))
		t[pid] = n
	}
	for pid, n := range t {
		if p, ok := t[n.stat.PPID]; ok && p != n {
			p.children = append(p.children, pid)
		}
	}
	for _, n := range t {
		sort.Ints(n.children)
	}
	return t, nil
}

// isRoot reports whether pid is a PostgreSQL process whose parent is not one:
// a postmaster, or an orphan whose postmaster is gone.
func (t tree) isRoot(pid int) bool {
	n, ok := t[pid]
	if !ok || !n.postgres {
		return false
	}
	p, ok := t[n.stat.PPID]
	return !ok || !p.postgres
}

// descendants returns pid and all its descendants, stopping at other roots
// (a postmaster started from inside another cluster is its own cluster).
func (t tree) descendants(pid int) []int {
	out := []int{pid}
	seen := map[int]bool{pid: true}
	for i := 0; i < len(out); i++ {
		for _, c := range t[out[i]].children {
			if !seen[c] && !t.isRoot(c) {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// rootOf climbs from pid through its ancestors to the PostgreSQL root
// process above it (pid itself if it is one); 0 if there is none.
func (t tree) rootOf(pid int) int {
	for steps := 0; steps <= len(t); steps++ {
		n, ok := t[pid]
		if !ok {
			return 0
		}
		if t.isRoot(pid) {
			return pid
		}
		if n.stat.PPID == pid {
			return 0
		}
		pid = n.stat.PPID
	}
	return 0
}

// Discover finds every PostgreSQL cluster on the machine: each postmaster
// with all its descendants. PostgreSQL processes whose postmaster is gone are
// returned together in one last ServerProcesses with PostmasterPID 0. Warnings
// report processes that could not be read for a reason other than having
// exited; they do not stop the scan.
func (r Reader) Discover() (clusters []ServerProcesses, warnings []error, err error) {
	t, err := r.snapshot()
	if err != nil {
		return nil, nil, err
	}
	var roots []int
	for pid := range t {
		if t.isRoot(pid) {
			roots = append(roots, pid)
		}
	}
	sort.Ints(roots)
	var orphans ServerProcesses
	for _, root := range roots {
		c, w := r.build(t, root, t.descendants(root))
		warnings = append(warnings, w...)
		if c.PostmasterPID != 0 {
			clusters = append(clusters, c)
		} else {
			orphans.Processes = append(orphans.Processes, c.Processes...)
		}
	}
	if len(orphans.Processes) > 0 {
		sortProcesses(orphans.Processes, 0)
		clusters = append(clusters, orphans)
	}
	return clusters, warnings, nil
}

// OfPostmaster returns the processes of the cluster whose postmaster has
// PID pid: the postmaster and all its descendants. The error wraps fs.ErrNotExist when there is no
// such process, and ErrNotPostmaster when the process is not a postmaster.
func (r Reader) OfPostmaster(pid int) (ServerProcesses, []error, error) {
	t, err := r.snapshot()
	if err != nil {
		return ServerProcesses{}, nil, err
	}
	n, ok := t[pid]
	if !ok {
		return ServerProcesses{}, nil, fmt.Errorf("process %d is not running: %w", pid, os.ErrNotExist)
	}
	if !t.isRoot(pid) {
		what := fmt.Sprintf("%q", n.stat.Comm)
		if n.postgres {
			what = "a child of PostgreSQL process " + strconv.Itoa(n.stat.PPID)
		}
		return ServerProcesses{}, nil, fmt.Errorf("process %d is %s: %w", pid, what, ErrNotPostmaster)
	}
	c, w := r.build(t, pid, t.descendants(pid))
	if c.PostmasterPID == 0 {
		for _, p := range c.Processes {
			if p.PID == pid {
				return ServerProcesses{}, w, fmt.Errorf("process %d is a %s: %w", pid, p.Kind, ErrNotPostmaster)
			}
		}
		return ServerProcesses{}, w, fmt.Errorf("process %d exited while it was read: %w", pid, os.ErrNotExist)
	}
	return c, w, nil
}

// ForPID returns process pid alone, in a ServerProcesses that describes the cluster
// it belongs to (its postmaster, data directory and whether pgseccomp is
// loaded), or in a ServerProcesses with PostmasterPID 0 if it belongs to none. The
// error wraps fs.ErrNotExist when there is no such process.
func (r Reader) ForPID(pid int) (ServerProcesses, []error, error) {
	t, err := r.snapshot()
	if err != nil {
		return ServerProcesses{}, nil, err
	}
	if _, ok := t[pid]; !ok {
		return ServerProcesses{}, nil, fmt.Errorf("process %d is not running: %w", pid, os.ErrNotExist)
	}
	root := t.rootOf(pid)
	members := []int{pid}
	if root != 0 && root != pid {
		members = []int{root, pid}
	}
	c, w := r.build(t, root, members)
	if root != 0 && root != pid {
		// Keep only the process asked for; the root was read for the
		// cluster's description.
		var kept []Process
		for _, p := range c.Processes {
			if p.PID == pid {
				kept = append(kept, p)
			}
		}
		c.Processes = kept
	}
	if len(c.Processes) == 0 {
		return ServerProcesses{}, w, fmt.Errorf("process %d exited while it was read: %w", pid, os.ErrNotExist)
	}
	return c, w, nil
}

// build reads the processes pids of the cluster whose root process is root
// (0 for none).
func (r Reader) build(t tree, root int, pids []int) (ServerProcesses, []error) {
	var c ServerProcesses
	var warnings []error
	for _, pid := range pids {
		p, err := r.process(t, pid, root)
		if err != nil {
			if !IsVanished(err) {
				warnings = append(warnings, err)
			}
			continue
		}
		if pid == root && p.Kind == KindPostmaster {
			c.PostmasterPID = pid
		}
		if c.Name == "" {
			c.Name = p.ClusterName
		}
		c.Processes = append(c.Processes, p)
	}
	sortProcesses(c.Processes, c.PostmasterPID)
	if c.PostmasterPID != 0 {
		if dir, err := r.Cwd(root); err == nil {
			c.DataDir = dir
		} else {
			c.DataDir = dataDirFromArgs(c.Processes[0].Args)
		}
		loaded, err := r.HasLibrary(root, LibraryName)
		if err != nil {
			c.LoadedErr = err
		}
		c.PgseccompLoaded = loaded
	}
	return c, warnings
}

// process reads one process. root is the PostgreSQL root process of its
// cluster, 0 if none.
func (r Reader) process(t tree, pid, root int) (Process, error) {
	n := t[pid]
	p := Process{PID: pid, PPID: n.stat.PPID, Comm: n.stat.Comm, Exe: n.exe, Postgres: n.postgres}
	var err error
	if p.Status, err = r.Status(pid); err != nil {
		return Process{}, err
	}
	if p.Args, err = r.Cmdline(pid); err != nil {
		return Process{}, err
	}
	p.Cmdline = TitleOf(p.Args)
	p.Title = classify(p, pid == root, root != 0)
	return p, nil
}

// classify refines ParseTitle with what the process tree knows.
func classify(p Process, isRoot, inCluster bool) Title {
	if !p.Postgres {
		if inCluster {
			return Title{Kind: KindSubprocess}
		}
		return Title{Kind: KindOther}
	}
	if !strings.HasPrefix(p.Cmdline, titlePrefix) {
		switch {
		case p.Cmdline == "" && p.Status.Zombie():
			return Title{Kind: KindUnknown, Detail: "exited, not yet reaped"}
		case isRoot:
			// Still the original arguments: the postmaster (or a
			// single-user backend) itself.
			return Title{Kind: KindPostmaster}
		default:
			// A child that still shows the arguments it inherited.
			return Title{Kind: KindStarting}
		}
	}
	return ParseTitle(p.Cmdline)
}

// sortProcesses puts the postmaster first and the others in PID order.
func sortProcesses(ps []Process, postmaster int) {
	sort.SliceStable(ps, func(i, j int) bool {
		if (ps[i].PID == postmaster) != (ps[j].PID == postmaster) {
			return ps[i].PID == postmaster
		}
		return ps[i].PID < ps[j].PID
	})
}

// dataDirFromArgs finds the data directory in a postmaster's arguments:
// -D DIR, -DDIR, --data-directory=DIR, or a data_directory setting
// (-c data_directory=DIR), which wins over -D (-D then names the directory
// of the configuration files).
func dataDirFromArgs(args []string) string {
	var dashD, setting string
	for i := 1; i < len(args); i++ {
		a := args[i]
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch {
		case a == "-D":
			dashD = next
			i++
		case strings.HasPrefix(a, "-D"):
			dashD = a[2:]
		case a == "-c" && strings.HasPrefix(next, "data_directory="):
			setting = strings.TrimPrefix(next, "data_directory=")
			i++
		case strings.HasPrefix(a, "-cdata_directory="):
			setting = strings.TrimPrefix(a, "-cdata_directory=")
		case strings.HasPrefix(a, "--data-directory="):
			setting = strings.TrimPrefix(a, "--data-directory=")
		case strings.HasPrefix(a, "--data_directory="):
			setting = strings.TrimPrefix(a, "--data_directory=")
		}
	}
	if setting != "" {
		return setting
	}
	return dashD
}
