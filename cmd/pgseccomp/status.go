package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/status"
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
	set := flagsSet(flags)
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
	choice := status.Choice{PGData: o.cluster.pgdata, PID: o.pid}
	if set["cluster"] {
		e, err := o.cluster.find()
		if err != nil {
			return usageError("status", "%v", err)
		}
		choice.Existing = e
	}
	clusters, warnings, err := status.Select(r, choice)
	if err != nil {
		return usageError("status", "%v", err)
	}

	for _, w := range warnings {
		fmt.Fprintf(stderr, "pgseccomp status: warning: %v\n", w)
	}
	for _, c := range clusters {
		if c.LoadedErr != nil {
			fmt.Fprintf(stderr, "pgseccomp status: warning: cannot tell whether %s runs pgseccomp: %v; run as root\n",
				status.ClusterLabel(c), c.LoadedErr)
		}
	}

	if o.json {
		if err := status.WriteJSON(stdout, clusters); err != nil {
			fmt.Fprintf(stderr, "pgseccomp status: writing JSON: %v\n", err)
			return 2
		}
	} else {
		if len(clusters) == 0 {
			fmt.Fprintf(stderr, "pgseccomp status: no PostgreSQL processes found in %s\n", o.procRoot)
		}
		status.WriteTable(stdout, clusters, o.withTitle)
	}

	exit := status.ReportUnconfined(stderr, clusters)
	if status.ReportRejectedReloads(stderr, clusters) {
		exit = 1
	}
	return exit
}
