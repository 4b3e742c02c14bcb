package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

const lintUsage = `Usage: pgseccomp lint [--config FILE] [--pgdata DIR] [--profile FILE] [--arch ARCH ...] [--json]

Find mistakes and risks in a pgseccomp configuration, or in a profile (the
JSON 'pgseccomp record' writes), without a server. The configuration is read
as the postmaster reads it (includes, include_dir, postgresql.auto.conf) and
checked as pgseccomp checks it; then each layer (global, the session-level
settings, every role in pgseccomp.session_roles) is checked for:

  invalid        a setting pgseccomp rejects: the server does not start (a
                 reload keeps the previous session filters)
  ignored        a value PostgreSQL ignores, keeping the setting's default
  not-active     pgseccomp not in shared_preload_libraries, or enabled = off
  refused        the global filter denies seccomp: every connection refused
  startup        a layer with an error or kill default that denies what
                 PostgreSQL 15 needs to run on glibc 2.33 and later
                 (newfstatat, getdents64, pipe2, pselect6, signalfd4): lists
                 made before glibc 2.33 stop the server or every session
  failure-paths  a layer that denies what PostgreSQL's rare paths need:
                 pwritev (new WAL segments), rt_sigaction, gettid and tgkill
                 (abort after a PANIC)
  twin           a syscall allowed while its newer or older twin is denied
                 (clone/clone3, stat/newfstatat/statx, open/openat, ...): the
                 C library picks one or the other by version and never falls
                 back on the EACCES a filter returns
  kill           a kill action: one backend killed makes the postmaster
                 restart every session
  overridden     a session or per-role list entry the global layer overrides:
                 a layer can only tighten, so the entry has no effect
  client-filter  seccomp denied to sessions: set_client_filter fails, if you
                 GRANT EXECUTE on it

Each finding has a severity (error, warning or notice), where (file:line of
the setting, or for a profile the file and JSON location, e.g.
"pg15.json: global.allow"), why it matters and the fix.

Flags:
  --config FILE  the postgresql.conf to read; postgresql.auto.conf is read
                 from --pgdata, else from the file's data_directory setting,
                 else from the file's own directory
  --pgdata DIR   the cluster's data directory: DIR/postgresql.conf (unless
                 --config) and DIR/postgresql.auto.conf; neither flag: $PGDATA
  --profile FILE a pgseccomp profile instead (--config FILE reads one too,
                 recognized by its JSON)
  --arch ARCH    check for servers of ARCH (x86_64, aarch64, i386, arm,
                 ppc64le, s390x, riscv64, ...); repeat for several, e.g. a
                 configuration shared by x86_64 and aarch64 servers, where a
                 name one lacks (open, stat on aarch64) stops the server.
                 Default: a profile's own architecture, else this machine's
  --json         print a JSON array of findings (fields: check, severity,
                 where, setting, role, arch, message, why, fix)

Exit status:
  0  no errors or warnings (notices may be printed)
  1  errors or warnings found
  2  bad flags, or a configuration file that cannot be read or parsed

Examples:
  # check a cluster's configuration
  pgseccomp lint --pgdata /var/lib/postgresql/15/main

  # Debian layout, for a fleet of x86_64 and aarch64 servers
  pgseccomp lint --config /etc/postgresql/15/main/postgresql.conf --arch x86_64 --arch aarch64

  # in CI: fail the pipeline on errors only
  pgseccomp lint --config postgresql.conf --json | jq -e 'all(.severity != "error")'

  # a recorded profile: does it cover PostgreSQL's failure paths?
  pgseccomp lint --profile pg15.json
`

// Severities of findings, most severe first.
const (
	severityError   = "error"   // the server, or sessions, will fail
	severityWarning = "warning" // a risk or a setting that does not do what it says
	severityNotice  = "notice"  // worth knowing; does not fail lint
)

// lintFinding is one finding.
type lintFinding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Where    string `json:"where,omitempty"`   // file:line of the setting
	Setting  string `json:"setting,omitempty"` // the setting to change
	Role     string `json:"role,omitempty"`    // the role whose sessions it concerns
	Arch     string `json:"arch,omitempty"`    // the architectures it concerns, when not all
	Message  string `json:"message"`
	Why      string `json:"why"`
	Fix      string `json:"fix"`
}

