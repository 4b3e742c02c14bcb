// C twin: extension/settings.c.

package policy

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// Setting names, as the extension defines them (extension/pgseccomp.h).
const (
	EnabledName           = "pgseccomp.enabled"
	GlobalDefaultName     = "pgseccomp.global_syscall_default"
	SessionDefaultName    = "pgseccomp.session_syscall_default"
	SessionRolesName      = "pgseccomp.session_roles"
	AllowSSBName          = "pgseccomp.allow_speculative_store_bypass"
	AllowCoreDumpsName    = "pgseccomp.allow_core_dumps"        // extension/hardening.c
	AuditSessionName      = "pgseccomp.audit_session"           // extension/hardening.c
	BackgroundRoleFilters = "pgseccomp.background_role_filters" // extension/rolecode.c
	WorkerFiltersName     = "pgseccomp.parallel_worker_filters" // set by the extension itself, never in a file
	PreloadLibrariesName  = "shared_preload_libraries"
	RoleSettingPrefix     = "session_syscall_" // per-role settings: session_syscall_<action>.<role>
	roleDefaultPrefix     = "session_syscall_default"
	SettingPrefix         = "pgseccomp." // every setting pgseccomp defines
	GlobalSettingPrefix   = SettingPrefix + "global_"
	maxRoleNameBytes      = 63 // NAMEDATALEN - 1: PostgreSQL truncates longer identifiers
	actionHint            = "Use allow, log, error or kill."
	enabledHint           = "Use on or off."
	unknownSettingDetails = "pgseccomp does not start with a setting it does not know; correct or remove it."
)

// GlobalListName is the setting of the global list for action a, e.g.
// pgseccomp.global_syscall_allow.
func GlobalListName(a Action) string { return "pgseccomp.global_syscall_" + a.String() }

// SessionListName is the setting of the session list for action a, e.g.
// pgseccomp.session_syscall_error.
func SessionListName(a Action) string { return "pgseccomp.session_syscall_" + a.String() }

// RoleListName is the per-role setting of role's list for action a, e.g.
// session_syscall_allow.joe.
func RoleListName(a Action, role string) string {
	return RoleSettingPrefix + a.String() + "." + role
}

// RoleDefaultName is the per-role setting of role's default action,
// session_syscall_default.<role>.
func RoleDefaultName(role string) string { return roleDefaultPrefix + "." + role }

// IsSetting reports whether a configuration line's name is one of
// pgseccomp's: a pgseccomp.* setting or a per-role one
// (session_syscall_<action>.<role>), compared as PostgreSQL compares
// setting names.
func IsSetting(name string) bool {
	key := pgconf.FoldName(name)
	return strings.HasPrefix(key, SettingPrefix) ||
		(strings.HasPrefix(key, RoleSettingPrefix) && strings.Contains(key, "."))
}

// KnownSettings are the names of every pgseccomp.* setting the extension
// defines.
func KnownSettings() []string {
	names := []string{EnabledName}
	for _, a := range Actions {
		names = append(names, GlobalListName(a))
	}
	names = append(names, GlobalDefaultName)
	for _, a := range Actions {
		names = append(names, SessionListName(a))
	}
	return append(names, SessionDefaultName, SessionRolesName, AllowSSBName, AllowCoreDumpsName, AuditSessionName, BackgroundRoleFilters, WorkerFiltersName)
}

// Value is a setting's value and where it was set ("file:line", or "" when
// not known), for messages.
type Value struct {
	Text  string
	Where string
}

// LayerSettings are the values of one layer's settings: its four lists, as
// written (a list is comma-separated syscall names, '*' in session lists),
// and its default action.
type LayerSettings struct {
	Lists   [NumActions]string
	Default Action
}

// RoleSettings are a listed role's own settings; nil means not set, so the
// session-level value counts.
type RoleSettings struct {
	Lists   [NumActions]*string
	Default *Action
}

