package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgseccomp/pgseccomp/internal/filterprog"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
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
                  "pg15.json: session.allow"; with --cluster or --pgdata,
                  the server it is meant for: a warning when its major
                  (PG_VERSION), or this machine's distribution, is not
                  the profile's
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

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// configFlags say which configuration to read: --config, --pgdata and
// --profile, shared by the commands that read a postgresql.conf.
type configFlags struct {
	file    string
	cluster clusterFlags
	profile string
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "config", "", "postgresql.conf (or profile) to read")
	c.cluster.register(fs)
	fs.StringVar(&c.profile, "profile", "", "pgseccomp profile to read")
}

// loadedConfig is a configuration read and checked on one architecture.
type loadedConfig struct {
	input    *configInput
	settings *policy.Settings
	policy   *policy.Policy
	problems policy.Problems // what pgseccomp would reject
}

// load reads the configuration (or profile) the flags name. A non-nil error
// is an input error (exit status 2) and says what to do.
func (c *configFlags) load() (*configInput, error) {
	if c.profile != "" {
		if c.file != "" {
			return nil, errors.New("--profile reads a profile instead of a configuration: give it without --config")
		}
		in, err := readProfileInput(c.profile)
		if err == nil {
			in.targetMajor, err = c.cluster.major()
		}
		return in, err
	}
	if c.file != "" {
		in, isProfile, err := sniffProfile(c.file)
		if isProfile {
			if err == nil {
				in.targetMajor, err = c.cluster.major()
			}
			return in, err
		}
	}
	file, dataDir, major := c.file, "", 0
	flags := c.cluster
	if file == "" && !flags.given() {
		flags.pgdata = os.Getenv("PGDATA")
		if flags.pgdata == "" {
			return nil, errors.New("no configuration given: use --config FILE, --cluster VERSION/NAME or --pgdata DIR (or set $PGDATA)")
		}
	}
	if flags.given() {
		e, err := flags.find()
		if err != nil {
			return nil, err
		}
		dataDir = e.DataDir
		major, _ = e.Major() // 0 when PG_VERSION cannot be read: every major's needs
		if file == "" {
			file = e.ConfigFile
		}
	}
	f, err := pgconf.LoadOptions(file, pgconf.Options{DataDir: dataDir})
	if err != nil {
		return nil, fmt.Errorf("%v\nPostgreSQL would not start with this configuration either; correct it and run again", err)
	}
	return &configInput{path: f.Path, files: f.Files, conf: f, targetMajor: major}, nil
}

// check reads pgseccomp's settings from in and builds the layers on arch.
func check(in *configInput, arch policy.Arch) *loadedConfig {
	lc := &loadedConfig{input: in}
	var problems policy.Problems
	if in.profile != nil {
		if problems := missingProblems(in, arch); problems != nil {
			lc.settings, _ = in.settings()
			lc.problems = problems
			return lc
		}
	}
	s, err := in.settings()
	if errors.As(err, &problems) {
		lc.problems = append(lc.problems, problems...)
	}
	lc.settings = s
	p, err := s.Build(arch)
	if errors.As(err, &problems) {
		lc.problems = append(lc.problems, problems...)
	}
	lc.policy = p
	return lc
}

