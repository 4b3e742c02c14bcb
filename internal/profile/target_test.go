package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProvenanceMajor(t *testing.T) {
	for _, c := range []struct {
		version string
		want    int
	}{
		{"15.20 (Debian 15.20-0+deb12u1)", 15},
		{"17.12 (Debian 17.12-1.pgdg13+1)", 17},
		{"18.6 (Debian 18.6-3)", 18},
		{"19rc1 (Debian 19~rc1-1)", 19},
		{"19devel", 19},
		{" 9.6.24", 9},
		{"", 0},
		{"PostgreSQL 15", 0},
	} {
		if got := (Provenance{PostgreSQL: c.version}).Major(); got != c.want {
			t.Errorf("Major(%q) = %d, want %d", c.version, got, c.want)
		}
	}
}

func TestTargetMismatch(t *testing.T) {
	pv := Provenance{PostgreSQL: "15.20 (Debian 15.20-0+deb12u1)", Distribution: "Debian GNU/Linux 12 (bookworm)", Architecture: "x86_64"}
	for _, c := range []struct {
		name   string
		target Target
		want   []string // one substring per sentence
	}{
		{"same system", Target{Major: 15, Distribution: "Debian GNU/Linux 12 (bookworm)", Architecture: "x86_64"}, nil},
		{"nothing known", Target{}, nil},
		{"other major", Target{Major: 18}, []string{"the profile is for PostgreSQL 15 (recorded with 15.20 (Debian 15.20-0+deb12u1)) and the server is PostgreSQL 18"}},
		{"other distribution", Target{Major: 15, Distribution: "Debian GNU/Linux 13 (trixie)"},
			[]string{"recorded on Debian GNU/Linux 12 (bookworm) and this machine is Debian GNU/Linux 13 (trixie)"}},
		{"everything differs", Target{Major: 17, Distribution: "Ubuntu 24.04.1 LTS", Architecture: "aarch64"},
			[]string{"PostgreSQL 17", "Ubuntu 24.04.1 LTS", "the profile is for x86_64 and the target is aarch64"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := TargetMismatch(pv, c.target)
			if len(got) != len(c.want) {
				t.Fatalf("got %q, want %d sentence(s)", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("sentence %d %q does not contain %q", i+1, got[i], w)
				}
			}
		})
	}
	if got := TargetMismatch(Provenance{}, Target{Major: 18, Distribution: "x", Architecture: "y"}); got != nil {
		t.Errorf("a provenance that says nothing: %q, want nothing compared", got)
	}
}

func TestProvenanceFor(t *testing.T) {
	for _, c := range []struct {
		pv   Provenance
		want string
	}{
		{Provenance{PostgreSQL: "18.6 (Debian 18.6-3)", Distribution: "Debian GNU/Linux forky/sid", Architecture: "x86_64"}, "PostgreSQL 18 on Debian GNU/Linux forky/sid, x86_64"},
		{Provenance{PostgreSQL: "15.20", Architecture: "aarch64"}, "PostgreSQL 15, aarch64"},
		{Provenance{}, "an unknown PostgreSQL major"},
	} {
		if got := c.pv.For(); got != c.want {
			t.Errorf("For() = %q, want %q", got, c.want)
		}
	}
}

func TestOSRelease(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nNAME=\"Debian GNU/Linux\"\n", "Debian GNU/Linux 13 (trixie)"},
		{"NAME=x\nPRETTY_NAME='Debian GNU/Linux forky/sid'\n", "Debian GNU/Linux forky/sid"},
		{"NAME=x\n", ""},
	} {
		path := filepath.Join(dir, "os-release")
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := osRelease(path); got != c.want {
			t.Errorf("osRelease(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if got := osRelease(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("a missing file: %q", got)
	}
}

// FuzzProvenanceMajor: any version string gives a major >= 0 without
// panicking, and a leading number is that number.
func FuzzProvenanceMajor(f *testing.F) {
	for _, s := range []string{"15.20 (Debian 15.20-0+deb12u1)", "19rc1", "", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m := (Provenance{PostgreSQL: s}).Major(); m < 0 {
			t.Errorf("Major(%q) = %d", s, m)
		}
	})
}
