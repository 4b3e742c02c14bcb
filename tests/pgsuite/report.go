package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// suiteSummary adds up a suite's units.
type suiteSummary struct {
	Suite      string   `json:"suite"`
	Passed     int      `json:"passed"`
	Total      int      `json:"total"`
	Failed     []string `json:"failed,omitempty"`  // test keys (see testKey)
	Ignored    []string `json:"ignored,omitempty"` // failures pg_regress was told to ignore
	Incomplete []string `json:"incomplete,omitempty"`
	Errors     []string `json:"errors,omitempty"`  // "unit: what went wrong"
	Skipped    []string `json:"skipped,omitempty"` // "unit: why"
	Units      int      `json:"units_run"`
	Seconds    float64  `json:"seconds"`
	Diffs      []string `json:"diffs,omitempty"`
	Crash      []string `json:"server_crash_lines,omitempty"`
	Denied     []string `json:"server_denied_lines,omitempty"`
}

// ok reports whether every test of the suite passed and nothing broke.
func (s suiteSummary) ok() bool {
	return len(s.Failed) == 0 && len(s.Incomplete) == 0 && len(s.Errors) == 0 && len(s.Crash) == 0
}

// testKey names a test across runs: "regress/rules", "isolation/deadlock-simple",
// "contrib/pgcrypto/pgp-encrypt", "contrib/postgres_fdw/isolation/eval_plan_qual".
func testKey(u *unitResult, kind, test string) string {
	if kind == u.mainKind() {
		return u.id() + "/" + test
	}
	return u.id() + "/" + kind + "/" + test
}

// summarize adds up the units of one suite.
func summarize(suite string, units []*unitResult) suiteSummary {
	s := suiteSummary{Suite: suite}
	for _, u := range units {
		if u.Suite != suite {
			continue
		}
		if u.Skipped != "" {
			s.Skipped = append(s.Skipped, u.id()+": "+u.Skipped)
			continue
		}
		s.Units++
		s.Seconds += u.Seconds
		for _, run := range u.Runs {
			for _, t := range run.Tests {
				s.Total++
				key := testKey(u, run.Kind, t.Name)
				switch t.Status {
				case StatusPassed:
					s.Passed++
				case StatusFailed:
					s.Failed = append(s.Failed, key)
				case StatusFailedIgnored:
					s.Ignored = append(s.Ignored, key)
				default:
					s.Incomplete = append(s.Incomplete, key)
				}
			}
		}
		if u.Error != "" {
			s.Errors = append(s.Errors, u.id()+": "+u.Error)
		}
		s.Diffs = append(s.Diffs, u.Diffs...)
		s.Crash = append(s.Crash, u.Crash...)
		s.Denied = append(s.Denied, u.Denied...)
	}
	return s
}

