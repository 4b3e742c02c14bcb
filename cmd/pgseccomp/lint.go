package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/lint"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/report"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

const lintUsage = `Usage: pgseccomp lint [--config FILE] [--cluster VER/NAME | --pgdata DIR] [--profile FILE] [--arch ARCH ...]
                      [--dsn DSN] [--json]

Find mistakes and risks in a pgseccomp configuration, or in a profile (the
JSON 'pgseccomp record' writes), without a server. The configuration is read
as the postmaster reads it (includes, include_dir, postgresql.auto.conf),
with the server's pg_hba.conf (hba_file), and checked as pgseccomp checks
it; then each layer (global, the session-level settings, every role in
pgseccomp.session_roles) is checked. Findings are ranked by consequence:

  error    the server does not start, connections of a configured kind are
           refused, a PANIC leaves the cluster down, or a layer's lists can
           be gone around
  warning  a risk, or a setting that does not do what it says
  notice   worth knowing

Checks (the word after each finding):
  invalid        a setting pgseccomp rejects (error); a bad word in a list is
                 named with its position and a "did you mean"
  ignored        a value PostgreSQL ignores, keeping the setting's default
  not-active     pgseccomp not in shared_preload_libraries, or enabled = off
  refused        the global filter denies seccomp: every connection refused
  startup, postmaster
                 what PostgreSQL 15 needs to start and accept connections
                 (glibc 2.33 and later: newfstatat, getdents64, pipe2,
                 pselect6, signalfd4; bind, listen, clone)
  wal-segment, abort
                 pwritev (new WAL segments) and abort()'s syscalls after a
                 PANIC: denied, the cluster stays down after a crash
  signal-return, relcache-init, buffer-io, sleep-resume, usleep
                 what any backend may need at any moment (the last two, a
                 resumed or a short sleep, are warnings)
  listen-tcp, ssl, peer, password
                 what listen_addresses, ssl = on and the pg_hba.conf
                 methods in force need before authentication
  methods        pg_hba.conf methods lint cannot judge (notice)
  twin           a syscall allowed while its twin is denied (clone/clone3,
                 stat/newfstatat, ...): newer twin denied is a warning, a
                 redundant older or optional one a notice
  io-uring       a layer that lets io_uring through while it denies
                 anything: operations submitted through a ring are not seen
                 by seccomp (error; a warning when an allow list names it)
  io-method      io_method = io_uring (PostgreSQL 18) without io_uring
                 named in the global allow list (error)
  global-only    a role's denials beyond the global layer: its code run by
                 autovacuum, apply workers or background workers is not
                 confined by them (warning; notice for the session level)
  kill           a kill action: one backend killed restarts every session
  overridden     a session or per-role entry the global layer overrides
  client-filter  seccomp denied to sessions: set_client_filter fails
  session-roles  a role name that folds to lower case; with --dsn, one the
                 server does not have, or has only in another case
  attribution    log_connections off, or no %p in log_line_prefix without
                 csvlog/jsonlog: a denial's pid cannot be tied to a role
  target         which PostgreSQL major, distribution and architecture a
                 profile is for (notice), and each way the server or this
                 machine differs (warning)
  install        with --cluster/--pgdata and a profile: what 'pgseccomp
                 install' would refuse (error)

Each finding says where (file:line of the setting, or for a profile the file
and JSON location, e.g. "pg15.json: global.allow"), why it matters and the
fix.

Flags:
  --config FILE  the postgresql.conf to read; postgresql.auto.conf is read
                 from --pgdata, else from the file's data_directory setting,
                 else from the file's own directory
` + clusterFlagsHelp + `  --profile FILE a pgseccomp profile instead (--config FILE reads one too,
                 recognized by its JSON); a profile has no server settings,
                 so listen-tcp, ssl, peer, password, methods, io-method and
                 attribution are checked only on a configuration. With
                 --cluster or --pgdata: that cluster's configuration with the
                 profile installed ('pgseccomp install --enforce error'
                 would write it; nothing is written), every check, and
                 what install would refuse (install). With --cluster,
                 --pgdata or --dsn, a warning (target) when the server's
                 major, or this machine's distribution, is not the
                 profile's
  --arch ARCH    check for servers of ARCH (x86_64, aarch64, i386, arm,
                 ppc64le, s390x, riscv64, ...); repeat for several, e.g. a
                 configuration shared by x86_64 and aarch64 servers, where a
                 name one lacks (open, stat on aarch64) stops the server.
                 Default: a profile's own architecture, else this machine's
  --dsn DSN      connect (pgx: a URL or key=value pairs, libpq's PG*
                 environment) and check pgseccomp.session_roles against the
                 server's pg_roles
  --json         print a JSON array of findings (fields: check, severity,
                 where, setting, role, arch, message, why, fix)

Exit status:
  0  no errors or warnings (notices may be printed)
  1  errors or warnings found
  2  bad flags, a configuration file that cannot be read or parsed, or a
     --dsn server that cannot be read

Examples:
  # check a cluster's configuration
  pgseccomp lint --pgdata /var/lib/postgresql/15/main

  # Debian layout, for a fleet of x86_64 and aarch64 servers
  pgseccomp lint --config /etc/postgresql/15/main/postgresql.conf --arch x86_64 --arch aarch64

  # and the role names against the running server
  sudo -u postgres pgseccomp lint --config /etc/postgresql/15/main/postgresql.conf --dsn 'dbname=postgres'

  # in CI: fail the pipeline on errors only
  pgseccomp lint --config postgresql.conf --json | jq -e 'all(.severity != "error")'

  # a recorded profile: does it cover PostgreSQL's failure paths?
  pgseccomp lint --profile pg15.json

  # and with the cluster it is for, before 'pgseccomp install'
  pgseccomp lint --cluster 15/main --profile pgseccomp-profile.json
`

