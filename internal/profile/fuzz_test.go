package profile

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and a profile it accepts writes, and
// reads back, to an equal profile; its snippet and its settings are ones
// pgseccomp accepts on the profile's architecture, giving its layers.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		minimal,
		strings.TrimSuffix(minimal, "}") + `, "roles": {"Joe": {"default": "error", "allow": ["read"], "counts": {"read": 3}}}}`,
		strings.TrimSuffix(minimal, "}") + `, "roles": {"app$1": {"default": "error"}, "": {"default": "log"}}}`,
		`{"format": "pgseccomp-profile/1", "provenance": {"architecture": "aarch64", "recorded_at": "2025-01-01T10:00:00+02:00", "passes": [{"number": 1, "phase": "global", "new": ["openat"], "seconds": 1.5}]}, "global": {"default": "kill", "allow": ["openat"]}, "session": {"default": "log", "error": ["openat"], "allow": null}}`,
		`{"format": "pgseccomp-profile/1", "format": "x"}`,
		`{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64", "added": [{"layer": "role Joe", "syscalls": ["pwritev"], "why": "WAL"}]}, "global": {"default": "allow"}, "session": {"default": "allow"}, "roles": {"Joe": {"default": "ERROR"}}}`,
		`{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64", "paths": {"login hostssl cert": {"global": ["read", "read"], "session": []}, "wal": null}}, "global": {"default": "allow"}, "session": {"default": "allow"}}`,
		`[1, 2]`, `{}`, `{"global": {"allow": ["read", "read"]}}`, "\xef\xbb\xbf{}", `{"roles": null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.json")
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range err.(Errors) {
				if e.File != "fuzz.json" || e.Msg == "" {
					t.Fatalf("incomplete error %+v", e)
				}
			}
			return
		}
		var out bytes.Buffer
		if err := p.Write(&out); err != nil {
			t.Fatalf("a profile that parses does not write: %v", err)
		}
		again, err := Parse(out.Bytes(), "fuzz.json")
		if err != nil {
			t.Fatalf("written profile does not parse: %v\n%s", err, out.Bytes())
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("written and read back differs:\n%+v\n%+v", p, again)
		}
		var twice bytes.Buffer
		again.Write(&twice)
		if twice.String() != out.String() {
			t.Fatalf("writes differ:\n%s\n%s", out.Bytes(), twice.Bytes())
		}
		arch, err := p.Arch()
		if err != nil {
			t.Fatal(err)
		}
		s, err := ToSettings(p)
		if err != nil {
			t.Fatalf("settings of a valid profile rejected: %v", err)
		}
		if _, err := s.Build(arch); err != nil {
			// A layer denying what compiling the session filters takes is
			// a valid profile the server would refuse; anything else is a
			// gap between Parse and policy.
			if !strings.Contains(err.Error(), "compile the session filters") {
				t.Fatalf("lists of a valid profile rejected: %v", err)
			}
		}
		_ = Snippet(p, nil)
		if d := Diff(p, again); d.Differ() || len(d.Provenance) > 0 {
			t.Fatalf("differs from itself:\n%s", d.Text())
		}
		if _, err := Merge(p, again); err != nil {
			t.Fatalf("cannot merge with itself: %v", err)
		}
	})
}
