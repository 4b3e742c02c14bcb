package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vector is one file of testdata/vectors (see its README).
type vector struct {
	Name     string            `json:"name"`
	Settings map[string]string `json:"settings"`
	Cases    []struct {
		Role         string      `json:"role"`
		ClientFilter []*string   `json:"client_filter"`
		Rows         [][3]string `json:"rows"`
	} `json:"cases"`
}

func nativeArch(t testing.TB) Arch {
	t.Helper()
	arch, err := NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	return arch
}

// TestVectors runs every shared vector through the model: the rows must be
// exactly those the live extension returns (tests/extension/vectors_test.go
// checks the same files against a server).
func TestVectors(t *testing.T) {
	files, err := filepath.Glob("../../testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in ../../testdata/vectors (%v)", err)
	}
	arch := nativeArch(t)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var v vector
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			values := map[string]string{PreloadLibrariesName: "pgseccomp", EnabledName: "on"}
			for k, val := range v.Settings {
				values[k] = val
			}
			s, err := ParseSettingsMap(values)
			if err != nil {
				t.Fatalf("ParseSettings: %v", err)
			}
			p, err := s.Build(arch)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			for i, c := range v.Cases {
				var client *ClientArgs
				if c.ClientFilter != nil {
					if len(c.ClientFilter) != 1+NumActions {
						t.Fatalf("case %d: client_filter needs 5 arguments", i)
					}
					args := ClientArgsFromSQL([1 + NumActions]*string(c.ClientFilter))
					client = &args
				}
				rows, err := p.Rows(c.Role, client)
				if err != nil {
					t.Fatalf("case %d (role %q): %v", i, c.Role, err)
				}
				var got [][3]string
				for _, r := range rows {
					got = append(got, [3]string{r.Syscall, r.FilterAction(), r.Context})
				}
				want := slices.Clone(c.Rows)
				sortRows(got)
				sortRows(want)
				if !slices.Equal(got, want) {
					t.Errorf("case %d (role %q):\n got %q\nwant %q", i, c.Role, got, want)
				}
			}
		})
	}
}

func sortRows(rows [][3]string) {
	slices.SortFunc(rows, func(a, b [3]string) int {
		return strings.Compare(a[2]+"\x00"+a[0]+"\x00"+a[1], b[2]+"\x00"+b[0]+"\x00"+b[1])
	})
}
