package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/install"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/record"
)

const recordUsage = `Usage: pgseccomp record [--cluster VER/NAME | --pgdata DIR [--in-place [--yes]]]
                        [--workload CMD ...] [--builtin] [--per-role]
                        [--enforce log|error|kill] [--out DIR] [flags]

Record the syscalls PostgreSQL makes, and write an allow-list profile that
pgseccomp can enforce: the talk's ten manual steps (log mode, auditd tuning,
exercise, get_syscalls.sh, paste, iterate, tighten) in one command.

It creates a throwaway cluster (initdb in a temporary directory, its own port
and socket, run as the postgres OS user), or with --cluster or --pgdata a copy
of an existing one, with pgseccomp preloaded, and runs the workloads against
it in passes:

  global passes   the global filter logs every syscall its list does not
                  allow yet (the session filter allows everything): every
                  record is the global layer's: the postmaster and every
                  process it starts, client backends included
  session passes  the session filter logs (the global filter allows
                  everything): every record is a client backend's, or its
                  parallel worker's, after authentication
  enforce pass    both layers enforce the recorded lists with "error"
                  defaults; the recording fails if anything is denied, and
                  says which syscall and which workload

Each layer's passes repeat until one adds nothing new, so the logged set
narrows pass by pass. Records are read from the kernel's audit netlink
socket, which loses nothing (the kernel log is rate-limited and its ring
holds a few hundred records); the cluster runs in an audit session of its
own, so records of other processes are told apart. If the kernel's audit
"lost" counter moves, or the capture socket overflows, the recording fails.

Workloads:
  --workload CMD   a shell command, run in every pass with PGHOST, PGPORT,
                   PGUSER (a superuser) and PGDATABASE of the cluster in its
                   environment (repeatable; run in order). It must not
                   restart the server itself, and must be repeatable.
  --builtin        also run the built-in workload (the default when no
                   --workload is given): a DBA's ordinary life — DDL and DML,
                   COPY, spilling sorts and hashes, temporary tables, VACUUM
                   (FULL), ANALYZE, CLUSTER, REINDEX CONCURRENTLY,
                   tablespaces, large objects, parallel query, JIT,
                   LISTEN/NOTIFY, advisory locks, prepared transactions,
                   checkpoints, base backups through a walsender, logical
                   decoding, PL/pgSQL, contrib modules, postgres_fdw, pg_dump
                   and pg_restore, restart, crash recovery and a PANIC

Output:
  --out DIR        write DIR/pgseccomp-profile.json and DIR/pgseccomp.conf
                   (default: the current directory)
  --profile FILE   write the profile here instead
  --conf FILE      write the conf.d snippet here instead
  --enforce ACT    the default action the snippet sets at both layers:
                   log (audit only), error (deny with EACCES, the default),
                   or kill; the profile itself records error
  --per-role       also record a session list for each role that connects
                   (roles are told by the server log's "connection
                   authorized" lines, so short-lived connections count)
  --keep-io-uring  keep io_uring_setup, io_uring_enter and io_uring_register
                   in the session (and role) lists when sessions were
                   recorded making them. By default they are left out, and
                   the output and the profile's provenance ("withheld") say
                   so: operations submitted through a ring are not seen by
                   seccomp, so a session with a ring gets around its lists

An existing cluster (recorded on a copy; it keeps serving):
` + clusterFlagsHelp + `                      record this cluster: a copy of it is made in a
                      temporary directory (pg_basebackup from the running
                      server, over its Unix socket as its OS user; a file
                      copy when it is stopped) and recorded with the
                      cluster's own configuration (postgresql.conf, conf.d,
                      pg_hba.conf, pg_ident.conf, SSL files, preloaded
                      libraries), listening on 127.0.0.1 at a private port.
                      Nothing is created in the cluster. Workloads get
                      PGHOST (the copy's socket), PGPORT, PGUSER (a
                      superuser made in the copy) and PGSECCOMP_TCP_HOST
                      (127.0.0.1, for host and hostssl logins); the roles,
                      passwords and data of the cluster are there. Every
                      recording of a cluster also runs its server life on
                      the copy: a login by each pg_hba.conf method it can
                      use (the others are named, and get the shipped
                      profile's global list), WAL segments, checkpoints, a
                      base backup, a restart, crash recovery, abort() and a
                      PANIC
  --in-place          record the cluster itself instead: ITS SERVER IS
                      STOPPED FOR THE WHOLE RECORDING (minutes; no client
                      can connect) and started again afterwards the way it
                      is managed (pg_ctlcluster, systemctl or pg_ctl). Asks
                      first, unless --yes
  --yes               do not ask
  --server-log F      --in-place, a cluster pg_ctl manages: where the server
                      started again logs (default: the work directory)

Other flags:
  --bindir DIR     the PostgreSQL bin directory (default: pg_config --bindir)
  --max-passes N   give up when a layer still gains syscalls after N passes
                   (default 6)

Progress goes to stderr: on a terminal, a live line per pass (pass, layer,
workload, elapsed time, records seen, distinct syscalls); otherwise plain
lines.

Exit status:
  0  recorded and proven: the files are written
  1  the recording failed: a denial in the enforce pass, records lost, a
     workload that failed, or passes that never stop adding syscalls
  2  bad flags, or no permission (run it as root: it reads the audit
     netlink socket and starts the cluster as the postgres user)

Examples:
  # the built-in workload; profile and snippet in the current directory
  sudo pgseccomp record

  # your application's test suite, then the built-in workload too
  sudo pgseccomp record --workload 'make -C ~/app integration-test' --builtin

  # per-role lists, and a snippet that only logs at first
  sudo pgseccomp record --per-role --enforce log --out /tmp/profile

  # Debian's 15/main, on a copy, with the application's own tests too
  sudo pgseccomp record --cluster 15/main --builtin \
      --workload 'PGHOST=$PGSECCOMP_TCP_HOST make -C ~/app integration-test'

  # install it (log defaults first), restart as the command says
  sudo pgseccomp install --cluster 15/main --profile pgseccomp-profile.json
`

