package watch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// roleLabel is the role label of the violations metric: the role when it
// is listed in session_roles, else "" (bounded by the configuration).
func (w *Watcher) roleLabel(role string) string {
	p := w.policy(syscalls.Native())
	if p == nil || role == "" {
		return ""
	}
	if _, listed := p.Roles[role]; listed {
		return role
	}
	return ""
}

// policy returns the configuration in force built for arch, nil (and
// why) if it cannot be read or is invalid.
func (w *Watcher) policy(arch policy.Arch) *policy.Policy {
	p, _ := w.policyWhy(arch)
	return p
}

func (w *Watcher) policyWhy(arch policy.Arch) (*policy.Policy, error) {
	w.policyMu.Lock()
	defer w.policyMu.Unlock()
	if w.stale {
		clear(w.policies)
		clear(w.policyErr)
		w.stale = false
	}
	if p, ok := w.policies[arch]; ok {
		return p, w.policyErr[arch]
	}
	var p *policy.Policy
	err := errors.New("no configuration given")
	if w.cfg.Policy != nil {
		p, err = w.cfg.Policy(arch)
	}
	if err == nil && (p == nil || p.Global == nil) {
		err = errors.New("the configuration is invalid")
	}
	w.policies[arch], w.policyErr[arch] = p, err
	return p, err
}

// attribute turns a tally into an event.
func (w *Watcher) attribute(k key, t *tally) *Event {
	e := &Event{Time: t.first, LastTime: t.last, Count: t.count, PID: k.pid, Action: actionName(k.action), SyscallNr: k.syscall}
	if t.ses != audit.Unset {
		ses := t.ses
		e.AuditSession = &ses
	}
	unknown := func(field, why string) {
		if e.Unattributed == nil {
			e.Unattributed = map[string]string{}
		}
		e.Unattributed[field] = why
	}
	rec := audit.Record{AuditArch: k.arch, Syscall: k.syscall}
	arch, name, ok := rec.Resolve()
	e.Syscall, e.Arch = name, arch.String()
	if !ok {
		e.Syscall = fmt.Sprintf("syscall %d", k.syscall)
		if arch == 0 {
			e.Arch = fmt.Sprintf("arch 0x%x", k.arch)
		}
	}
	if t.overflow {
		e.PID = 0
		e.Kind = "unknown"
		unknown("process", fmt.Sprintf("more than %d distinct events in one interval: counted by syscall and action only", w.cfg.MaxKeys))
		w.decide(e, arch, "", "", unknown)
		return e
	}

	// The process: its title when it was seen, else the server log.
	mem := t.member
	if m, ok := w.members.Lookup(k.pid); ok && !w.replaying && (mem.Title.Kind == "" || mem.Title.Kind == procs.KindStarting) {
		mem = m
	}
	title := mem.Title
	ls, logged := w.sessions.Lookup(k.pid)

	// A process that a server process forked (COPY ... PROGRAM, a shell
	// of an untrusted language) runs its parent's filters, for its
	// parent's session; until it execs it shows its parent's title.
	// Backends and workers are the postmaster's children, so any other
	// parent makes a subprocess.
	if owner := mem.Parent; owner != 0 && owner != mem.Postmaster && !w.replaying && !logged &&
		(title.Kind == "" || title.Kind == procs.KindStarting || title.Kind == procs.KindSubprocess || isSessionKind(string(title.Kind))) {
		om, ok := w.members.Lookup(owner)
		if !ok {
			om, _ = w.members.forkedMember(owner)
		}
		e.Kind, e.Parent = string(procs.KindSubprocess), owner
		title = om.Title
		mem, k.pid = om, owner
		ls, logged = w.sessions.Lookup(owner)
	}
	sessionKind := string(title.Kind)
	if title.Kind == "" || title.Kind == procs.KindStarting {
		switch {
		case logged && ls.backendType != "":
			sessionKind = ls.backendType
		case logged && ls.role != "":
			sessionKind = string(procs.KindClientBackend)
		case title.Kind == procs.KindStarting:
			sessionKind = string(procs.KindStarting)
		default:
			sessionKind = string(procs.KindUnknown)
			unknown("kind", "the process exited before it was seen and the server log names no session for its pid")
		}
	}
	if e.Kind == "" {
		e.Kind = sessionKind
	}
	if e.Parent == 0 && mem.Parent == 0 && !logged && !w.replaying && (title.Kind == "" || title.Kind == procs.KindStarting) {
		unknown("parent", w.forkWhy())
	}
	if title.Kind == procs.KindBackgroundWorker {
		e.Worker = title.Detail
	}
	e.Role, e.Database, e.ClientAddr = title.Role, title.Database, title.Host
	if title.Kind == procs.KindAutovacuumWorker {
		e.Role = ""
	}

	// A parallel worker works for its leader's session.
	session, sessionPID := ls, k.pid
	sessionLogged := logged
	leader := title.LeaderPID
	if leader == 0 && logged {
		leader = ls.leader
	}
	if leader != 0 {
		e.LeaderPID = leader
		if e.Parent == 0 {
			e.Kind = string(procs.KindParallelWorker)
		}
		sessionKind = string(procs.KindParallelWorker)
		if lm, ok := w.members.Lookup(leader); ok && !w.replaying {
			e.Role, e.Database, e.ClientAddr = lm.Title.Role, lm.Title.Database, lm.Title.Host
		}
		session, sessionLogged = w.sessions.Lookup(leader)
		sessionPID = leader
	}
	if sessionLogged {
		fillIn(&e.Role, session.role)
		fillIn(&e.Database, session.database)
		fillIn(&e.ClientAddr, session.host)
		e.Application = session.application
	}
	if isSessionKind(sessionKind) {
		if e.Role == "" {
			unknown("role", fmt.Sprintf("no process title and no 'connection authorized' line for pid %d (set log_connections = on)", sessionPID))
		}
		if !sessionLogged {
			unknown("application_name", fmt.Sprintf("the server log names no session for pid %d (log_connections = on, a jsonlog or csvlog destination, or %%a in log_line_prefix)", sessionPID))
		}
		killed, errored := e.Action == "kill", e.Action == "error"
		// A killed parallel worker's statement is its leader's.
		var st string
		if logged && sessionPID != k.pid {
			st = ls.statementAt(t.first, t.last, killed, errored)
		}
		if st == "" && sessionLogged {
			st = session.statementAt(t.first, t.last, killed, errored)
		}
		e.Statement = st
		if st == "" {
			why := "not in the server log: log_statement = 'all' logs every statement"
			if errored {
				why = "the server logged no error with a statement for this session (log_min_error_statement = error, and the statement may have caught the error)"
			} else if killed {
				why = "the postmaster's report of the killed process names none"
			}
			unknown("statement", why)
		}
	}
	w.decide(e, arch, sessionKind, e.Role, unknown)
	return e
}

