package main

import (
	"strings"
	"testing"
)

// TestClusterFlagsEverywhere: every command that takes a cluster takes
// --cluster and --pgdata, with the same help.
func TestClusterFlagsEverywhere(t *testing.T) {
	for _, name := range []string{"status", "explain", "lint", "systemd", "export", "record", "install", "uninstall"} {
		code, out, errOut := runCLI(t, name, "--help")
		if code != 0 || errOut != "" {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, errOut)
		}
		if !strings.Contains(out, clusterFlagsHelp) {
			t.Errorf("%s --help lacks the shared --cluster/--pgdata help:\n%s", name, out)
		}
		if !strings.Contains(out, "Usage: pgseccomp "+name) || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help lacks a usage line or examples", name)
		}
	}
}

func TestInstallUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "--cluster", "15/main"}, "--profile is required"},
		{[]string{"install", "--cluster", "15/main", "--profile", "x.json", "--enforce", "sometimes"}, `--enforce "sometimes"`},
		{[]string{"install", "--profile", "x.json"}, "no cluster given"},
		{[]string{"install", "--cluster", "main", "--profile", "x.json"}, "give VERSION/NAME"},
		{[]string{"uninstall", "--cluster", "15/main", "extra"}, `unexpected argument "extra"`},
		{[]string{"uninstall", "--cluster", "15/x", "--pgdata", "/tmp"}, "give one of them"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