// Settings are pgseccomp's settings as the postmaster reads them from the
// configuration files, checked as far as that needs no syscall table.
type Settings struct {
	Preloaded    bool // pgseccomp is in shared_preload_libraries
	Enabled      bool // pgseccomp.enabled
	AllowSSB     bool // pgseccomp.allow_speculative_store_bypass
	Global       LayerSettings
	Session      LayerSettings
	SessionRoles []string                // pgseccomp.session_roles, split and case-folded as PostgreSQL does
	Roles        map[string]RoleSettings // each listed role's own settings, keyed as in SessionRoles

	// Warnings are values the server starts with but ignores, keeping the
	// setting's default, with only a WARNING in its log (PostgreSQL's rule
	// for an extension's setting whose configured value is invalid).
	Warnings Problems

	values map[string]namedValue // every setting given, by case-folded name
}

type namedValue struct {
	name string // as written
	Value
}

// Active reports whether the extension would load filters at all: pgseccomp
// is preloaded and enabled. Otherwise seccomp_filter() raises an error.
func (s *Settings) Active() bool { return s.Preloaded && s.Enabled }

// Lookup returns a setting's value and where it was set; names are
// case-insensitive as PostgreSQL's are.
func (s *Settings) Lookup(name string) (Value, bool) {
	v, ok := s.values[pgconf.FoldName(name)]
	return v.Value, ok
}

// Where returns where a setting was set ("file:line"), or "".
func (s *Settings) Where(name string) string {
	v, _ := s.Lookup(name)
	return v.Where
}

// IsSet reports whether the configuration sets the named setting.
func (s *Settings) IsSet(name string) bool {
	_, ok := s.Lookup(name)
	return ok
}

// ParseSettingsMap is ParseSettings for values without locations.
func ParseSettingsMap(values map[string]string) (*Settings, error) {
	vs := make(map[string]Value, len(values))
	for name, text := range values {
		vs[name] = Value{Text: text}
	}
	return ParseSettings(vs)
}

// ParseSettings reads pgseccomp's settings (pgseccomp.*, the per-role
// session_syscall_<action>.<role> settings and shared_preload_libraries)
// from every setting of a configuration. Names are case-insensitive; other
// settings are ignored. Unset settings take the extension's defaults: lists
// empty in the global layer and '*' in the session layer, defaults allow,
// enabled off.
//
// It returns the settings and, as Problems, everything the extension would
// reject that needs no syscall table: an unknown pgseccomp.* setting, an
// invalid enabled or default action, a malformed session_roles, a role
// that cannot have per-role settings, a per-role setting with an unknown
// prefix or for a role not in session_roles. The syscall lists are checked
// by Build. Values the server would start with but ignore are in
// Settings.Warnings.
func ParseSettings(values map[string]Value) (*Settings, error) {
	s := &Settings{values: map[string]namedValue{}, Roles: map[string]RoleSettings{}}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic when two names fold alike
	for _, name := range names {
		s.values[pgconf.FoldName(name)] = namedValue{name: name, Value: values[name]}
	}
	for _, a := range Actions {
		s.Session.Lists[a] = "*"
	}

	var problems Problems
	bad := func(name string, v namedValue, detail string) {
		problems = append(problems, Problem{Setting: v.name, Value: v.Text, Where: v.Where, Detail: detail})
	}

	if v, ok := s.values[pgconf.FoldName(PreloadLibrariesName)]; ok {
		s.Preloaded = preloads(v.Text)
	}
	if v, ok := s.values[EnabledName]; ok {
		enabled, valid := parseBool(v.Text)
		if !valid {
			bad(EnabledName, v, enabledHint)
		}
		s.Enabled = enabled
	}
	for _, a := range Actions {
		if v, ok := s.values[GlobalListName(a)]; ok {
			s.Global.Lists[a] = v.Text
		}
		if v, ok := s.values[SessionListName(a)]; ok {
			s.Session.Lists[a] = v.Text
		}
	}
	for _, d := range []struct {
		name   string
		target *Action
	}{{GlobalDefaultName, &s.Global.Default}, {SessionDefaultName, &s.Session.Default}} {
		v, ok := s.values[d.name]
		if !ok {
			continue
		}
		if action, err := ParseAction(v.Text); err == nil {
			*d.target = action
			continue
		}
		bad(d.name, v, actionHint)
	}
	if v, ok := s.values[AllowSSBName]; ok {
		allow, valid := parseBool(v.Text)
		if !valid {
			s.Warnings = append(s.Warnings, Problem{Setting: v.name, Value: v.Text, Where: v.Where,
				Detail: "PostgreSQL ignores this value and keeps the default, off. " + enabledHint})
		}
		s.AllowSSB = allow
	}
	if v, ok := s.values[WorkerFiltersName]; ok {
		bad(WorkerFiltersName, v, "This setting is pgseccomp's own (it carries a session's filters to its parallel workers) and cannot be set in a configuration file; remove it.")
	}

	known := map[string]bool{}
	for _, name := range KnownSettings() {
		known[name] = true
	}
	for _, key := range sortedKeys(s.values) {
		v := s.values[key]
		if strings.HasPrefix(key, SettingPrefix) && !known[key] {
			bad(key, v, fmt.Sprintf("Unrecognized configuration parameter %q: %s", v.name, unknownSettingDetails))
		}
	}

	if v, ok := s.values[SessionRolesName]; ok {
		roles, detail := splitSessionRoles(v.Text)
		if detail != "" {
			bad(SessionRolesName, v, detail)
		}
		s.SessionRoles = roles
	}
	problems = append(problems, s.readRoleSettings()...)
	return s, problems.err()
}