// printSummary writes one paragraph per suite: the "N of M passed" line,
// then what failed and where the diffs are.
func printSummary(w io.Writer, label string, sums []suiteSummary) {
	fmt.Fprintf(w, "\n%s:\n", label)
	for _, s := range sums {
		line := fmt.Sprintf("%s: %d of %d passed", s.Suite, s.Passed, s.Total)
		if s.Suite == suiteContrib || s.Suite == suitePL {
			line += fmt.Sprintf(" (%d modules run, %d skipped)", s.Units, len(s.Skipped))
		}
		line += fmt.Sprintf(" in %.1fs", s.Seconds)
		fmt.Fprintln(w, line)
		if len(s.Failed) > 0 {
			fmt.Fprintf(w, "  failed (%d): %s\n", len(s.Failed), strings.Join(shortKeys(s.Suite, s.Failed), " "))
		}
		if len(s.Ignored) > 0 {
			fmt.Fprintf(w, "  failed, ignored by the schedule: %s\n", strings.Join(shortKeys(s.Suite, s.Ignored), " "))
		}
		if len(s.Incomplete) > 0 {
			fmt.Fprintf(w, "  without a verdict (pg_regress stopped): %s\n", strings.Join(shortKeys(s.Suite, s.Incomplete), " "))
		}
		for _, d := range s.Diffs {
			fmt.Fprintf(w, "  diffs: %s\n", d)
		}
		for _, e := range s.Errors {
			fmt.Fprintf(w, "  ERROR %s\n", indent(e, "    "))
		}
		if len(s.Crash) > 0 {
			fmt.Fprintf(w, "  the server log shows a crash (%d lines), first ones:\n", len(s.Crash))
			for _, l := range s.Crash[:min(len(s.Crash), 5)] {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		if len(s.Denied) > 0 {
			fmt.Fprintf(w, "  the server log has %d lines with an OS call refused (\"Permission denied\"), first ones:\n", len(s.Denied))
			for _, l := range s.Denied[:min(len(s.Denied), 5)] {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		for _, sk := range s.Skipped {
			fmt.Fprintf(w, "  skipped %s\n", sk)
		}
	}
}

// shortKeys drops the suite prefix from test keys for printing.
func shortKeys(suite string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, suite+"/")
	}
	return out
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// comparison sorts the server's failures against a baseline run's.
type comparison struct {
	Baseline string `json:"baseline"` // what the baseline was
	// New: failed on the server, passed (or did not run) on the baseline.
	New []string `json:"new_failures"`
	// Changed: failed on both, with different diffs.
	Changed []string `json:"changed_failures"`
	// Same: failed on both with the same diff: not the server's doing.
	Same []string `json:"same_failures"`
	// Fixed: failed on the baseline only.
	Fixed []string `json:"baseline_only_failures"`
}

// ok reports whether the server failed nothing the baseline did not.
func (c comparison) ok() bool { return len(c.New) == 0 && len(c.Changed) == 0 }

// failures maps the key of every FAILED or incomplete test of some units to
// its diff fingerprint ("" when none).
func failures(units []*unitResult) map[string]string {
	out := map[string]string{}
	for _, u := range units {
		for _, run := range u.Runs {
			for _, t := range run.Tests {
				if t.Status == StatusPassed || t.Status == StatusFailedIgnored {
					continue
				}
				out[testKey(u, run.Kind, t.Name)] = u.Fingerprints[run.Kind+"/"+t.Name]
			}
		}
	}
	return out
}

// compare sorts the failures of server against those of baseline.
func compare(label string, baseline, server []*unitResult) comparison {
	c := comparison{Baseline: label}
	base, got := failures(baseline), failures(server)
	for _, k := range slices.Sorted(maps.Keys(got)) {
		fp, failedBefore := base[k]
		switch {
		case !failedBefore:
			c.New = append(c.New, k)
		case fp != got[k] || fp == "":
			c.Changed = append(c.Changed, k)
		default:
			c.Same = append(c.Same, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(base)) {
		if _, ok := got[k]; !ok {
			c.Fixed = append(c.Fixed, k)
		}
	}
	return c
}

func printComparison(w io.Writer, c comparison) {
	fmt.Fprintf(w, "\ncompared with %s:\n", c.Baseline)
	list := func(what string, keys []string) {
		if len(keys) == 0 {
			fmt.Fprintf(w, "  %s: none\n", what)
			return
		}
		fmt.Fprintf(w, "  %s (%d): %s\n", what, len(keys), strings.Join(keys, " "))
	}
	list("failing only on the server", c.New)
	list("failing on both, with different diffs", c.Changed)
	list("failing on both, same diffs (not the server's configuration)", c.Same)
	if len(c.Fixed) > 0 {
		list("failing only on the baseline", c.Fixed)
	}
}

// serverRun is one server's part of the results.
type serverRun struct {
	Role     string         `json:"role"` // "server" or "baseline"
	Label    string         `json:"label"`
	Facts    serverFacts    `json:"facts"`
	Settings []string       `json:"settings,omitempty"` // what --conf gave a throwaway cluster
	Suites   []suiteSummary `json:"suites"`
	Units    []*unitResult  `json:"units"`
	LogFile  string         `json:"server_log,omitempty"`
}

// results is results.json.
type results struct {
	Tool       string      `json:"tool"`
	Started    time.Time   `json:"started"`
	Finished   time.Time   `json:"finished"`
	Source     source      `json:"source"`
	Tree       string      `json:"tree"`
	Timings    timings     `json:"timings_s"`
	Runs       []serverRun `json:"runs"`
	Comparison *comparison `json:"comparison,omitempty"`
	Passed     bool        `json:"passed"`
}

// timings are the preparation steps, in seconds.
type timings struct {
	Source    float64 `json:"source"` // finding, downloading and checking the tarball
	Extract   float64 `json:"extract"`
	Configure float64 `json:"configure"`
	Make      float64 `json:"make"`
	Reused    bool    `json:"build_reused"`
}

func writeResults(dir string, r results) (string, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "results.json")
	return path, os.WriteFile(path, append(data, '\n'), 0o644)
}

// readBaseline loads the server run of an earlier results.json for
// --compare.
func readBaseline(dir string) (serverRun, error) {
	path := dir
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		path = filepath.Join(dir, "results.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return serverRun{}, fmt.Errorf("--compare: %w; give a run directory of this program (it holds results.json)", err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		return serverRun{}, fmt.Errorf("--compare: %s is not a results.json of this program: %w", path, err)
	}
	for _, run := range r.Runs {
		if run.Role == "server" {
			return run, nil
		}
	}
	return serverRun{}, fmt.Errorf("--compare: %s has no server run", path)
}