// parseArchFlag returns the architecture --arch names, or the native one.
func parseArchFlag(name string) (policy.Arch, error) {
	if name == "" {
		return policy.NativeArch()
	}
	return policy.ParseArch(name)
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
		args, err := parseClientFilter(o.clientFilter)
		if err != nil {
			return usageError("explain", "--client-filter %q: %v", o.clientFilter, err)
		}
		client = &args
	}
	in, err := o.config.load()
	if err != nil {
		return usageError("explain", "%v", err)
	}
	arch, err := inputArch(o.arch, in)
	if err != nil {
		return usageError("explain", "--arch: %v", err)
	}
	lc := check(in, arch)

	for _, w := range lc.settings.Warnings {
		fmt.Fprintf(stderr, "pgseccomp explain: warning: %v\n", w)
	}
	if !o.json {
		for _, w := range activeWarnings(lc.settings) {
			fmt.Fprintf(stderr, "pgseccomp explain: warning: %s\n", w)
		}
	}
	if len(lc.problems) > 0 {
		fmt.Fprintf(stderr, "pgseccomp explain: pgseccomp would reject this %s (the server would not start; a reload would keep the previous session filters):\n", in.kind())
		for _, p := range lc.problems {
			fmt.Fprintf(stderr, "  %v\n", p)
		}
		return 1
	}

	roles := sessionRoles(o, lc.settings)
	report := explainReport{
		Config:   in.path,
		Files:    in.files,
		Arch:     arch.String(),
		Active:   lc.settings.Active(),
		Warnings: activeWarnings(lc.settings),
	}
	for _, w := range lc.settings.Warnings {
		report.Warnings = append(report.Warnings, w.Error())
	}
	notes := roleNotes(o.roles, lc.settings)
	if forWhat, mismatch := in.target(); forWhat != "" {
		if !o.json {
			fmt.Fprintf(stderr, "pgseccomp explain: note: the profile is for %s\n", forWhat)
		}
		for _, m := range mismatch {
			fmt.Fprintf(stderr, "pgseccomp explain: warning: %s\n", m)
			report.Warnings = append(report.Warnings, m)
		}
	}
	if n := lc.policy.NewerThanLibraryNote(); n != "" {
		notes = append(notes, n)
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "pgseccomp explain: note: %s\n", n)
		report.Warnings = append(report.Warnings, n)
	}
	if showGlobal {
		report.Global = lc.policy.GlobalRows()
	}
	exit := 0
	if showSession {
		for _, role := range roles {
			s := sessionReport{Role: role, Listed: isListed(lc.settings, role), ClientFilter: clientFilterSQL(client)}
			rows, err := lc.policy.SessionRows(role, client)
			if err != nil {
				s.Error = err.Error()
				exit = 1
			}
			s.Rows = rows
			report.Sessions = append(report.Sessions, s)
		}
	}

	if o.bpf {
		programs, err := layerPrograms(lc.policy, roles, client, showGlobal, showSession)
		if err != nil {
			fmt.Fprintf(stderr, "pgseccomp explain: --bpf: %v\n", err)
			return 1
		}
		report.Programs = programs
	}

	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			fmt.Fprintf(stderr, "pgseccomp explain: writing JSON: %v\n", err)
			return 2
		}
	} else {
		writeExplainTables(stdout, &report, o.why)
		if report.Programs != nil {
			fmt.Fprintln(stdout)
			writePrograms(stdout, report.Programs)
		}
	}
	for _, s := range report.Sessions {
		if s.Error != "" {
			fmt.Fprintf(stderr, "pgseccomp explain: %s: %s\n", sessionTitle(s), s.Error)
		}
	}
	return exit
}

// explainReport is the --json output.
type explainReport struct {
	Config   string          `json:"config"`
	Files    []string        `json:"files"`
	Arch     string          `json:"arch"`
	Active   bool            `json:"active"`
	Warnings []string        `json:"warnings"`
	Global   []policy.Row    `json:"global,omitempty"`
	Sessions []sessionReport `json:"sessions,omitempty"`
	Programs []programReport `json:"programs,omitempty"`
}

// programReport is one layer's BPF program, for --bpf.
type programReport struct {
	Layer        string `json:"layer"` // global, session or client
	Role         string `json:"role"`  // "" for the global layer and roles not listed
	Instructions int    `json:"instructions"`
	Bytes        int    `json:"bytes"`
	LongestPath  int    `json:"longest_path"`
}

