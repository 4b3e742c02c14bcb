package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A server whose global layer denies pwritev PANICs at its first new WAL
// segment (docs/SPEC.md §7); every test then loses its connection.
func TestParseOutputPanicFixture(t *testing.T) {
	runs := ParseOutput(readFixture(t, "regress-parallel-panic.log"))
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	r := runs[0]
	if err := CheckRun(r); err != nil {
		t.Fatal(err)
	}
	passed, failed, ignored, incomplete := r.Counts()
	if passed != 0 || failed != 216 || ignored != 1 || incomplete != 0 {
		t.Errorf("%d passed, %d failed, %d ignored, %d incomplete; want 0, 216, 1, 0", passed, failed, ignored, incomplete)
	}
	for _, test := range r.Tests {
		if test.Exit != "test process exited with exit code 2" {
			t.Errorf("%s: exit note %q", test.Name, test.Exit)
		}
	}
	if r.Tests[0].Name != "test_setup" || r.SummaryTotal != 217 || r.SummaryIgnored != 1 {
		t.Errorf("first test %s, summary %q", r.Tests[0].Name, r.Summary)
	}
}

func TestScanLog(t *testing.T) {
	crash, denied := scanLog(readFixture(t, "server-panic.log"))
	wantCrash := []string{"PANIC:", "was terminated by signal 6", "terminating any other", "all server processes terminated"}
	if len(crash) != len(wantCrash) {
		t.Fatalf("crash lines %q", crash)
	}
	for i, w := range wantCrash {
		if !strings.Contains(crash[i], w) {
			t.Errorf("crash line %d %q, want %q", i, crash[i], w)
		}
	}
	if len(denied) != 0 {
		t.Errorf("denied lines in the PANIC log (the PANIC line is a crash line): %q", denied)
	}
	crash, denied = scanLog(readFixture(t, "server-denied.log"))
	if len(crash) != 0 || len(denied) != 5 {
		t.Errorf("crash %q, denied %d lines; want none and the 5 truncate warnings (not SQL privilege errors)", crash, len(denied))
	}
}

func TestParseMakeVars(t *testing.T) {
	out := "PGSUITE REGRESS=postgres_fdw\nPGSUITE ISOLATION=eval_plan_qual\nPGSUITE NO_INSTALLCHECK=\n" +
		"PGSUITE EXTENSION=postgres_fdw\nPGSUITE MODULES=\nPGSUITE MODULE_big=postgres_fdw\nmake: noise\n"
	want := makeVars{Regress: "postgres_fdw", Isolation: "eval_plan_qual", Extension: "postgres_fdw", ModuleBig: "postgres_fdw"}
	if got := parseMakeVars(out); got != want {
		t.Errorf("parseMakeVars = %+v, want %+v", got, want)
	}
}

func TestWithoutPgseccomp(t *testing.T) {
	in := map[string]string{
		"shared_preload_libraries":                    "'pg_stat_statements,pgseccomp'",
		"pgseccomp.enabled":                           "'on'",
		"PGSECCOMP.Global_Syscall_Default":            "'error'",
		"session_syscall_error.regress_pgseccomp_joe": "'swapon'",
		"work_mem": "'8MB'",
	}
	want := map[string]string{"shared_preload_libraries": "'pg_stat_statements'", "work_mem": "'8MB'"}
	if got := withoutPgseccomp(in); !mapsEqual(got, want) {
		t.Errorf("withoutPgseccomp = %v, want %v", got, want)
	}
	if got := withoutPgseccomp(map[string]string{"shared_preload_libraries": "'pgseccomp'"}); len(got) != 0 {
		t.Errorf("only pgseccomp preloaded: %v, want no setting", got)
	}
}

func TestConfSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("lists.conf", "pgseccomp.session_syscall_allow = 'read,write'\n")
	a := write("a.conf", "shared_preload_libraries = 'pgseccomp'\npgseccomp.enabled = on\ninclude 'lists.conf'\nwork_mem = 4MB\n")
	b := write("b.conf", "PGSECCOMP.ENABLED = off\nlog_line_prefix = 'it''s %m '\n")
	got, where, err := confSettings([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"shared_preload_libraries":        "'pgseccomp'",
		"pgseccomp.enabled":               "'off'", // the later file wins, under the name first written
		"pgseccomp.session_syscall_allow": "'read,write'",
		"work_mem":                        "'4MB'",
		"log_line_prefix":                 "'it''s %m '",
	}
	if !mapsEqual(got, want) {
		t.Errorf("confSettings = %v\nwant %v", got, want)
	}
	if where["pgseccomp.session_syscall_allow"] != filepath.Join(dir, "lists.conf")+":1" {
		t.Errorf("where = %v", where)
	}
	if _, _, err := confSettings([]string{write("bad.conf", "work_mem = = 4\n")}); err == nil || !strings.Contains(err.Error(), "bad.conf") {
		t.Errorf("a broken file: %v", err)
	}
	if _, _, err := confSettings([]string{filepath.Join(dir, "missing.conf")}); err == nil {
		t.Error("a missing file was accepted")
	}
}

// unitWith builds a unit result from pg_regress output and diffs.
func unitWith(t *testing.T, suite, name, out string, fingerprints map[string]string) *unitResult {
	t.Helper()
	return &unitResult{Suite: suite, Name: name, Runs: ParseOutput(out), Fingerprints: fingerprints}
}

