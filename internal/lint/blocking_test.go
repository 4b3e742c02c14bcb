package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

func TestBlocking(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []string // a substring of each line, in order; nil for none
	}{
		{"preloaded, allow defaults", "shared_preload_libraries = 'pgseccomp'\npgseccomp.enabled = on\n", nil},
		{"a word pgseccomp rejects", "shared_preload_libraries = 'pgseccomp'\npgseccomp.session_syscall_error = 'getpriorty'\n",
			[]string{`postgresql.conf:2: `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "postgresql.conf")
			if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := pgconf.LoadOptions(path, pgconf.Options{DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			got := Blocking(f)
			if len(got) != len(tt.want) {
				t.Fatalf("Blocking: %q, want %d lines", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || !strings.Contains(got[i], "(lint ") || !strings.Contains(got[i], "; fix: ") {
					t.Errorf("line %q lacks %q, the check or the fix", got[i], w)
				}
			}
		})
	}
}