func runLint(args []string) int {
	var config configFlags
	var archNames stringList
	fs := newFlagSet("lint")
	config.register(fs)
	fs.Var(&archNames, "arch", "architecture (repeatable)")
	jsonOut := fs.Bool("json", false, "print JSON")
	if code, ok := parseFlags(fs, args, lintUsage); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError("lint", "unexpected argument %q; lint takes only flags (see 'pgseccomp lint --help')", fs.Arg(0))
	}
	in, err := config.load()
	if err != nil {
		return usageError("lint", "%v", err)
	}
	var archs []policy.Arch
	if len(archNames) == 0 {
		archNames = append(archNames, "")
	}
	for _, name := range archNames {
		a, err := inputArch(name, in)
		if err != nil {
			return usageError("lint", "--arch: %v", err)
		}
		if !slices.Contains(archs, a) {
			archs = append(archs, a)
		}
	}
	findings := lintConfig(in, archs)

	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []lintFinding{}
		}
		if err := enc.Encode(findings); err != nil {
			fmt.Fprintf(stderr, "pgseccomp lint: writing JSON: %v\n", err)
			return 2
		}
	} else {
		writeFindings(stdout, findings)
	}
	for _, fd := range findings {
		if fd.Severity != severityNotice {
			return 1
		}
	}
	return 0
}

func writeFindings(w io.Writer, findings []lintFinding) {
	counts := map[string]int{}
	for _, fd := range findings {
		counts[fd.Severity]++
		where := fd.Where
		if where == "" {
			where = "pgseccomp"
		}
		scope := ""
		if fd.Arch != "" {
			scope = " [" + fd.Arch + "]"
		}
		fmt.Fprintf(w, "%s: %s: %s%s (%s)\n", where, fd.Severity, fd.Message, scope, fd.Check)
		fmt.Fprintf(w, "  why: %s\n", fd.Why)
		fmt.Fprintf(w, "  fix: %s\n", fd.Fix)
	}
	if len(findings) == 0 {
		fmt.Fprintln(w, "no findings")
		return
	}
	var parts []string
	for _, s := range []string{severityError, severityWarning, severityNotice} {
		if counts[s] > 0 {
			parts = append(parts, plural(counts[s], s, s+"s"))
		}
	}
	fmt.Fprintf(w, "%s: %s\n", plural(len(findings), "finding", "findings"), strings.Join(parts, ", "))
}

// lintConfig runs every check on each architecture. A finding that every
// architecture has is reported once, without an Arch. For a profile, the
// settings its messages name are its JSON locations.
func lintConfig(in *configInput, archs []policy.Arch) []lintFinding {
	type seen struct {
		finding lintFinding
		archs   []string
	}
	var order []string
	byKey := map[string]*seen{}
	for _, arch := range archs {
		for _, fd := range lintArch(check(in, arch), arch) {
			key := fd.Check + "\x00" + fd.Where + "\x00" + fd.Role + "\x00" + fd.Message
			if s, ok := byKey[key]; ok {
				s.archs = append(s.archs, arch.String())
				continue
			}
			byKey[key] = &seen{finding: fd, archs: []string{arch.String()}}
			order = append(order, key)
		}
	}
	var out []lintFinding
	for _, key := range order {
		s := byKey[key]
		if len(archs) > 1 && len(s.archs) < len(archs) {
			s.finding.Arch = strings.Join(s.archs, ", ")
		}
		s.finding.Message = profileText(s.finding.Message, in)
		s.finding.Fix = profileText(s.finding.Fix, in)
		out = append(out, s.finding)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return severityRank(out[i].Severity) < severityRank(out[j].Severity)
	})
	return out
}

func severityRank(s string) int {
	switch s {
	case severityError:
		return 0
	case severityWarning:
		return 1
	}
	return 2
}

// linter holds what the checks of one architecture share.
type linter struct {
	lc       *loadedConfig
	arch     policy.Arch
	findings []lintFinding
}

func (l *linter) add(fd lintFinding) {
	if fd.Where == "" && fd.Setting != "" {
		fd.Where = l.lc.settings.Where(fd.Setting)
	}
	l.findings = append(l.findings, fd)
}

// sessionLayer is one session layer to check, with who gets it.
type sessionLayer struct {
	role  string // "" for roles not in session_roles
	layer *policy.Layer
}