func runRecord(args []string) int {
	fs := newFlagSet("record")
	var (
		workloads  stringList
		builtin    bool
		perRole    bool
		enforce    string
		outDir     string
		profileOut string
		confOut    string
		binDir     string
		maxPasses  int
		cf         clusterFlags
		inPlace    bool
		yes        bool
		serverLog  string
	)
	fs.Var(&workloads, "workload", "a workload shell command (repeatable)")
	fs.BoolVar(&builtin, "builtin", false, "run the built-in workload too")
	fs.BoolVar(&perRole, "per-role", false, "record a session list per role")
	var keepIOUring bool
	fs.BoolVar(&keepIOUring, "keep-io-uring", false, "keep io_uring syscalls recorded in sessions in their allow lists")
	fs.StringVar(&enforce, "enforce", "error", "default action in the snippet: log, error or kill")
	fs.StringVar(&outDir, "out", ".", "directory for the profile and the snippet")
	fs.StringVar(&profileOut, "profile", "", "where to write the profile")
	fs.StringVar(&confOut, "conf", "", "where to write the conf.d snippet")
	fs.StringVar(&binDir, "bindir", "", "PostgreSQL bin directory")
	fs.IntVar(&maxPasses, "max-passes", 6, "passes per layer before giving up")
	cf.register(fs)
	fs.BoolVar(&inPlace, "in-place", false, "record the cluster itself, stopping its server for the recording (an outage)")
	fs.BoolVar(&yes, "yes", false, "with --in-place: do not ask")
	fs.StringVar(&serverLog, "server-log", "", "with --in-place: the log file of the server started again")
	if code, ok := parseFlags(fs, args, recordUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("record", "unexpected argument %q: workloads are given with --workload", fs.Arg(0))
	}
	action, err := policy.ParseAction(enforce)
	if err != nil || action == policy.Allow {
		return usageError("record", "--enforce %q: use log, error or kill", enforce)
	}
	if maxPasses < 2 {
		return usageError("record", "--max-passes %d: at least 2 (a layer needs a pass that adds nothing)", maxPasses)
	}
	if !flagsSet(fs)["builtin"] && len(workloads) == 0 {
		builtin = true
	}
	if !builtin && len(workloads) == 0 {
		return usageError("record", "--builtin=false and no --workload: nothing to record")
	}
	if profileOut == "" {
		profileOut = filepath.Join(outDir, "pgseccomp-profile.json")
	}
	if confOut == "" {
		confOut = filepath.Join(outDir, install.SnippetName)
	}
	for _, f := range []string{profileOut, confOut} {
		if fi, err := os.Stat(filepath.Dir(f)); err != nil || !fi.IsDir() {
			return usageError("record", "cannot write %s: its directory %s does not exist", f, filepath.Dir(f))
		}
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "pgseccomp record: run it as root: it reads the kernel's audit netlink socket (CAP_AUDIT_READ, CAP_AUDIT_CONTROL) and runs the cluster as the postgres OS user")
		return 2
	}

	var existing *cluster.Existing
	if cf.given() {
		if existing, err = cf.find(); err != nil {
			return usageError("record", "%v", err)
		}
	}
	if inPlace {
		if existing == nil {
			return usageError("record", "--in-place records an existing cluster: give --cluster or --pgdata")
		}
		if code, ok := confirmInPlace(existing, yes); !ok {
			return code
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := record.Run(ctx, record.Options{
		BinDir: binDir, Workloads: workloads, BuiltIn: builtin, PerRole: perRole, KeepIOUring: keepIOUring,
		MaxPasses: maxPasses, Progress: stderr, Terminal: isTerminal(stderr),
		Existing: existing, InPlace: inPlace, ServerLog: serverLog,
	})
	if err != nil {
		fmt.Fprintf(stderr, "pgseccomp record: %v\n", err)
		var failed *record.FailedError
		if errors.As(err, &failed) {
			fmt.Fprintln(stderr, "pgseccomp record: no files written: the recorded lists did not hold")
		}
		return 1
	}
	if err := res.WriteFiles(profileOut, confOut, action); err != nil {
		fmt.Fprintf(stderr, "pgseccomp record: %v\n", err)
		return 1
	}
	res.WriteSummary(stdout)
	fmt.Fprintf(stdout, "profile: %s (for %s)\nconf.d snippet (%s defaults): %s\n", profileOut, res.Profile.Provenance.For(), action, confOut)
	return 0
}

// confirmInPlace asks before an in-place recording stops a server.
func confirmInPlace(e *cluster.Existing, yes bool) (int, bool) {
	pid, running := e.Running()
	if !running || yes {
		return 0, true
	}
	warning := fmt.Sprintf("--in-place stops the server of %s (pid %d) for the whole recording, minutes during which no client can connect, and starts it again afterwards", e, pid)
	if !isTerminal(os.Stdin) {
		return usageError("record", "%s: add --yes to do that without a terminal to ask on, or leave out --in-place to record on a copy while it keeps serving", warning), false
	}
	fmt.Fprintf(stderr, "%s.\nRecord on a copy instead (leave out --in-place) to avoid the outage. Stop it now? [y/N] ", warning)
	var answer string
	fmt.Fscanln(os.Stdin, &answer)
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		fmt.Fprintln(stderr, "pgseccomp record: not stopped; nothing done")
		return 1, false
	}
	return 0, true
}
