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
	s["pgseccomp.enabled"] = "on"
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
// error at both layers whatever the lists do not name.
func phaseSettings(p phase, l *lists, perRole bool) map[string]string {
	s := map[string]string{}
	setLayer := func(listName func(policy.Action) string, defaultName, def string, allow map[string]bool) {
		s[defaultName] = "'" + def + "'"
		for _, a := range []policy.Action{policy.Allow, policy.Log, policy.Error, policy.Kill} {
			s[listName(a)] = "''"
		}
		s[listName(policy.Allow)] = cluster.QuoteValue(joinNames(allow))
	}
	global := func(def string, allow map[string]bool) {
		setLayer(policy.GlobalListName, "pgseccomp.global_syscall_default", def, allow)
	}
	session := func(def string, allow map[string]bool) {
		setLayer(policy.SessionListName, "pgseccomp.session_syscall_default", def, allow)
	}
	roles := func(def string) {
		if !perRole || len(l.roles) == 0 {
			s["pgseccomp.session_roles"] = "''"
			return
		}
		names := l.roleNames()
		quoted := make([]string, len(names))
		for i, r := range names {
			quoted[i] = profile.QuoteRoleName(r)
		}
		s["pgseccomp.session_roles"] = cluster.QuoteValue(strings.Join(quoted, ","))
		for _, r := range names {
			for _, a := range []policy.Action{policy.Allow, policy.Log, policy.Error, policy.Kill} {
				s[policy.RoleListName(a, r)] = "''"
			}
			s[policy.RoleListName(policy.Allow, r)] = cluster.QuoteValue(joinNames(l.roles[r]))
			s[policy.RoleDefaultName(r)] = "'" + def + "'"
		}
	}
	switch p {
	case phaseGlobal:
		global("log", l.global)
		session("allow", nil)
		roles("allow")
	case phaseSession:
		global("allow", nil)
		session("log", l.session)
		roles("log")
	case phaseConfirm:
		global("log", l.global)
		session("log", l.session)
		roles("log")
	case phaseEnforce:
		global("error", l.global)
		session("error", l.session)
		roles("error")
	}
	return s
}

func setOf(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}
