package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// maxQuoted is the longest value a message quotes whole.
const maxQuoted = 40

func (l *linter) checkInvalid() {
	for _, p := range l.t.Problems {
		fd := Finding{Check: "invalid", Severity: Error, Where: p.Where, Setting: p.Setting,
			Message: p.Error(),
			Why:     "pgseccomp refuses a setting it cannot apply: with it the server does not start, and a reload keeps the previous session filters (the server log says why)",
			Fix:     "correct the setting as the message says"}
		if p.Where != "" {
			fd.Message = strings.TrimPrefix(fd.Message, p.Where+": ")
		}
		if p.Setting != "" && len(p.Value) > maxQuoted {
			fd.Message = p.Setting + ": " + p.Detail // the detail names the word
		}
		if p.Word != "" {
			// The detail names the word, its place and the closest name
			// (as the server's message does), never the whole list.
			fd.Message = p.Setting + ": " + p.Detail
			if sug := suggest(l.arch, p.Word); sug != "" {
				if !strings.Contains(p.Detail, "Did you mean") {
					fd.Message += fmt.Sprintf(" Did you mean %q?", sug)
				}
				fd.Fix = fmt.Sprintf("replace %q with %q, or with the syscall you meant, in %s", p.Word, sug, p.Setting)
			} else {
				fd.Fix = fmt.Sprintf("remove %q from %s, or replace it with a syscall name libseccomp %s knows on %s", p.Word, p.Setting, syscalls.LibraryVersion(), l.arch)
			}
		}
		if strings.Contains(p.Detail, "exist on this architecture") {
			fd.Fix = "use the syscall names of every architecture the configuration serves (e.g. openat, not open, on aarch64), or keep one configuration per architecture"
		}
		l.add(fd)
	}
	for _, w := range l.t.Settings.Warnings {
		l.add(Finding{Check: "ignored", Severity: Error, Where: w.Where, Setting: w.Setting,
			Message: fmt.Sprintf("%s = %s is ignored", w.Setting, policy.QuoteValue(w.Value)),
			Why:     "PostgreSQL rejects the value when pgseccomp defines the setting, and keeps its default with only a WARNING in the log: " + w.Detail,
			Fix:     "write the value exactly: allow, log, error or kill (or on/off), without spaces"})
	}
}

func (l *linter) checkActive() {
	s := l.t.Settings
	if !s.Preloaded {
		l.add(Finding{Check: "not-active", Severity: Warning, Setting: policy.PreloadLibrariesName,
			Message: "pgseccomp is not in shared_preload_libraries",
			Why:     "the extension is never loaded, so no filter is: every pgseccomp setting is ignored",
			Fix:     "add pgseccomp to shared_preload_libraries (e.g. shared_preload_libraries = 'pgseccomp') and restart the server"})
	}
	if !s.Enabled {
		l.add(Finding{Check: "not-active", Severity: Warning, Setting: policy.EnabledName,
			Message: "pgseccomp.enabled is off",
			Why:     "with enabled off pgseccomp loads no filter, checks no setting, and seccomp_filter() raises an error",
			Fix:     "set pgseccomp.enabled = on and restart the server"})
	}
}

