package profile

import (
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// ConfSettings are the settings Snippet writes, by name, with their values
// as written there (quoted for postgresql.conf): for a caller that sets
// them another way (a cluster's managed settings, pg_ctl -o). Taken from
// the snippet itself, so the two never differ.
func ConfSettings(p *Profile, enforce *policy.Action) map[string]string {
	settings := map[string]string{}
	for _, line := range strings.Split(Snippet(p, enforce), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, value, ok := strings.Cut(line, " = "); ok {
			settings[name] = value
		}
	}
	return settings
}
