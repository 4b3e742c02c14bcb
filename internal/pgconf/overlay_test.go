package pgconf

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOverlay: a file that is not written yet is read as if it were (also
// from an include_dir), and a nil one as if it did not exist.
func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	confD := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(confD, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"postgresql.conf":  "port = 5432\ninclude_dir = 'conf.d'\n",
		"conf.d/10-a.conf": "work_mem = '4MB'\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "postgresql.conf")
	for _, tc := range []struct {
		name    string
		overlay map[string][]byte
		want    map[string]string // setting -> value in force; "" when unset
	}{
		{"none", nil, map[string]string{"work_mem": "4MB", "port": "5432"}},
		{"a new file", map[string][]byte{filepath.Join(confD, "20-b.conf"): []byte("work_mem = '8MB'\n")},
			map[string]string{"work_mem": "8MB"}},
		{"a new file read before", map[string][]byte{filepath.Join(confD, "05-b.conf"): []byte("work_mem = '8MB'\n")},
			map[string]string{"work_mem": "4MB"}},
		{"a file hidden", map[string][]byte{filepath.Join(confD, "10-a.conf"): nil},
			map[string]string{"work_mem": ""}},
		{"a file replaced", map[string][]byte{filepath.Join(confD, "10-a.conf"): []byte("work_mem = '1MB'\n")},
			map[string]string{"work_mem": "1MB"}},
		{"the main file", map[string][]byte{main: []byte("port = 5499\n")},
			map[string]string{"port": "5499", "work_mem": ""}},
		{"a name include_dir skips", map[string][]byte{filepath.Join(confD, ".hidden.conf"): []byte("work_mem = '8MB'\n")},
			map[string]string{"work_mem": "4MB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := LoadOptions(main, Options{NoAutoConf: true, Overlay: tc.overlay})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				s, ok := f.Lookup(name)
				if !ok && want != "" || ok && s.Value != want {
					t.Errorf("%s = %q (set %v at %s), want %q", name, s.Value, ok, s.Where(), want)
				}
			}
		})
	}
}
