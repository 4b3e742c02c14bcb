package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/status"
)

// The fixture trees of internal/procs: see internal/procs/cluster_test.go.
// Cluster A (postmaster 4546) does not load pgseccomp; cluster B (postmaster
// 5735, /var/lib/postgresql/15/fixture-b) loads it and is fully confined.
const (
	fixtureProc   = "../../internal/procs/testdata/proc"
	fixturePGDATA = "../../internal/procs/testdata/pgdata-b" // cluster B
)

func TestStatusUsageNamesEveryFlag(t *testing.T) {
	flags, _ := newStatusFlags()
	flags.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(statusUsage, "--"+f.Name+" ") {
			t.Errorf("status usage does not document --%s", f.Name)
		}
	})
}

func TestStatusSelf(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	code, out, errOut := runCLI(t, "status", "--pid", self)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want header, one row and a summary, got:\n%s", out)
	}
	if !regexp.MustCompile(`^PID +PPID +KIND +ROLE +DATABASE +SECCOMP +FILTERS +NNP +SSB +IB$`).MatchString(lines[0]) {
		t.Errorf("header %q", lines[0])
	}
	row := strings.Fields(lines[1])
	if row[0] != self || row[1] != strconv.Itoa(os.Getppid()) || row[2] != "other" {
		t.Errorf("row %q", lines[1])
	}
	if !strings.Contains(lines[1], " 0 disabled ") && !strings.Contains(lines[1], " 2 filter ") {
		t.Errorf("row %q has no seccomp mode", lines[1])
	}
	if lines[2] != "not part of a PostgreSQL cluster: 1 process, 0 confined" {
		t.Errorf("summary %q", lines[2])
	}

	code, out, _ = runCLI(t, "status", "--pid", self, "--title")
	if code != 0 || !strings.Contains(out, "TITLE") || !strings.Contains(out, os.Args[0]) {
		t.Errorf("--title: exit %d, output:\n%s", code, out)
	}
}

func TestStatusSelfJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "status", "--pid", strconv.Itoa(os.Getpid()), "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 1 {
		t.Fatalf("%d objects, want 1", len(got))
	}
	p := got[0]
	for _, key := range []string{"pid", "ppid", "kind", "role", "database", "title", "seccomp_mode", "seccomp_filters",
		"no_new_privs", "speculation_store_bypass", "postmaster_pid", "pgseccomp_loaded", "confined"} {
		if _, ok := p[key]; !ok {
			t.Errorf("object lacks %q: %v", key, p)
		}
	}
	if p["pid"] != float64(os.Getpid()) || p["kind"] != "other" || p["postmaster_pid"] != float64(0) || p["pgseccomp_loaded"] != false {
		t.Errorf("object %v", p)
	}
	if f, ok := p["seccomp_filters"].(float64); !ok || f < -1 {
		t.Errorf("seccomp_filters %v", p["seccomp_filters"])
	}
	if _, ok := p["data_directory"]; ok {
		t.Errorf("data_directory present for a process outside any cluster")
	}
}

func decodeStatus(t *testing.T, out string) []status.Process {
	t.Helper()
	var got []status.Process
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	return got
}

func TestStatusFixtureAll(t *testing.T) {
	code, out, errOut := runCLI(t, "status", "--proc", fixtureProc)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"cluster /tmp/pgsx/data (postmaster 4546): 8 processes, 0 confined, pgseccomp not loaded",
		"cluster /var/lib/postgresql/15/fixture-b (postmaster 5735, cluster_name main): 11 processes, 11 confined, pgseccomp loaded",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^5756 +5735 +client backend +postgres +mydb +2 filter +2 +1 +thread force mitigated +always enabled$`).MatchString(out) {
		t.Errorf("no row for backend 5756:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^4607 +4546 +walsender +postgres +- +0 disabled +0 +0 +vulnerable +always enabled$`).MatchString(out) {
		t.Errorf("no row for walsender 4607:\n%s", out)
	}
	if strings.Contains(out, "bash") || strings.Contains(out, "kthreadd") {
		t.Errorf("non-PostgreSQL processes listed:\n%s", out)
	}

	code, out, _ = runCLI(t, "status", "--proc", fixtureProc, "--json")
	got := decodeStatus(t, out)
	if code != 0 || len(got) != 19 {
		t.Fatalf("--json: exit %d, %d objects, want 19", code, len(got))
	}
	pw := got[18]
	want := status.Process{
		PID: 5758, PPID: 5735, Kind: "parallel worker", Title: "postgres: main: parallel worker for PID 5755",
		SeccompMode: 2, SeccompFilters: 2, NoNewPrivs: true, SpeculationStoreBypass: "thread force mitigated", SpeculationIndirectBranch: "always enabled",
		PostmasterPID: 5735, DataDirectory: "/var/lib/postgresql/15/fixture-b", ClusterName: "main", PgseccompLoaded: true, Confined: true,
	}
	if pw != want {
		t.Errorf("last object =\n %+v\nwant\n %+v", pw, want)
	}
}

