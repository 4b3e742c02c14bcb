package profile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// Snippet returns the configuration file (for a conf.d directory) that
// makes a server load the profile's filters: a header saying what it is,
// where it comes from and how to include it, then pgseccomp.enabled = on
// and every setting of every layer, lists written out in full (a session
// list is never '*'), pgseccomp.session_roles with the roles quoted so
// that PostgreSQL reads back their exact names, and each role's five
// per-role settings. It does not set shared_preload_libraries, which would
// replace the server's list; the header says to add pgseccomp to it.
//
// enforce, when not nil, replaces every default action (global, session,
// each role's): a profile recorded with log defaults becomes an enforcing
// one with --enforce error. The profile must be valid (as Parse, Merge and
// Validate make sure): role names that cannot have per-role settings would
// give a file the server refuses.
func Snippet(p *Profile, enforce *policy.Action) string {
	var b strings.Builder
	header(&b, p, enforce)
	write := func(settings []Setting) {
		for _, st := range settings {
			fmt.Fprintf(&b, "%s = %s\n", st.Name, st.Value)
		}
	}
	g := settingGroups(p, enforce)
	write(g.enabled)
	b.WriteString("\n# The global layer: the postmaster and every process it starts (restart to\n# change).\n")
	write(g.global)
	b.WriteString("\n# The session layer: each client backend, right after it authenticates\n# (reload to change; new sessions get it).\n")
	write(g.session)
	b.WriteString("\n# Roles with a session layer of their own, replacing the one above for the\n# sessions they authenticate (reload to change).\n")
	write(g.roles)
	for i, r := range p.RoleNames() {
		fmt.Fprintf(&b, "\n# Role %s.\n", commentText(quoteJSON(r)))
		write(g.role[i])
	}
	return b.String()
}

// Setting is one setting a profile becomes: its name, as policy names it,
// and its value as postgresql.conf takes it (quoted).
type Setting struct{ Name, Value string }

// groups are a profile's settings in the order and groups Snippet writes.
type groups struct {
	enabled, global, session, roles []Setting
	role                            [][]Setting // in RoleNames order
}

// settingGroups is the one place a profile becomes settings: Snippet
// writes them, ConfSettings hands them to callers that set them another
// way. enforce, when not nil, replaces every default action.
func settingGroups(p *Profile, enforce *policy.Action) groups {
	def := func(d policy.Action) string {
		if enforce != nil {
			d = *enforce
		}
		return policy.QuoteValue(d.String())
	}
	layer := func(l *Layer, defaultName string, listName func(policy.Action) string) []Setting {
		out := []Setting{{defaultName, def(l.Default)}}
		for _, a := range policy.Actions {
			out = append(out, Setting{listName(a), policy.QuoteValue(strings.Join(sortedSet(l.List(a)), ","))})
		}
		return out
	}
	g := groups{
		enabled: []Setting{{policy.EnabledName, "on"}},
		global:  layer(&p.Global, policy.GlobalDefaultName, policy.GlobalListName),
		session: layer(&p.Session, policy.SessionDefaultName, policy.SessionListName),
	}
	roles := p.RoleNames()
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = QuoteRoleName(r)
		l := p.Roles[r]
		g.role = append(g.role, layer(&l, policy.RoleDefaultName(r), func(a policy.Action) string { return policy.RoleListName(a, r) }))
	}
	g.roles = []Setting{{policy.SessionRolesName, policy.QuoteValue(strings.Join(quoted, ","))}}
	return g
}

