// Command confinement measures what pgseccomp costs a PostgreSQL server:
// pgbench throughput on two identical clusters, one unconfined and one
// confined, run alternately; and the time a backend takes to install its
// session filter. `make bench` runs it; see usage for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

const usage = `Usage: go run ./bench/confinement [flags]

Measure what seccomp confinement costs PostgreSQL. One throwaway cluster is
initialised and run two ways: "unconfined" (pgseccomp not loaded) and
"confined" (pgseccomp preloaded; global and session filters with "error"
defaults and the demo's allow-list). Before every run the server is
restarted as the side to measure, its pgbench relations loaded into shared
buffers, and its processes checked in /proc for the filters that side must
have. For each measure, pgbench runs as unconfined then confined, --pairs
times, and once more as unconfined to close; each run is a fresh pgbench
with fresh connections. A pair's ratio is its confined run's tps over the
geometric mean of the unconfined runs just before and after it, so a
steady drift of the machine, or always running second, biases no ratio.

Measures (all by default; choose with --measures):
  select-only            pgbench -S on open connections
  tpcb-like              pgbench's TPC-B-like read-write transaction, with -v
                         (all four tables vacuumed before each run)
  select-only-connect    pgbench -S -C: a new session per transaction
  client-filter-connect  pgbench -C, each session first calling
                         :side.set_client_filter('error', NULL, NULL, 'clone,clone3', NULL):
                         pgseccomp's function in schema confined, and in
                         schema unconfined a SQL stub of the same name and
                         signature returning 'OK'
  install                the session filter install time each confined backend
                         logs at DEBUG1, over a burst of -C sessions
  syscall-cost           the time of one getppid() with no filter, with the
                         confined side's global program, and with its global
                         and session programs, in a re-executed child: what
                         the kernel adds to each syscall of a confined backend
  watch                  pgbench -S on a cluster of its own whose global layer
                         logs every syscall, without and with pgseccomp watch
                         running in this process, in pairs: the ratio of tps,
                         and the watch's CPU time per 100,000 records (the
                         capture reads every record on the host, so other
                         processes' records make that figure higher)

Output: one line per measure with the median tps of each side, the median of
the per-pair ratios and their range, and the goal with
PASS or MISS (goals: select-only and tpcb-like >= 0.99, select-only -C >= 0.98,
median install <= 50 us), and a distribution-free confidence interval for
each median ratio. Every run's raw figures, the settings and the
machine go to the JSON file --out.

Flags:
  --pairs N               unconfined/confined pairs per measure (default 15:
                          on a busy virtual machine a run's tps varies by
                          several percent, and a 1% goal needs many pairs)
  --duration D            length of each run, whole seconds (default 5s)
  --warmup D              unmeasured run as each side before a measure's
                          pairs; 0 for none (default 3s)
  --clients N             pgbench clients, -c (default 4)
  --jobs N                pgbench threads, -j (default: the smaller of
                          --clients and the number of CPUs)
  --scale N               pgbench scale factor, -s (default 10)
  --install-connections N sessions in the install burst (default 1000)
  --measures LIST         comma-separated measures to run (default: all)
  --out FILE              JSON results (default bench/results/confinement.json,
                          or bench/results/confinement-quick.json with --quick)
  --quick                 a smoke test: 2 pairs x 2s, scale 1, 1s warm-up,
                          100 install sessions; flags given explicitly win
  --control               an A/A run: the confined side runs without pgseccomp
                          too, so the ratios show the benchmark's own noise
                          and bias on this machine; install and syscall-cost
                          are left out (results go to
                          bench/results/confinement-control.json)
  --control=loaded        the same, but the confined side preloads pgseccomp
                          with pgseccomp.enabled = off: the library and
                          libseccomp are in every server process, no filter
                          is; tells the cost of having the library loaded
                          from the cost of filtering (results go to
                          bench/results/confinement-control-loaded.json)
  --verbose               also print what the cluster does (initdb, start, ...)

Exit status:
  0  every measure ran; goals met or not (timing never fails the benchmark)
  1  something broke: the cluster did not start, pgbench failed or reported
     failed transactions, the server logged an error, a side was not confined
     as configured, or no install lines were logged
  2  bad flags

Examples:
  # what make bench runs
  go run ./bench/confinement

  # smoke test
  go run ./bench/confinement --quick

  # only connection cost, longer runs
  go run ./bench/confinement --measures select-only-connect,install --pairs 9 --duration 30s
`

