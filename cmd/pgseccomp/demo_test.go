package main

import (
	"strings"
	"testing"
)

// The demo itself runs in internal/demo's tests; here only its flags.
func TestDemoFlags(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"demo", "--help"}, 0, "Usage: pgseccomp demo", ""},
		{[]string{"demo", "--workload", "10ms"}, 2, "", `--workload 10ms is too short`},
		{[]string{"demo", "extra"}, 2, "", `unexpected arguments ["extra"]`},
		{[]string{"demo", "--workload", "soon"}, 2, "", `invalid value "soon"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, out, errOut, tt.code, tt.out, tt.err)
			}
		})
	}
}