// layerPrograms compiles every layer shown: the global one, and the
// session (and client) layer of each role.
func layerPrograms(p *policy.Policy, roles []string, client *policy.ClientArgs, global, session bool) ([]programReport, error) {
	var out []programReport
	add := func(l *policy.Layer, role string) error {
		prog, err := filterprog.Compile(l)
		if err != nil {
			return err
		}
		out = append(out, programReport{Layer: l.Origin.String(), Role: role,
			Instructions: len(prog), Bytes: 8 * len(prog), LongestPath: filterprog.LongestPath(prog)})
		return nil
	}
	if global || session {
		if err := add(p.Global, ""); err != nil {
			return nil, err
		}
	}
	if !session {
		return out, nil
	}
	for _, role := range roles {
		if err := add(p.SessionLayer(role).Over(p.Global), role); err != nil {
			return nil, err
		}
		if client != nil {
			l, err := p.ClientLayer(role, *client)
			if err != nil {
				continue // reported with the session's rows
			}
			if err := add(l, role); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func writePrograms(w io.Writer, programs []programReport) {
	fmt.Fprintln(w, "BPF programs (as the extension compiles them):")
	var cells [][]string
	for _, p := range programs {
		role := p.Role
		if role == "" && p.Layer != "global" {
			role = "(any role not listed)"
		}
		cells = append(cells, []string{p.Layer, role, strconv.Itoa(p.Instructions),
			strconv.Itoa(p.Bytes), strconv.Itoa(p.LongestPath)})
	}
	writePsqlTable(w, []string{"layer", "role", "instructions", "bytes", "longest_path"},
		map[int]bool{2: true, 3: true, 4: true}, cells)
}

type sessionReport struct {
	Role         string       `json:"role"`   // "" is any role not in session_roles
	Listed       bool         `json:"listed"` // the role is in pgseccomp.session_roles
	ClientFilter string       `json:"client_filter,omitempty"`
	Rows         []policy.Row `json:"rows"`
	Error        string       `json:"error,omitempty"`
}

// activeWarnings say when the configuration loads no filter at all.
func activeWarnings(s *policy.Settings) []string {
	var w []string
	if !s.Preloaded {
		w = append(w, "pgseccomp is not in shared_preload_libraries: the server loads no filter, and these rows describe what it would load once it is")
	}
	if !s.Enabled {
		w = append(w, policy.EnabledName+" is off: the server loads no filter, and these rows describe what it would load with enabled = on")
	}
	return w
}

func isListed(s *policy.Settings, role string) bool {
	for _, r := range s.SessionRoles {
		if r == role {
			return true
		}
	}
	return false
}

// roleNotes say how the server reads the --role names given: a name
// longer than NAMEDATALEN-1 bytes is truncated, and a name that is not
// listed in pgseccomp.session_roles but would be in lower case was folded
// there.
func roleNotes(given []string, s *policy.Settings) []string {
	var notes []string
	for _, r := range given {
		role := policy.TruncateIdentifier(r)
		if role != r {
			notes = append(notes, fmt.Sprintf("role name %q is %d bytes; PostgreSQL truncates names to 63 bytes (NAMEDATALEN-1), so this is a session of role %q", r, len(r), role))
		}
		if folded := pgconf.FoldName(role); folded != role && !isListed(s, role) && isListed(s, folded) {
			notes = append(notes, fmt.Sprintf("role %q is not in %s, which lists %q: an unquoted name there is folded to lower case, so %q gets the session-level settings; write it in double quotes (\"%s\") to list %q", role, policy.SessionRolesName, folded, role, role, role))
		}
	}
	return notes
}

// sessionRoles are the roles whose sessions to show: the --role names as
// the server knows them (truncated to NAMEDATALEN-1 bytes), and with
// --all-roles every listed role and one not listed ("").
func sessionRoles(o *explainOptions, s *policy.Settings) []string {
	var roles []string
	for _, r := range o.roles {
		roles = append(roles, policy.TruncateIdentifier(r))
	}
	if o.allRoles {
		seen := map[string]bool{}
		for _, r := range roles {
			seen[r] = true
		}
		for _, r := range s.SessionRoles {
			if !seen[r] {
				roles = append(roles, r)
				seen[r] = true
			}
		}
		roles = append(roles, "")
	}
	if len(roles) == 0 {
		roles = []string{""}
	}
	return roles
}

func sessionTitle(s sessionReport) string {
	var title string
	switch {
	case s.Role == "":
		title = "a session of any role not in pgseccomp.session_roles"
	case s.Listed:
		title = fmt.Sprintf("a session of role %q (in pgseccomp.session_roles)", s.Role)
	default:
		title = fmt.Sprintf("a session of role %q (not in pgseccomp.session_roles: session-level settings)", s.Role)
	}
	if s.ClientFilter != "" {
		title += ", after SELECT set_client_filter(" + s.ClientFilter + ")"
	}
	return title
}

func writeExplainTables(w io.Writer, r *explainReport, why bool) {
	first := true
	section := func(title string, rows []policy.Row) {
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		fmt.Fprintln(w, title+":")
		headers := []string{"syscall", "syscallnum", "filter_action", "context"}
		if why {
			headers = append(headers, "why")
		}
		var cells [][]string
		for _, row := range rows {
			line := []string{row.Syscall, strconv.Itoa(row.Number), row.FilterAction(), row.Context}
			if why {
				line = append(line, row.Why)
			}
			cells = append(cells, line)
		}
		writePsqlTable(w, headers, map[int]bool{1: true}, cells)
	}
	if r.Global != nil {
		section(fmt.Sprintf("Global filter (every process of the server; %s)", r.Arch), r.Global)
	}
	for _, s := range r.Sessions {
		if s.Error != "" {
			if !first {
				fmt.Fprintln(w)
			}
			first = false
			fmt.Fprintf(w, "%s:\n  no rows: %s\n", upperFirst(sessionTitle(s)), s.Error)
			continue
		}
		section(upperFirst(sessionTitle(s)), s.Rows)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// writePsqlTable writes rows as psql's aligned format does: centred
// headers, right-aligned numeric columns, and a "(N rows)" footer.
func writePsqlTable(w io.Writer, headers []string, numeric map[int]bool, rows [][]string) {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string, align func(i int, c string) string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("|")
			}
			b.WriteString(" " + align(i, c) + " ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(headers, func(i int, c string) string {
		pad := widths[i] - utf8.RuneCountInString(c)
		return strings.Repeat(" ", pad/2) + c + strings.Repeat(" ", pad-pad/2)
	})
	var sep []string
	for _, wd := range widths {
		sep = append(sep, strings.Repeat("-", wd+2))
	}
	fmt.Fprintln(w, strings.Join(sep, "+"))
	for _, row := range rows {
		line(row, func(i int, c string) string {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if numeric[i] {
				return pad + c
			}
			return c + pad
		})
	}
	if len(rows) == 1 {
		fmt.Fprintln(w, "(1 row)")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", len(rows))
	}
}

// clientArgNames are the names --client-filter accepts in its named form,
// in set_client_filter's argument order.
var clientArgNames = [1 + policy.NumActions]string{"default", "allow", "log", "error", "kill"}

// parseClientFilter reads --client-filter: set_client_filter's five
// arguments as SQL ('...' or NULL, comma-separated, optionally wrapped in
// "set_client_filter(...)"), or "name=value" pairs separated by ";".
func parseClientFilter(s string) (policy.ClientArgs, error) {
	t := strings.TrimSpace(s)
	if l := strings.ToLower(t); strings.HasPrefix(l, "select ") {
		t = strings.TrimSpace(t[len("select "):])
	}
	if l := strings.ToLower(t); strings.HasPrefix(l, "set_client_filter") {
		t = strings.TrimSpace(t[len("set_client_filter"):])
		if !strings.HasPrefix(t, "(") || !strings.HasSuffix(strings.TrimSuffix(t, ";"), ")") {
			return policy.ClientArgs{}, errors.New("set_client_filter needs its arguments in parentheses")
		}
		t = strings.TrimSuffix(t, ";")
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	if strings.HasPrefix(t, "'") || strings.HasPrefix(strings.ToUpper(t), "NULL") {
		args, err := parseSQLArgs(t)
		if err != nil {
			return policy.ClientArgs{}, err
		}
		return policy.ClientArgsFromSQL(args), nil
	}
	var args [1 + policy.NumActions]*string
	for _, part := range strings.Split(t, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok {
			return policy.ClientArgs{}, fmt.Errorf("%q is not name=value; write e.g. \"default=error; error=clone\", or the five SQL arguments \"'error', NULL, NULL, 'clone', NULL\"", strings.TrimSpace(part))
		}
		i := -1
		for j, n := range clientArgNames {
			if name == n || name == n+"_list" || (j == 0 && name == "default_action") {
				i = j
			}
		}
		if i < 0 {
			return policy.ClientArgs{}, fmt.Errorf("unknown argument %q: use default, allow, log, error or kill", name)
		}
		if args[i] != nil {
			return policy.ClientArgs{}, fmt.Errorf("argument %q given twice", name)
		}
		v := strings.TrimSpace(value)
		args[i] = &v
	}
	return policy.ClientArgsFromSQL(args), nil
}

// parseSQLArgs reads five comma-separated SQL arguments, each NULL or a
// single-quoted literal (a doubled quote is a quote inside it).
func parseSQLArgs(s string) ([1 + policy.NumActions]*string, error) {
	var args [1 + policy.NumActions]*string
	n := 0
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if n == len(args) {
			return args, fmt.Errorf("set_client_filter takes %d arguments (default_action, allow_list, log_list, error_list, kill_list), not more", len(args))
		}
		switch {
		case strings.HasPrefix(strings.ToUpper(s[i:]), "NULL"):
			i += 4
		case i < len(s) && s[i] == '\'':
			var b strings.Builder
			i++
			for {
				j := strings.IndexByte(s[i:], '\'')
				if j < 0 {
					return args, errors.New("a quoted argument is not closed")
				}
				b.WriteString(s[i : i+j])
				i += j + 1
				if i < len(s) && s[i] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			v := b.String()
			args[n] = &v
		default:
			return args, fmt.Errorf("argument %d must be NULL or a '...' literal, at %q", n+1, s[i:])
		}
		n++
		skipSpace()
		if i == len(s) {
			break
		}
		if s[i] != ',' {
			return args, fmt.Errorf("expected \",\" between arguments, at %q", s[i:])
		}
		i++
	}
	if n != len(args) {
		return args, fmt.Errorf("set_client_filter takes %d arguments (default_action, allow_list, log_list, error_list, kill_list), %d given", len(args), n)
	}
	return args, nil
}

// clientFilterSQL writes client arguments as SQL, or "" for none.
func clientFilterSQL(c *policy.ClientArgs) string {
	if c == nil {
		return ""
	}
	parts := []string{sqlLiteral(c.Default)}
	for _, l := range c.Lists {
		parts = append(parts, sqlLiteral(l))
	}
	return strings.Join(parts, ", ")
}

func sqlLiteral(s *string) string {
	if s == nil {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(*s, "'", "''") + "'"
}
