package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseMajors(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"", []int{17, 18, 19}, ""},
		{"all", []int{17, 18, 19}, ""},
		{"18", []int{18}, ""},
		{"19,17", []int{19, 17}, ""},
		{" 17 18 ", []int{17, 18}, ""},
		{"17,,18", []int{17, 18}, ""},
		{"15", nil, `"15" is not a major the matrix runs`},
		{"16", nil, `"16" is not a major`},
		{"17,x", nil, `"x" is not a major`},
		{"18,18", nil, "18 is named twice"},
	} {
		got, err := parseMajors(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseMajors(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseMajors(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseMajors(f *testing.F) {
	for _, s := range []string{"", "all", "17,18", "19 17", "18,18", "1e2", "-17", "17,\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseMajors(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("parseMajors(%q): error spans lines: %v", s, err)
			}
			return
		}
		if len(got) == 0 {
			t.Errorf("parseMajors(%q) = no majors and no error", s)
		}
		for i, m := range got {
			if !slices.Contains(knownMajors, m) || slices.Contains(got[:i], m) {
				t.Errorf("parseMajors(%q) = %v: %d unknown or repeated", s, got, m)
			}
		}
	})
}

// A root is named by its recipe: any change to what goes into it must give
// another name, so that a changed recipe is rebuilt, and the same recipe
// the same name, so that it is found again.
func TestRecipeHash(t *testing.T) {
	base := func() recipe {
		r, err := newRecipe(17, defaultMirror)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if a, b := base().dirName(), base().dirName(); a != b || !strings.HasPrefix(a, "pg17-") || len(a) != len("pg17-")+12 {
		t.Fatalf("dirName = %q and %q, want one stable pg17-<12 hex digits>", a, b)
	}
	seen := map[string]string{base().hash(): "base"}
	for name, change := range map[string]func(*recipe){
		"major":    func(r *recipe) { r.Major = 18 },
		"suite":    func(r *recipe) { r.Suite = "sid" },
		"sources":  func(r *recipe) { r.Sources = append(r.Sources, "deb http://example.org/debian trixie main") },
		"packages": func(r *recipe) { r.Packages = append(r.Packages, "perl") },
		"unpacked": func(r *recipe) { r.Unpacked = nil },
		"pin":      func(r *recipe) { r.Pin = []string{"Pin-Priority: 1"} },
		"version":  func(r *recipe) { r.Version++ },
	} {
		r := base()
		change(&r)
		h := r.hash()
		if other, ok := seen[h]; ok {
			t.Errorf("changing %s gives the hash of %s (%s)", name, other, h)
		}
		seen[h] = name
	}
}

func TestRecipes(t *testing.T) {
	for _, major := range knownMajors {
		r, err := newRecipe(major, "http://mirror.example/debian")
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Join(mmdebstrapArgs(r, "/skel", "/root.tmp"), "\n")
		for _, want := range []string{
			"postgresql-" + strconv.Itoa(major), "libseccomp-dev", "gcc", "libc6-dev",
			"apt-get download -q postgresql-server-dev-" + strconv.Itoa(major),
			"sync-in /skel /", "\n" + r.Suite + "\n/root.tmp\ndeb http://mirror.example/debian " + r.Suite + " main",
		} {
			if !strings.Contains(args, want) {
				t.Errorf("PostgreSQL %d: mmdebstrap arguments lack %q:\n%s", major, want, args)
			}
		}
		if strings.Contains(args, "server-dev-"+strconv.Itoa(major)+",") {
			t.Errorf("PostgreSQL %d: the server-dev package is installed with its dependencies:\n%s", major, args)
		}
		if got := r.pgConfig(); got != "/usr/lib/postgresql/"+strconv.Itoa(major)+"/bin/pg_config" {
			t.Errorf("PostgreSQL %d: pg_config %s", major, got)
		}
	}
	if _, err := newRecipe(16, defaultMirror); err == nil || !strings.Contains(err.Error(), "16 has no Debian package") {
		t.Errorf("newRecipe(16): %v, want the error that says why there is none", err)
	}
}
