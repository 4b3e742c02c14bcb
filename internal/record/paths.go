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

// A feature is a path only a cluster configured for it meets: uses says,
// from the cluster's settings (conf returns a setting's value, or def when
// the configuration does not set it), whether the cluster does and why.
type feature struct {
	path string
	uses func(conf func(name, def string) string) (why string, ok bool)
}

// features are the shipped profile's paths of optional features the
// configuration turns on. Their work happens in processes of their own,
// whatever else runs (see lineage).
var features = []feature{{ArchivingPath, archives}}

// archives: the archiver runs with archive_mode on (or always) and
// archives with archive_library or archive_command.
func archives(conf func(name, def string) string) (string, bool) {
	mode := strings.ToLower(strings.TrimSpace(conf("archive_mode", "off")))
	switch mode {
	case "off", "false", "no", "0", "":
		return "", false
	}
	if lib := conf("archive_library", ""); lib != "" {
		return fmt.Sprintf("archive_mode = %s, archive_library = %s", mode, lib), true
	}
	if conf("archive_command", "") != "" {
		return fmt.Sprintf("archive_mode = %s with an archive_command", mode), true
	}
	return "", false
}

// clientPaths are paths of the shipped profile that a client's request
// takes, not the server's configuration: a recording takes them only when
// its own workloads ran them; record names them, with what takes them.
var clientPaths = map[string]string{
	workload.ServerSideBaseBackupEvent: "pg_basebackup --compress=server-... or --target=server:...",
}

// usedPaths are the paths of an existing cluster's recording: every event
// that ran in it (ran; a server-life step's set-up around the part every
// server meets is not), every server-life step (every server meets them,
// even where the recording could not run them, in place), every feature
// its configuration (conf) turns on, and the login of every pg_hba.conf
// method it could not exercise, as the shipped profile names those paths
// (any line type with the method). A feature path is used only by the
// configuration, whatever ran. onlyIfRun are the shipped profile's
// client paths the recording did not run, each with what takes it.
func usedPaths(ran []string, conf func(name, def string) string, unexercised []hbaLine, shipped map[string]profile.PathSyscalls) (used []usedPath, unmatched, onlyIfRun []string) {
	seen := map[string]bool{}
	use := func(name, why string) {
		if !seen[name] {
			seen[name] = true
			used = append(used, usedPath{name, why})
		}
	}
	isFeature := func(name string) bool {
		return slices.ContainsFunc(features, func(f feature) bool { return f.path == name })
	}
	// A server-life step only part of which every server meets (Meets) is
	// the recording's own set-up around that part (PL/Perl started to call
	// abort()): it counts through its event, not as work the cluster does.
	setUp := map[string]bool{}
	for _, s := range workload.ServerLife() {
		if s.Meets != "" {
			setUp[s.Path()] = true
		}
	}
	for _, name := range slices.Sorted(slices.Values(ran)) {
		if !isFeature(name) && !setUp[name] {
			use(name, "the recording ran it")
		}
	}
	for _, s := range workload.ServerLife() {
		use(s.ServerLifePath(), "every server meets it")
	}
	for _, f := range features {
		if why, ok := f.uses(conf); ok {
			use(f.path, "its configuration: "+why)
		}
	}
	for _, u := range unexercised {
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
	for _, name := range slices.Sorted(maps.Keys(clientPaths)) {
		if _, ok := shipped[name]; ok && !seen[name] {
			onlyIfRun = append(onlyIfRun, fmt.Sprintf("%q (%s)", name, clientPaths[name]))
		}
	}
	return used, unmatched, onlyIfRun
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
		out = addMissing(out, layer, set, names, why)
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

// addMissing adds to set the names it lacks and, when there were any,
// appends to adds one Addition of them (sorted) to layer, for why.
func addMissing(adds []profile.Addition, layer string, set map[string]bool, names []string, why string) []profile.Addition {
	var missing []string
	for _, n := range names {
		if !set[n] {
			set[n] = true
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return adds
	}
	slices.Sort(missing)
	return append(adds, profile.Addition{Layer: layer, Syscalls: missing, Why: why})
}