func header(b *strings.Builder, p *Profile, enforce *policy.Action) {
	line := func(format string, args ...any) {
		fmt.Fprintf(b, "# %s\n", commentText(fmt.Sprintf(format, args...)))
	}
	pv := &p.Provenance
	if p.Source != "" {
		line("pgseccomp: the filters of the profile %s (%s).", p.Source, Format)
	} else {
		line("pgseccomp: the filters of a profile (%s).", Format)
	}
	b.WriteString("#\n")
	var how []string
	if !pv.RecordedAt.IsZero() {
		how = append(how, pv.RecordedAt.UTC().Format(time.RFC3339))
	}
	if pv.Tool != "" {
		how = append(how, "by "+pv.Tool)
	}
	how = append(how, "on "+pv.Architecture)
	if pv.Seconds > 0 {
		how = append(how, "in "+strconv.FormatFloat(pv.Seconds, 'f', 1, 64)+" s")
	}
	verb := "Recorded"
	if len(pv.MergedFrom) > 0 {
		verb = "Merged"
	}
	line("%s %s.", verb, strings.Join(how, " "))
	var system []string
	for _, f := range []struct{ name, value string }{
		{"PostgreSQL", pv.PostgreSQL}, {"glibc", pv.Glibc}, {"kernel", pv.Kernel}, {"", pv.Distribution},
	} {
		if f.value != "" {
			system = append(system, strings.TrimSpace(f.name+" "+f.value))
		}
	}
	if len(system) > 0 {
		line("  %s", strings.Join(system, ", "))
	}
	if len(pv.Workloads) > 0 {
		line("  workloads: %s", strings.Join(pv.Workloads, ", "))
	}
	for _, a := range pv.Added {
		line("  added to the %s layer: %s (%s)", a.Layer, strings.Join(a.Syscalls, ", "), a.Why)
	}
	if len(pv.MergedFrom) > 0 {
		line("  merged from: %s", strings.Join(pv.MergedFrom, ", "))
	}
	if enforce != nil {
		own := []string{"global " + p.Global.Default.String(), "session " + p.Session.Default.String()}
		for _, r := range p.RoleNames() {
			l := p.Roles[r]
			own = append(own, fmt.Sprintf("role %s %s", r, l.Default))
		}
		b.WriteString("#\n")
		line("Enforcing: every default action here is %s (the profile's own: %s).", *enforce, strings.Join(own, ", "))
		switch *enforce {
		case policy.Error:
			b.WriteString("# A syscall no list names now fails with EACCES: try it on a test server\n# first, and make sure the recording covered restarts, checkpoints, WAL\n# segment creation, archiving and backups.\n")
		case policy.Kill:
			b.WriteString("# A syscall no list names now kills the process, and a killed backend makes\n# the postmaster end every session and run crash recovery: try it on a test\n# server first, and make sure the recording covered restarts, checkpoints,\n# WAL segment creation, archiving and backups.\n")
		}
	}
	b.WriteString(`#
# To use it:
#  1. Put this file where postgresql.conf includes it: in a directory named by
#     include_dir (Debian's postgresql.conf has include_dir = 'conf.d', so
#     /etc/postgresql/15/main/conf.d/pgseccomp.conf), or include it by name
#     at the end of postgresql.conf:  include 'pgseccomp.conf'
#     A setting made later (postgresql.conf after the include, or ALTER
#     SYSTEM's postgresql.auto.conf) overrides the one here.
#  2. shared_preload_libraries must contain pgseccomp. This file does not set
#     it, so as not to replace the libraries the server loads: add pgseccomp
#     to your list, e.g.
#       shared_preload_libraries = 'pg_stat_statements,pgseccomp'
#  3. Check what the server would load, then restart it:
#       pgseccomp lint --config /etc/postgresql/15/main/postgresql.conf
#       pgseccomp explain --config /etc/postgresql/15/main/postgresql.conf

`)
}

// commentText makes s safe in a configuration comment: a comment ends at
// the end of its line, so a newline (or any control character) in a
// provenance field must not start a setting line.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// QuoteRoleName writes a role name for pgseccomp.session_roles so that
// PostgreSQL's SplitIdentifierString gives back exactly that name: plain
// when it is lower-case letters, digits, "_" and "$" (not first), and
// otherwise in double quotes (which keep upper-case letters, and bytes
// PostgreSQL might fold in a single-byte encoding), with quotes doubled.
func QuoteRoleName(role string) string {
	plain := role != ""
	for i := 0; i < len(role); i++ {
		c := role[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			plain = false
		}
	}
	if plain {
		return role
	}
	return `"` + strings.ReplaceAll(role, `"`, `""`) + `"`
}