// checkKill: a kill action anywhere. In a session it lets one user take
// down every session; in the global layer any process, the postmaster too.
func (l *linter) checkKill() {
	s := l.t.Settings
	p := l.t.Policy
	const fix = "use error instead: the syscall fails with EACCES (\"Permission denied\") and is still audited"
	if p.Global.Default == policy.Kill || len(p.Global.List(policy.Kill)) > 0 {
		setting := policy.GlobalDefaultName
		what := "the global default action is kill"
		if p.Global.Default != policy.Kill {
			setting = policy.GlobalListName(policy.Kill)
			what = fmt.Sprintf("the global layer kills on %s", strings.Join(p.Global.Names(policy.Kill), ", "))
		}
		l.add(Finding{Check: "kill", Severity: Warning, Setting: setting, Message: what,
			Why: "the global filter is in every process: a killed backend or background process makes the postmaster terminate every session and run crash recovery, and a killed postmaster stops the server",
			Fix: fix})
	}
	type killSetting struct{ name, role, what string }
	var kills []killSetting
	if s.Session.Default == policy.Kill && s.IsSet(policy.SessionDefaultName) {
		kills = append(kills, killSetting{policy.SessionDefaultName, "", "the session default action is kill"})
	}
	if list := s.Session.Lists[policy.Kill]; strings.TrimSpace(list) != "*" && strings.TrimSpace(list) != "" {
		kills = append(kills, killSetting{policy.SessionListName(policy.Kill), "", fmt.Sprintf("the session kill list names %s", words(list))})
	}
	for _, role := range s.SessionRoles {
		rs := s.Roles[role]
		if rs.Default != nil && *rs.Default == policy.Kill {
			kills = append(kills, killSetting{policy.RoleDefaultName(role), role, fmt.Sprintf("the default action of role %q is kill", role)})
		}
		if v := rs.Lists[policy.Kill]; v != nil && strings.TrimSpace(*v) != "*" && strings.TrimSpace(*v) != "" {
			kills = append(kills, killSetting{policy.RoleListName(policy.Kill, role), role, fmt.Sprintf("the kill list of role %q names %s", role, words(*v))})
		}
	}
	for _, k := range kills {
		l.add(Finding{Check: "kill", Severity: Warning, Setting: k.name, Role: k.role, Message: k.what,
			Why: "a backend killed by its filter dies with SIGSYS, and the postmaster treats that as a crash: it terminates every session of every user and runs crash recovery, so one user making that syscall (from a PL function, an extension, COPY PROGRAM) interrupts the whole cluster",
			Fix: fix})
	}
}

func (l *linter) checkRefused() {
	denied := policy.DeniedLoaderSyscalls(l.arch, l.t.Policy.Global)
	if len(denied) == 0 {
		return
	}
	l.add(Finding{Check: "refused", Severity: Error, Setting: l.settingFor(l.t.Policy.Global, denied[0]),
		Message: fmt.Sprintf("the global layer denies %s", strings.Join(denied, ", ")),
		Why:     "each backend loads its session filter right after authentication, which needs these syscalls; denied, every connection is refused (FATAL), the superuser's too",
		Fix:     fmt.Sprintf("allow %s in %s and restart the server", strings.Join(denied, ", "), policy.GlobalListName(policy.Allow))})
}

// settingFor names the setting that gives layer its action for the named
// syscall: the list naming it, or the layer's default.
func (l *linter) settingFor(layer *policy.Layer, name string) string {
	nr, err := policy.SyscallNumber(l.arch, name)
	if err != nil {
		return layer.DefaultFrom
	}
	return layer.Why(nr)
}

// denies reports whether a layer, on top of the layers below, is what
// denies the syscall: it gives error or kill and the global layer does not
// already (for the global layer itself: it gives error or kill). ok is
// false when the arch has no such syscall.
func (l *linter) denies(layer *policy.Layer, name string) (denied, ok bool) {
	nr, err := policy.SyscallNumber(l.arch, name)
	if err != nil {
		return false, false
	}
	if layer.Action(nr) < policy.Error {
		return false, true
	}
	if layer.Origin != policy.Global && l.t.Policy.Global.Action(nr) >= policy.Error {
		return false, true // reported for the global layer
	}
	return true, true
}

// allows reports whether the syscall gets through layer and those below.
func (l *linter) allows(layer *policy.Layer, name string) bool {
	nr, err := policy.SyscallNumber(l.arch, name)
	if err != nil {
		return false
	}
	return layer.Action(nr) < policy.Error && l.t.Policy.Global.Action(nr) < policy.Error
}

// layerName says which layer a finding is about.
func layerName(layer *policy.Layer, role string) string {
	switch {
	case layer.Origin == policy.Global:
		return "the global layer"
	case role == "":
		return "the session layer"
	}
	return fmt.Sprintf("the session layer of role %q", role)
}

// allowSetting is the list to add a syscall to, to allow it in layer.
func allowSetting(layer *policy.Layer, role string) string {
	switch {
	case layer.Origin == policy.Global:
		return policy.GlobalListName(policy.Allow) + " (restart)"
	case role == "":
		return policy.SessionListName(policy.Allow) + " (reload)"
	}
	return policy.RoleListName(policy.Allow, role) + " (reload)"
}