func (s sessionLayer) who() string {
	if s.role == "" {
		return "sessions of roles not in " + policy.SessionRolesName
	}
	return fmt.Sprintf("sessions of role %q", s.role)
}

func lintArch(lc *loadedConfig, arch policy.Arch) []lintFinding {
	l := &linter{lc: lc, arch: arch}
	l.checkInvalid()
	l.checkActive()
	p := lc.policy
	if p == nil || p.Global == nil {
		return l.findings
	}
	l.checkKill()
	l.checkRefused()
	if note := p.NewerThanLibraryNote(); note != "" {
		l.add(lintFinding{Check: "newer-syscall", Severity: severityNotice, Message: note,
			Why: "A profile recorded on a newer system may name syscalls this tool's libseccomp does not know; they are real, so they are no typo.",
			Fix: "Check that the servers this configuration is for have a libseccomp that knows them, or leave them out for those that do not."})
	}
	var sessions []sessionLayer
	if p.Session != nil {
		sessions = append(sessions, sessionLayer{"", p.Session})
		for _, role := range lc.settings.SessionRoles {
			if layer, ok := p.Roles[role]; ok && !slices.ContainsFunc(sessions, func(s sessionLayer) bool { return s.role == role }) {
				sessions = append(sessions, sessionLayer{role, layer})
			}
		}
	}
	l.checkNeeded(sessions)
	l.checkTwins(sessions)
	l.checkOverridden(sessions)
	l.checkClientFilter(sessions)
	return l.findings
}

func (l *linter) checkInvalid() {
	for _, p := range l.lc.problems {
		fd := lintFinding{Check: "invalid", Severity: severityError, Where: p.Where, Setting: p.Setting,
			Message: p.Error(),
			Why:     "pgseccomp refuses a setting it cannot apply: with it the server does not start, and a reload keeps the previous session filters (the server log says why)",
			Fix:     "correct the setting as the message says"}
		if p.Where != "" {
			fd.Message = strings.TrimPrefix(fd.Message, p.Where+": ")
		}
		if strings.Contains(p.Detail, "exist on this architecture") {
			fd.Fix = "use the syscall names of every architecture the configuration serves (e.g. openat, not open, on aarch64), or keep one configuration per architecture"
		}
		l.add(fd)
	}
	for _, w := range l.lc.settings.Warnings {
		l.add(lintFinding{Check: "ignored", Severity: severityError, Where: w.Where, Setting: w.Setting,
			Message: fmt.Sprintf("%s = %s is ignored", w.Setting, policy.QuoteValue(w.Value)),
			Why:     "PostgreSQL rejects the value when pgseccomp defines the setting, and keeps its default with only a WARNING in the log: " + w.Detail,
			Fix:     "write the value exactly: allow, log, error or kill (or on/off), without spaces"})
	}
}

func (l *linter) checkActive() {
	s := l.lc.settings
	if !s.Preloaded {
		l.add(lintFinding{Check: "not-active", Severity: severityWarning, Setting: policy.PreloadLibrariesName,
			Message: "pgseccomp is not in shared_preload_libraries",
			Why:     "the extension is never loaded, so no filter is: every pgseccomp setting is ignored",
			Fix:     "add pgseccomp to shared_preload_libraries (e.g. shared_preload_libraries = 'pgseccomp') and restart the server"})
	}
	if !s.Enabled {
		l.add(lintFinding{Check: "not-active", Severity: severityWarning, Setting: policy.EnabledName,
			Message: "pgseccomp.enabled is off",
			Why:     "with enabled off pgseccomp loads no filter, checks no setting, and seccomp_filter() raises an error",
			Fix:     "set pgseccomp.enabled = on and restart the server"})
	}
}

