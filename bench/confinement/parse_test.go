package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCheckRun: what a successful pgbench exit can still hide is an error
// (the runs are the fixtures of internal/pgbench).
func TestCheckRun(t *testing.T) {
	tests := []struct {
		name       string
		run        pgbenchResult
		wantFigure string
		checkErr   string // "" = fine
	}{
		{"select-only", pgbenchResult{TPS: 51335.034337, TPSFigure: tpsWithoutConnections, Transactions: 102529}, tpsWithoutConnections, ""},
		{"select-only-connect", pgbenchResult{TPS: 458.956562, TPSFigure: tpsIncludingConnections, Transactions: 920}, tpsIncludingConnections, ""},
		// A measure on open connections must not read a -C run's figure.
		{"select-only-connect for a measure without -C", pgbenchResult{TPS: 458.956562, TPSFigure: tpsIncludingConnections, Transactions: 920},
			tpsWithoutConnections, `printed tps "including reconnection times"`},
		{"failed", pgbenchResult{TPS: 1811.212396, TPSFigure: tpsWithoutConnections, Transactions: 3618, Failed: 8642},
			tpsWithoutConnections, "8642 failed transactions"},
		{"nothing processed", pgbenchResult{TPSFigure: tpsWithoutConnections}, tpsWithoutConnections, "processed no transactions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRun(tc.run, tc.wantFigure)
			switch {
			case tc.checkErr == "" && err != nil:
				t.Errorf("checkRun: %v", err)
			case tc.checkErr != "" && (err == nil || !strings.Contains(err.Error(), tc.checkErr)):
				t.Errorf("checkRun: err = %v, want one containing %q", err, tc.checkErr)
			}
		})
	}
}

