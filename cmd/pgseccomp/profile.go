package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

const profileUsage = `Usage: pgseccomp profile <subcommand> [flags] [arguments]

Work with pgseccomp profiles: the JSON files 'pgseccomp record' writes, which
hold the syscalls a PostgreSQL server was seen to make, per layer (global,
session, and each role with a session layer of its own), with where, when and
how they were recorded. Every subcommand checks its input as pgseccomp would
(format version, actions, every syscall name against libseccomp on the
profile's architecture, a syscall in two lists of a layer, role names) and
names the file, the JSON location and the value of each problem.

Subcommands:
  show FILE [--json]
      what a profile holds: provenance (tool, time, architecture, PostgreSQL,
      glibc, kernel, workloads, passes, additions), and per layer the default
      action, how many syscalls each list names and the audit records counted
  conf FILE [--enforce log|error|kill] [--output FILE]
      the configuration file that makes a server load the profile's filters,
      for a conf.d directory: pgseccomp.enabled = on and every setting of
      every layer. It does not set shared_preload_libraries (which would
      replace your list); its header says to add pgseccomp there.
      --enforce replaces every default action, e.g. to enforce a profile
      recorded with log defaults
  merge [--output FILE] A B [C...]
      one profile that allows whatever any input allows: per layer and role,
      each syscall gets the most permissive action of the inputs (allow < log
      < error < kill; an input's action is its list's, else its default), the
      default the most permissive default; a role only some inputs have is
      merged with the others' session layer (what its sessions get there);
      counts add up. The inputs must be of one architecture
  diff [--json] A B
      how two profiles' filters differ, layer by layer and role by role: the
      defaults and each syscall's effective action in A and in B (in JSON
      with "change": "looser" when B's is more permissive, else "tighter");
      then the provenance that differs

The commands that read a configuration (explain, lint, systemd, export) read
a profile too: --profile FILE, or --config FILE with a profile's file.

Flags:
  --output FILE, -o FILE
                 conf, merge: write to FILE (replaced atomically) instead of
                 stdout
  --enforce A    conf: every default action becomes A (log, error or kill)
  --json         show, diff: print JSON

Exit status:
  0  done; for diff: the filters are the same (provenance may differ)
  1  diff: the filters differ
  2  bad flags, or a profile that cannot be read or is not valid (every
     problem is named), or profiles of different architectures to merge

Examples:
  # what a recording holds
  pgseccomp profile show pg15.json

  # install it, enforcing with error (then add pgseccomp to
  # shared_preload_libraries, and restart)
  pgseccomp profile conf pg15.json --enforce error \
    --output /etc/postgresql/15/main/conf.d/pgseccomp.conf

  # recordings of two workloads (or two servers) as one profile
  pgseccomp profile merge -o all.json oltp.json nightly-batch.json

  # what changed after a PostgreSQL or glibc upgrade
  pgseccomp profile diff before.json after.json

  # in CI: fail when a new recording needs more than the shipped profile
  pgseccomp profile diff --json shipped.json new.json |
    jq -e '[.layers[] | .default, .syscalls[]? | select(.change == "looser")] | length == 0'

  # check a profile on an aarch64 server's syscall table, and what it loads
  pgseccomp lint --profile pg15.json --arch aarch64
  pgseccomp explain --profile pg15.json --role app
`

// profileSubcommands are the subcommands of "pgseccomp profile".
var profileSubcommands = map[string]func(args []string) int{
	"show":  runProfileShow,
	"conf":  runProfileConf,
	"merge": runProfileMerge,
	"diff":  runProfileDiff,
}

func runProfile(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, profileUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, profileUsage)
		return 0
	}
	sub, ok := profileSubcommands[args[0]]
	if !ok {
		return usageError("profile", "unknown subcommand %q: use show, conf, merge or diff (see 'pgseccomp profile --help')", args[0])
	}
	return sub(args[1:])
}