// checkKill: a kill action anywhere. In a session it lets one user take
// down every session; in the global layer any process, the postmaster too.
func (l *linter) checkKill() {
	s := l.lc.settings
	p := l.lc.policy
	const fix = "use error instead: the syscall fails with EACCES (\"Permission denied\") and is still audited"
	if p.Global.Default == policy.Kill || len(p.Global.List(policy.Kill)) > 0 {
		setting := policy.GlobalDefaultName
		what := "the global default action is kill"
		if p.Global.Default != policy.Kill {
			setting = policy.GlobalListName(policy.Kill)
			what = fmt.Sprintf("the global layer kills on %s", strings.Join(p.Global.Names(policy.Kill), ", "))
		}
		l.add(lintFinding{Check: "kill", Severity: severityWarning, Setting: setting, Message: what,
			Why: "the global filter is in every process: a killed backend or background process makes the postmaster terminate every session and run crash recovery, and a killed postmaster stops the server",
			Fix: fix})
	}
	type killSetting struct{ name, role, what string }
	var kills []killSetting
	if s.Session.Default == policy.Kill && s.IsSet(policy.SessionDefaultName) {
		kills = append(kills, killSetting{policy.SessionDefaultName, "", "the session default action is kill"})
	}
	if list := s.Session.Lists[policy.Kill]; strings.TrimSpace(list) != "*" && strings.TrimSpace(list) != "" {
		kills = append(kills, killSetting{policy.SessionListName(policy.Kill), "", fmt.Sprintf("the session kill list names %s", strings.TrimSpace(list))})
	}
	for _, role := range s.SessionRoles {
		rs := s.Roles[role]
		if rs.Default != nil && *rs.Default == policy.Kill {
			kills = append(kills, killSetting{policy.RoleDefaultName(role), role, fmt.Sprintf("the default action of role %q is kill", role)})
		}
		if v := rs.Lists[policy.Kill]; v != nil && strings.TrimSpace(*v) != "*" && strings.TrimSpace(*v) != "" {
			kills = append(kills, killSetting{policy.RoleListName(policy.Kill, role), role, fmt.Sprintf("the kill list of role %q names %s", role, strings.TrimSpace(*v))})
		}
	}
	for _, k := range kills {
		l.add(lintFinding{Check: "kill", Severity: severityWarning, Setting: k.name, Role: k.role, Message: k.what,
			Why: "a backend killed by its filter dies with SIGSYS, and the postmaster treats that as a crash: it terminates every session of every user and runs crash recovery, so one user making that syscall (from a PL function, an extension, COPY PROGRAM) interrupts the whole cluster",
			Fix: fix})
	}
}

