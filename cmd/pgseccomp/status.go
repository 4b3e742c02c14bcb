package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/report"
)

const statusUsage = `Usage: pgseccomp status [--cluster VER/NAME | --pgdata DIR | --pid PID] [--json] [--title]

Show how each PostgreSQL process is confined by seccomp, as the kernel reports
it in /proc/PID/status: the seccomp mode (0 disabled, 1 strict, 2 filter), the
number of filters stacked on the process, the no_new_privs flag (NNP), the
speculative store bypass mitigation (SSB) and the indirect branch speculation
mitigation (IB; seccomp can force both on, see
pgseccomp.allow_speculative_store_bypass). Each process is named by what its
PostgreSQL process title says: its kind (postmaster, checkpointer, client
backend, walsender, ...), role and database. A summary line per cluster
follows the table.

Which processes:
` + clusterFlagsHelp + `  --pid PID     only process PID, described with the cluster it belongs to
  (neither)     every PostgreSQL cluster on this machine

Output:
  --json        print a JSON array with one object per process instead of the
                table (fields: pid, ppid, kind, role, database, title,
                seccomp_mode, seccomp_filters (-1 if the kernel does not say),
                no_new_privs, speculation_store_bypass, postmaster_pid,
                data_directory, cluster_name, pgseccomp_loaded, confined)
  --title       add a TITLE column with the full process title
  --proc DIR    read processes from DIR instead of /proc (e.g. the host's /proc
                mounted into a monitoring container)

Exit status:
  0  nothing wrong found
  1  a cluster that has pgseccomp loaded has a process that is unconfined:
     its seccomp mode is not 2 (filter) or no_new_privs is not set; stderr
     names the unconfined PIDs. Or its postmaster rejected the last reload
     and keeps session filters older than its configuration; stderr says
     since when, the setting and the word (from the file
     pg_stat_tmp/pgseccomp.status in the data directory, which the
     postmaster writes)
  2  bad flags, or --pgdata/--pid name no running server or process

Run it as root: other users cannot read which libraries a postmaster has
loaded (/proc/PID/maps), so they cannot tell whether a cluster runs
pgseccomp (a warning says so). The server's OS user can too where
pgseccomp.allow_core_dumps = on; otherwise pgseccomp makes the server's
processes non-dumpable, and their /proc files belong to root.

Examples:
  # every cluster on this machine
  pgseccomp status

  # one cluster, with full process titles
  pgseccomp status --pgdata /var/lib/postgresql/15/main --title

  # one backend, e.g. the one running a suspicious query
  pgseccomp status --pid 12345

  # PIDs of processes without a seccomp filter
  pgseccomp status --json | jq '.[] | select(.seccomp_mode != 2) | .pid'

  # monitoring: alert when any process of a pgseccomp cluster is unconfined
  pgseccomp status --pgdata "$PGDATA" >/dev/null || echo "unconfined, see stderr"
`

// statusJSON is one element of the --json output.
type statusJSON struct {
	PID                       int    `json:"pid"`
	PPID                      int    `json:"ppid"`
	Kind                      string `json:"kind"`
	Role                      string `json:"role"`
	Database                  string `json:"database"`
	Title                     string `json:"title"`
	SeccompMode               int    `json:"seccomp_mode"`
	SeccompFilters            int    `json:"seccomp_filters"`
	NoNewPrivs                bool   `json:"no_new_privs"`
	SpeculationStoreBypass    string `json:"speculation_store_bypass"`
	SpeculationIndirectBranch string `json:"speculation_indirect_branch"`
	PostmasterPID             int    `json:"postmaster_pid"`
	DataDirectory             string `json:"data_directory,omitempty"`
	ClusterName               string `json:"cluster_name,omitempty"`
	PgseccompLoaded           bool   `json:"pgseccomp_loaded"`
	Confined                  bool   `json:"confined"`
}

// statusOptions are the flags of the status command.
type statusOptions struct {
	cluster   clusterFlags
	pid       int
	json      bool
	withTitle bool
	procRoot  string
}

func newStatusFlags() (*flag.FlagSet, *statusOptions) {
	o := &statusOptions{}
	flags := newFlagSet("status")
	o.cluster.register(flags)
	flags.IntVar(&o.pid, "pid", 0, "show only this process")
	flags.BoolVar(&o.json, "json", false, "print JSON")
	flags.BoolVar(&o.withTitle, "title", false, "add a TITLE column")
	flags.StringVar(&o.procRoot, "proc", procs.DefaultRoot, "procfs mount point")
	return flags, o
}

