package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		before  string // "" for no file
		tempErr bool
	}{
		{"new file", filepath.Join(dir, "a.conf"), "", false},
		{"replaced", filepath.Join(dir, "b.conf"), "old", false},
		{"no such directory", filepath.Join(dir, "none", "c.conf"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != "" {
				if err := os.WriteFile(tt.path, []byte(tt.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(tt.path, []byte("new\n"))
			var te *TempError
			if tt.tempErr {
				if !errors.As(err, &te) {
					t.Fatalf("error %v, want a TempError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(tt.path)
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("stat: %v, %v; want mode 0644", fi, err)
			}
			if b, _ := os.ReadFile(tt.path); string(b) != "new\n" {
				t.Errorf("content %q", b)
			}
			entries, _ := os.ReadDir(filepath.Dir(tt.path))
			for _, e := range entries {
				if e.Name()[0] == '.' {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}
