package main

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pgseccomp/pgseccomp/internal/explain"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

const explainUsage = `Usage: pgseccomp explain [--config FILE] [--cluster VER/NAME | --pgdata DIR] [--profile FILE] [--role ROLE ...]
                         [--client-filter ARGS] [--context global|session|both]
                         [--arch ARCH] [--why] [--bpf] [--json]

Show, without a server, the rows SELECT * FROM seccomp_filter() would return
under a configuration: the global filter (context "global", what every
PostgreSQL process has) and the filters of a session of a role (context
"session": global, session and, with --client-filter, client layers merged).
Each row is a syscall one of the layers names, plus a <default> row for every
other syscall; filter_action is "layer->action": the effective action (the
strongest of the layers: allow < log < error < kill) and the layer that gives
it. The configuration is read as the postmaster reads it (includes,
include_dir, postgresql.auto.conf) and checked as pgseccomp checks it; a
setting pgseccomp would reject is reported with its file and line. A profile
(the JSON 'pgseccomp record' writes) is shown as the server that loads it
would show it, on the profile's architecture unless --arch says otherwise.

Which configuration:
  --config FILE   the postgresql.conf to read (e.g. /etc/postgresql/15/main/
                  postgresql.conf); postgresql.auto.conf is read from --pgdata,
                  else from the file's data_directory setting, else from the
                  file's own directory
` + clusterFlagsHelp + `  --profile FILE  a pgseccomp profile instead (--config FILE reads one too,
                  recognized by its JSON); problems are located in it, e.g.
                  "pg15.json: session.allow". With --cluster or --pgdata:
                  that cluster's configuration with the profile installed
                  (as 'pgseccomp install --enforce error' would write it),
                  and a warning when the cluster's major (PG_VERSION), or
                  this machine's distribution, is not the profile's
  (neither)       $PGDATA, as --pgdata

Which session:
  --role ROLE     a session of ROLE, the role the client authenticated as
                  (repeat for several; SET ROLE does not change filters); roles
                  in pgseccomp.session_roles get their own settings, any other
                  role the session-level ones. Default: a role not listed.
                  As in the server, a name is cut to 63 bytes (at a
                  character boundary), and is compared exactly with
                  session_roles, whose unquoted names are folded to lower
                  case (a note says when that leaves ROLE unlisted).
  --all-roles     every role in pgseccomp.session_roles, and any other role
  --client-filter ARGS
                  and after SELECT set_client_filter(ARGS) in that session.
                  ARGS are the function's five arguments as in SQL, quoted
                  with '...' or NULL (NULL: this session's value; '*': the
                  global list; a list: explicit, beats both):
                    --client-filter "'error', NULL, NULL, 'clone,clone3', NULL"
                  or named, separated by ";" (an argument not named is NULL):
                    --client-filter "default=error; error=clone,clone3"
  --context C     global, session or both (default both)

Output:
  --arch ARCH     resolve syscall names and numbers for ARCH (x86_64, aarch64,
                  i386, arm, ppc64le, s390x, riscv64, ...; default: this
                  machine's), as a server of that architecture would
  --why           add a column naming the setting (or set_client_filter
                  argument) that gives each row its action
  --bpf           also show the BPF program of each layer, compiled as the
                  extension compiles it (libseccomp, binary tree): its
                  instructions, bytes and longest path. The kernel runs a new
                  filter over every syscall number when it is installed, so
                  the longest path bounds a connection's install cost as well
                  as a filtered syscall's; no layer reads syscall arguments,
                  so every syscall all layers allow skips the filters
                  entirely (the kernel's constant-action cache)
  --json          print JSON: {"config", "files", "arch", "active",
                  "warnings", "global": [rows], "sessions": [{"role",
                  "listed", "client_filter", "rows", "error"}]}; each row has
                  syscall, syscallnum, filter_action, context, origin, action,
                  why; with --bpf, "programs": [{"layer", "role",
                  "instructions", "bytes", "longest_path"}]

Exit status:
  0  the rows are shown
  1  pgseccomp would reject the configuration (the server would not start;
     on reload the previous session filters stay), every connection would be
     refused, or set_client_filter would fail: stderr says why and where
  2  bad flags, or a configuration file that cannot be read or parsed

Examples:
  # what the cluster's filters are, as seccomp_filter() would show them
  pgseccomp explain --pgdata /var/lib/postgresql/15/main

  # Debian layout: configuration in /etc, data elsewhere
  pgseccomp explain --config /etc/postgresql/15/main/postgresql.conf

  # a session of role joe, and of every role with its own settings
  pgseccomp explain --pgdata "$PGDATA" --role joe
  pgseccomp explain --pgdata "$PGDATA" --all-roles --context session

  # after SELECT set_client_filter('error', NULL, NULL, 'clone', NULL)
  pgseccomp explain --role app --client-filter "'error', NULL, NULL, 'clone', NULL"

  # how big each layer's program is, for every role with its own settings
  pgseccomp explain --pgdata "$PGDATA" --all-roles --bpf

  # which setting decides each syscall, for an aarch64 server
  pgseccomp explain --config postgresql.conf --arch aarch64 --why

  # what a recorded profile loads in a session of role app
  pgseccomp explain --profile pg15.json --role app --context session

  # the syscalls a session of joe may not make
  pgseccomp explain --role joe --context session --json |
    jq -r '.sessions[0].rows[] | select(.action == "error" or .action == "kill") | .syscall'
`

