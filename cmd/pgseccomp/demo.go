package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/demo"
)

const demoUsage = `Usage: pgseccomp demo [--workload DURATION]

Creates a throwaway PostgreSQL cluster in a temporary directory, starts it
with pgseccomp enforcing an allow-list with "error" as the session default,
runs a small workload, shows pgseccomp status and a summary of
seccomp_filter(), shows a syscall the session filter blocks, then stops the
cluster and removes it, also when interrupted. Needs the extension installed
(make install) and, as root, the "postgres" OS user.

Flags:
  --workload DURATION  how long pgbench runs (default 5s, at least 1s)

Examples:
  pgseccomp demo
  pgseccomp demo --workload 10s
`

func runDemo(args []string) int {
	fs := newFlagSet("demo")
	workload := fs.Duration("workload", 5*time.Second, "how long pgbench runs")
	if code, ok := parseFlags(fs, args, demoUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("demo", "unexpected arguments %q; the demo takes only --workload", fs.Args())
	}
	if *workload < time.Second {
		return usageError("demo", "--workload %s is too short; give at least 1s", *workload)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := demo.Run(ctx, demo.Options{
		Out:      stdout,
		Workload: *workload,
		Status: func(dataDir string) int {
			return runStatus([]string{"--pgdata", dataDir})
		},
	})
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "pgseccomp demo: interrupted; the demo cluster has been removed")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "pgseccomp demo: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "\ndemo finished: every process was confined, and the session filter blocked what it should")
	return 0
}
