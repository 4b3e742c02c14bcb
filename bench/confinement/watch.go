package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/watch"
)

// watchKey selects the pgseccomp watch measure in --measures.
const watchKey = "watch"

// watchResult is what pgseccomp watch costs: pgbench -S throughput of a
// server that logs every syscall, with and without a watch of it
// running, and the watch's CPU time per 100,000 records.
type watchResult struct {
	Name string `json:"name"`
	// Pairs of runs, without then with the watch.
	WithoutTPS []float64 `json:"without_watch_tps"`
	WithTPS    []float64 `json:"with_watch_tps"`
	Ratios     []float64 `json:"ratios"`
	// RatioMedian is the median of with/without.
	RatioMedian float64 `json:"ratio_median"`
	// Records the watch counted as the cluster's, in all runs with it.
	Records uint64 `json:"records"`
	// CPUPer100k is the watch's user+system CPU time (this process's,
	// which does nothing else meanwhile) per 100,000 records, in seconds.
	CPUPer100k float64 `json:"cpu_s_per_100k_records"`
	// Lost and Overflows must be 0: else the watch missed records.
	Lost      uint64 `json:"kernel_lost"`
	Overflows uint64 `json:"capture_overflows"`
}

// watchSettings make a server whose global layer logs every syscall of
// every process: the heaviest load of records a watch can meet.
var watchSettings = map[string]string{
	"shared_preload_libraries":          "'pgseccomp'",
	"pgseccomp.enabled":                 "on",
	"pgseccomp.global_syscall_default":  "'log'",
	"pgseccomp.session_syscall_default": "'allow'",
}

// measureWatch runs the watch measure on a cluster of its own.
func measureWatch(ctx context.Context, o options, progress io.Writer) (watchResult, error) {
	res := watchResult{Name: "watch (log every syscall)"}
	c, err := cluster.New(ctx, cluster.Options{Settings: watchSettings})
	if err != nil {
		return res, err
	}
	defer c.Remove()
	if err := c.Start(ctx); err != nil {
		return res, err
	}
	cmd := c.Command(ctx, "pgbench", "-i", "-q", "-s", "1")
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return res, fmt.Errorf("pgbench -i: %w\n%s", err, lastLines(string(out), 12))
	}
	args := []string{"-S", "-n", "-c", strconv.Itoa(o.Clients), "-j", strconv.Itoa(o.Jobs), "-T", strconv.Itoa(int(o.Duration.Seconds()))}
	var cpu time.Duration
	for pair := 1; pair <= o.Pairs; pair++ {
		without, _, err := runPgbench(ctx, c, args)
		if err != nil {
			return res, err
		}
		with, used, st, err := pgbenchWatched(ctx, c, args)
		if err != nil {
			return res, err
		}
		cpu += used
		res.Records += st.Records
		res.Lost += st.Lost
		res.Overflows += st.Overflows
		res.WithoutTPS = append(res.WithoutTPS, without.TPS)
		res.WithTPS = append(res.WithTPS, with.TPS)
		res.Ratios = append(res.Ratios, with.TPS/without.TPS)
		fmt.Fprintf(progress, "watch pair %d/%d: %.1f tps without, %.1f with (%d records)\n", pair, o.Pairs, without.TPS, with.TPS, st.Records)
	}
	sorted := slices.Sorted(slices.Values(res.Ratios))
	res.RatioMedian = sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		res.RatioMedian = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	if res.Records > 0 {
		res.CPUPer100k = cpu.Seconds() * 100000 / float64(res.Records)
	}
	return res, nil
}

// pgbenchWatched runs pgbench while a watch of the cluster runs in this
// process, and returns the CPU time the process used meanwhile.
func pgbenchWatched(ctx context.Context, c *cluster.Cluster, args []string) (pgbenchResult, time.Duration, watch.Stats, error) {
	capture, err := audit.OpenCapture()
	if err != nil {
		return pgbenchResult{}, 0, watch.Stats{}, err
	}
	defer capture.Close()
	w := watch.New(watch.Config{DataDir: c.DataDir, Log: watch.LogSource{Path: c.LogFile, Prefix: "%m [%p] "}, Out: io.Discard})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	before := processCPU()
	go func() { done <- w.Run(runCtx, capture) }()
	r, _, err := runPgbench(ctx, c, args)
	cancel()
	if werr := <-done; err == nil && werr != nil {
		err = fmt.Errorf("the watch failed: %w", werr)
	}
	return r, processCPU() - before, w.Stats(), err
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