func TestParseInstallLines(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want []installSample
	}{
		{"real debug1 log", readFixture(t, "serverlog-debug1.txt"), []installSample{
			{Role: "postgres", Micros: 114.9}, {Role: "postgres", Micros: 194.6}, {Role: "postgres", Micros: 107.9}, {Role: "postgres", Micros: 98.2},
			{Role: "postgres", Micros: 75.7}, {Role: "postgres", Micros: 137.4}, {Role: "postgres", Micros: 101.9}, {Role: "app", Micros: 106.6},
		}},
		{"real debug1 log with the syscall's share", readFixture(t, "serverlog-debug1-syscall.txt"), []installSample{
			{Role: "postgres", Micros: 137.9, SyscallMicros: 123.6}, {Role: "postgres", Micros: 90.6, SyscallMicros: 72.6},
			{Role: "postgres", Micros: 91.7, SyscallMicros: 73.7},
		}},
		{"earlier build without times", readFixture(t, "serverlog-no-install-lines.txt"), nil},
		{"csvlog-like prefix and odd role", `2026-01-01 00:00:00.000 UTC,"u","d",42,DEBUG:  pgseccomp: installed the session filter for role "app user" in 7 us` + "\n" +
			`DEBUG:  pgseccomp: installed the session filter for role "" in 0.5 us`,
			[]installSample{{Role: "app user", Micros: 7}, {Role: "", Micros: 0.5}}},
		{"other units are not this line", `DEBUG:  installed the session filter for role "x" in 7 ms`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseInstallLines(tc.log)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("parseInstallLines:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestParseInstallLinesBadNumber(t *testing.T) {
	_, err := parseInstallLines("LOG: x\nDEBUG:  pgseccomp: installed the session filter for role \"a\" in 1.2.3 us\n")
	if err == nil || !strings.Contains(err.Error(), `line 2: install time "1.2.3"`) {
		t.Errorf("err = %v, want one naming line 2 and the value", err)
	}
}

func TestErrNoInstallLines(t *testing.T) {
	err := errNoInstallLines("/tmp/x/server.log", 101)
	for _, want := range []string{"/tmp/x/server.log", "101 connections", "installed the session filter", "make install"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestProblemLines(t *testing.T) {
	log := readFixture(t, "serverlog-debug1.txt") +
		"2026-11-27 22:50:31.548 UTC [1] LOG:  could not open file \"x\": Permission denied\n" +
		"2026-11-27 22:50:31.548 UTC [2] ERROR:  relation \"t\" does not exist\n" +
		"2026-11-27 22:50:31.548 UTC [3] FATAL:  could not load the pgseccomp session filter\n"
	got := problemLines(log, 10)
	if len(got) != 3 || !strings.Contains(got[0], "Permission denied") || !strings.Contains(got[2], "FATAL:") {
		t.Errorf("problemLines = %q, want the 3 appended lines", got)
	}
	if got := problemLines(log, 2); len(got) != 2 {
		t.Errorf("problemLines(limit 2) returned %d lines", len(got))
	}
	if got := problemLines(readFixture(t, "serverlog-debug1.txt"), 10); len(got) != 0 {
		t.Errorf("a clean log has problem lines: %q", got)
	}
}

func TestMedianPercentile(t *testing.T) {
	tests := []struct {
		xs          []float64
		median, p99 float64
	}{
		{[]float64{3}, 3, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 4},
		{[]float64{5, 1, 4, 2, 3}, 3, 5},
	}
	for _, tc := range tests {
		if got := median(tc.xs); got != tc.median {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.median)
		}
		if got := percentile(tc.xs, 99); got != tc.p99 {
			t.Errorf("percentile(%v, 99) = %v, want %v", tc.xs, got, tc.p99)
		}
	}
	// Nearest rank over 1..200: p99 is the 198th value, p50 the 100th.
	var hundreds []float64
	for i := 200; i >= 1; i-- {
		hundreds = append(hundreds, float64(i))
	}
	if got := percentile(hundreds, 99); got != 198 {
		t.Errorf("p99 of 1..200 = %v, want 198", got)
	}
	if got := percentile(hundreds, 50); got != 100 {
		t.Errorf("p50 of 1..200 = %v, want 100", got)
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(percentile(nil, 99)) {
		t.Error("median or percentile of nothing is not NaN")
	}
}

func TestSummarisePairs(t *testing.T) {
	s := summarisePairs([]float64{100, 100, 400, 400}, []float64{99, 200, 360})
	want := pairSummary{
		UnconfinedMedian: 250, ConfinedMedian: 200,
		Ratios: []float64{0.99, 1, 0.9}, RatioMedian: 0.99, RatioMin: 0.9, RatioMax: 1,
	}
	if !slices.Equal(s.Ratios, want.Ratios) || s.RatioMedian != want.RatioMedian ||
		s.RatioMin != want.RatioMin || s.RatioMax != want.RatioMax ||
		s.UnconfinedMedian != want.UnconfinedMedian || s.ConfinedMedian != want.ConfinedMedian {
		t.Errorf("summarisePairs = %+v, want %+v", s, want)
	}
	// A machine speeding up by 10% a run: comparing each confined run with
	// the unconfined run before it alone would give 1.1; the bracket gives 1.
	drift := summarisePairs([]float64{100, 121, 146.41}, []float64{110, 133.1})
	for _, r := range drift.Ratios {
		if math.Abs(r-1) > 1e-12 {
			t.Errorf("ratios under steady drift = %v, want 1 each", drift.Ratios)
		}
	}
	for _, runs := range [][2][]float64{{nil, nil}, {{100, 100}, {100, 100}}, {{100}, nil}} {
		if z := summarisePairs(runs[0], runs[1]); z.Ratios != nil || z.RatioMedian != 0 {
			t.Errorf("summarisePairs(%v, %v) = %+v, want the zero summary", runs[0], runs[1], z)
		}
	}
	d := distributionOf([]float64{5, 1, 3})
	if d != (distribution{Count: 3, Min: 1, Median: 3, P99: 5, Max: 5}) {
		t.Errorf("distributionOf = %+v", d)
	}
}

// The median's interval uses the order statistics the binomial table gives
// (e.g. the 2nd and 8th of 9, the 6th and 15th of 20), and falls back to
// min..max with its lower coverage when there are too few values.
func TestMedianInterval(t *testing.T) {
	seq := func(n int) []float64 { // n, n-1, ..., 1: unsorted on purpose
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(n - i)
		}
		return xs
	}
	tests := []struct {
		n               int
		low, high       float64
		coverageAtLeast float64
		coverageBelow   float64
	}{
		{1, 1, 1, 0, 0.01},
		{5, 1, 5, 0.93, 0.94},  // 1 - 2/32
		{6, 1, 6, 0.96, 0.97},  // 1 - 2/64
		{9, 2, 8, 0.96, 0.962}, // 1 - 2*10/512
		{15, 4, 12, 0.96, 0.97},
		{20, 6, 15, 0.958, 0.96},
	}
	for _, tt := range tests {
		low, high, coverage := medianInterval(seq(tt.n))
		if low != tt.low || high != tt.high || coverage < tt.coverageAtLeast || coverage >= tt.coverageBelow {
			t.Errorf("medianInterval(1..%d) = %v..%v at %.4f, want %v..%v at [%v, %v)",
				tt.n, low, high, coverage, tt.low, tt.high, tt.coverageAtLeast, tt.coverageBelow)
		}
	}
	if low, high, coverage := medianInterval(nil); !math.IsNaN(low) || !math.IsNaN(high) || coverage != 0 {
		t.Errorf("medianInterval(nil) = %v..%v at %v, want NaN..NaN at 0", low, high, coverage)
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(o options) bool
		err   string
	}{
		{"defaults", nil, func(o options) bool {
			return o.Pairs == 15 && o.Duration.Seconds() == 5 && o.Clients == 4 && o.Scale == 10 &&
				o.Jobs >= 1 && o.Jobs <= 4 && len(o.Measures) == 7 && slices.Contains(o.Measures, watchKey) && o.Out == "bench/results/confinement.json" && o.Control == ""
		}, ""},
		{"control", []string{"--control"}, func(o options) bool {
			return o.Control == controlUnloaded && o.Out == "bench/results/confinement-control.json"
		}, ""},
		{"control unloaded", []string{"--control=unloaded"}, func(o options) bool {
			return o.Control == controlUnloaded && o.Out == "bench/results/confinement-control.json"
		}, ""},
		{"control loaded", []string{"--control=loaded"}, func(o options) bool {
			return o.Control == controlLoaded && o.Out == "bench/results/confinement-control-loaded.json"
		}, ""},
		{"control off", []string{"--control=false"}, func(o options) bool {
			return o.Control == "" && o.Out == "bench/results/confinement.json"
		}, ""},
		{"quick control", []string{"--quick", "--control"}, func(o options) bool {
			return o.Control == controlUnloaded && o.Out == "bench/results/confinement-quick-control.json"
		}, ""},
		{"unknown control", []string{"--control=half"}, nil, "--control=half"},
		{"quick", []string{"--quick"}, func(o options) bool {
			return o.Pairs == 2 && o.Duration.Seconds() == 2 && o.Scale == 1 && o.InstallConnections == 100 &&
				o.Out == "bench/results/confinement-quick.json"
		}, ""},
		{"quick with explicit pairs", []string{"--quick", "--pairs", "3"}, func(o options) bool {
			return o.Pairs == 3 && o.Duration.Seconds() == 2
		}, ""},
		{"measures subset", []string{"--measures", "install, select-only,install"}, func(o options) bool {
			return slices.Equal(o.Measures, []string{"install", "select-only"})
		}, ""},
		{"unknown measure", []string{"--measures", "select"}, nil, `unknown measure "select"`},
		{"fractional duration", []string{"--duration", "1500ms"}, nil, "whole seconds"},
		{"no pairs", []string{"--pairs", "0"}, nil, "--pairs 0"},
		{"jobs above clients", []string{"--clients", "2", "--jobs", "3"}, nil, "--jobs 3"},
		{"argument", []string{"now"}, nil, `unexpected argument "now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func FuzzParseInstallLines(f *testing.F) {
	f.Add(readFixture(f, "serverlog-debug1.txt"))
	f.Add(`DEBUG:  pgseccomp: installed the session filter for role "a" in 1.2.3 us`)
	f.Fuzz(func(t *testing.T, log string) {
		samples, err := parseInstallLines(log)
		if err != nil {
			return
		}
		if len(samples) > strings.Count(log, "installed the session filter") {
			t.Errorf("more samples (%d) than lines that could hold one", len(samples))
		}
		for _, s := range samples {
			if s.Micros < 0 || math.IsNaN(s.Micros) || math.IsInf(s.Micros, 0) {
				t.Errorf("sample %+v is not a finite non-negative time", s)
			}
		}
	})
}

func TestBusyWarning(t *testing.T) {
	tests := []struct {
		start, end string
		cpus       int
		want       string
	}{
		{"0.50 0.40 0.30 1/100 42", "1.90 1.00 0.50 1/100 43", 2, ""},
		// the runs' own load at the end is not competition
		{"0.50 0.40 0.30 1/100 42", "7.47 3.00 1.00 5/150 99", 2, ""},
		{"3.10 1.00 1.00 1/100 42", "", 2, "load average 3.10 on 2 CPUs before the runs"},
		{"", "", 2, ""},
	}
	for _, tc := range tests {
		got := busyWarning(machineInfo{CPUs: tc.cpus, LoadAverageStart: tc.start, LoadAverageEnd: tc.end})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("busyWarning(%q, %q, %d CPUs) = %q, want %q", tc.start, tc.end, tc.cpus, got, tc.want)
		}
	}
}