func TestStatusFixturePGDATA(t *testing.T) {
	code, out, errOut := runCLI(t, "status", "--proc", fixtureProc, "--pgdata", fixturePGDATA, "--title")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "4546") {
		t.Errorf("other cluster listed:\n%s", out)
	}
	if !strings.Contains(out, "postgres: main: postgres mydb [local] SELECT\n") {
		t.Errorf("no title column:\n%s", out)
	}
	if !strings.HasSuffix(out, "11 processes, 11 confined, pgseccomp loaded\n") {
		t.Errorf("summary:\n%s", out)
	}
}

// unconfinedFixture copies the fixture and makes backend 5756 of cluster B
// lose its filter.
func unconfinedFixture(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proc")
	if err := os.CopyFS(dir, os.DirFS(fixtureProc)); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(filepath.Join(fixtureProc, "4547", "status"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "5756", "status"), status, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStatusUnconfinedExit1(t *testing.T) {
	proc := unconfinedFixture(t)
	for _, args := range [][]string{
		{"status", "--proc", proc},
		{"status", "--proc", proc, "--json"},
		{"status", "--proc", proc, "--pgdata", fixturePGDATA},
		{"status", "--proc", proc, "--pid", "5756"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 1 {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
		if !strings.Contains(errOut, "5756 (client backend)") || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "postmaster 5735") {
			t.Errorf("%q: stderr %q, want one line naming 5756 and its cluster", args, errOut)
		}
		if args[len(args)-1] == "--json" {
			decodeStatus(t, out)
		}
	}
	// An unconfined process only matters in a cluster that loads pgseccomp.
	if code, _, errOut := runCLI(t, "status", "--proc", proc, "--pid", "4547"); code != 0 || errOut != "" {
		t.Errorf("cluster without pgseccomp: exit %d, stderr %q", code, errOut)
	}
}

func TestStatusUsageErrors(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(empty, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	stale := t.TempDir()
	if err := os.WriteFile(filepath.Join(stale, "postmaster.pid"), []byte("99999\n/srv/pg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notPostmaster := t.TempDir()
	if err := os.WriteFile(filepath.Join(notPostmaster, "postmaster.pid"), []byte("5736\n/var/lib/postgresql/15/fixture-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherCluster := t.TempDir()
	if err := os.WriteFile(filepath.Join(otherCluster, "postmaster.pid"), []byte("4546\n/srv/elsewhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbage, "postmaster.pid"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"both selectors", []string{"status", "--pgdata", empty, "--pid", "1"}, []string{"--pgdata and --pid"}},
		{"empty pgdata", []string{"status", "--pgdata", ""}, []string{"--pgdata is empty"}},
		{"bad pid", []string{"status", "--pid", "0"}, []string{"--pid 0", "positive"}},
		{"pid not a number", []string{"status", "--pid", "abc"}, []string{"abc", "--help"}},
		{"extra argument", []string{"status", "main"}, []string{`unexpected argument "main"`}},
		{"no such pid", []string{"status", "--proc", fixtureProc, "--pid", "99999"}, []string{"no process 99999"}},
		{"bad proc root", []string{"status", "--proc", filepath.Join(empty, "nope")}, []string{"nope", "--proc"}},
		{"no such data directory", []string{"status", "--pgdata", filepath.Join(empty, "nope")}, []string{filepath.Join(empty, "nope"), "no such file"}},
		{"pgdata is a file", []string{"status", "--pgdata", file}, []string{file, "not a directory"}},
		{"no postmaster.pid", []string{"status", "--pgdata", empty}, []string{filepath.Join(empty, "postmaster.pid"), "does not exist", "running"}},
		{"garbage postmaster.pid", []string{"status", "--proc", fixtureProc, "--pgdata", garbage}, []string{filepath.Join(garbage, "postmaster.pid"), "not a process ID", "running"}},
		{"stale postmaster.pid", []string{"status", "--proc", fixtureProc, "--pgdata", stale}, []string{"process 99999", "not running", "stale", "pg_ctl -D"}},
		{"postmaster.pid names a backend", []string{"status", "--proc", fixtureProc, "--pgdata", notPostmaster}, []string{"process 5736", "child of PostgreSQL process 5735", "stale"}},
		{"postmaster.pid of another cluster", []string{"status", "--proc", fixtureProc, "--pgdata", otherCluster}, []string{"/tmp/pgsx/data", "/srv/elsewhere", "stale"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", errOut, w)
				}
			}
			if strings.Count(errOut, "\n") > 2 {
				t.Errorf("stderr is more than a short message: %q", errOut)
			}
		})
	}
}

func TestStatusNoPostgres(t *testing.T) {
	proc := t.TempDir()
	code, out, errOut := runCLI(t, "status", "--proc", proc)
	if code != 0 || out != "" || !strings.Contains(errOut, "no PostgreSQL processes found") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "status", "--proc", proc, "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("--json: exit %d, stdout %q; want []", code, out)
	}
}
