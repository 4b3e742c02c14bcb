package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// measure is one pgbench workload, run alternately on both clusters.
type measure struct {
	key         string // for --measures
	title       string // in the table
	description string
	// args are pgbench's workload arguments; -c, -j and -T are added.
	args func(o options) []string
	// figure is the tps line this measure reads (see tpsWithoutConnections).
	figure string
	// goal is the lowest acceptable median confined/unconfined tps ratio;
	// 0 means none.
	goal float64
	// connecting: every transaction opens its own session (-C), so the
	// average connection time is reported too.
	connecting bool
}

// installKey selects the session filter install measure in --measures.
const installKey = "install"

var measures = []measure{
	{
		key:         "select-only",
		title:       "select-only",
		description: "pgbench -S: one indexed SELECT per transaction on open connections; tps without initial connection time",
		args:        func(options) []string { return []string{"-S", "-n"} },
		figure:      tpsWithoutConnections,
		goal:        0.99,
	},
	{
		key:   "tpcb-like",
		title: "tpcb-like",
		description: "pgbench's default TPC-B-like read-write transaction on open connections (with -v pgbench vacuums " +
			"all four tables before each run, so that neither side inherits the other's dead rows); tps without initial connection time",
		args:   func(options) []string { return []string{"-b", "tpcb-like", "-v"} },
		figure: tpsWithoutConnections,
		goal:   0.99,
	},
	{
		key:   "select-only-connect",
		title: "select-only -C",
		description: "pgbench -S -C: a new session (fork, authentication, session filter install) for every " +
			"transaction; tps including reconnection times",
		args:       func(options) []string { return []string{"-S", "-C", "-n"} },
		figure:     tpsIncludingConnections,
		goal:       0.98,
		connecting: true,
	},
	{
		key:   "client-filter-connect",
		title: "client filter -C",
		description: "pgbench -C with " + clientFilterScriptFile + ": every session first runs SELECT :side.set_client_filter" + clientFilterArgs +
			" then the select-only transaction; pgseccomp's function is in schema confined, a SQL stub returning 'OK' in schema unconfined; tps including reconnection times",
		args: func(o options) []string {
			return []string{"-C", "-n", "-s", strconv.Itoa(o.Scale), "-f", clientFilterScriptFile}
		},
		figure:     tpsIncludingConnections,
		connecting: true,
	},
}

// measureKeys lists the names --measures accepts.
func measureKeys() []string {
	keys := []string{}
	for _, m := range measures {
		keys = append(keys, m.key)
	}
	return append(keys, installKey, syscallCostKey, watchKey)
}

// pgbenchRun is one pgbench run of a measure on one side.
type pgbenchRun struct {
	// Pair is the run's pair, 1..pairs; pairs+1 is the closing unconfined run.
	Pair      int       `json:"pair"`
	Cluster   string    `json:"cluster"`
	StartedAt time.Time `json:"started_at"`
	// WallSeconds is how long the pgbench process ran, start-up included.
	WallSeconds float64 `json:"wall_seconds"`
	// LoadAverage1 is the one-minute load average just before the run.
	LoadAverage1 float64 `json:"loadavg_1min_before"`
	pgbenchResult
	Stdout string `json:"pgbench_stdout"`
}

// measureResult is a measure's raw runs and their summary.
type measureResult struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	PgbenchArgs []string     `json:"pgbench_args"`
	TPSFigure   string       `json:"tps_figure"`
	GoalRatio   float64      `json:"goal_min_ratio,omitempty"`
	Runs        []pgbenchRun `json:"runs"`
	// TPS summarises the tps of the pairs; ConnectionMS the average
	// connection time, for measures that connect per transaction.
	TPS          pairSummary  `json:"tps"`
	ConnectionMS *pairSummary `json:"connection_ms,omitempty"`
	Result       string       `json:"result,omitempty"` // PASS or MISS against the goal
}