func (l *linter) checkTwins(sessions []sessionLayer) {
	layers := []sessionLayer{{"", l.t.Policy.Global}}
	layers = append(layers, sessions...)
	reported := map[string]bool{}
	for _, name := range policy.GlobalNeeds(l.conditions()...) {
		reported[name] = true // said by checkNeeds, with more urgency
	}
	for _, ly := range layers {
		// A layer that allows by default and denies nothing explicitly
		// cannot split a pair.
		if ly.layer.Default < policy.Error && len(ly.layer.List(policy.Error)) == 0 && len(ly.layer.List(policy.Kill)) == 0 {
			continue
		}
		for _, group := range policy.Twins {
			var allowed, denied []string
			newestAllowed, newestDenied := -1, -1 // generations
			for gi, gen := range group.Generations {
				var genAllowed, genDenied []string
				exists := 0
				for _, name := range gen {
					d, ok := l.denies(ly.layer, name)
					if !ok {
						continue
					}
					exists++
					switch {
					case d:
						genDenied = append(genDenied, name)
					case l.allows(ly.layer, name):
						genAllowed = append(genAllowed, name)
					}
				}
				allowed = append(allowed, genAllowed...)
				if len(genAllowed) > 0 {
					newestAllowed = gi
				}
				genDenied = slices.DeleteFunc(genDenied, func(name string) bool { return reported[name] })
				if exists > 0 && len(genDenied) == exists {
					denied = append(denied, genDenied...)
					newestDenied = gi
				}
			}
			if len(denied) == 0 {
				continue
			}
			if len(allowed) == 0 {
				if len(group.Generations) > 1 || ly.layer.Default < policy.Error {
					continue // the whole group denied: a choice, not a split
				}
			}
			// Denying only an optional twin, or only older generations
			// than one allowed (what this glibc does not call: a redundant
			// twin), is a notice; denying a newer one than allowed is
			// what breaks after an upgrade.
			severity := Warning
			if !slices.ContainsFunc(denied, func(name string) bool { return !slices.Contains(group.Optional, name) }) ||
				newestDenied < newestAllowed {
				severity = Notice
			}
			msg := fmt.Sprintf("%s allows %s but denies %s", layerName(ly.layer, ly.role), strings.Join(allowed, ", "), strings.Join(denied, ", "))
			setting := ""
			if len(allowed) > 0 {
				setting = l.settingFor(ly.layer, allowed[0])
			} else {
				msg = fmt.Sprintf("%s denies %s", layerName(ly.layer, ly.role), strings.Join(denied, ", "))
				setting = l.settingFor(ly.layer, denied[0])
			}
			why := group.Why
			if len(group.Generations) > 1 {
				why += policy.TwinWhy
			}
			l.add(Finding{Check: "twin", Severity: severity, Setting: setting, Role: ly.role,
				Message: msg,
				Why:     why,
				Fix:     fmt.Sprintf("allow %s as well, in %s", strings.Join(denied, ", "), allowSetting(ly.layer, ly.role))})
		}
	}
}

