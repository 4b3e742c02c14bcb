package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// report is the JSON file: everything needed to judge the figures again.
type report struct {
	Benchmark  string      `json:"benchmark"`
	StartedAt  time.Time   `json:"started_at"`
	FinishedAt time.Time   `json:"finished_at"`
	Machine    machineInfo `json:"machine"`
	Options    options     `json:"options"`
	// Settings are each cluster's postgresql.conf additions; they differ
	// only in the pgseccomp lines.
	Settings map[string]map[string]string `json:"settings"`
	// ClientFilter is what the client-filter measure runs on each side.
	ClientFilter struct {
		Script         string `json:"script"`
		UnconfinedStub string `json:"unconfined_stub"`
	} `json:"client_filter"`
	Measures []measureResult `json:"measures"`
	Install  *installResult  `json:"install,omitempty"`
	// SyscallCost is the kernel's per-syscall cost of the filters.
	SyscallCost *syscallCostResult `json:"syscall_cost,omitempty"`
	// Watch is what pgseccomp watch costs a server that logs every syscall.
	Watch *watchResult `json:"watch,omitempty"`
	Notes []string     `json:"notes"`
}

// notes explain the choices a reader of the figures needs to know.
var notes = []string{
	"One cluster serves both sides: the same files, on-disk layout and table history. Before every run it is restarted with the side's settings, its pgbench relations are loaded into shared buffers (pg_prewarm), and /proc must show the side's filters (postmaster 1 or 0, client backend 2 or 0, 3 after set_client_filter). With one data directory, no difference between two clusters' files can enter the comparison.",
	"Both sides share the same postgresql.conf tuning; the confined side adds pgseccomp: global and session default 'error', the demo allow-list (the global one adds bind, listen, clone, clone3 for the postmaster).",
	"Runs alternate unconfined, confined, for each pair, and one more unconfined run closes the measure; each run is a fresh pgbench with fresh connections, followed by a CHECKPOINT. tpcb-like runs with -v: all four tables are vacuumed before each run, so a run does not pay for the dead rows of the one before.",
	"ratio = a confined run's tps over the geometric mean of the unconfined runs just before and just after it, so a machine drifting steadily faster or slower, and the confined run always coming second, bias no ratio; the table shows the median ratio and the range over pairs. Goals are judged on the median ratio.",
	"With -C pgbench 15 prints only 'tps (including reconnection times)': each transaction's connection is inside the timed window, so the figure charges every session its fork, authentication and filter install.",
	"The client-filter measure calls :side.set_client_filter: pgseccomp's function in schema confined, and in schema unconfined a SQL function returning 'OK' (inlined by the planner), so the ratio charges pgseccomp the whole cost of compiling and loading the client filter.",
	"The install measure parses the DEBUG1 lines of one -C burst; log_min_messages is debug1 only during that burst. Its goal is judged on the median.",
}

// interval formats the median ratio's confidence interval with its
// coverage, e.g. "0.981..1.004 (96%)".
func interval(s pairSummary) string {
	return fmt.Sprintf("%.3f..%.3f (%.0f%%)", s.RatioLow, s.RatioHigh, 100*s.RatioCoverage)
}

// writeReport writes r as indented JSON to path, creating its directory.
func writeReport(path string, r *report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create the results directory: %w; pass --out", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the results: %w; pass --out", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the results: %w", err)
	}
	return nil
}