// explainOptions are the flags of the explain command.
type explainOptions struct {
	config       configFlags
	roles        stringList
	allRoles     bool
	clientFilter string
	context      string
	arch         string
	why          bool
	bpf          bool
	json         bool
}

func runExplain(args []string) int {
	o := &explainOptions{}
	fs := newFlagSet("explain")
	o.config.register(fs)
	fs.Var(&o.roles, "role", "a session of this role (repeatable)")
	fs.BoolVar(&o.allRoles, "all-roles", false, "every role in pgseccomp.session_roles, and any other")
	fs.StringVar(&o.clientFilter, "client-filter", "", "set_client_filter's arguments")
	fs.StringVar(&o.context, "context", "both", "global, session or both")
	fs.StringVar(&o.arch, "arch", "", "architecture")
	fs.BoolVar(&o.why, "why", false, "add a column naming the deciding setting")
	fs.BoolVar(&o.bpf, "bpf", false, "show each layer's BPF program size")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	if code, ok := parseFlags(fs, args, explainUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("explain", "unexpected argument %q; explain takes only flags (see 'pgseccomp explain --help')", fs.Arg(0))
	}
	showGlobal, showSession := true, true
	switch o.context {
	case "both":
	case "global":
		showSession = false
	case "session":
		showGlobal = false
	default:
		return usageError("explain", "--context %q: use global, session or both", o.context)
	}
	if !showSession && (len(o.roles) > 0 || o.allRoles || o.clientFilter != "") {
		return usageError("explain", "--role, --all-roles and --client-filter describe sessions; they cannot go with --context global")
	}
	var client *policy.ClientArgs
	if o.clientFilter != "" {
		args, err := policy.ParseClientFilter(o.clientFilter)
		if err != nil {
			return usageError("explain", "--client-filter %q: %v", o.clientFilter, err)
		}
		client = &args
	}
	in, err := o.config.load()
	if err != nil {
		return usageError("explain", "%v", err)
	}
	arch, err := source.Arch(o.arch, in)
	if err != nil {
		return usageError("explain", "--arch: %v", err)
	}
	lc := source.Check(in, arch)

	for _, w := range lc.Settings.Warnings {
		fmt.Fprintf(stderr, "pgseccomp explain: warning: %v\n", w)
	}
	if !o.json {
		for _, w := range explain.ActiveWarnings(lc.Settings) {
			fmt.Fprintf(stderr, "pgseccomp explain: warning: %s\n", w)
		}
	}
	if len(lc.Problems) > 0 {
		fmt.Fprintf(stderr, "pgseccomp explain: pgseccomp would reject this %s (the server would not start; a reload would keep the previous session filters):\n", in.Kind())
		for _, p := range lc.Problems {
			fmt.Fprintf(stderr, "  %v\n", p)
		}
		return 1
	}

	r, notes, err := explain.Build(lc, explain.Options{Roles: o.roles, AllRoles: o.allRoles, Client: client,
		Global: showGlobal, Session: showSession, BPF: o.bpf})
	for _, n := range notes {
		fmt.Fprintf(stderr, "pgseccomp explain: note: %s\n", n)
	}
	if forWhat, mismatch := in.Target(); forWhat != "" {
		if !o.json {
			fmt.Fprintf(stderr, "pgseccomp explain: note: the profile is for %s\n", forWhat)
		}
		for _, m := range append(slices.Clone(in.Refusals), mismatch...) {
			fmt.Fprintf(stderr, "pgseccomp explain: warning: %s\n", m)
			r.Warnings = append(r.Warnings, m)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgseccomp explain: --bpf: %v\n", err)
		return 1
	}

	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(stderr, "pgseccomp explain: writing JSON: %v\n", err)
			return 2
		}
	} else {
		explain.WriteText(stdout, r, o.why)
	}
	exit := 0
	for _, s := range r.Sessions {
		if s.Error != "" {
			fmt.Fprintf(stderr, "pgseccomp explain: %s: %s\n", s.Title(), s.Error)
			exit = 1
		}
	}
	return exit
}
