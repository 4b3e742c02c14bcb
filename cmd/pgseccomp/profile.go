package main

import (
	"flag"
	"fmt"

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
		return writeJSON("profile show", profile.Show(p))
	}
	profile.WriteSummary(stdout, p)
	return 0
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