// forkWhy says why a process that exited before it was seen has no known
// parent: without it, a subprocess is not tied to the session it ran for.
func (w *Watcher) forkWhy() string {
	switch {
	case w.forks == nil && w.forksErr != nil:
		return fmt.Sprintf("the kernel's process events are not read (%v)", firstLine(w.forksErr))
	case w.forks == nil:
		return "the kernel's process events are not read"
	case w.forks.Overflows() > 0:
		return fmt.Sprintf("its fork event was not read: the process events socket overflowed %d time(s) since the watch began, and the kernel dropped events", w.forks.Overflows())
	}
	return "the kernel reported no fork of it below the cluster's processes since the watch began"
}

// isSessionKind reports whether processes of kind run a session's
// filters (global and session layers, and a client layer if it set one).
func isSessionKind(kind string) bool {
	switch procs.Kind(kind) {
	case procs.KindClientBackend, procs.KindWalSender, procs.KindParallelWorker:
		return true
	}
	return false
}

func fillIn(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// decide names the layer whose filter gave the record's action, with
// the model explain uses: the global filter for every process, plus a
// session layer (the role's own when it is listed) for sessions, plus a
// client layer when the action is stronger than those give.
func (w *Watcher) decide(e *Event, arch syscalls.Arch, kind, role string, unknown func(field, why string)) {
	p, err := w.policyWhy(arch)
	if p == nil || p.Global == nil {
		unknown("layer", fmt.Sprintf("%s (run pgseccomp lint)", firstLine(err)))
		return
	}
	observed, ok := policyAction(e.Action)
	if !ok {
		unknown("layer", "the record's action is not one pgseccomp's filters return")
		return
	}
	nr := int(e.SyscallNr)
	global := policy.Stack{p.Global}
	try := []policy.Stack{global}
	isSession := isSessionKind(kind)
	if isSession && role != "" {
		if stack, err := p.SessionStack(role, nil); err == nil {
			try = []policy.Stack{stack, global}
		}
	}
	for _, stack := range try {
		a, origin := stack.Effective(nr)
		if a != observed {
			continue
		}
		e.Layer = origin.String()
		for _, l := range stack {
			if l.Origin == origin {
				e.Setting = l.Why(nr)
			}
		}
		if origin == policy.Session {
			if _, listed := p.Roles[role]; listed {
				e.Layer = "role"
			}
		}
		return
	}
	if a, _ := try[0].Effective(nr); isSession && observed > a {
		e.Layer = policy.Client.String()
		e.Setting = "set_client_filter()"
		return
	}
	a, _ := try[0].Effective(nr)
	unknown("layer", fmt.Sprintf("the configuration read gives %s, not %s: the process runs filters built from another configuration (changed and not reloaded, or a reload pgseccomp rejected)", a, e.Action))
}

func actionName(a audit.Action) string {
	switch a {
	case audit.ActionKillProcess, audit.ActionKillThread:
		return "kill"
	}
	return a.String()
}

func policyAction(name string) (policy.Action, bool) {
	a, err := policy.ParseAction(name)
	return a, err == nil
}

// firstLine is the first line of err's message, for a reason on one line.
func firstLine(err error) string {
	if err == nil {
		return "no configuration"
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
