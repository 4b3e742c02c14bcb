// Package profiles holds the profiles pgseccomp ships: one per PostgreSQL
// major and Debian release, each recorded by pgseccomp record with the
// built-in workload inside that release (provenance inside) and kept here
// as JSON. All lists them; For finds the one for a system.
package profiles

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// Dir is where the shipped profiles are in the repository.
const Dir = "profiles"

//go:embed postgresql-*.json
var files embed.FS

// Files are the shipped profiles' files in the repository
// (profiles/postgresql-<major>-<distribution>-<arch>.json), sorted.
func Files() []string {
	entries, err := files.ReadDir(".")
	if err != nil {
		panic(err) // an embed.FS's root always reads
	}
	var out []string
	for _, e := range entries {
		out = append(out, path.Join(Dir, e.Name()))
	}
	slices.Sort(out)
	return out
}

// Read reads one shipped profile by its file (as Files names it).
func Read(file string) (*profile.Profile, error) {
	data, err := files.ReadFile(strings.TrimPrefix(file, Dir+"/"))
	if err != nil {
		return nil, fmt.Errorf("no shipped profile %s: the shipped ones are %s", file, strings.Join(Files(), ", "))
	}
	return profile.Parse(data, file)
}

// All reads every shipped profile, in the order of Files.
func All() ([]*profile.Profile, error) {
	var out []*profile.Profile
	for _, f := range Files() {
		p, err := Read(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// For returns the shipped profile recorded with the same PostgreSQL major,
// distribution (os-release's PRETTY_NAME) and architecture as pv, or nil
// and why there is none, naming what is shipped.
func For(pv profile.Provenance) (*profile.Profile, string) {
	all, err := All()
	if err != nil {
		return nil, err.Error()
	}
	var shipped []string
	for _, p := range all {
		sp := p.Provenance
		if sp.Major() == pv.Major() && sp.Distribution == pv.Distribution && sp.Architecture == pv.Architecture {
			return p, ""
		}
		shipped = append(shipped, sp.For())
	}
	return nil, fmt.Sprintf("no shipped profile is for %s (shipped: %s)", pv.For(), strings.Join(shipped, "; "))
}

// PostgreSQL15Debian12File is the profile for PostgreSQL 15 on Debian 12,
// the host's system, which the demo enforces.
const PostgreSQL15Debian12File = "profiles/postgresql-15-debian-12-x86_64.json"

// PostgreSQL15Debian12 is the profile for PostgreSQL 15 on Debian 12,
// x86_64, recorded with the built-in workload.
func PostgreSQL15Debian12() (*profile.Profile, error) {
	return Read(PostgreSQL15Debian12File)
}
