package profile

import (
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// ConfSettings are the settings Snippet writes, by name, with their values
// as written there (quoted for postgresql.conf): for a caller that sets
// them another way (a cluster's managed settings, pg_ctl -o). Snippet
// writes the same settingGroups, so the two never differ.
func ConfSettings(p *Profile, enforce *policy.Action) map[string]string {
	g := settingGroups(p, enforce)
	settings := map[string]string{}
	for _, group := range append([][]Setting{g.enabled, g.global, g.session, g.roles}, g.role...) {
		for _, st := range group {
			settings[st.Name] = st.Value
		}
	}
	return settings
}
