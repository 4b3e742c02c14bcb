package policy

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/vectors"
)

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
	all, err := vectors.Load("../../testdata/vectors")
	if err != nil {
		t.Fatal(err)
	}
	arch := nativeArch(t)
	for _, v := range all {
		t.Run(v.File, func(t *testing.T) {
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
					args := ClientArgsFromSQL([1 + NumActions]*string(c.ClientFilter))
					client = &args
				}
				rows, err := p.Rows(c.Role, client)
				if err != nil {
					t.Fatalf("case %d (role %q): %v", i, c.Role, err)
				}
				var got []vectors.Row
				for _, r := range rows {
					got = append(got, vectors.Row{r.Syscall, r.FilterAction(), r.Context})
				}
				want := slices.Clone(c.Rows)
				vectors.SortRows(got)
				vectors.SortRows(want)
				if !slices.Equal(got, want) {
					t.Errorf("case %d (role %q): %s\n got %q\nwant %q", i, c.Role, v.About, got, want)
				}
			}
		})
	}
}

// TestRejections runs every shared rejection through the model: it must
// report a problem with the case's setting and exactly its detail
// (tests/extension/rejections_test.go checks the same cases against a
// server, which must refuse to start and say the same).
func TestRejections(t *testing.T) {
	cases, err := vectors.LoadRejections("../../testdata/vectors/rejected/rejections.json")
	if err != nil {
		t.Fatal(err)
	}
	arch := nativeArch(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			values := map[string]string{PreloadLibrariesName: "pgseccomp", EnabledName: "on"}
			maps.Copy(values, c.Settings)
			s, err := ParseSettingsMap(values)
			if err == nil {
				_, err = s.Build(arch)
			}
			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("settings %v: %v, want the problems of a rejected configuration", c.Settings, err)
			}
			for _, p := range problems {
				if p.Setting == c.Setting && p.Detail == c.Detail {
					return
				}
			}
			t.Errorf("settings %v: no problem of setting %q with detail\n\t%s\ngot %v", c.Settings, c.Setting, c.Detail, problems)
		})
	}
}
