// Package lint finds mistakes and risks in a pgseccomp configuration, or in
// a profile, without a server: settings pgseccomp rejects, layers that deny
// what PostgreSQL needs (policy.Needs), split C-library twins
// (policy.Twins), kill actions, entries the global layer overrides, io_uring,
// and what the server's own settings (listen_addresses, ssl, pg_hba.conf,
// io_method, log_connections) mean for the filters. Each finding is ranked
// by its consequence: an error can stop the server, refuse connections by
// a configured method or keep a crashed cluster down; a warning is a risk or
// a setting that does not do what it says; a notice is worth knowing.
package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

// Severities of findings, most severe first.
const (
	Error   = "error"   // the server, connections or crash recovery will fail
	Warning = "warning" // a risk, or a setting that does not do what it says
	Notice  = "notice"  // worth knowing; does not fail lint
)

// Finding is one finding.
type Finding struct {
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

// Target is pgseccomp's configuration read and built on one architecture.
type Target struct {
	Arch     policy.Arch
	Settings *policy.Settings
	Policy   *policy.Policy  // nil, or with nil layers, when they could not be built
	Problems policy.Problems // what pgseccomp would reject
}

// Input is what to check.
type Input struct {
	// Targets are the configuration on each architecture to check.
	Targets []Target
	// Conf is the server's configuration, for the checks of its own
	// settings; nil for a profile, which has none.
	Conf *pgconf.File
	// HBA is the server's pg_hba.conf (see ReadHBA); nil with Conf nil.
	HBA *HBA
	// Roles are the names in the server's pg_roles (see FetchRoles); nil
	// when lint did not connect.
	Roles []string
	// Major is the PostgreSQL major the configuration or profile is for
	// (0: unknown): needs of other majors only (policy.Need.Until) are
	// not checked.
	Major int
	// ProfileFor says what a profile is for (profile.Provenance.For) and
	// Mismatch how the server and machine it is checked for differ
	// (profile.TargetMismatch); both empty for a configuration.
	ProfileFor string
	Mismatch   []string
	// Refusals are what pgseccomp install would refuse in a configuration
	// previewed with a profile (install.Preview): errors.
	Refusals []string
	// Rewrite, when not nil, rewrites each finding's message and fix
	// (e.g. setting names into a profile's JSON locations).
	Rewrite func(string) string
}

// For is the Input for a server's configuration (as pgconf.Load reads
// it) or a profile, on each of archs: its pgseccomp settings built as the
// postmaster builds them (source.Check), and a configuration's
// pg_hba.conf; a profile's findings name its JSON locations. Callers that
// know the server's roles set Input.Roles (FetchRoles).
func For(in *source.Input, archs ...policy.Arch) Input {
	li := Input{Conf: in.Conf, Major: in.Major(), Refusals: in.Refusals}
	li.ProfileFor, li.Mismatch = in.Target()
	if in.Conf != nil {
		li.HBA = ReadHBA(in.Conf)
	} else {
		li.Rewrite = in.Rewrite
	}
	for _, arch := range archs {
		c := source.Check(in, arch)
		li.Targets = append(li.Targets, Target{Arch: arch, Settings: c.Settings, Policy: c.Policy, Problems: c.Problems})
	}
	return li
}

// Blocking is lint's verdict on a server's configuration, as install
// checks the one it would leave: the findings that would stop the server
// or refuse a login (severity error), on this machine's architecture, one
// line each with where, what, the check and the fix.
func Blocking(f *pgconf.File) []string {
	arch, err := policy.NativeArch()
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, fd := range Run(For(source.ForConf(f), arch)) {
		if fd.Severity == Error {
			out = append(out, fmt.Sprintf("%s: %s (lint %s; fix: %s)", fd.Where, fd.Message, fd.Check, fd.Fix))
		}
	}
	return out
}

// Run runs every check on each target. A finding every target has is
// reported once, without an Arch. Findings are sorted by severity, most
// severe first, and keep their order otherwise.
func Run(in Input) []Finding {
	type seen struct {
		finding Finding
		archs   []string
	}
	var order []string
	byKey := map[string]*seen{}
	for _, t := range in.Targets {
		for _, fd := range checkTarget(in, t) {
			key := fd.Check + "\x00" + fd.Where + "\x00" + fd.Role + "\x00" + fd.Message
			if s, ok := byKey[key]; ok {
				s.archs = append(s.archs, t.Arch.String())
				continue
			}
			byKey[key] = &seen{finding: fd, archs: []string{t.Arch.String()}}
			order = append(order, key)
		}
	}
	var out []Finding
	for _, key := range order {
		s := byKey[key]
		if len(in.Targets) > 1 && len(s.archs) < len(in.Targets) {
			s.finding.Arch = strings.Join(s.archs, ", ")
		}
		if in.Rewrite != nil {
			s.finding.Message = in.Rewrite(s.finding.Message)
			s.finding.Fix = in.Rewrite(s.finding.Fix)
		}
		out = append(out, s.finding)
	}
	out = append(out, targetFindings(in)...)
	sort.SliceStable(out, func(i, j int) bool { return Rank(out[i].Severity) < Rank(out[j].Severity) })
	return out
}

// Rank orders severities: 0 for errors, 1 for warnings, 2 for notices.
func Rank(severity string) int {
	switch severity {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Failed reports whether findings hold an error or a warning, which make
// lint exit 1.
func Failed(findings []Finding) bool {
	for _, fd := range findings {
		if fd.Severity != Notice {
			return true
		}
	}
	return false
}

// linter holds what the checks of one target share.
type linter struct {
	in       Input
	t        Target
	arch     policy.Arch
	findings []Finding
}

func (l *linter) add(fd Finding) {
	if fd.Where == "" && fd.Setting != "" {
		fd.Where = l.t.Settings.Where(fd.Setting)
		if fd.Where == "" && l.in.Conf != nil {
			fd.Where = l.in.Conf.Path // not set: the main file is where to set it
			if s, ok := l.in.Conf.Lookup(fd.Setting); ok {
				fd.Where = s.Where()
			}
		}
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

func checkTarget(in Input, t Target) []Finding {
	l := &linter{in: in, t: t, arch: t.Arch}
	l.checkInvalid()
	l.checkActive()
	l.checkRoleNames()
	l.checkAttribution()
	p := t.Policy
	if p == nil || p.Global == nil {
		l.checkIOMethod()
		return l.findings
	}
	l.checkKill()
	l.checkRefused()
	if note := p.NewerThanLibraryNote(); note != "" {
		l.add(Finding{Check: "newer-syscall", Severity: Notice, Message: note,
			Why: "A profile recorded on a newer system may name syscalls this tool's libseccomp does not know; they are real, so they are no typo.",
			Fix: "Check that the servers this configuration is for have a libseccomp that knows them, or leave them out for those that do not."})
	}
	var sessions []sessionLayer
	if p.Session != nil {
		sessions = append(sessions, sessionLayer{"", p.Session})
		for _, role := range t.Settings.SessionRoles {
			layer, ok := p.Roles[role]
			if ok && !containsRole(sessions, role) {
				sessions = append(sessions, sessionLayer{role, layer})
			}
		}
	}
	l.checkNeeds(sessions)
	l.checkMethods()
	l.checkTwins(sessions)
	l.checkOverridden(sessions)
	l.checkClientFilter(sessions)
	l.checkIOUring(sessions)
	l.checkIOMethod()
	l.checkGlobalOnly(sessions)
	return l.findings
}

func containsRole(sessions []sessionLayer, role string) bool {
	for _, s := range sessions {
		if s.role == role {
			return true
		}
	}
	return false
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

// targetFindings: which PostgreSQL major, distribution and architecture a
// profile is for (a notice), and each way the target differs (a warning).
func targetFindings(in Input) []Finding {
	if in.ProfileFor == "" {
		return nil
	}
	out := []Finding{{Check: "target", Severity: Notice, Message: "the profile is for " + in.ProfileFor,
		Why: "a profile holds what one PostgreSQL major, built by one distribution, did on one architecture",
		Fix: "use it only there; give --cluster, --pgdata or --dsn to check it against a server"}}
	for _, r := range in.Refusals {
		out = append(out, Finding{Check: "install", Severity: Error, Message: r,
			Why: "pgseccomp install refuses to write a configuration the server would not read as it should, or that would not start",
			Fix: "do what the message says, then lint again"})
	}
	for _, m := range in.Mismatch {
		out = append(out, Finding{Check: "target", Severity: Warning, Message: m,
			Why: "another major starts other processes (17's WAL summarizer, 18's I/O workers) and another C library makes other syscalls for the same call, which the profile denies",
			Fix: "use the shipped profile for that major and distribution (profiles/), or record one there (pgseccomp record), and enforce it with log defaults first"})
	}
	return out
}
