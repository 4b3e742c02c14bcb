package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// recipeVersion changes whenever the way a root is made changes in a way
// the recipe's fields do not show, so that every cached root is rebuilt.
const recipeVersion = 1

// defaultMirror is the Debian mirror reachable from this project's machines.
const defaultMirror = "http://deb.debian.org/debian"

// recipe says how the root file system of one PostgreSQL major is made from
// Debian's packages. Its hash names the cached root, so a changed recipe is
// a new root.
type recipe struct {
	Major        int      `json:"major"`
	Distribution string   `json:"distribution"` // for people: "Debian 13 (trixie)"
	Suite        string   `json:"suite"`        // the suite mmdebstrap bootstraps
	Sources      []string `json:"sources"`      // deb lines; the first is the suite's
	// Packages are installed with their dependencies: the server, its
	// client programs, what building the extension and the tests need.
	Packages []string `json:"packages"`
	// Unpacked are only unpacked (dpkg-deb -x), without their dependencies:
	// postgresql-server-dev-N depends on clang and LLVM (about 0.7 GB) for
	// JIT bitcode, which the extension does not build.
	Unpacked []string `json:"unpacked"`
	// Pin are apt preferences lines (for 19: take PostgreSQL from
	// experimental, everything else from unstable).
	Pin []string `json:"pin,omitempty"`
	// Version is recipeVersion when the recipe was made.
	Version int `json:"version"`
}

// newRecipe returns the recipe of a major this harness knows.
func newRecipe(major int, mirror string) (recipe, error) {
	// plperlu and IPC::Run3 run the talk's cat() function.
	common := func(m int) []string {
		return []string{
			"postgresql-" + strconv.Itoa(m), "postgresql-client-" + strconv.Itoa(m),
			"postgresql-plperl-" + strconv.Itoa(m), "libipc-run3-perl",
			"libpq-dev", "libseccomp-dev", "libkrb5-dev",
			"gcc", "libc6-dev", "make",
		}
	}
	r := recipe{
		Major:    major,
		Packages: common(major),
		Unpacked: []string{"postgresql-server-dev-" + strconv.Itoa(major)},
		Version:  recipeVersion,
	}
	switch major {
	case 17:
		r.Distribution, r.Suite = "Debian 13 (trixie)", "trixie"
		r.Sources = []string{"deb " + mirror + " trixie main"}
	case 18:
		r.Distribution, r.Suite = "Debian unstable (sid)", "sid"
		r.Sources = []string{"deb " + mirror + " sid main"}
	case 19:
		r.Distribution, r.Suite = "Debian experimental (on sid)", "sid"
		r.Sources = []string{"deb " + mirror + " sid main", "deb " + mirror + " experimental main"}
		// experimental is NotAutomatic (priority 1): without a pin apt would
		// take sid's libpq5 and fail on postgresql-19's versioned depends.
		r.Pin = []string{
			"Package: postgresql-19 postgresql-client-19 postgresql-plperl-19 postgresql-server-dev-19 libpq5 libpq-dev",
			"Pin: release a=experimental",
			"Pin-Priority: 990",
		}
	default:
		return recipe{}, fmt.Errorf("no recipe for PostgreSQL %d: the matrix runs %s (15 is the host's, 16 has no Debian package on the mirror)",
			major, majorsString(knownMajors))
	}
	return r, nil
}

// knownMajors are the majors the matrix runs, in order.
var knownMajors = []int{17, 18, 19}

func majorsString(majors []int) string {
	s := make([]string, len(majors))
	for i, m := range majors {
		s[i] = strconv.Itoa(m)
	}
	return strings.Join(s, ", ")
}

// hash is the first 12 hex digits of the SHA-256 of the recipe's JSON.
func (r recipe) hash() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a struct of strings and ints always marshals
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// dirName is the cached root's directory name: pg17-<hash>.
func (r recipe) dirName() string {
	return fmt.Sprintf("pg%d-%s", r.Major, r.hash())
}

// pgConfig is the major's pg_config inside the root.
func (r recipe) pgConfig() string {
	return filepath.Join("/usr/lib/postgresql", strconv.Itoa(r.Major), "bin/pg_config")
}

// parseMajors parses a --pg value: comma- or space-separated majors, each
// one the matrix knows, no repeats; "" or "all" is every known major.
func parseMajors(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return slices.Clone(knownMajors), nil
	}
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		m, err := strconv.Atoi(f)
		if err != nil || !slices.Contains(knownMajors, m) {
			return nil, fmt.Errorf("--pg: %q is not a major the matrix runs; use %s or all (15 is the host's suite: make test PG=15)",
				f, majorsString(knownMajors))
		}
		if slices.Contains(out, m) {
			return nil, fmt.Errorf("--pg: %d is named twice", m)
		}
		out = append(out, m)
	}
	return out, nil
}
