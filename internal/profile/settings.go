package profile

import (
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// ToSettings returns the settings Snippet writes for the profile (without
// an enforce override), as policy reads them, with shared_preload_libraries
// loading pgseccomp: what a server using the profile is configured with.
// Each setting is located in the profile, not in a generated file, so that
// a problem (a name that does not exist on another architecture given to
// Build) is reported as, e.g., "profile.json: session.allow: ...".
func ToSettings(p *Profile) (*policy.Settings, error) {
	file := p.name()
	at := func(loc string) string { return file + ": " + loc }
	values := map[string]policy.Value{
		policy.PreloadLibrariesName: {Text: "pgseccomp", Where: file},
		policy.EnabledName:          {Text: "on", Where: file},
	}
	layer := func(loc string, l *Layer, defaultName string, listName func(policy.Action) string) {
		values[defaultName] = policy.Value{Text: l.Default.String(), Where: at(loc + ".default")}
		for _, a := range policy.Actions {
			values[listName(a)] = policy.Value{Text: strings.Join(sortedSet(l.List(a)), ","), Where: at(loc + "." + a.String())}
		}
	}
	layer("global", &p.Global, policy.GlobalDefaultName, policy.GlobalListName)
	layer("session", &p.Session, policy.SessionDefaultName, policy.SessionListName)
	roles := p.RoleNames()
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = QuoteRoleName(r)
		l := p.Roles[r]
		layer(roleLoc(r), &l, policy.RoleDefaultName(r), func(a policy.Action) string { return policy.RoleListName(a, r) })
	}
	values[policy.SessionRolesName] = policy.Value{Text: strings.Join(quoted, ","), Where: at("roles")}
	return policy.ParseSettings(values)
}

// Locations maps the settings ToSettings gives to where the profile says
// them (e.g. pgseccomp.session_syscall_allow -> session.allow,
// session_syscall_error.joe -> roles."joe".error), for messages that name
// a setting and should point into the profile instead. Keys are the
// settings' names as policy writes them.
func Locations(p *Profile) map[string]string {
	m := map[string]string{
		policy.GlobalDefaultName:  "global.default",
		policy.SessionDefaultName: "session.default",
		policy.SessionRolesName:   "roles",
	}
	for _, a := range policy.Actions {
		m[policy.GlobalListName(a)] = "global." + a.String()
		m[policy.SessionListName(a)] = "session." + a.String()
	}
	for _, r := range p.RoleNames() {
		m[policy.RoleDefaultName(r)] = roleLoc(r) + ".default"
		for _, a := range policy.Actions {
			m[policy.RoleListName(a, r)] = roleLoc(r) + "." + a.String()
		}
	}
	return m
}

// Missing is the syscalls one list of a profile names that an
// architecture does not have.
type Missing struct {
	Location string   // the list, e.g. global.allow or roles."joe".error
	Setting  string   // the setting it becomes, e.g. pgseccomp.global_syscall_allow
	Names    []string // sorted
}

// MissingOn returns, list by list, the syscalls of the profile that do not
// exist on arch: what a server of that architecture would refuse, named
// completely (policy.Build stops at a list's first unknown name).
func MissingOn(p *Profile, arch policy.Arch) []Missing {
	var out []Missing
	add := func(loc string, l Layer, setting func(policy.Action) string) {
		for _, a := range policy.Actions {
			var names []string
			for _, name := range sortedSet(l.List(a)) {
				if _, err := policy.SyscallNumber(arch, name); err != nil {
					names = append(names, name)
				}
			}
			if names != nil {
				out = append(out, Missing{Location: loc + "." + a.String(), Setting: setting(a), Names: names})
			}
		}
	}
	add("global", p.Global, policy.GlobalListName)
	add("session", p.Session, policy.SessionListName)
	for _, r := range p.RoleNames() {
		add(roleLoc(r), p.Roles[r], func(a policy.Action) string { return policy.RoleListName(a, r) })
	}
	return out
}
