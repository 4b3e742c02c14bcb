package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

var updateProfileGolden = flag.Bool("update-profile", false, "rewrite testdata/profile/*.golden")

// The profiles the tests read: pg15.json is a recording that covers
// PostgreSQL's failure paths and the C library's twins (lint finds only
// its kill actions), with roles "Joe" and reporting; batch.json another
// workload on the same server; quiet.json a recording of a quiet workload
// without the failure paths; aarch64.json one of another architecture;
// broken.json one with a problem of each kind.
const (
	pg15Profile    = "testdata/profile/pg15.json"
	batchProfile   = "testdata/profile/batch.json"
	quietProfile   = "testdata/profile/quiet.json"
	aarch64Profile = "testdata/profile/aarch64.json"
	brokenProfile  = "testdata/profile/broken.json"
)

// profileGolden compares got with testdata/profile/name, or rewrites it
// with -update-profile.
func profileGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "profile", name)
	if *updateProfileGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update-profile creates it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test -update-profile rewrites it):\n%s", path, got)
	}
}

func TestProfileHelp(t *testing.T) {
	for _, args := range [][]string{{"profile", "--help"}, {"help", "profile"}, {"profile", "help"}, {"profile", "diff", "--help"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"Usage: pgseccomp profile", "show FILE", "conf FILE", "merge", "diff", "Examples:", "Exit status:", "--enforce", "most permissive"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: help lacks %q", args, want)
			}
		}
	}
	// The commands that read a configuration say they read profiles.
	for _, cmd := range []string{"explain", "lint", "systemd", "export"} {
		_, out, _ := runCLI(t, cmd, "--help")
		if !strings.Contains(out, "--profile FILE") || !strings.Contains(out, "--profile pg15.json") {
			t.Errorf("%s --help does not explain --profile with an example", cmd)
		}
	}
}

func TestProfileUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"profile"}, []string{"Usage: pgseccomp profile"}},
		{[]string{"profile", "check", pg15Profile}, []string{`unknown subcommand "check": use show, conf, merge or diff`}},
		{[]string{"profile", "show"}, []string{"give one profile file"}},
		{[]string{"profile", "show", pg15Profile, batchProfile}, []string{"give one profile file"}},
		{[]string{"profile", "show", "testdata/profile/none.json"}, []string{"cannot read profile testdata/profile/none.json", "no such file"}},
		{[]string{"profile", "show", brokenProfile}, []string{
			`testdata/profile/broken.json: global.allow[2] = "opne": unknown syscall`,
			`testdata/profile/broken.json: session.error[0] = "read": also in session.allow[0]`,
			`testdata/profile/broken.json: roles."app-user": a role with this name cannot have its own layer`}},
		{[]string{"profile", "show", exportConf}, []string{"testdata/export/postgresql.conf:1:1: invalid JSON", "a profile is a JSON object"}},
		{[]string{"profile", "conf", pg15Profile, "--enforce", "allow"}, []string{`--enforce "allow": use log, error or kill`}},
		{[]string{"profile", "conf", pg15Profile, "--enforce", "deny"}, []string{`--enforce "deny"`}},
		{[]string{"profile", "conf", "--frobnicate", pg15Profile}, []string{"frobnicate", "pgseccomp profile conf --help"}},
		{[]string{"profile", "merge", pg15Profile}, []string{"give at least two profiles"}},
		{[]string{"profile", "merge", pg15Profile, aarch64Profile}, []string{
			"cannot merge testdata/profile/pg15.json (x86_64) with testdata/profile/aarch64.json (aarch64)", "merge the profiles of each architecture separately"}},
		{[]string{"profile", "merge", pg15Profile, brokenProfile}, []string{`broken.json: global.allow[2] = "opne"`}},
		{[]string{"profile", "diff", pg15Profile}, []string{"give two profiles"}},
		{[]string{"profile", "diff", pg15Profile, brokenProfile}, []string{`broken.json: global.allow[2] = "opne"`}},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, tt.args...)
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want exit 2 and no output", tt.args, code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tt.args, w, errOut)
			}
		}
	}
}

