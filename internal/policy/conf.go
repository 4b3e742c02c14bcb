package policy

import "github.com/pgseccomp/pgseccomp/internal/pgconf"

// SettingsFromConf is ParseSettings over the settings in force in a
// configuration read by pgconf, each located at its file and line.
func SettingsFromConf(f *pgconf.File) (*Settings, error) {
	values := map[string]Value{}
	for _, s := range f.Effective() {
		values[s.Name] = Value{Text: s.Value, Where: s.Where()}
	}
	return ParseSettings(values)
}