// checkOverridden: a session or per-role list entry weaker than what the
// global layer gives the syscall does not do what it says. When the layer's
// default would give the same result, the entry has no effect at all (talk
// example 2); otherwise it still keeps the session default away, but the
// syscall gets the global layer's action, not the entry's.
func (l *linter) checkOverridden(sessions []sessionLayer) {
	global := l.t.Policy.Global
	type group struct {
		setting  string
		role     string
		noEffect bool
		names    []string
		gives    map[string]bool
	}
	var groups []*group
	find := func(setting, role string, noEffect bool) *group {
		for _, g := range groups {
			if g.setting == setting && g.noEffect == noEffect {
				return g
			}
		}
		g := &group{setting: setting, role: role, noEffect: noEffect, gives: map[string]bool{}}
		groups = append(groups, g)
		return g
	}
	for _, s := range sessions {
		for _, nr := range s.layer.Syscalls() {
			from := s.layer.From[nr]
			if strings.HasPrefix(from, "pgseccomp.global_") {
				continue // inherited with '*': the global layer's own entry
			}
			g, entry := global.Action(nr), s.layer.Rules[nr]
			if g <= entry {
				continue
			}
			role := ""
			if !strings.HasPrefix(from, "pgseccomp.") {
				role = s.role
			}
			grp := find(from, role, max(g, s.layer.Default) == g)
			name := policy.SyscallName(l.arch, nr)
			if !slices.Contains(grp.names, name) {
				grp.names = append(grp.names, name)
				grp.gives[fmt.Sprintf("%s (%s)", g, global.Why(nr))] = true
			}
		}
	}
	for _, g := range groups {
		sort.Strings(g.names)
		var gives []string
		for k := range g.gives {
			gives = append(gives, k)
		}
		sort.Strings(gives)
		names := nameList(g.names)
		action := strings.TrimPrefix(g.setting, "pgseccomp.")
		action, _, _ = strings.Cut(strings.TrimPrefix(action, policy.RoleSettingPrefix), ".")
		fd := Finding{Check: "overridden", Severity: Warning, Setting: g.setting, Role: g.role,
			Message: fmt.Sprintf("%s names %s, but the global layer gives %s %s: the entry has no effect",
				g.setting, names, pronoun(len(g.names)), strings.Join(gives, ", ")),
			Why: fmt.Sprintf("the kernel applies every layer and the strongest action wins, so a session layer can only tighten the global one: an %s entry for a syscall the global layer gives a stronger action changes nothing, and seccomp_filter() shows the global action (talk example 2)", action),
			Fix: fmt.Sprintf("to give sessions %s for %s, give %s that action in the global layer (%s, restart) and tighten it in the session lists instead; otherwise remove the entry",
				action, names, pronoun(len(g.names)), policy.GlobalListName(policy.Allow))}
		if !g.noEffect {
			fd.Severity = Notice
			fd.Message = fmt.Sprintf("%s names %s, but the global layer gives %s %s: sessions get that, not %s",
				g.setting, names, pronoun(len(g.names)), strings.Join(gives, ", "), action)
			fd.Why = "the kernel applies every layer and the strongest action wins: the entry keeps the session default away from these syscalls, but a session layer cannot relax the global one"
			fd.Fix = fmt.Sprintf("if sessions must get %s for %s, give %s that action in the global layer (%s, restart); otherwise nothing to do",
				action, names, pronoun(len(g.names)), policy.GlobalListName(policy.Allow))
		}
		l.add(fd)
	}
}

// checkClientFilter: set_client_filter needs seccomp; a session layer that
// denies it makes every call fail.
func (l *linter) checkClientFilter(sessions []sessionLayer) {
	for _, s := range sessions {
		if len(policy.DeniedLoaderSyscalls(l.arch, l.t.Policy.Global)) > 0 {
			return // every connection is refused anyway
		}
		denied := policy.DeniedLoaderSyscalls(l.arch, l.t.Policy.Global, s.layer)
		if len(denied) == 0 {
			continue
		}
		l.add(Finding{Check: "client-filter", Severity: Notice, Setting: l.settingFor(s.layer, denied[0]), Role: s.role,
			Message: fmt.Sprintf("%s denies %s", layerName(s.layer, s.role), strings.Join(denied, ", ")),
			Why:     fmt.Sprintf("set_client_filter() loads one more filter, which needs %s: if you GRANT EXECUTE on set_client_filter to %s, every call fails with \"could not load the client filter\" (the configuration cannot tell who has the grant)", strings.Join(denied, ", "), s.who()),
			Fix:     fmt.Sprintf("if those sessions use set_client_filter, allow %s in %s; if not, nothing to do", strings.Join(denied, ", "), allowSetting(s.layer, s.role))})
	}
}

// suggest is the name to suggest for word on arch: its C-library twin of
// a later generation when word is a syscall of other architectures only
// (open: openat on aarch64), else the closest name libseccomp knows.
func suggest(arch policy.Arch, word string) string {
	for _, g := range policy.Twins {
		for gi, gen := range g.Generations {
			if !slices.Contains(gen, word) {
				continue
			}
			for _, later := range g.Generations[gi+1:] {
				for _, n := range later {
					if syscalls.Has(arch, n) {
						return n
					}
				}
			}
		}
	}
	name, _ := arch.Closest(word)
	return name
}

// words is a list setting's names for a message: the first few, and how
// many more.
func words(list string) string {
	var names []string
	for _, w := range strings.Split(list, ",") {
		if w = strings.TrimSpace(w); w != "" {
			names = append(names, w)
		}
	}
	return nameList(names)
}