func runLint(args []string) int {
	var config configFlags
	var archNames stringList
	fs := newFlagSet("lint")
	config.register(fs)
	fs.Var(&archNames, "arch", "architecture (repeatable)")
	dsn := fs.String("dsn", "", "connection string of the server whose roles to check")
	jsonOut := fs.Bool("json", false, "print JSON")
	if code, ok := parseFlags(fs, args, lintUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("lint", "unexpected argument %q; lint takes only flags (see 'pgseccomp lint --help')", fs.Arg(0))
	}
	in, err := config.load()
	if err != nil {
		return usageError("lint", "%v", err)
	}
	if len(archNames) == 0 {
		archNames = append(archNames, "")
	}
	li, err := lintInput(in, archNames)
	if err != nil {
		return usageError("lint", "--arch: %v", err)
	}
	if *dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if li.Roles, err = lint.FetchRoles(ctx, *dsn); err != nil {
			return usageError("lint", "--dsn: %v; check the connection string, or leave --dsn out to lint without the server", err)
		}
		if in.TargetMajor == 0 {
			if in.TargetMajor, err = lint.FetchMajor(ctx, *dsn); err != nil {
				return usageError("lint", "--dsn: %v", err)
			}
			li.Major = in.Major()
			li.ProfileFor, li.Mismatch = in.Target()
		}
	}
	findings := lint.Run(li)

	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []lint.Finding{}
		}
		if err := enc.Encode(findings); err != nil {
			fmt.Fprintf(stderr, "pgseccomp lint: writing JSON: %v\n", err)
			return 2
		}
	} else {
		writeFindings(stdout, findings)
	}
	if lint.Failed(findings) {
		return 1
	}
	return 0
}

func writeFindings(w io.Writer, findings []lint.Finding) {
	counts := map[string]int{}
	for _, fd := range findings {
		counts[fd.Severity]++
		where := fd.Where
		if where == "" {
			where = "pgseccomp"
		}
		scope := ""
		if fd.Arch != "" {
			scope = " [" + fd.Arch + "]"
		}
		fmt.Fprintf(w, "%s: %s: %s%s (%s)\n", where, fd.Severity, fd.Message, scope, fd.Check)
		fmt.Fprintf(w, "  why: %s\n", fd.Why)
		fmt.Fprintf(w, "  fix: %s\n", fd.Fix)
	}
	if len(findings) == 0 {
		fmt.Fprintln(w, "no findings")
		return
	}
	var parts []string
	for _, s := range []string{lint.Error, lint.Warning, lint.Notice} {
		if counts[s] > 0 {
			parts = append(parts, report.Plural(counts[s], s, s+"s"))
		}
	}
	fmt.Fprintf(w, "%s: %s\n", report.Plural(len(findings), "finding", "findings"), strings.Join(parts, ", "))
}

// lintInput is what lint checks of a loaded configuration or profile
// (lint.For, as install checks one), on each named architecture ("" is the
// input's own or this machine's).
func lintInput(in *source.Input, archNames []string) (lint.Input, error) {
	var archs []policy.Arch
	for _, name := range archNames {
		a, err := source.Arch(name, in)
		if err != nil {
			return lint.Input{}, err
		}
		if !slices.Contains(archs, a) {
			archs = append(archs, a)
		}
	}
	return lint.For(in, archs...), nil
}