func TestProfileShow(t *testing.T) {
	code, out, errOut := runCLI(t, "profile", "show", pg15Profile)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	profileGolden(t, "show.golden", out)

	code, out, _ = runCLI(t, "profile", "show", "--json", pg15Profile)
	var r struct {
		File       string
		Format     string
		Provenance profile.Provenance
		Layers     []struct {
			Layer, Role, Default    string
			Allow, Log, Error, Kill int
			Records                 uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	if r.File != pg15Profile || r.Format != profile.Format || r.Provenance.Glibc != "2.36" || len(r.Layers) != 4 {
		t.Fatalf("%+v", r)
	}
	joe := r.Layers[2]
	if joe.Layer != "role Joe" || joe.Role != "Joe" || joe.Default != "error" || joe.Allow != 129 || joe.Records != 402 {
		t.Errorf("Joe's layer %+v", joe)
	}
}

func TestProfileConf(t *testing.T) {
	code, out, errOut := runCLI(t, "profile", "conf", pg15Profile)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	profileGolden(t, "pg15.conf.golden", out)

	// Flags after the file; the output file is what stdout would be.
	path := filepath.Join(t.TempDir(), "conf.d", "pgseccomp.conf")
	code, out, errOut = runCLI(t, "profile", "conf", quietProfile, "--enforce", "kill", "-o", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	_, want, _ := runCLI(t, "profile", "conf", "--enforce=kill", quietProfile)
	if data, err := os.ReadFile(path); err != nil || string(data) != want {
		t.Errorf("file differs from stdout: %v", err)
	}
	profileGolden(t, "quiet-enforce-kill.conf.golden", want)

	// The snippet, included by a postgresql.conf that preloads pgseccomp,
	// is what explain shows for the profile itself.
	dir := writeConf(t, map[string]string{
		"postgresql.conf":       "shared_preload_libraries = 'pgseccomp'\ninclude_dir = 'conf.d'\n",
		"conf.d/pgseccomp.conf": func() string { _, s, _ := runCLI(t, "profile", "conf", pg15Profile); return s }(),
	})
	for _, role := range []string{"Joe", "reporting", "joe"} {
		_, fromConf, errConf := runCLI(t, "explain", "--pgdata", dir, "--role", role, "--json")
		_, fromProfile, errProfile := runCLI(t, "explain", "--profile", pg15Profile, "--role", role, "--json")
		if rowsOf(t, fromConf) != rowsOf(t, fromProfile) || errConf != "" || errProfile != "" {
			t.Errorf("role %s: explain of the snippet and of the profile differ (stderr %q, %q)", role, errConf, errProfile)
		}
	}
}

// rowsOf is the global and session rows of explain --json output.
func rowsOf(t *testing.T, out string) string {
	t.Helper()
	var r struct {
		Global   []map[string]any
		Sessions []struct{ Rows []map[string]any }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, _ := json.Marshal(r)
	return string(data)
}

func TestProfileMerge(t *testing.T) {
	code, out, errOut := runCLI(t, "profile", "merge", pg15Profile, batchProfile)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	profileGolden(t, "merged.json.golden", out)
	m, err := profile.Parse([]byte(out), "merged.json")
	if err != nil {
		t.Fatalf("merged profile does not read: %v", err)
	}
	if m.Provenance.Tool != profile.MergeTool || strings.Join(m.Provenance.MergedFrom, " ") != pg15Profile+" "+batchProfile {
		t.Errorf("provenance %+v", m.Provenance)
	}
	// batch's execve is allowed, the global kill of kexec_load only pg15
	// has gives way to batch's error default, and roles fall back.
	for _, c := range []struct {
		layer profile.Layer
		name  string
		want  policy.Action
	}{
		{m.Global, "execve", policy.Allow}, {m.Global, "vfork", policy.Allow}, {m.Global, "kexec_load", policy.Error},
		{m.Roles["Joe"], "vfork", policy.Allow}, {m.Roles["Joe"], "socket", policy.Allow},
		{m.Roles["etl"], "vfork", policy.Allow}, {m.Roles["reporting"], "ptrace", policy.Error},
	} {
		if got := c.layer.Action(c.name); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	// -o, after the inputs: the same bytes, in a file.
	path := filepath.Join(t.TempDir(), "all.json")
	if code, _, errOut := runCLI(t, "profile", "merge", pg15Profile, batchProfile, "-o", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if data, _ := os.ReadFile(path); string(data) != out {
		t.Errorf("-o wrote something else")
	}
	// and the merged file is itself input everywhere: batch's error default
	// is more permissive than pg15's kill actions, so they are gone.
	if code, out, errOut := runCLI(t, "lint", "--config", path); code != 0 || !strings.HasSuffix(out, "1 finding: 1 notice\n") || !strings.Contains(out, "notice: the profile is for PostgreSQL 15 on Debian GNU/Linux 12 (bookworm), x86_64 (target)") {
		t.Errorf("lint of the merged profile: exit %d, %s%s", code, out, errOut)
	}
}

func TestProfileDiff(t *testing.T) {
	code, out, errOut := runCLI(t, "profile", "diff", pg15Profile, quietProfile)
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	profileGolden(t, "diff.golden", out)

	code, out, _ = runCLI(t, "profile", "diff", "--json", quietProfile, pg15Profile)
	var d profile.Difference
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 1 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	if d.A != quietProfile || len(d.Layers) != 4 || d.Layers[0].Layer != "global" {
		t.Fatalf("%+v", d)
	}
	found := false
	for _, s := range d.Layers[0].Syscalls {
		if s.Syscall == "pwritev" && s.A == policy.Error && s.B == policy.Allow && s.Change == profile.Looser {
			found = true
		}
	}
	if !found {
		t.Errorf("pwritev error -> allow not in %+v", d.Layers[0])
	}

	// The same filters: exit 0, whatever the provenance says.
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "pg15-copy.json")
	data, _ := os.ReadFile(pg15Profile)
	os.WriteFile(copyPath, []byte(strings.Replace(string(data), "6.1.0-40-amd64", "6.1.0-41-amd64", 1)), 0o644)
	code, out, _ = runCLI(t, "profile", "diff", pg15Profile, copyPath)
	if code != 0 || !strings.Contains(out, "kernel:\n    - 6.1.0-40-amd64\n    + 6.1.0-41-amd64") || !strings.Contains(out, "The filters are the same.") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestProfileInput: explain, lint, systemd and export read a profile from
// --profile, or from --config by its content, and point into it.
// The machine the profiles are used on, for the tests: the distribution
// testdata/profile/pg15.json was recorded on, whatever this one is.
func init() {
	source.OSRelease = func() string { return "Debian GNU/Linux 12 (bookworm)" }
}

func TestProfileInput(t *testing.T) {
	// Clusters a profile may be meant for: a data directory of 15 and one
	// of 18 (PG_VERSION says which).
	pgdata := func(major string) string {
		return writeConf(t, map[string]string{"postgresql.conf": "", "PG_VERSION": major + "\n"})
	}
	pgdata15, pgdata18 := pgdata("15"), pgdata("18")
	type want struct {
		code   int
		out    []string
		errOut []string
	}
	tests := []struct {
		name string
		args []string
		want
	}{
		{"explain a role's session", []string{"explain", "--profile", pg15Profile, "--role", "Joe", "--context", "session"},
			want{0, []string{`A session of role "Joe" (in pgseccomp.session_roles):`, " <default>         |         -1 | session->error | session",
				" socket            |         41 | session->error | session"}, nil}},
		{"explain by content", []string{"explain", "--config", pg15Profile, "--context", "global", "--why"},
			want{0, []string{" kexec_load        |        246 | global->kill  | global  | pgseccomp.global_syscall_kill\n"}, nil}},
		{"explain on the profile's architecture", []string{"explain", "--profile", aarch64Profile, "--json"},
			want{0, []string{`"arch": "aarch64"`, `"config": "testdata/profile/aarch64.json"`, `"syscall": "mount"`, `"syscallnum": 40`}, nil}},
		{"explain on another architecture", []string{"explain", "--profile", pg15Profile, "--arch", "aarch64"},
			want{1, nil, []string{"would reject this profile", `testdata/profile/pg15.json: global.allow: Syscalls "access", "chmod"`,
				`do not exist on this architecture (aarch64). The profile was recorded on x86_64`}}},
		{"explain a broken profile", []string{"explain", "--config", brokenProfile},
			want{2, nil, []string{`testdata/profile/broken.json: global.allow[2] = "opne": unknown syscall`, "is JSON, so it was read as a pgseccomp profile"}}},
		{"profile and config", []string{"explain", "--profile", pg15Profile, "--config", exportConf},
			want{2, nil, []string{"--profile reads a profile instead of a configuration"}}},
		{"profile for a cluster that is not one", []string{"lint", "--config", pg15Profile, "--pgdata", "testdata/export/pgdata"},
			want{2, nil, []string{"has neither postgresql.conf nor PG_VERSION"}}},
		{"profile installed in a cluster of another major", []string{"lint", "--profile", pg15Profile, "--pgdata", pgdata18},
			want{1, []string{"does not read", "then install again (install)", "warning: the profile is for PostgreSQL 15 (recorded with 15.14 (Debian 15.14-0+deb12u1)) and the server is PostgreSQL 18", "(target)"}, nil}},
		{"explain a profile for a cluster of another major", []string{"explain", "--profile", pg15Profile, "--pgdata", pgdata18, "--context", "global"},
			want{0, nil, []string{"note: the profile is for PostgreSQL 15 on Debian GNU/Linux 12 (bookworm), x86_64", "warning: the profile is for PostgreSQL 15 (recorded with"}}},
		{"explain a profile for a cluster of its major", []string{"explain", "--profile", pg15Profile, "--pgdata", pgdata15, "--context", "global"},
			want{0, nil, []string{"note: the profile is for PostgreSQL 15 on Debian GNU/Linux 12 (bookworm), x86_64\n"}}},
		{"lint a recording", []string{"lint", "--profile", pg15Profile},
			want{1, []string{"testdata/profile/pg15.json: global.kill: warning: the global layer kills on kexec_load (kill)",
				`testdata/profile/pg15.json: roles."reporting".kill: warning: the kill list of role "reporting" names ptrace (kill)`,
				"notice: the profile is for PostgreSQL 15 on Debian GNU/Linux 12 (bookworm), x86_64 (target)", "3 findings: 2 warnings, 1 notice"}, nil}},
		{"lint a quiet recording", []string{"lint", "--config", quietProfile},
			want{1, []string{"testdata/profile/quiet.json: global.default: error: the global layer denies pwritev (wal-segment)",
				"testdata/profile/quiet.json: global.default: error: the global layer denies rt_sigaction, gettid, tgkill (abort)",
				"fix: allow rt_sigaction, gettid, tgkill in global.allow of testdata/profile/quiet.json"}, nil}},
		{"lint on two architectures", []string{"lint", "--profile", pg15Profile, "--arch", "x86_64", "--arch", "arm64"},
			want{1, []string{`testdata/profile/pg15.json: roles."Joe".allow: error: Syscalls "access", "chmod", "dup2"`, "[aarch64] (invalid)",
				"fix: use the syscall names of every architecture"}, nil}},
		{"systemd", []string{"systemd", "--profile", pg15Profile, "--log"},
			want{0, []string{"From the global layer of profile testdata/profile/pg15.json", "SystemCallLog="}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.errOut {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			// With a cluster, a profile is read as installed there: its
			// findings are the cluster's configuration's.
			installed := slices.Contains(tt.args, "--pgdata")
			if strings.Contains(out+errOut, "pgseccomp-profile/1\n") || !installed && strings.Contains(out+errOut, ".conf:") {
				t.Errorf("a message points into a generated file:\n%s%s", out, errOut)
			}
		})
	}
}

// TestProfileExportGolden: systemd and export from a profile, compared
// with golden files; the architectures default to the profile's.
func TestProfileExportGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"systemd.conf.golden", []string{"systemd", "--profile", pg15Profile}},
		{"oci.json.golden", []string{"export", "--format", "oci", "--config", pg15Profile}},
		{"oci-aarch64.json.golden", []string{"export", "--format", "oci", "--profile", aarch64Profile}},
		{"kubernetes.yaml.golden", []string{"export", "--format", "kubernetes", "--profile", quietProfile, "--namespace", "db"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			if strings.Contains(errOut, "warning") {
				t.Errorf("unexpected warning: %s", errOut)
			}
			profileGolden(t, tc.golden, out)
		})
	}
	// A profile of another architecture keeps its own unless --arch says.
	_, out, _ := runCLI(t, "export", "--format", "oci", "--profile", aarch64Profile)
	if !strings.Contains(out, `"SCMP_ARCH_AARCH64"`) || strings.Contains(out, "X86") {
		t.Errorf("aarch64 profile exported for:\n%s", out)
	}
	code, _, errOut := runCLI(t, "export", "--format", "oci", "--profile", pg15Profile, "--arch", "aarch64")
	if code != 1 || !strings.Contains(errOut, `testdata/profile/pg15.json: global.allow: Syscalls "access"`) {
		t.Errorf("x86_64 profile for aarch64: exit %d, %s", code, errOut)
	}
}