func (l *linter) checkRefused() {
	denied := policy.DeniedLoaderSyscalls(l.arch, l.lc.policy.Global)
	if len(denied) == 0 {
		return
	}
	l.add(lintFinding{Check: "refused", Severity: severityError, Setting: l.settingFor(l.lc.policy.Global, denied[0]),
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
	if layer.Origin != policy.Global && l.lc.policy.Global.Action(nr) >= policy.Error {
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
	return layer.Action(nr) < policy.Error && l.lc.policy.Global.Action(nr) < policy.Error
}

// needed are syscalls PostgreSQL 15 needs, measured (SPEC §6 and §7).
// sessionNames are those a client backend needs after it authenticated
// (nil: all of names): a backend sets up its latch (signalfd4, pipe2) and
// reads its first directories before its session filter is loaded.
var needed = []struct {
	check, severity string
	names           []string
	sessionNames    []string
	why             string
}{
	{"startup", severityError, []string{"newfstatat", "getdents64", "pipe2", "pselect6", "signalfd4"}, []string{"newfstatat", "pselect6"},
		"PostgreSQL 15 on glibc 2.33 and later makes these from its first seconds (stat() is newfstatat, readdir() getdents64, pipe() pipe2, select() pselect6, and latches use signalfd); a list made before glibc 2.33 (stat, getdents, pipe, select) with an error default stops %s"},
	{"failure-paths", severityWarning, []string{"pwritev", "rt_sigaction", "gettid", "tgkill"}, nil,
		"PostgreSQL needs these on paths workloads rarely reach: pwritev to create a new WAL segment (denied: PANIC), rt_sigaction, gettid and tgkill to abort() after a PANIC (denied: a segmentation fault instead of a clean crash); a list recorded from a quiet workload misses them"},
}

func (l *linter) checkNeeded(sessions []sessionLayer) {
	layers := []struct {
		layer   *policy.Layer
		role    string
		victims string
	}{{l.lc.policy.Global, "", "the server from starting"}}
	for _, s := range sessions {
		layers = append(layers, struct {
			layer   *policy.Layer
			role    string
			victims string
		}{s.layer, s.role, s.who() + " from running"})
	}
	for _, n := range needed {
		for _, ly := range layers {
			var denied []string
			names := n.names
			if ly.layer.Origin != policy.Global && n.sessionNames != nil {
				names = n.sessionNames
			}
			for _, name := range names {
				if d, _ := l.denies(ly.layer, name); d {
					denied = append(denied, name)
				}
			}
			if len(denied) == 0 {
				continue
			}
			where := l.settingFor(ly.layer, denied[0])
			l.add(lintFinding{Check: n.check, Severity: n.severity, Setting: where, Role: ly.role,
				Message: fmt.Sprintf("%s denies %s", layerName(ly.layer, ly.role), strings.Join(denied, ", ")),
				Why:     strings.Replace(n.why, "%s", ly.victims, 1),
				Fix:     fmt.Sprintf("allow %s in %s", strings.Join(denied, ", "), allowSetting(ly.layer, ly.role))})
		}
	}
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
	layers := []sessionLayer{{"", l.lc.policy.Global}}
	layers = append(layers, sessions...)
	reported := map[string]bool{}
	for _, n := range needed {
		for _, name := range n.names {
			reported[name] = true // said by checkNeeded, with more urgency
		}
	}
	for _, ly := range layers {
		// A layer that allows by default and denies nothing explicitly
		// cannot split a pair.
		if ly.layer.Default < policy.Error && len(ly.layer.List(policy.Error)) == 0 && len(ly.layer.List(policy.Kill)) == 0 {
			continue
		}
		for _, group := range policy.Twins {
			var allowed, denied []string
			for _, gen := range group.Generations {
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
				if exists > 0 && len(genDenied) == exists {
					denied = append(denied, genDenied...)
				}
			}
			denied = slices.DeleteFunc(denied, func(name string) bool { return reported[name] })
			if len(denied) == 0 {
				continue
			}
			if len(allowed) == 0 {
				if len(group.Generations) > 1 || ly.layer.Default < policy.Error {
					continue // the whole group denied: a choice, not a split
				}
			}
			severity := severityWarning
			if !slices.ContainsFunc(denied, func(name string) bool { return !slices.Contains(group.Optional, name) }) {
				severity = severityNotice
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
			l.add(lintFinding{Check: "twin", Severity: severity, Setting: setting, Role: ly.role,
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
	global := l.lc.policy.Global
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
		fd := lintFinding{Check: "overridden", Severity: severityWarning, Setting: g.setting, Role: g.role,
			Message: fmt.Sprintf("%s names %s, but the global layer gives %s %s: the entry has no effect",
				g.setting, names, pronoun(len(g.names)), strings.Join(gives, ", ")),
			Why: fmt.Sprintf("the kernel applies every layer and the strongest action wins, so a session layer can only tighten the global one: an %s entry for a syscall the global layer gives a stronger action changes nothing, and seccomp_filter() shows the global action (talk example 2)", action),
			Fix: fmt.Sprintf("to give sessions %s for %s, give %s that action in the global layer (%s, restart) and tighten it in the session lists instead; otherwise remove the entry",
				action, names, pronoun(len(g.names)), policy.GlobalListName(policy.Allow))}
		if !g.noEffect {
			fd.Severity = severityNotice
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
		if len(policy.DeniedLoaderSyscalls(l.arch, l.lc.policy.Global)) > 0 {
			return // every connection is refused anyway
		}
		denied := policy.DeniedLoaderSyscalls(l.arch, l.lc.policy.Global, s.layer)
		if len(denied) == 0 {
			continue
		}
		l.add(lintFinding{Check: "client-filter", Severity: severityNotice, Setting: l.settingFor(s.layer, denied[0]), Role: s.role,
			Message: fmt.Sprintf("%s denies %s", layerName(s.layer, s.role), strings.Join(denied, ", ")),
			Why:     fmt.Sprintf("set_client_filter() loads one more filter, which needs %s: if you GRANT EXECUTE on set_client_filter to %s, every call fails with \"could not load the client filter\" (the configuration cannot tell who has the grant)", strings.Join(denied, ", "), s.who()),
			Fix:     fmt.Sprintf("if those sessions use set_client_filter, allow %s in %s; if not, nothing to do", strings.Join(denied, ", "), allowSetting(s.layer, s.role))})
	}
}

// pronoun is "it" or "them".
func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// nameList joins names for a message, eliding all but the first few.
func nameList(names []string) string {
	const shown = 8
	if len(names) <= shown+1 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:shown], ", "), len(names)-shown)
}