// options are the benchmark's parameters, as recorded in the JSON file.
type options struct {
	Pairs              int           `json:"pairs"`
	Duration           time.Duration `json:"-"`
	DurationSeconds    float64       `json:"duration_s"`
	Warmup             time.Duration `json:"-"`
	WarmupSeconds      float64       `json:"warmup_s"`
	Clients            int           `json:"clients"`
	Jobs               int           `json:"jobs"`
	Scale              int           `json:"scale"`
	InstallConnections int           `json:"install_connections"`
	Measures           []string      `json:"measures"`
	Out                string        `json:"-"`
	Quick              bool          `json:"quick"`
	Control            controlMode   `json:"control,omitempty"`
	Verbose            bool          `json:"-"`
}

var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() {
	if os.Getenv(syscallCostChildEnv) != "" {
		if err := runSyscallCostChild(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(stderr, "confinement (syscall cost child): %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "confinement: %v\nRun with --help for the flags.\n", err)
		return 2
	}
	if err := bench(ctx, o); err != nil {
		fmt.Fprintf(stderr, "confinement: %v\n", err)
		return 1
	}
	return 0
}

// parseOptions parses and checks the flags; --quick lowers the defaults of
// the flags not given. Every error it returns is a usage error.
func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("confinement", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports errors, once
	fs.Usage = func() {}
	var o options
	var measuresFlag string
	fs.IntVar(&o.Pairs, "pairs", 15, "")
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "")
	fs.IntVar(&o.Clients, "clients", 4, "")
	fs.IntVar(&o.Jobs, "jobs", 0, "")
	fs.IntVar(&o.Scale, "scale", 10, "")
	fs.IntVar(&o.InstallConnections, "install-connections", 1000, "")
	fs.StringVar(&measuresFlag, "measures", strings.Join(measureKeys(), ","), "")
	fs.StringVar(&o.Out, "out", "", "")
	fs.BoolVar(&o.Quick, "quick", false, "")
	fs.Var(&o.Control, "control", "")
	fs.BoolVar(&o.Verbose, "verbose", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%v", err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; this command takes only flags", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if o.Quick {
		for name, set := range map[string]func(){
			"pairs":               func() { o.Pairs = 2 },
			"duration":            func() { o.Duration = 2 * time.Second },
			"warmup":              func() { o.Warmup = time.Second },
			"scale":               func() { o.Scale = 1 },
			"install-connections": func() { o.InstallConnections = 100 },
		} {
			if !given[name] {
				set()
			}
		}
	}
	if o.Out == "" {
		o.Out = "bench/results/confinement.json"
		if o.Quick {
			o.Out = "bench/results/confinement-quick.json"
		}
		if o.Control != "" {
			o.Out = strings.TrimSuffix(o.Out, ".json") + o.Control.outSuffix()
		}
	}
	if o.Jobs == 0 {
		o.Jobs = min(o.Clients, runtime.NumCPU())
	}
	switch {
	case o.Pairs < 1:
		return o, fmt.Errorf("--pairs %d: need at least 1 pair (5 or more for a figure worth quoting)", o.Pairs)
	case o.Duration < time.Second || o.Duration%time.Second != 0:
		return o, fmt.Errorf("--duration %s: pgbench runs whole seconds; give 1s or more, e.g. 10s", o.Duration)
	case o.Warmup < 0 || o.Warmup%time.Second != 0:
		return o, fmt.Errorf("--warmup %s: give whole seconds, or 0 for no warm-up", o.Warmup)
	case o.Clients < 1 || o.Clients > 90:
		return o, fmt.Errorf("--clients %d: give 1 to 90 (the clusters allow 100 connections)", o.Clients)
	case o.Jobs < 1 || o.Jobs > o.Clients:
		return o, fmt.Errorf("--jobs %d: give 1 to --clients (%d)", o.Jobs, o.Clients)
	case o.Scale < 1 || o.Scale > 1000:
		return o, fmt.Errorf("--scale %d: give 1 to 1000 (each unit is about 16 MB per cluster)", o.Scale)
	case o.InstallConnections < 1:
		return o, fmt.Errorf("--install-connections %d: give at least 1", o.InstallConnections)
	}
	for _, k := range strings.Split(measuresFlag, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if !slices.Contains(measureKeys(), k) {
			return o, fmt.Errorf("--measures: unknown measure %q; choose from %s", k, strings.Join(measureKeys(), ", "))
		}
		if !slices.Contains(o.Measures, k) {
			o.Measures = append(o.Measures, k)
		}
	}
	if len(o.Measures) == 0 {
		return o, fmt.Errorf("--measures is empty; choose from %s", strings.Join(measureKeys(), ", "))
	}
	o.DurationSeconds, o.WarmupSeconds = o.Duration.Seconds(), o.Warmup.Seconds()
	return o, nil
}

// bench runs the selected measures and writes the table and the JSON file.
func bench(ctx context.Context, o options) error {
	logf := func(string, ...any) {}
	if o.Verbose {
		logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	sides := sidesFor(o)
	r := &report{
		Benchmark: "pgseccomp bench/confinement",
		StartedAt: time.Now().UTC(),
		Machine:   readMachineInfo(),
		Options:   o,
		Settings:  map[string]map[string]string{},
		Notes:     notes,
	}
	for _, s := range sides {
		r.Settings[s.name] = s.settings
	}
	if o.Control != "" {
		r.Notes = append(slices.Clone(r.Notes), o.Control.note())
	}
	r.ClientFilter.Script = clientFilterScript
	r.ClientFilter.UnconfinedStub = clientFilterStub(unconfinedSide)

	fmt.Fprintf(stderr, "starting the cluster (scale %d, shared_buffers %dMB)\n", o.Scale, sharedBuffersMB(o.Scale))
	b, err := startCluster(ctx, o, sides, logf)
	if err != nil {
		if errors.Is(err, cluster.ErrNoInitdb) {
			return fmt.Errorf("%w\n(make deps installs PostgreSQL 15)", err)
		}
		return err
	}
	defer b.remove()
	for _, s := range sides {
		if err := b.use(ctx, s, nil); err != nil {
			return err
		}
	}
	if r.Machine.Pgbench, err = pgbenchVersion(ctx, b.c); err != nil {
		return err
	}
	if err := b.queryRow(ctx, "SELECT version()", &r.Machine.PostgreSQL); err != nil {
		return err
	}
	_, offset, err := b.c.LogSince(0)
	if err != nil {
		return err
	}

	if slices.Contains(o.Measures, syscallCostKey) && o.Control == "" {
		res, err := measureSyscallCost(ctx, o, stderr)
		if err != nil {
			return err
		}
		r.SyscallCost = &res
	}
	selected, install := selectedMeasures(o.Measures)
	for _, m := range selected {
		res, err := runMeasure(ctx, m, b, sides, o, stderr)
		if err != nil {
			return err
		}
		r.Measures = append(r.Measures, res)
	}
	if slices.Contains(o.Measures, watchKey) && o.Control == "" {
		res, err := measureWatch(ctx, o, stderr)
		if err != nil {
			return err
		}
		r.Watch = &res
	}
	if install && o.Control == "" {
		res, err := measureInstall(ctx, b, sides[1], o, stderr)
		if err != nil {
			return err
		}
		r.Install = &res
	}

	r.FinishedAt = time.Now().UTC()
	r.Machine.LoadAverageEnd = loadAverage()
	if busy := busyWarning(r.Machine); busy != "" {
		r.Notes = append(slices.Clone(r.Notes), busy)
	}
	printTable(stdout, r)
	logged, _, err := b.c.LogSince(offset)
	if err != nil {
		return err
	}
	if bad := problemLines(logged, 10); len(bad) > 0 {
		return fmt.Errorf("the server logged errors while it was measured, so its runs did not do the same work on both sides; results not written. First lines:\n%s",
			strings.Join(bad, "\n"))
	}
	if err := writeReport(o.Out, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raw figures: %s\n", o.Out)
	return nil
}