// readRoleSettings gathers each listed role's settings and rejects per-role
// settings nothing would read (check_stray_role_settings in settings.c).
func (s *Settings) readRoleSettings() Problems {
	var problems Problems
	for _, role := range s.SessionRoles {
		var rs RoleSettings
		for _, a := range Actions {
			if v, ok := s.values[pgconf.FoldName(RoleListName(a, role))]; ok {
				text := v.Text
				rs.Lists[a] = &text
			}
		}
		if v, ok := s.values[pgconf.FoldName(RoleDefaultName(role))]; ok {
			action, err := ParseAction(v.Text)
			if err != nil {
				problems = append(problems, Problem{Setting: v.name, Value: v.Text, Where: v.Where, Detail: actionHint})
			} else {
				rs.Default = &action
			}
		}
		s.Roles[role] = rs
	}

	prefixes := []string{roleDefaultPrefix}
	for _, a := range Actions {
		prefixes = append(prefixes, RoleSettingPrefix+a.String())
	}
	for _, key := range sortedKeys(s.values) {
		v := s.values[key]
		if !strings.HasPrefix(key, RoleSettingPrefix) {
			continue
		}
		prefix, role, dotted := strings.Cut(key, ".")
		if !dotted {
			problems = append(problems, Problem{Setting: v.name, Value: v.Text, Where: v.Where,
				Detail: fmt.Sprintf("%q is not a setting: PostgreSQL does not start with it. The session-level setting is %s%s; per-role settings are %q followed by \".\" and the role name.",
					v.name, SettingPrefix, key, key)})
			continue
		}
		knownPrefix := false
		for _, p := range prefixes {
			knownPrefix = knownPrefix || prefix == p
		}
		if !knownPrefix {
			problems = append(problems, Problem{Setting: v.name, Value: v.Text, Where: v.Where,
				Detail: fmt.Sprintf("%q is not a per-role setting: per-role settings are session_syscall_allow, _log, _error, _kill or _default, followed by \".\" and the role name.", v.name)})
			continue
		}
		listed := false
		for _, r := range s.SessionRoles {
			listed = listed || pgconf.FoldName(r) == role
		}
		if !listed {
			_, roleAsWritten, _ := strings.Cut(v.name, ".")
			problems = append(problems, Problem{Setting: v.name, Value: v.Text, Where: v.Where,
				Detail: fmt.Sprintf("%q is set, but role %q is not listed in %s, so it would have no effect.", v.name, roleAsWritten, SessionRolesName)})
		}
	}
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// preloads reports whether a shared_preload_libraries value loads pgseccomp:
// as "pgseccomp", "$libdir/pgseccomp" or a path to pgseccomp.so.
func preloads(value string) bool {
	libs, ok := splitIdentifiers(value, false)
	if !ok {
		return false
	}
	for _, lib := range libs {
		base := strings.TrimSuffix(path.Base(lib), ".so")
		if base == "pgseccomp" {
			return true
		}
	}
	return false
}

// splitSessionRoles splits pgseccomp.session_roles as the extension does
// (SplitIdentifierString, then valid_role_setting_name). The detail is ""
// when the value is valid.
func splitSessionRoles(value string) (roles []string, detail string) {
	roles, ok := splitIdentifiers(value, true)
	if !ok {
		return nil, "The list of roles is malformed: separate role names with commas, and double-quote names that need it."
	}
	for _, role := range roles {
		if !ValidRoleSettingName(role) {
			return roles, fmt.Sprintf("Role %q cannot have per-role settings: their names (%sallow.%s) allow only letters, digits, \"_\" and \"$\".",
				role, RoleSettingPrefix, role)
		}
	}
	return roles, ""
}

// ValidRoleSettingName reports whether a role can have per-role settings:
// PostgreSQL accepts the name session_syscall_<action>.<role> only when the
// role name is a simple identifier (letters, "_", bytes >= 0x80, and after
// the first character digits and "$").
func ValidRoleSettingName(role string) bool {
	if role == "" {
		return false
	}
	for i := 0; i < len(role); i++ {
		c := role[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// isScannerSpace is PostgreSQL's scanner_isspace().
func isScannerSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// splitIdentifiers is PostgreSQL's SplitIdentifierString with separator ','
// (downcase true) or, close enough for finding a library name,
// SplitDirectoriesString (downcase false). Quoted names keep their case and
// may contain anything; "" inside quotes is one quote.
func splitIdentifiers(s string, downcase bool) ([]string, bool) {
	var names []string
	i := 0
	for i < len(s) && isScannerSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return nil, true
	}
	for {
		var name string
		if i == len(s) {
			return nil, false // a comma at the end: an empty name
		}
		if s[i] == '"' {
			var ok bool
			if name, i, ok = readQuoted(s, i); !ok {
				return nil, false
			}
		} else {
			start := i
			for i < len(s) && s[i] != ',' && !isScannerSpace(s[i]) {
				i++
			}
			if i == start {
				return nil, false
			}
			name = s[start:i]
			if downcase {
				name = pgconf.FoldName(name)
			}
		}
		for i < len(s) && isScannerSpace(s[i]) {
			i++
		}
		done := false
		switch {
		case i < len(s) && s[i] == ',':
			i++
			for i < len(s) && isScannerSpace(s[i]) {
				i++
			}
		case i == len(s):
			done = true
		default:
			return nil, false
		}
		if downcase {
			name = TruncateIdentifier(name)
		}
		names = append(names, name)
		if done {
			return names, true
		}
	}
}

// TruncateIdentifier cuts a name to NAMEDATALEN-1 (63) bytes at a
// character boundary, as PostgreSQL's truncate_identifier (pg_mbcliplen)
// does with identifiers, a role's name in CREATE ROLE included (UTF-8
// assumed): a session of a role given by a longer name is a session of
// the role so truncated.
func TruncateIdentifier(name string) string {
	if len(name) <= maxRoleNameBytes {
		return name
	}
	cut := maxRoleNameBytes
	for cut > 0 && name[cut]&0xC0 == 0x80 {
		cut--
	}
	return name[:cut]
}

// parseBool is PostgreSQL's parse_bool(): on/off, true/false, yes/no, 1/0,
// and unique prefixes of them, case-insensitive, no whitespace.
func parseBool(s string) (value, ok bool) {
	l := pgconf.FoldName(s)
	prefixOf := func(word string, min int) bool {
		return len(l) >= min && len(l) <= len(word) && strings.HasPrefix(word, l)
	}
	switch {
	case l == "":
		return false, false
	case prefixOf("true", 1), prefixOf("yes", 1), prefixOf("on", 2), l == "1":
		return true, true
	case prefixOf("false", 1), prefixOf("no", 1), prefixOf("off", 2), l == "0":
		return false, true
	}
	return false, false
}