func runStatus(args []string) int {
	flags, o := newStatusFlags()
	if code, ok := parseFlags(flags, args, statusUsage); !ok {
		return code
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case flags.NArg() > 0:
		return usageError("status", "unexpected argument %q; status takes only flags (see 'pgseccomp status --help')", flags.Arg(0))
	case (set["pgdata"] || set["cluster"]) && set["pid"]:
		return usageError("status", "--pgdata and --pid (or --cluster and --pid) cannot be used together; give one of them, or neither for every cluster")
	case set["pgdata"] && set["cluster"]:
		return usageError("status", "--cluster and --pgdata name the same thing: give one of them")
	case set["pgdata"] && o.cluster.pgdata == "":
		return usageError("status", "--pgdata is empty; give the cluster's data directory (is $PGDATA set?)")
	case set["pid"] && o.pid <= 0:
		return usageError("status", "--pid %d is not a process ID; give a positive PID", o.pid)
	}

	if fi, err := os.Stat(o.procRoot); err != nil || !fi.IsDir() {
		return usageError("status", "cannot read processes from %s: not a directory; give the procfs mount point with --proc", o.procRoot)
	}
	r := procs.Reader{Root: o.procRoot}
	clusters, warnings, code := selectClusters(r, o, set)
	if code != 0 {
		return code
	}

	for _, w := range warnings {
		fmt.Fprintf(stderr, "pgseccomp status: warning: %v\n", w)
	}
	for _, c := range clusters {
		if c.LoadedErr != nil {
			fmt.Fprintf(stderr, "pgseccomp status: warning: cannot tell whether %s runs pgseccomp: %v; run as root\n",
				clusterLabel(c), c.LoadedErr)
		}
	}

	if o.json {
		if err := writeStatusJSON(stdout, clusters); err != nil {
			fmt.Fprintf(stderr, "pgseccomp status: writing JSON: %v\n", err)
			return 2
		}
	} else {
		if len(clusters) == 0 {
			fmt.Fprintf(stderr, "pgseccomp status: no PostgreSQL processes found in %s\n", o.procRoot)
		}
		writeStatusTable(stdout, clusters, o.withTitle)
	}

	exit := reportUnconfined(clusters)
	if reportRejectedReloads(clusters) {
		exit = 1
	}
	return exit
}

// reportRejectedReloads names on stderr each cluster whose postmaster
// rejected its last reload (it keeps the session filters of before, older
// than its configuration), and reports whether there was any.
func reportRejectedReloads(clusters []procs.ServerProcesses) bool {
	found := false
	for _, c := range clusters {
		if !c.PgseccompLoaded || c.DataDir == "" {
			continue
		}
		s, err := procs.ReadReloadState(c.DataDir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // pgseccomp off, or an extension before 1.1
		case err != nil:
			fmt.Fprintf(stderr, "pgseccomp status: warning: cannot tell whether %s runs filters older than its configuration: %v\n", clusterLabel(c), err)
			continue
		case s.PID != c.PostmasterPID:
			fmt.Fprintf(stderr, "pgseccomp status: warning: %s was written by process %d, not by the postmaster %d of %s; ignoring it\n",
				filepath.Join(c.DataDir, procs.ReloadStateFile), s.PID, c.PostmasterPID, clusterLabel(c))
			continue
		case !s.Rejected():
			continue
		}
		why := s.RejectedDetail // a per-role setting has no name of its own here; the detail names it
		if s.RejectedSetting != "" {
			why = "setting " + s.RejectedSetting + ": " + why
		}
		fmt.Fprintf(stderr, "pgseccomp status: %s runs session filters older than its configuration since %s: the reload was rejected, %s New sessions get the session filters in force since %s; correct the setting and reload.\n",
			clusterLabel(c), s.RejectedAt.Local().Format(time.DateTime+" MST"), why,
			s.PlanSince.Local().Format(time.DateTime+" MST"))
		found = true
	}
	return found
}