// workloadArgs are a measure's full pgbench arguments for a timed run.
func workloadArgs(m measure, o options, d time.Duration) []string {
	return append(m.args(o),
		"-c", strconv.Itoa(o.Clients), "-j", strconv.Itoa(o.Jobs),
		"-T", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}

// runMeasure warms the server up with the workload as each side, then
// runs o.Pairs pairs, unconfined then confined, and a closing unconfined
// run: each run on a freshly restarted server (see benchCluster.use), a
// fresh pgbench with fresh connections, followed by a checkpoint.
func runMeasure(ctx context.Context, m measure, b *benchCluster, sides []side, o options, progress io.Writer) (measureResult, error) {
	args := workloadArgs(m, o, o.Duration)
	res := measureResult{
		Name:        m.title,
		Description: m.description,
		PgbenchArgs: args,
		TPSFigure:   m.figure,
		GoalRatio:   m.goal,
	}
	// run is one pgbench run as side s: the schema variable the
	// client-filter script needs goes last.
	run := func(s side, args []string) (pgbenchResult, string, error) {
		if err := b.use(ctx, s, nil); err != nil {
			return pgbenchResult{}, "", err
		}
		r, stdout, err := runPgbench(ctx, b.c, append(slices.Clone(args), "-D", "side="+s.name))
		if err == nil {
			err = checkRun(r, m.figure)
		}
		if err == nil {
			err = b.checkpoint(ctx)
		}
		return r, stdout, err
	}
	if o.Warmup > 0 {
		warm := workloadArgs(m, o, o.Warmup)
		for _, s := range sides {
			fmt.Fprintf(progress, "%s: warm-up %s as the %s side\n", m.title, o.Warmup, s.name)
			if _, _, err := run(s, warm); err != nil {
				return res, fmt.Errorf("%s, warm-up as the %s side: %w", m.title, s.name, err)
			}
		}
	}
	tps := map[string][]float64{}
	conn := map[string][]float64{}
	// Pair n+1 is the closing unconfined run alone (sides[0] is the
	// unconfined side), so that every confined run has an unconfined run on
	// either side of it (see summarisePairs).
	for pair := 1; pair <= o.Pairs+1; pair++ {
		pairSides := sides
		if pair > o.Pairs {
			pairSides = sides[:1]
		}
		for _, s := range pairSides {
			load := loadAverage1()
			start := time.Now()
			r, stdout, err := run(s, args)
			if err != nil {
				return res, fmt.Errorf("%s, pair %d, %s side: %w", m.title, pair, s.name, err)
			}
			res.Runs = append(res.Runs, pgbenchRun{
				Pair: pair, Cluster: s.name, StartedAt: start.UTC(),
				WallSeconds:   time.Since(start).Seconds(),
				LoadAverage1:  load,
				pgbenchResult: r,
				Stdout:        stdout,
			})
			tps[s.name] = append(tps[s.name], r.TPS)
			conn[s.name] = append(conn[s.name], r.ConnectionMS)
		}
		if pair > 1 {
			before, c, after := tps[unconfinedSide][pair-2], tps[confinedSide][pair-2], tps[unconfinedSide][pair-1]
			fmt.Fprintf(progress, "%s: pair %d/%d: unconfined %.1f, confined %.1f, unconfined %.1f tps: ratio %.3f (load %.2f)\n",
				m.title, pair-1, o.Pairs, before, c, after, bracketRatio(before, c, after), loadAverage1())
		}
	}
	res.TPS = summarisePairs(tps[unconfinedSide], tps[confinedSide])
	if m.connecting {
		s := summarisePairs(conn[unconfinedSide], conn[confinedSide])
		res.ConnectionMS = &s
	}
	if m.goal > 0 {
		res.Result = verdict(res.TPS.RatioMedian >= m.goal)
	}
	return res, nil
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}

// installResult is the session filter install measure: the times confined
// backends logged at DEBUG1 during a burst of connections.
type installResult struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	PgbenchArgs []string `json:"pgbench_args"`
	// Roles counts the samples per role the lines name.
	Roles     map[string]int `json:"roles"`
	SamplesUS []float64      `json:"samples_us"`
	US        distribution   `json:"us"`
	// SyscallUS is the seccomp() syscall's share of each install: what the
	// kernel takes to check, JIT-compile and attach the program.
	SyscallSamplesUS []float64    `json:"syscall_samples_us,omitempty"`
	SyscallUS        distribution `json:"syscall_us"`
	GoalMedianUS     float64      `json:"goal_max_median_us"`
	Result           string       `json:"result"`
	// The burst's pgbench summary: each transaction was its own session,
	// and pgbench opened one more before the burst.
	pgbenchResult
}

