package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The live tests run the real driver: they download (or reuse from the
// cache) and build the PostgreSQL source and start throwaway clusters, so
// they take a minute or more the first time and need the network then. They
// run when PGSUITE_LIVE=1; PGSUITE_CACHE_DIR overrides the cache directory.

func liveOptions(t *testing.T) []string {
	t.Helper()
	if os.Getenv("PGSUITE_LIVE") != "1" {
		t.Skip("set PGSUITE_LIVE=1 to run the suites against real clusters (downloads and builds PostgreSQL's source once)")
	}
	args := []string{"--out", t.TempDir()}
	if dir := os.Getenv("PGSUITE_CACHE_DIR"); dir != "" {
		args = append(args, "--cache-dir", dir)
	}
	return args
}

// runDriver runs the command with args and returns its exit status, its
// output and the results it wrote.
func runDriver(t *testing.T, args ...string) (int, string, results) {
	t.Helper()
	var out bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &out, &out
	defer func() { stdout, stderr = oldOut, oldErr }()
	code := run(context.Background(), args)
	var res results
	i := slices.Index(args, "--out")
	if data, err := os.ReadFile(filepath.Join(args[i+1], "results.json")); err == nil {
		if err := json.Unmarshal(data, &res); err != nil {
			t.Fatalf("results.json: %v", err)
		}
	}
	t.Logf("pgsuite %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
	return code, out.String(), res
}

func requirePgseccomp(t *testing.T) {
	t.Helper()
	out, err := exec.Command("pg_config", "--pkglibdir").Output()
	if err != nil {
		t.Skipf("pg_config: %v", err)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "pgseccomp.so")); err != nil {
		t.Skip("pgseccomp is not installed in the server (make install)")
	}
}

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pgseccomp.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLiveRegressPasses runs a few regression tests on a plain cluster and
// on one with pgseccomp loaded that denies nothing.
func TestLiveRegressPasses(t *testing.T) {
	args := liveOptions(t)
	requirePgseccomp(t)
	logOnly := writeConf(t, "shared_preload_libraries = 'pgseccomp'\npgseccomp.enabled = on\n"+
		"pgseccomp.session_syscall_log = 'swapon'\n")
	for _, extra := range [][]string{nil, {"--conf", logOnly}} {
		code, out, res := runDriver(t, slices.Concat(args, []string{"--tests", "boolean,drop_if_exists,copy,largeobject"}, extra)...)
		if code != 0 || !res.Passed {
			t.Fatalf("exit %d, passed %v; want 0 and true", code, res.Passed)
		}
		if !strings.Contains(out, "regress: 5 of 5 passed") {
			t.Errorf("no \"regress: 5 of 5 passed\" line")
		}
		f := res.Runs[0].Facts
		if loaded := f.Pgseccomp["pgseccomp.enabled"] == "on"; loaded != (extra != nil) {
			t.Errorf("pgseccomp.enabled = %q with --conf %v", f.Pgseccomp["pgseccomp.enabled"], extra)
		}
		if extra != nil && !strings.HasPrefix(f.Confinement["backend"], "seccomp 2 filter") {
			t.Errorf("the backend is not confined: %q", f.Confinement["backend"])
		}
	}
}

// TestLiveDeniedSyscallFails denies truncate(2) to sessions: PostgreSQL 15
// truncates a dropped table's files with it, so DROP TABLE warns and the
// tests that drop tables fail; the baseline without pgseccomp passes them.
func TestLiveDeniedSyscallFails(t *testing.T) {
	args := liveOptions(t)
	requirePgseccomp(t)
	deny := writeConf(t, "shared_preload_libraries = 'pgseccomp'\npgseccomp.enabled = on\n"+
		"pgseccomp.session_syscall_error = 'truncate'\n")
	code, out, res := runDriver(t, slices.Concat(args, []string{"--tests", "boolean,int4", "--conf", deny, "--baseline"})...)
	if code != 1 || res.Passed {
		t.Fatalf("exit %d, passed %v; want 1 and false", code, res.Passed)
	}
	if res.Comparison == nil || !slices.Equal(res.Comparison.New, []string{"regress/boolean"}) {
		t.Fatalf("comparison %+v, want boolean as the one new failure", res.Comparison)
	}
	server := res.Runs[0]
	if server.Role != "server" || len(server.Suites) != 1 || len(server.Suites[0].Diffs) != 1 {
		t.Fatalf("server run %+v", server)
	}
	diffs, err := os.ReadFile(server.Suites[0].Diffs[0])
	if err != nil || !strings.Contains(string(diffs), `+WARNING:  could not truncate file`) {
		t.Errorf("regression.diffs (%v) lacks the truncate warning:\n%s", err, clip(string(diffs), 2000))
	}
	if len(server.Suites[0].Denied) == 0 {
		t.Error("no \"Permission denied\" lines were found in the server log")
	}
	if !strings.Contains(out, "failing only on the server (1): regress/boolean") {
		t.Error("the comparison line is missing from the output")
	}
}