// selectClusters returns what --cluster, --pgdata, --pid or neither select. A non-zero
// code means an input error has been reported.
func selectClusters(r procs.Reader, o *statusOptions, set map[string]bool) ([]procs.ServerProcesses, []error, int) {
	switch {
	case set["cluster"]:
		e, err := o.cluster.find()
		if err != nil {
			return nil, nil, usageError("status", "%v", err)
		}
		c, warnings, code := clusterForPGDATA(r, e.DataDir, e.CommandLine("status"))
		if code != 0 {
			return nil, nil, code
		}
		return []procs.ServerProcesses{c}, warnings, 0
	case set["pgdata"]:
		dataDir := o.cluster.pgdata
		check := "pg_ctl -D " + dataDir + " status"
		// A configuration directory (Debian's /etc/postgresql/15/main)
		// names its data directory; anything else is taken as one.
		if e, err := o.cluster.find(); err == nil {
			dataDir, check = e.DataDir, e.CommandLine("status")
		}
		c, warnings, code := clusterForPGDATA(r, dataDir, check)
		if code != 0 {
			return nil, nil, code
		}
		return []procs.ServerProcesses{c}, warnings, 0
	case set["pid"]:
		c, warnings, err := r.ForPID(o.pid)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, usageError("status", "no process %d in %s: it is not running (or runs in another PID namespace)", o.pid, o.procRoot)
		} else if err != nil {
			return nil, nil, usageError("status", "%v", err)
		}
		return []procs.ServerProcesses{c}, warnings, 0
	default:
		clusters, warnings, err := r.Discover()
		if err != nil {
			return nil, nil, usageError("status", "%v", err)
		}
		return clusters, warnings, 0
	}
}

// reportUnconfined names on stderr the unconfined processes of each cluster
// that has pgseccomp loaded, and returns the exit status: 1 if there are
// any, else 0.
func reportUnconfined(clusters []procs.ServerProcesses) int {
	exit := 0
	for _, c := range clusters {
		if !c.PgseccompLoaded {
			continue
		}
		bad := c.Unconfined()
		if len(bad) == 0 {
			continue
		}
		names := make([]string, len(bad))
		for i, p := range bad {
			names[i] = fmt.Sprintf("%d (%s)", p.PID, p.Kind)
		}
		fmt.Fprintf(stderr, "pgseccomp status: %s has pgseccomp loaded but %s unconfined (seccomp mode not 2 or no_new_privs not set): %s\n",
			clusterLabel(c), report.Plural(len(bad), "process is", "processes are"), strings.Join(names, ", "))
		exit = 1
	}
	return exit
}

// clusterForPGDATA finds the running cluster whose data directory is pgdata.
// A non-zero code means an input error has been reported.
// check is the command that tells whether the server runs, for messages.
func clusterForPGDATA(r procs.Reader, pgdata, check string) (procs.ServerProcesses, []error, int) {
	if abs, err := filepath.Abs(pgdata); err == nil {
		pgdata = abs
	}
	if fi, err := os.Stat(pgdata); err != nil {
		return procs.ServerProcesses{}, nil, usageError("status", "data directory %s: %v; give the directory the cluster was initialized in (initdb -D)", pgdata, pgconf.UnwrapPathError(err))
	} else if !fi.IsDir() {
		return procs.ServerProcesses{}, nil, usageError("status", "--pgdata %s is not a directory; give the cluster's data directory", pgdata)
	}
	pidPath := filepath.Join(pgdata, "postmaster.pid")
	pf, err := procs.ReadPostmasterPID(pgdata)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return procs.ServerProcesses{}, nil, usageError("status", "%s does not exist: the server does not seem to be running; check that it is (%s)", pidPath, check)
	case errors.Is(err, fs.ErrPermission):
		return procs.ServerProcesses{}, nil, usageError("status", "cannot read %s: permission denied; run as root or as the server's OS user", pidPath)
	case err != nil:
		return procs.ServerProcesses{}, nil, usageError("status", "%v; check that the server is running (%s)", err, check)
	}
	c, warnings, err := r.OfPostmaster(pf.PID)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return procs.ServerProcesses{}, nil, usageError("status", "process %d named in %s is not running: the file is stale (left by a crash?); check that the server is running (%s)", pf.PID, pidPath, check)
	case errors.Is(err, procs.ErrNotPostmaster):
		return procs.ServerProcesses{}, nil, usageError("status", "%s names %v; the file is stale (left by a crash?); check that the server is running (%s)", pidPath, err, check)
	case err != nil:
		return procs.ServerProcesses{}, nil, usageError("status", "%v", err)
	}
	if pf.DataDir != "" && c.DataDir != "" && !samePath(pf.DataDir, c.DataDir) {
		return procs.ServerProcesses{}, nil, usageError("status", "process %d named in %s serves data directory %s, not %s: the file is stale; check that the server is running (%s)", pf.PID, pidPath, c.DataDir, pf.DataDir, check)
	}
	if c.DataDir == "" {
		c.DataDir = pgdata
	}
	return c, warnings, 0
}