// printTable prints one line per measure, with its goal and verdict.
func printTable(w io.Writer, r *report) {
	o := r.Options
	load := strings.Join(firstFields(r.Machine.LoadAverageStart, 3), " ")
	fmt.Fprintf(w, "\npgseccomp confinement cost: %d pairs x %s, %d clients, %d jobs, scale %d; %d CPUs, load average %s at the start\n",
		o.Pairs, o.Duration, o.Clients, o.Jobs, o.Scale, r.Machine.CPUs, load)
	if busy := busyWarning(r.Machine); busy != "" {
		fmt.Fprintln(w, busy)
	}
	if o.Control != "" {
		fmt.Fprintln(w, o.Control.note())
	}
	const row = "%-22s %-4s %12s %12s %7s %-14s %-18s %-9s %s\n"
	fmt.Fprintf(w, row, "measure", "unit", "unconfined", "confined", "ratio", "min..max", "median's CI", "goal", "result")
	for _, m := range r.Measures {
		goal := ""
		if m.GoalRatio > 0 {
			goal = fmt.Sprintf(">= %.2f", m.GoalRatio)
		}
		t := m.TPS
		result := m.Result
		if m.GoalRatio > 0 && t.RatioLow < m.GoalRatio && m.GoalRatio <= t.RatioHigh {
			result += " (the interval spans the goal: more pairs to decide)"
		}
		fmt.Fprintf(w, row, m.Name, "tps", fmt.Sprintf("%.1f", t.UnconfinedMedian), fmt.Sprintf("%.1f", t.ConfinedMedian),
			fmt.Sprintf("%.3f", t.RatioMedian), fmt.Sprintf("%.3f..%.3f", t.RatioMin, t.RatioMax), interval(t), goal, result)
		if c := m.ConnectionMS; c != nil {
			fmt.Fprintf(w, row, "  connection time", "ms", fmt.Sprintf("%.3f", c.UnconfinedMedian), fmt.Sprintf("%.3f", c.ConfinedMedian),
				fmt.Sprintf("%.3f", c.RatioMedian), fmt.Sprintf("%.3f..%.3f", c.RatioMin, c.RatioMax), interval(*c), "", "(lower is better; no goal)")
		}
	}
	if sc := r.SyscallCost; sc != nil && len(sc.Stages) == 3 {
		fmt.Fprintf(w, "%-22s %-4s no filter %.1f  global %.1f  global+session %.1f (medians of %d rounds)   +%.1f ns per syscall\n",
			sc.Name, "ns", sc.Stages[0].MedianNS, sc.Stages[1].MedianNS, sc.Stages[2].MedianNS, sc.Rounds, sc.AddedNS)
	}
	if wr := r.Watch; wr != nil {
		fmt.Fprintf(w, "%-22s %-4s ratio with/without watch: median %.3f over %d pairs; watch CPU %.3f s per 100,000 records (%d records, kernel lost %d, overflows %d)\n",
			wr.Name, "tps", wr.RatioMedian, len(wr.Ratios), wr.CPUPer100k, wr.Records, wr.Lost, wr.Overflows)
	}
	if in := r.Install; in != nil {
		d := in.US
		fmt.Fprintf(w, "%-22s %-4s n=%d  min %.1f  median %.1f  p99 %.1f  max %.1f   goal: median <= %d us  %s\n",
			in.Name, "us", d.Count, d.Min, d.Median, d.P99, d.Max, installGoalUS, in.Result)
		if d := in.SyscallUS; d.Count > 0 {
			fmt.Fprintf(w, "%-22s %-4s n=%d  min %.1f  median %.1f  p99 %.1f  max %.1f   (the kernel's share)\n",
				"  of which seccomp()", "us", d.Count, d.Min, d.Median, d.P99, d.Max)
		}
	}
}

// busyWarning says when other work competed with the benchmark: a load
// average above the CPU count at the start. (During and after the runs the
// load counts pgbench and the servers themselves.) "" otherwise.
func busyWarning(m machineInfo) string {
	f := firstFields(m.LoadAverageStart, 1)
	if len(f) != 1 || m.CPUs <= 0 {
		return ""
	}
	load, err := strconv.ParseFloat(f[0], 64)
	if err != nil || load <= float64(m.CPUs) {
		return ""
	}
	return fmt.Sprintf("warning: one-minute load average %.2f on %d CPUs before the runs: other work competed with them, so the ratios are noisy (see min..max); rerun on a quiet machine before quoting them",
		load, m.CPUs)
}

// firstFields returns up to n whitespace-separated fields of s.
func firstFields(s string, n int) []string {
	f := strings.Fields(s)
	return f[:min(n, len(f))]
}

// problemLine marks server log lines that mean a run did not do what the
// other side did: errors, and syscalls a filter denied.
var problemLine = regexp.MustCompile(`\b(ERROR|FATAL|PANIC):|Permission denied`)

// problemLines returns the lines of a server log excerpt that problemLine
// matches, at most limit of them.
func problemLines(log string, limit int) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if problemLine.MatchString(line) {
			out = append(out, line)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}
