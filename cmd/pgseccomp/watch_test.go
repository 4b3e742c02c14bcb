package main

import (
	"strings"
	"testing"
)

func TestWatchUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout for 0, in stderr otherwise
	}{
		{"help", []string{"watch", "--help"}, 0, "Usage: pgseccomp watch"},
		{"help command", []string{"help", "watch"}, 0, "Examples:"},
		{"bad flag", []string{"watch", "--frobnicate"}, 2, "pgseccomp watch --help"},
		{"argument", []string{"watch", "--pgdata", dir, "extra"}, 2, `unexpected argument "extra"`},
		{"audit log without since", []string{"watch", "--pgdata", dir, "--audit-log", "x"}, 2, "--audit-log is read with --since"},
		{"bad since", []string{"watch", "--pgdata", dir, "--since", "yesterday-ish"}, 2, `"yesterday-ish" is neither a duration`},
		{"profile", []string{"watch", "--profile", "p.json"}, 2, "give --pgdata or --config"},
		{"no data directory", []string{"watch", "--pgdata", dir + "/missing"}, 2, "give the cluster's data directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGDATA", "")
			code, out, errOut := runCLI(t, tt.args...)
			got := errOut
			if tt.code == 0 {
				got = out
			}
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
			}
		})
	}
}