// samePath reports whether a and b name the same directory.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

func writeStatusJSON(w io.Writer, clusters []procs.ServerProcesses) error {
	out := []statusJSON{}
	for _, c := range clusters {
		for _, p := range c.Processes {
			out = append(out, statusJSON{
				PID:                       p.PID,
				PPID:                      p.PPID,
				Kind:                      string(p.Kind),
				Role:                      p.Role,
				Database:                  p.Database,
				Title:                     p.Cmdline,
				SeccompMode:               p.Status.SeccompMode,
				SeccompFilters:            p.Status.SeccompFilters,
				NoNewPrivs:                p.Status.NoNewPrivs,
				SpeculationStoreBypass:    p.Status.SpeculationStoreBypass,
				SpeculationIndirectBranch: p.Status.SpeculationIndirectBranch,
				PostmasterPID:             c.PostmasterPID,
				DataDirectory:             c.DataDir,
				ClusterName:               c.Name,
				PgseccompLoaded:           c.PgseccompLoaded,
				Confined:                  p.Status.Confined(),
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeStatusTable(w io.Writer, clusters []procs.ServerProcesses, withTitle bool) {
	for i, c := range clusters {
		if i > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		header := "PID\tPPID\tKIND\tROLE\tDATABASE\tSECCOMP\tFILTERS\tNNP\tSSB\tIB"
		if withTitle {
			header += "\tTITLE"
		}
		fmt.Fprintln(tw, header)
		for _, p := range c.Processes {
			s := p.Status
			filters := "-"
			if s.SeccompFilters >= 0 {
				filters = strconv.Itoa(s.SeccompFilters)
			}
			nnp := "0"
			if s.NoNewPrivs {
				nnp = "1"
			}
			row := []string{
				strconv.Itoa(p.PID), strconv.Itoa(p.PPID), string(p.Kind),
				cell(p.Role), cell(p.Database),
				procs.SeccompModeName(s.SeccompMode), filters, nnp, cell(s.SpeculationStoreBypass),
				cell(s.SpeculationIndirectBranch),
			}
			if withTitle {
				row = append(row, cell(p.Cmdline))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
		fmt.Fprintln(w, summary(c))
	}
}

// summary is the line printed after a cluster's table, e.g.
// "cluster /srv/pg (postmaster 1234): 7 processes, 7 confined, pgseccomp loaded".
func summary(c procs.ServerProcesses) string {
	confined := len(c.Processes) - len(c.Unconfined())
	counts := fmt.Sprintf("%s, %d confined", report.Plural(len(c.Processes), "process", "processes"), confined)
	if c.PostmasterPID == 0 {
		return fmt.Sprintf("%s: %s", clusterLabel(c), counts)
	}
	loaded := "pgseccomp not loaded"
	switch {
	case c.LoadedErr != nil:
		loaded = "pgseccomp unknown (cannot read the postmaster's memory maps)"
	case c.PgseccompLoaded:
		loaded = "pgseccomp loaded"
	}
	return fmt.Sprintf("%s: %s, %s", clusterLabel(c), counts, loaded)
}

// clusterLabel names a cluster in messages, e.g.
// "cluster /srv/pg (postmaster 1234, cluster_name main)".
func clusterLabel(c procs.ServerProcesses) string {
	if c.PostmasterPID == 0 {
		for _, p := range c.Processes {
			if p.Postgres {
				return "PostgreSQL processes without a postmaster"
			}
		}
		return "not part of a PostgreSQL cluster"
	}
	dir := c.DataDir
	if dir == "" {
		dir = "(data directory unknown)"
	}
	name := ""
	if c.Name != "" {
		name = ", cluster_name " + sanitize(c.Name)
	}
	return fmt.Sprintf("cluster %s (postmaster %d%s)", sanitize(dir), c.PostmasterPID, name)
}

// cell renders a table cell: "-" for empty, control characters (which role
// and database names may hold) replaced so the table stays a table.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return sanitize(s)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}