// parseProfileFlags parses a subcommand's flags, which may come before,
// between or after its arguments ("--" ends the flags), and returns the
// arguments.
func parseProfileFlags(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args, profileUsage); !ok {
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// outputFlag registers --output and its short form -o.
func outputFlag(fs *flag.FlagSet) *string {
	out := fs.String("output", "-", "output file, - for stdout")
	fs.StringVar(out, "o", "-", "output file, - for stdout")
	return out
}

// readProfiles reads the named profiles; a non-zero code means it has
// reported why.
func readProfiles(sub string, paths []string) ([]*profile.Profile, int) {
	var out []*profile.Profile
	for _, path := range paths {
		p, err := profile.Read(path)
		if err != nil {
			return nil, usageError("profile "+sub, "%v", err)
		}
		out = append(out, p)
	}
	return out, 0
}

func runProfileShow(args []string) int {
	fs := newFlagSet("profile show")
	jsonOut := fs.Bool("json", false, "print JSON")
	files, code, ok := parseProfileFlags(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		return usageError("profile show", "give one profile file, e.g. pgseccomp profile show pg15.json")
	}
	ps, code := readProfiles("show", files)
	if code != 0 {
		return code
	}
	p := ps[0]
	if *jsonOut {
		return writeJSON("profile show", showReport(p))
	}
	writeProfileSummary(stdout, p)
	return 0
}

// layerSummary is one layer in show's output.
type layerSummary struct {
	Layer   string        `json:"layer"` // global, session or role <name>
	Role    string        `json:"role,omitempty"`
	Default policy.Action `json:"default"`
	Allow   int           `json:"allow"`
	Log     int           `json:"log"`
	Error   int           `json:"error"`
	Kill    int           `json:"kill"`
	Records uint64        `json:"records"` // audit records counted while recording
}

type showJSON struct {
	File       string             `json:"file"`
	Format     string             `json:"format"`
	Provenance profile.Provenance `json:"provenance"`
	Layers     []layerSummary     `json:"layers"`
}

func showReport(p *profile.Profile) showJSON {
	r := showJSON{File: p.Source, Format: p.Format, Provenance: p.Provenance}
	add := func(name, role string, l profile.Layer) {
		r.Layers = append(r.Layers, layerSummary{Layer: name, Role: role, Default: l.Default,
			Allow: len(l.Allow), Log: len(l.Log), Error: len(l.Error), Kill: len(l.Kill), Records: l.Records()})
	}
	add(profile.GlobalLayerName, "", p.Global)
	add(profile.SessionLayerName, "", p.Session)
	for _, role := range p.RoleNames() {
		add(profile.RoleLayerName(role), role, p.Roles[role])
	}
	return r
}

func writeProfileSummary(w io.Writer, p *profile.Profile) {
	pv := &p.Provenance
	fmt.Fprintf(w, "Profile %s (%s)\n", p.Source, p.Format)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-13s %s\n", name+":", value)
		}
	}
	var recorded []string
	if !pv.RecordedAt.IsZero() {
		recorded = append(recorded, pv.RecordedAt.UTC().Format(time.RFC3339))
	}
	if pv.Tool != "" {
		recorded = append(recorded, "by "+pv.Tool)
	}
	if pv.Seconds > 0 {
		recorded = append(recorded, "in "+strconv.FormatFloat(pv.Seconds, 'f', 1, 64)+" s")
	}
	row("recorded", strings.Join(recorded, " "))
	row("architecture", pv.Architecture)
	row("postgresql", pv.PostgreSQL)
	row("glibc", pv.Glibc)
	row("kernel", pv.Kernel)
	row("distribution", pv.Distribution)
	row("workloads", strings.Join(pv.Workloads, ", "))
	for i, pass := range pv.Passes {
		name := ""
		if i == 0 {
			name = "passes"
		}
		fmt.Fprintf(w, "  %-13s %d %s: %d records, %d new, %s s\n", ifColon(name), pass.Number, pass.Phase, pass.Records, len(pass.New),
			strconv.FormatFloat(pass.Seconds, 'f', 1, 64))
	}
	for i, a := range pv.Added {
		name := ""
		if i == 0 {
			name = "added"
		}
		fmt.Fprintf(w, "  %-13s %s: %s (%s)\n", ifColon(name), a.Layer, strings.Join(a.Syscalls, ", "), a.Why)
	}
	row("merged from", strings.Join(pv.MergedFrom, ", "))

	fmt.Fprintln(w)
	var cells [][]string
	for _, l := range showReport(p).Layers {
		name := l.Layer
		if l.Role != "" {
			name = "role " + strconv.Quote(l.Role)
		}
		cells = append(cells, []string{name, l.Default.String(), strconv.Itoa(l.Allow), strconv.Itoa(l.Log),
			strconv.Itoa(l.Error), strconv.Itoa(l.Kill), strconv.FormatUint(l.Records, 10)})
	}
	writePsqlTable(w, []string{"layer", "default", "allow", "log", "error", "kill", "records"},
		map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true}, cells)
	if len(p.Roles) > 0 {
		fmt.Fprintln(w, "A role's layer replaces the session layer for the sessions it authenticates; other roles get the session layer.")
	}
}

