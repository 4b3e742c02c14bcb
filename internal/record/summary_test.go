package record

import (
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/profile"
)

func TestWriteSummary(t *testing.T) {
	p := &profile.Profile{}
	p.Global.Allow = []string{"read", "write", "io_uring_setup"}
	p.Session.Allow = []string{"read"}
	p.Provenance.Passes = []profile.Pass{{Number: 1, Phase: "global", Records: 120}, {Number: 2, Phase: "enforce", Records: 3}}
	p.Provenance.Withheld = []profile.Addition{{Layer: "session", Syscalls: []string{"io_uring_enter"}, Why: "not seen by seccomp"}}
	tests := []struct {
		name  string
		roles map[string]profile.Layer
		want  []string
		not   []string
	}{
		{"no roles", nil, []string{
			"recorded in 1m3s: 2 passes (global, enforce), 123 audit records of the server read; kernel audit lost counter 4 before and 4 after",
			"proven with the recorded lists and error defaults: builtin\n",
			"global layer: 3 syscalls; session layer: 1 syscalls\n",
			"left out of the session layer, though recorded: io_uring_enter (not seen by seccomp)\n"},
			[]string{"warning:", "roles with their own lists"}},
		{"a role allowed io_uring", map[string]profile.Layer{"joe": {Allow: []string{"io_uring_enter"}}}, []string{
			"; 1 roles with their own lists\n",
			"warning: the role joe layer allows io_uring_enter (--keep-io-uring)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Roles = tt.roles
			r := &Result{Profile: p, Elapsed: 63 * time.Second, Proven: []string{"builtin"}, LostBefore: 4, LostAfter: 4}
			var b strings.Builder
			r.WriteSummary(&b)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("summary has %q:\n%s", w, b.String())
				}
			}
		})
	}
}
