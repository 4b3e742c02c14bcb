// Package profiles holds the profiles pgseccomp ships: each recorded by
// pgseccomp record (provenance inside) and kept here as JSON.
package profiles

import (
	_ "embed"

	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// PostgreSQL15Debian12File is the shipped profile's file in the repository.
const PostgreSQL15Debian12File = "profiles/postgresql-15-debian-12-x86_64.json"

//go:embed postgresql-15-debian-12-x86_64.json
var postgreSQL15Debian12 []byte

// PostgreSQL15Debian12 is the profile for PostgreSQL 15 on Debian 12,
// x86_64, recorded with the built-in workload.
func PostgreSQL15Debian12() (*profile.Profile, error) {
	return profile.Parse(postgreSQL15Debian12, PostgreSQL15Debian12File)
}
