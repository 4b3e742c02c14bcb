package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/demo"
)

const demoUsage = `usage: pgseccomp demo [--workload DURATION]

Creates a throwaway PostgreSQL cluster in a temporary directory, starts it
with pgseccomp enforcing an allow-list with "error" as the session default,
runs a small workload, shows pgseccomp status and a summary of
seccomp_filter(), shows a syscall the session filter blocks, then stops the
cluster and removes it, also when interrupted. Needs the extension installed
(make install) and, as root, the "postgres" OS user.

Examples:
  pgseccomp demo
  pgseccomp demo --workload 10s

Flags:
`

func runDemo(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workload := fs.Duration("workload", 5*time.Second, "how long pgbench runs")
	fs.Usage = func() {
		fmt.Fprint(stderr, demoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *workload < time.Second {
		fmt.Fprintf(stderr, "pgseccomp demo: unexpected arguments %q (--workload must be at least 1s)\n", fs.Args())
		return 2
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