// installGoalUS is the goal for the median session filter install time.
const installGoalUS = 50

// measureInstall runs a burst of o.InstallConnections sessions (pgbench -S
// -C) on the server restarted as the confined side with log_min_messages =
// debug1, and collects the install time each backend logged. Debug logging
// is for this measure only: the next use of the cluster drops it.
func measureInstall(ctx context.Context, b *benchCluster, confined side, o options, progress io.Writer) (res installResult, err error) {
	perClient := max(1, (o.InstallConnections+o.Clients-1)/o.Clients)
	args := []string{"-S", "-C", "-n", "-c", strconv.Itoa(o.Clients), "-j", strconv.Itoa(o.Jobs), "-t", strconv.Itoa(perClient)}
	res = installResult{
		Name: "session filter install",
		Description: "time from choosing the role's ready program to the kernel's answer, that each confined backend logs at DEBUG1 (CLOCK_MONOTONIC), " +
			"with the seccomp() syscall's share, over a burst of pgbench -S -C sessions on the confined side",
		PgbenchArgs:  args,
		GoalMedianUS: installGoalUS,
	}
	if err := b.use(ctx, confined, map[string]string{"log_min_messages": "debug1"}); err != nil {
		return res, err
	}
	_, offset, err := b.c.LogSince(0)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "%s: %d sessions with log_min_messages = debug1 on the confined side\n", res.Name, perClient*o.Clients)
	r, _, err := runPgbench(ctx, b.c, args)
	if err == nil {
		err = checkRun(r, tpsIncludingConnections)
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", res.Name, err)
	}
	res.pgbenchResult = r
	logged, _, err := b.c.LogSince(offset)
	if err != nil {
		return res, err
	}
	samples, err := parseInstallLines(logged)
	if err != nil {
		return res, fmt.Errorf("%s: %w", res.Name, err)
	}
	if len(samples) == 0 {
		return res, errNoInstallLines(b.c.LogFile, r.Transactions)
	}
	if int64(len(samples)) < r.Transactions {
		fmt.Fprintf(progress, "%s: warning: %d install lines for %d sessions; some backends did not log theirs\n",
			res.Name, len(samples), r.Transactions)
	}
	res.Roles = map[string]int{}
	for _, smp := range samples {
		res.SamplesUS = append(res.SamplesUS, smp.Micros)
		if smp.SyscallMicros > 0 {
			res.SyscallSamplesUS = append(res.SyscallSamplesUS, smp.SyscallMicros)
		}
		res.Roles[smp.Role]++
	}
	res.US = distributionOf(res.SamplesUS)
	if len(res.SyscallSamplesUS) > 0 {
		res.SyscallUS = distributionOf(res.SyscallSamplesUS)
	}
	res.Result = verdict(res.US.Median <= installGoalUS)
	return res, nil
}

// selectedMeasures returns the measures --measures names, in table order,
// and whether the install measure is selected.
func selectedMeasures(keys []string) ([]measure, bool) {
	var out []measure
	for _, m := range measures {
		if slices.Contains(keys, m.key) {
			out = append(out, m)
		}
	}
	return out, slices.Contains(keys, installKey)
}
