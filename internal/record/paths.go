package record

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/workload"
)

// Paths: every recording ties the syscalls of its recording passes to the
// events that ran when they were recorded (a workload step, a login by
// one pg_hba.conf method, a server start or shutdown) and keeps that map in
// its profile's provenance (profile.Provenance.Paths). The first pass of
// each layer logs every syscall (its list is empty), so that pass ties
// each event to everything the layer did during it; later passes add what
// was new. A recording of an existing cluster then takes, for every path
// its configuration uses, what the shipped profile's same path has and
// the recording lacks (fromShipped), so that a path the recording reached
// by another route, or not at all, is not left to chance.

// paths are the syscalls seen per event, per layer, so far.
type paths map[string]*pathSets

type pathSets struct{ global, session map[string]bool }

// absorbPaths adds the pass's events and what they were seen doing to
// r.paths; called with the collector locked, after a global or session
// pass.
func (r *recorder) absorbPaths(p phase) {
	if r.paths == nil {
		r.paths = paths{}
	}
	for name, nrs := range r.col.pathsSeen(time.Now()) {
		ps := r.paths[name]
		if ps == nil {
			ps = &pathSets{global: map[string]bool{}, session: map[string]bool{}}
			r.paths[name] = ps
		}
		set := ps.global
		if p == phaseSession {
			set = ps.session
		}
		for nr := range nrs {
			if n, ok := r.arch.Name(nr); ok {
				set[n] = true
			}
		}
	}
}

// provenance returns the map as the profile keeps it.
func (ps paths) provenance() map[string]profile.PathSyscalls {
	if len(ps) == 0 {
		return nil
	}
	out := map[string]profile.PathSyscalls{}
	for name, s := range ps {
		out[name] = profile.PathSyscalls{Global: sortedNames(s.global), Session: sortedNames(s.session)}
	}
	return out
}

// usedPath is a path a cluster's configuration uses, and how we know.
type usedPath struct{ name, why string }

// usedPaths are the paths of an existing cluster's recording: every event
// that ran in it, every server-life step (every server meets them, even
// where the recording could not run them, in place), and the login of
// every pg_hba.conf method it could not exercise, as the shipped profile
// names those paths (any line type with the method).
func (r *recorder) usedPaths(shipped map[string]profile.PathSyscalls) (used []usedPath, unmatched []string) {
	seen := map[string]bool{}
	use := func(name, why string) {
		if !seen[name] {
			seen[name] = true
			used = append(used, usedPath{name, why})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.paths)) {
		use(name, "the recording ran it")
	}
	for _, s := range workload.ServerLife() {
		use("built-in/"+s.Name, "every server meets it")
	}
	for _, u := range r.unexercised {
		found := false
		for _, name := range slices.Sorted(maps.Keys(shipped)) {
			if strings.HasPrefix(name, "login ") && strings.HasSuffix(name, " "+u.method) {
				use(name, fmt.Sprintf("pg_hba.conf line %d uses %s %s, which the recording cannot log in with", u.line, u.typ, u.method))
				found = true
			}
		}
		if !found {
			unmatched = append(unmatched, u.String())
		}
	}
	return used, unmatched
}

// fromShipped adds to l, for every used path, what the shipped profile's
// same path (paths, from file) has in a layer and l lacks there, and
// returns the additions, one per path and layer, each with its reason. A
// path's session syscalls go to the session layer and to every role's
// (any role may be the one that meets the path). Paths not in used add
// nothing, whatever they hold.
func fromShipped(l *lists, used []usedPath, paths map[string]profile.PathSyscalls, file string) []profile.Addition {
	var out []profile.Addition
	add := func(layer string, set map[string]bool, names []string, why string) {
		var missing []string
		for _, n := range names {
			if !set[n] {
				set[n] = true
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			out = append(out, profile.Addition{Layer: layer, Syscalls: missing, Why: why})
		}
	}
	for _, u := range used {
		ps, ok := paths[u.name]
		if !ok {
			continue
		}
		why := fmt.Sprintf("the shipped profile %s saw them on path %q, which this cluster's configuration uses (%s); the recording lacks them",
			file, u.name, u.why)
		add(profile.GlobalLayerName, l.global, ps.Global, why)
		add(profile.SessionLayerName, l.session, ps.Session, why)
		for _, role := range l.roleNames() {
			add(profile.RoleLayerName(role), l.roles[role], ps.Session, why)
		}
	}
	return out
}
