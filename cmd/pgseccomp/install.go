package main

import (
	"fmt"

	"github.com/pgseccomp/pgseccomp/internal/install"
	"github.com/pgseccomp/pgseccomp/internal/lint"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

const installUsage = `Usage: pgseccomp install (--cluster VER/NAME | --pgdata DIR) --profile FILE
                         [--enforce log|error] [--dry-run]

Put a profile in force on an existing cluster: write the conf.d snippet
CONFIGDIR/conf.d/pgseccomp.conf (atomically) with the profile's settings
and, when the server does not load pgseccomp yet, a shared_preload_libraries
line that keeps every library it loads now and adds pgseccomp. No other
file is changed, so 'pgseccomp uninstall' gives back exactly the
configuration there was. The server uses it after a restart; install prints
the command, the way the cluster is managed (pg_ctlcluster, systemctl or
pg_ctl).

Before writing anything, install reads the configuration as the server
would with the snippet in place, and refuses (exit 2, nothing written) when
postgresql.conf does not read conf.d (it says what to add), when a line
read later would override the snippet (a conf.d file after it, ALTER
SYSTEM's postgresql.auto.conf), when pgseccomp.so is not installed, or when
lint finds something that would stop the server or refuse a configured
login.

Which cluster:
` + clusterFlagsHelp + `
What:
  --profile FILE      the profile ('pgseccomp record' writes one; the shipped
                      ones are in profiles/)
  --enforce ACT       the default action at every layer: log (the default:
                      nothing is denied, every syscall outside the lists is
                      audited; check with 'pgseccomp syscalls') or error
                      (denied with EACCES)
  --dry-run           check and print the snippet, write nothing

Exit status: 0 written (or, with --dry-run, would be), 2 refused or bad flags.

Examples:
  sudo pgseccomp install --cluster 15/main --profile pgseccomp-profile.json
  sudo pg_ctlcluster 15 main restart
  # nothing logged for a while? then enforce
  sudo pgseccomp install --cluster 15/main --profile pgseccomp-profile.json --enforce error
`

const uninstallUsage = `Usage: pgseccomp uninstall (--cluster VER/NAME | --pgdata DIR) [--dry-run]

Remove what 'pgseccomp install' wrote (CONFIGDIR/conf.d/pgseccomp.conf,
which holds the profile's settings and the shared_preload_libraries line
install added), and print the command that restarts the server without it.
A file of that name that install did not write is left alone (exit 2).

Which cluster:
` + clusterFlagsHelp + `
  --dry-run           say what would be removed, remove nothing

Examples:
  sudo pgseccomp uninstall --cluster 15/main && sudo pg_ctlcluster 15 main restart
`

func runInstall(args []string) int {
	var (
		cf          clusterFlags
		profilePath string
		enforce     string
		dryRun      bool
	)
	fs := newFlagSet("install")
	cf.register(fs)
	fs.StringVar(&profilePath, "profile", "", "the profile to put in force")
	fs.StringVar(&enforce, "enforce", "log", "default action at every layer: log or error")
	fs.BoolVar(&dryRun, "dry-run", false, "check, write nothing")
	if code, ok := parseFlags(fs, args, installUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("install", "unexpected argument %q; install takes only flags (see 'pgseccomp install --help')", fs.Arg(0))
	}
	if profilePath == "" {
		return usageError("install", "--profile is required: the profile to put in force ('pgseccomp record' writes one)")
	}
	action, err := policy.ParseAction(enforce)
	if err != nil {
		return usageError("install", "--enforce %q: use log or error", enforce)
	}
	e, err := cf.find()
	if err != nil {
		return usageError("install", "%v", err)
	}
	p, err := profile.Read(profilePath)
	if err != nil {
		return usageError("install", "%v", err)
	}
	pl, err := install.Install(e, p, action, lint.Blocking)
	for _, n := range notes(pl) {
		fmt.Fprintf(stderr, "pgseccomp install: note: %s\n", n)
	}
	if err != nil {
		return usageError("install", "%v", err)
	}
	if dryRun {
		fmt.Fprintf(stdout, "would write %s:\n%s", pl.Path, pl.Content)
		return 0
	}
	if err := pl.Apply(); err != nil {
		return usageError("install", "%v", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s defaults)\n", pl.Path, action)
	if pl.Preload != pl.PreloadWas {
		fmt.Fprintf(stdout, "shared_preload_libraries: %q -> %q\n", pl.PreloadWas, pl.Preload)
	}
	fmt.Fprintf(stdout, "restart the server to load it:\n  %s\n", e.RestartCommand())
	return 0
}

func runUninstall(args []string) int {
	var (
		cf     clusterFlags
		dryRun bool
	)
	fs := newFlagSet("uninstall")
	cf.register(fs)
	fs.BoolVar(&dryRun, "dry-run", false, "remove nothing")
	if code, ok := parseFlags(fs, args, uninstallUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("uninstall", "unexpected argument %q; uninstall takes only flags (see 'pgseccomp uninstall --help')", fs.Arg(0))
	}
	e, err := cf.find()
	if err != nil {
		return usageError("uninstall", "%v", err)
	}
	pl, err := install.Uninstall(e)
	if err != nil {
		return usageError("uninstall", "%v", err)
	}
	for _, n := range notes(pl) {
		fmt.Fprintf(stderr, "pgseccomp uninstall: note: %s\n", n)
	}
	if dryRun {
		fmt.Fprintf(stdout, "would remove %s\n", pl.Path)
		return 0
	}
	if err := pl.Apply(); err != nil {
		return usageError("uninstall", "%v", err)
	}
	fmt.Fprintf(stdout, "removed %s\nrestart the server to unload the filters:\n  %s\n", pl.Path, e.RestartCommand())
	return 0
}

func notes(pl *install.Plan) []string {
	if pl == nil {
		return nil
	}
	return pl.Notes
}
