package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/lint"
)

// TestLintCommand checks the command's wiring: exit status, text and JSON
// output, --arch. The rules and their severities are internal/lint's
// table test.
func TestLintCommand(t *testing.T) {
	const ring = "io_uring_setup,io_uring_enter,io_uring_register"
	tests := []struct {
		name  string
		conf  string
		archs []string
		code  int
		lines []string // substrings of output lines
	}{
		{name: "notices only", conf: preloaded + "log_connections = on\npgseccomp.session_syscall_error = 'acct,chroot," + ring + "'\n", code: 0,
			lines: []string{": notice: the session layer denies acct, chroot, io_uring_enter, io_uring_register, io_uring_setup, which the global layer allows", "1 finding: 1 notice"}},
		{name: "error", conf: preloaded + "pgseccomp.session_syscall_error = 'acct,chrot'\n", code: 1,
			lines: []string{`postgresql.conf:3: error: pgseccomp.session_syscall_error: Unknown syscall "chrot" (word 2 of the list). Did you mean "chroot"? (invalid)`,
				"  fix: replace \"chrot\" with \"chroot\""}},
		{name: "per architecture", conf: preloaded + "pgseccomp.session_syscall_error = 'open," + ring + "'\n", archs: []string{"x86_64", "aarch64"}, code: 1,
			lines: []string{`Syscall "open" (word 1 of the list) does not exist on this architecture (aarch64). Did you mean "openat"? [aarch64] (invalid)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConf(t, map[string]string{"postgresql.conf": tt.conf, "pg_hba.conf": "local all all trust\n"})
			args := []string{"lint", "--pgdata", dir}
			for _, a := range tt.archs {
				args = append(args, "--arch", a)
			}
			code, out, errOut := runCLI(t, args...)
			if code != tt.code || errOut != "" {
				t.Errorf("exit %d, want %d; stderr %s\n%s", code, tt.code, errOut, out)
			}
			for _, want := range tt.lines {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
			// The JSON has the same findings, each with why and fix.
			code2, out, _ := runCLI(t, append(args, "--json")...)
			var findings []lint.Finding
			if err := json.Unmarshal([]byte(out), &findings); err != nil || code2 != code || len(findings) == 0 {
				t.Fatalf("JSON (exit %d): %v\n%s", code2, err, out)
			}
			for _, f := range findings {
				if f.Why == "" || f.Fix == "" || f.Message == "" || f.Severity == "" || f.Check == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

func TestLintBadInput(t *testing.T) {
	dir := writeConf(t, map[string]string{"postgresql.conf": "include 'missing.conf'\n"})
	good := writeConf(t, map[string]string{"postgresql.conf": preloaded})
	for _, args := range [][]string{
		{"lint", "--pgdata", dir},
		{"lint", "--config", dir + "/nope.conf"},
		{"lint", "--pgdata", good, "--arch", "pdp11"},
		{"lint", "--pgdata", good, "--dsn", "host=/nonexistent port=1 connect_timeout=2"},
		{"lint", "--pgdata", good, "--nope"},
		{"lint", "extra"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestExplainAndLintHelp(t *testing.T) {
	for _, name := range []string{"explain", "lint"} {
		code, out, errOut := runCLI(t, name, "--help")
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage: pgseccomp "+name) || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, stderr %q:\n%s", name, code, errOut, out)
		}
	}
	// Every check lint can report is in its usage.
	_, out, _ := runCLI(t, "lint", "--help")
	for _, check := range []string{"invalid", "ignored", "not-active", "refused", "startup", "postmaster", "wal-segment", "abort",
		"signal-return", "relcache-init", "buffer-io", "sleep-resume", "usleep", "listen-tcp", "ssl", "peer", "password", "methods", "twin",
		"io-uring", "io-method", "global-only", "kill", "overridden", "client-filter", "session-roles", "attribution", "--dsn"} {
		if !strings.Contains(out, check) {
			t.Errorf("lint --help does not name %s", check)
		}
	}
}

// TestLintDSN checks session_roles against a live server's pg_roles: a
// misspelt role and a mixed-case name that folds to another role.
func TestLintDSN(t *testing.T) {
	c := clustertest.New(t, cluster.Options{})
	ctx := context.Background()
	conn, err := c.Connect(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{`CREATE ROLE "Joe"`, `CREATE ROLE lint_ann`} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	dir := writeConf(t, map[string]string{"postgresql.conf": preloaded + "log_connections = on\npgseccomp.session_roles = 'Joe, lint_anne, lint_ann'\n",
		"pg_hba.conf": "local all all trust\n"})
	code, out, errOut := runCLI(t, "lint", "--pgdata", dir, "--dsn", c.ConnString("", ""))
	if code != 1 || errOut != "" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		`warning: pgseccomp.session_roles names Joe, which folds to "joe", not the server's role "Joe" (session-roles)`,
		`warning: pgseccomp.session_roles names "lint_anne", but the server has no such role (session-roles)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"lint_ann",`) {
		t.Errorf("lint_ann exists, yet:\n%s", out)
	}
}
