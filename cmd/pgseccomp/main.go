// Command pgseccomp is the operator's tool for the pgseccomp PostgreSQL
// extension, which confines PostgreSQL processes with seccomp filters.
//
// Usage:
//
//	pgseccomp <command> [flags] [arguments]
//
// Run "pgseccomp help" for the list of commands and "pgseccomp help
// <command>" (or "pgseccomp <command> --help") for one command's flags and
// examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// Every command writes its output here, so that tests can capture it.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

// command is one subcommand. run gets the arguments after the command name
// and returns the exit status: 0 success, 1 a problem found, 2 a usage or
// input error.
type command struct {
	name    string
	summary string // one line, shown by "pgseccomp help"
	run     func(args []string) int
}

// commands is the dispatch table; add a line here for each new command
// (and put the command in its own file).
var commands = []command{
	{"status", "show how each PostgreSQL process is confined by seccomp", runStatus},
	{"demo", "run a throwaway PostgreSQL under pgseccomp and show what it confines", runDemo},
	{"syscalls", "list the syscalls named in seccomp audit records, ready for postgresql.conf", runSyscalls},
	{"explain", "show offline the filters a postgresql.conf gives, as seccomp_filter() would", runExplain},
	{"lint", "find mistakes and risks in a pgseccomp configuration", runLint},
	{"systemd", "write a systemd drop-in that confines the PostgreSQL service", runSystemd},
	{"export", "write an OCI, Docker or Kubernetes seccomp profile", runExport},
	{"profile", "show, merge, compare pgseccomp profiles, or turn one into a conf.d file", runProfile},
	{"watch", "print every seccomp violation of a cluster, attributed to its session and statement", runWatch},
	{"record", "record the syscalls PostgreSQL makes and write a proven allow-list profile", runRecord},
	{"install", "put a profile in force on an existing cluster (conf.d snippet, shared_preload_libraries)", runInstall},
	{"uninstall", "remove what install wrote", runUninstall},
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches to the command named by args[0].
func run(args []string) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		return runHelp(args[1:])
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "pgseccomp: unknown command %q\n\n", name)
		printCommands(stderr)
		fmt.Fprintln(stderr, "\nRun 'pgseccomp help' for usage.")
		return 2
	}
	return cmd.run(args[1:])
}

// runHelp implements "pgseccomp help [command]".
func runHelp(args []string) int {
	switch len(args) {
	case 0:
		printUsage(stdout)
		return 0
	case 1:
		cmd := lookup(args[0])
		if cmd == nil {
			fmt.Fprintf(stderr, "pgseccomp help: unknown command %q\n\n", args[0])
			printCommands(stderr)
			return 2
		}
		return cmd.run([]string{"--help"})
	default:
		fmt.Fprintln(stderr, "usage: pgseccomp help [command]")
		return 2
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `pgseccomp is the operator's tool for the pgseccomp PostgreSQL extension.

Usage:
  pgseccomp <command> [flags] [arguments]

`)
	printCommands(w)
	fmt.Fprint(w, `
Run 'pgseccomp help <command>' or 'pgseccomp <command> --help' for a
command's flags and examples.
`)
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "Commands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  %s\t%s\n", "help", "show this list, or one command's usage")
	tw.Flush()
}

// newFlagSet returns a flag set for command name; parse it with parseFlags.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("pgseccomp "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags reports errors itself
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments. When it returns ok == false the
// command must return code: 0 after printing usage, the command's full help
// text, for --help; 2 after reporting a bad flag.
func parseFlags(fs *flag.FlagSet, args []string, usage string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0, false
	default:
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", fs.Name(), err, fs.Name())
		return 2, false
	}
}

// usageError reports a usage or input error of command name and returns
// exit status 2.
func usageError(name, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(stderr, "pgseccomp %s: %s\n", name, strings.TrimSuffix(msg, "\n"))
	return 2
}

// flagsSet returns the names of the flags given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