func ifColon(name string) string {
	if name == "" {
		return ""
	}
	return name + ":"
}

func runProfileConf(args []string) int {
	fs := newFlagSet("profile conf")
	enforce := fs.String("enforce", "", "log, error or kill: every default action")
	output := outputFlag(fs)
	files, code, ok := parseProfileFlags(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		return usageError("profile conf", "give one profile file, e.g. pgseccomp profile conf pg15.json --enforce error")
	}
	var override *policy.Action
	if *enforce != "" {
		a, err := policy.ParseAction(*enforce)
		if err != nil || a == policy.Allow {
			return usageError("profile conf", "--enforce %q: use log, error or kill", *enforce)
		}
		override = &a
	}
	ps, code := readProfiles("conf", files)
	if code != 0 {
		return code
	}
	return writeOutput("profile conf", *output, []byte(profile.Snippet(ps[0], override)))
}

func runProfileMerge(args []string) int {
	fs := newFlagSet("profile merge")
	output := outputFlag(fs)
	files, code, ok := parseProfileFlags(fs, args)
	if !ok {
		return code
	}
	if len(files) < 2 {
		return usageError("profile merge", "give at least two profiles to merge, e.g. pgseccomp profile merge -o all.json a.json b.json")
	}
	ps, code := readProfiles("merge", files)
	if code != 0 {
		return code
	}
	merged, err := profile.Merge(ps...)
	if err != nil {
		return usageError("profile merge", "%v", err)
	}
	data, err := merged.Marshal()
	if err != nil {
		return usageError("profile merge", "%v", err)
	}
	return writeOutput("profile merge", *output, data)
}

func runProfileDiff(args []string) int {
	fs := newFlagSet("profile diff")
	jsonOut := fs.Bool("json", false, "print JSON")
	files, code, ok := parseProfileFlags(fs, args)
	if !ok {
		return code
	}
	if len(files) != 2 {
		return usageError("profile diff", "give two profiles, e.g. pgseccomp profile diff before.json after.json")
	}
	ps, code := readProfiles("diff", files)
	if code != 0 {
		return code
	}
	d := profile.Diff(ps[0], ps[1])
	if *jsonOut {
		if code := writeJSON("profile diff", d); code != 0 {
			return code
		}
	} else {
		fmt.Fprint(stdout, d.Text())
	}
	if d.Differ() {
		return 1
	}
	return 0
}

func writeJSON(cmd string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "pgseccomp %s: writing JSON: %v\n", cmd, err)
		return 2
	}
	return 0
}

// ---- profiles where a configuration is read (explain, lint, systemd, export)

// configInput is what a command reads pgseccomp's settings from: a
// postgresql.conf with everything it includes, or a profile.
type configInput struct {
	path    string           // the main file (absolute), or the profile as given
	files   []string         // every file read
	conf    *pgconf.File     // nil for a profile
	profile *profile.Profile // nil for a configuration
	// targetMajor is the PostgreSQL major of the server a profile is
	// meant for (--cluster, --pgdata or lint's --dsn), 0 if not known.
	targetMajor int
}

