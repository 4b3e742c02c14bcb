package profile

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A profile holds what one PostgreSQL major, built by one distribution
// against its C library, did on one architecture: another major starts
// other processes (17's WAL summarizer, 18's I/O workers) and another
// glibc makes other syscalls for the same call (docs/SPEC.md §6). This
// file says what a profile is for and compares that with where it is used.

// Major is the PostgreSQL major the profile was recorded with, from
// Provenance.PostgreSQL ("15.20 (Debian 15.20-0+deb12u1)" is 15, "19rc1
// (Debian 19~rc1-1)" is 19); 0 when the provenance does not say.
func (pv Provenance) Major() int {
	v := strings.TrimSpace(pv.PostgreSQL)
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	m, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0
	}
	return m
}

// For says what the profile is for, for people: "PostgreSQL 18 on Debian
// GNU/Linux forky/sid, x86_64"; parts the provenance lacks are left out.
func (pv Provenance) For() string {
	var parts []string
	if m := pv.Major(); m > 0 {
		parts = append(parts, fmt.Sprintf("PostgreSQL %d", m))
	} else {
		parts = append(parts, "an unknown PostgreSQL major")
	}
	if pv.Distribution != "" {
		parts[0] += " on " + pv.Distribution
	}
	if pv.Architecture != "" {
		parts = append(parts, pv.Architecture)
	}
	return strings.Join(parts, ", ")
}

// Target is where a profile is used: the server's major, the machine's
// distribution (os-release's PRETTY_NAME) and architecture. A zero field
// is unknown and not compared.
type Target struct {
	Major        int
	Distribution string
	Architecture string
}

// TargetMismatch says, one sentence each, how target differs from what
// the profile pv was recorded on; nil when nothing known differs.
func TargetMismatch(pv Provenance, target Target) []string {
	var out []string
	if m := pv.Major(); m > 0 && target.Major > 0 && m != target.Major {
		out = append(out, fmt.Sprintf("the profile is for PostgreSQL %d (recorded with %s) and the server is PostgreSQL %d: "+
			"another major starts other processes and makes other syscalls; use the profile shipped for %d, or record one (pgseccomp record)",
			m, pv.PostgreSQL, target.Major, target.Major))
	}
	if pv.Distribution != "" && target.Distribution != "" && pv.Distribution != target.Distribution {
		out = append(out, fmt.Sprintf("the profile was recorded on %s and this machine is %s: "+
			"another distribution's PostgreSQL build and C library can make other syscalls; try it with log defaults first, or record one here",
			pv.Distribution, target.Distribution))
	}
	if pv.Architecture != "" && target.Architecture != "" && pv.Architecture != target.Architecture {
		out = append(out, fmt.Sprintf("the profile is for %s and the target is %s: syscall names and numbers differ; record a profile there",
			pv.Architecture, target.Architecture))
	}
	return out
}

// OSRelease is the PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12
// (bookworm)"), what Provenance.Distribution holds; "" when the file or
// the field is missing.
func OSRelease() string {
	return osRelease("/etc/os-release")
}

func osRelease(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
