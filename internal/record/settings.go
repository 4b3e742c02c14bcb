package record

import (
	"maps"
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// lists is what a layer allows, by syscall name.
type lists struct {
	global  map[string]bool
	session map[string]bool
	roles   map[string]map[string]bool // --per-role: each role's session list
}

func newLists() *lists {
	return &lists{global: map[string]bool{}, session: map[string]bool{}, roles: map[string]map[string]bool{}}
}

// sortedNames returns a set's names in order.
func sortedNames(set map[string]bool) []string {
	return slices.Sorted(maps.Keys(set))
}

// roleNames returns the roles with lists of their own, sorted.
func (l *lists) roleNames() []string { return slices.Sorted(maps.Keys(l.roles)) }

func joinNames(set map[string]bool) string { return strings.Join(sortedNames(set), ",") }

// serverSettings are the settings every pass runs with: pgseccomp and the
// workload's libraries preloaded, and a log that names the role of every
// connection (jsonlog through the logging collector, in UTC).
func serverSettings(logDir string, workload map[string]string) map[string]string {
	s := maps.Clone(workload)
	if s == nil {
		s = map[string]string{}
	}
	preload := []string{"pgseccomp"}
	if v, ok := s["shared_preload_libraries"]; ok {
		for _, lib := range strings.Split(strings.Trim(v, "'"), ",") {
			if lib = strings.TrimSpace(lib); lib != "" && lib != "pgseccomp" {
				preload = append(preload, lib)
			}
		}
	}
	s["shared_preload_libraries"] = cluster.QuoteValue(strings.Join(preload, ","))
	s[policy.EnabledName] = "on"
	s["logging_collector"] = "on"
	s["log_destination"] = "'stderr,jsonlog'"
	s["log_directory"] = cluster.QuoteValue(logDir)
	s["log_filename"] = "'postgresql-%Y%m%d_%H%M%S.log'"
	s["log_timezone"] = "'UTC'"
	s["log_connections"] = "on"
	s["log_line_prefix"] = "'%m [%p] '"
	return s
}

// phaseSettings are pgseccomp's settings for one pass. A recording pass
// logs, at the layer it records, every syscall its list does not allow yet,
// and lets the other layer allow everything; the enforce pass denies with
// error at both layers whatever the lists do not name. They are the
// settings of a profile with those layers (profile.ConfSettings), as the
// snippet record writes at the end.
func phaseSettings(p phase, l *lists, perRole bool) map[string]string {
	var globalDefault, sessionDefault policy.Action
	switch p {
	case phaseGlobal:
		globalDefault, sessionDefault = policy.Log, policy.Allow
	case phaseSession:
		globalDefault, sessionDefault = policy.Allow, policy.Log
	case phaseConfirm:
		globalDefault, sessionDefault = policy.Log, policy.Log
	case phaseEnforce:
		globalDefault, sessionDefault = policy.Error, policy.Error
	}
	prof := &profile.Profile{
		Global:  profile.Layer{Default: globalDefault},
		Session: profile.Layer{Default: sessionDefault, Allow: sortedNames(l.session)},
	}
	// A pass that allows everything at a layer needs no list there.
	if globalDefault != policy.Allow {
		prof.Global.Allow = sortedNames(l.global)
	}
	if sessionDefault == policy.Allow {
		prof.Session.Allow = nil
	}
	if perRole && len(l.roles) > 0 {
		prof.Roles = map[string]profile.Layer{}
		for _, r := range l.roleNames() {
			layer := profile.Layer{Default: sessionDefault}
			if sessionDefault != policy.Allow {
				layer.Allow = sortedNames(l.roles[r])
			}
			prof.Roles[r] = layer
		}
	}
	return profile.ConfSettings(prof, nil)
}

func setOf(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}