func TestSummarizeAndCompare(t *testing.T) {
	regressOut := func(results ...string) string {
		s := "+++ regress install-check in src/test/regress +++\n"
		failed := 0
		for i := 0; i < len(results); i += 2 {
			s += "test " + results[i] + " ... " + results[i+1] + "  5 ms\n"
			if results[i+1] == "FAILED" {
				failed++
			}
		}
		if failed == 0 {
			return s + " All 3 tests passed. \n"
		}
		return s + " " + string(rune('0'+failed)) + " of 3 tests failed. \n"
	}
	base := []*unitResult{unitWith(t, "regress", "regress", regressOut("rules", "FAILED", "copy", "ok", "misc", "FAILED"),
		map[string]string{"regress/rules": "aaaa", "regress/misc": "cccc"})}
	server := []*unitResult{
		unitWith(t, "regress", "regress", regressOut("rules", "FAILED", "copy", "FAILED", "misc", "FAILED"),
			map[string]string{"regress/rules": "aaaa", "regress/copy": "bbbb", "regress/misc": "dddd"}),
		{Suite: "contrib", Name: "plpython_x", Skipped: "no extension"},
	}
	sums := summarize("regress", server)
	if sums.Passed != 0 || sums.Total != 3 || !slices.Equal(sums.Failed, []string{"regress/rules", "regress/copy", "regress/misc"}) {
		t.Errorf("summary %+v", sums)
	}
	if c := summarize("contrib", server); c.Total != 0 || len(c.Skipped) != 1 || !c.ok() {
		t.Errorf("contrib summary %+v", c)
	}
	c := compare("baseline", base, server)
	if !slices.Equal(c.New, []string{"regress/copy"}) || !slices.Equal(c.Changed, []string{"regress/misc"}) ||
		!slices.Equal(c.Same, []string{"regress/rules"}) || len(c.Fixed) != 0 || c.ok() {
		t.Errorf("compare = %+v", c)
	}
	if c := compare("itself", server, server); !c.ok() || len(c.Same) != 3 {
		t.Errorf("a run compared with itself: %+v", c)
	}
	// Swapped: copy failed on the baseline only; misc still changed.
	if c := compare("server as baseline", server, base); len(c.New) != 0 || !slices.Equal(c.Fixed, []string{"regress/copy"}) ||
		!slices.Equal(c.Changed, []string{"regress/misc"}) {
		t.Errorf("fewer failures than the baseline: %+v", c)
	}
}

func TestTestKey(t *testing.T) {
	u := &unitResult{Suite: "contrib", Name: "postgres_fdw"}
	if got := testKey(u, "isolation", "eval_plan_qual"); got != "contrib/postgres_fdw/isolation/eval_plan_qual" {
		t.Errorf("testKey = %q", got)
	}
	if got := testKey(u, "regress", "postgres_fdw"); got != "contrib/postgres_fdw/postgres_fdw" {
		t.Errorf("testKey = %q", got)
	}
	iso := &unitResult{Suite: "isolation", Name: "isolation"}
	if got := testKey(iso, "isolation", "deadlock-simple"); got != "isolation/deadlock-simple" {
		t.Errorf("testKey = %q", got)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"--suite", "pl,regress,isolation", "--cache-dir", t.TempDir()})
	if err != nil || !slices.Equal(o.Suites, []string{"regress", "isolation", "pl"}) {
		t.Errorf("suites %v, %v", o.Suites, err)
	}
	o, err = parseOptions([]string{"--suite", "all", "--cache-dir", t.TempDir()})
	if err != nil || !slices.Equal(o.Suites, allSuites) {
		t.Errorf("all: %v, %v", o.Suites, err)
	}
	if _, err := parseOptions([]string{"--other-major", "--source", "postgresql-18_18.6.orig.tar.bz2", "--baseline", "--cache-dir", t.TempDir()}); err != nil {
		t.Errorf("--other-major with a source and a baseline: %v", err)
	}
	for _, bad := range [][]string{
		{"--suite", "nope"},
		{"--suite", ""},
		{"--tests", "boolean", "--suite", "isolation"},
		{"--tests", "boolean", "--parallel"},
		{"--tests", "../etc"},
		{"--server", "other"},
		{"--host", "/tmp"},
		{"--server", "existing", "--conf", "x.conf"},
		{"--baseline", "--compare", "dir"},
		{"--source-sha256", strings.Repeat("0", 64)},
		{"--source", "x.tar.bz2", "--source-sha256", "xyz"},
		{"--cache-dir", "/tmp/with space"},
		{"--jobs", "0"},
		{"--other-major", "--baseline"},
		{"--other-major", "--source", "postgresql-18_18.6.orig.tar.bz2"},
		{"extra"},
	} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%q) accepted it", bad)
		}
	}
}

func TestRunFlagsExitStatus(t *testing.T) {
	var out bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &out, &out
	defer func() { stdout, stderr = oldOut, oldErr }()
	if code := run(context.Background(), []string{"--help"}); code != 0 || !strings.Contains(out.String(), "Usage: go run ./tests/pgsuite") {
		t.Errorf("--help: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"--suite", "bogus"}); code != 2 || !strings.Contains(out.String(), `unknown suite "bogus"`) {
		t.Errorf("--suite bogus: exit %d\n%s", code, out.String())
	}
}