// major is the PostgreSQL major the input is checked for: the server's
// when known, else a profile's own; 0 when neither says.
func (in *configInput) major() int {
	if in.targetMajor == 0 && in.profile != nil {
		return in.profile.Provenance.Major()
	}
	return in.targetMajor
}

// osRelease is this machine's distribution (tests replace it).
var osRelease = profile.OSRelease

// target says what a profile is for and how that differs from where it
// is used: targetMajor and this machine's distribution; nothing for a
// configuration.
func (in *configInput) target() (forWhat string, mismatch []string) {
	if in.profile == nil {
		return "", nil
	}
	pv := in.profile.Provenance
	return pv.For(), profile.TargetMismatch(pv, profile.Target{Major: in.targetMajor, Distribution: osRelease()})
}

// kind says what the input is, for messages: "configuration" or "profile".
func (in *configInput) kind() string {
	if in.profile != nil {
		return "profile"
	}
	return "configuration"
}

// settings reads pgseccomp's settings from the input: a profile's are
// located in the profile (profile.json: session.allow).
func (in *configInput) settings() (*policy.Settings, error) {
	if in.profile != nil {
		return profile.ToSettings(in.profile)
	}
	return policy.SettingsFromConf(in.conf)
}

// readProfileInput reads the profile at path as a command's input.
func readProfileInput(path string) (*configInput, error) {
	p, err := profile.Read(path)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path)
	return &configInput{path: path, files: []string{abs}, profile: p}, nil
}

// sniffProfile reports whether the file --config names is a profile (a
// JSON object; no postgresql.conf starts so) and reads it if so. A file
// that cannot be read is left to the configuration reader to report.
func sniffProfile(path string) (*configInput, bool, error) {
	data, err := pgconf.ReadFile(path)
	if err != nil || !profile.Sniff(data) {
		return nil, false, nil
	}
	p, err := profile.Parse(data, path)
	if err != nil {
		return nil, true, fmt.Errorf("%v\n%s is JSON, so it was read as a pgseccomp profile", err, path)
	}
	abs, _ := filepath.Abs(path)
	return &configInput{path: path, files: []string{abs}, profile: p}, true, nil
}

// inputArch is the architecture a command checks on: --arch when given,
// else a profile's own, else this machine's.
func inputArch(flagValue string, in *configInput) (policy.Arch, error) {
	if flagValue == "" && in != nil && in.profile != nil {
		return in.profile.Arch()
	}
	return parseArchFlag(flagValue)
}

// missingProblems are the syscalls of a profile that do not exist on arch,
// one problem per list, located in the profile and naming every such
// syscall; nil when every name exists.
func missingProblems(in *configInput, arch policy.Arch) policy.Problems {
	var problems policy.Problems
	for _, m := range profile.MissingOn(in.profile, arch) {
		detail := fmt.Sprintf("Syscall %q does not exist on this architecture (%s).", m.Names[0], arch)
		if len(m.Names) > 1 {
			detail = fmt.Sprintf("Syscalls %s do not exist on this architecture (%s).", strings.Join(quoteAll(m.Names), ", "), arch)
		}
		problems = append(problems, policy.Problem{Where: in.path + ": " + m.Location, Detail: detail +
			fmt.Sprintf(" The profile was recorded on %s; a server of %s would refuse it: record a profile there.", in.profile.Provenance.Architecture, arch)})
	}
	return problems
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

// profileText rewrites setting names in a message about a profile into the
// profile's JSON locations ("allow pwritev in pgseccomp.global_syscall_allow
// (restart)" becomes "allow pwritev in global.allow of pg15.json"), since
// the user edits the profile, not settings.
func profileText(s string, in *configInput) string {
	if in.profile == nil {
		return s
	}
	locs := profile.Locations(in.profile)
	names := make([]string, 0, len(locs))
	for name := range locs {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) > len(names[j]) || len(names[i]) == len(names[j]) && names[i] < names[j]
	})
	var pairs []string
	for _, name := range names {
		loc := locs[name] + " of " + in.path
		pairs = append(pairs, name+" (restart)", loc, name+" (reload)", loc, name, locs[name])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
