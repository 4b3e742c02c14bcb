package watch

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// memberRetention is how long a process that has exited stays known: its
// records can still be on their way (or held for attribution).
const memberRetention = 2 * time.Minute

// Member is a process of the watched cluster, as last seen.
type Member struct {
	PID        int
	Parent     int // its parent process (0 if unknown)
	Postmaster int // the postmaster it descends from
	Title      procs.Title
	Seen       time.Time
	Gone       time.Time // zero while it runs
}

// Members tracks the processes of one cluster: the postmaster named by
// DATADIR/postmaster.pid (followed across restarts) and its descendants,
// remembered for a while after they exit so that a record read after its
// process is gone is still placed. When the postmaster runs in an audit
// session of its own, a record with that ses= is the cluster's whatever
// its pid.
type Members struct {
	DataDir string
	reader  procs.Reader

	mu         sync.Mutex
	postmaster int
	started    time.Time
	session    uint32 // the postmaster's own audit session, audit.Unset if none
	procs      map[int]*Member
	// decided caches Place's answer for pids that are not members, so
	// that a flood of other processes' records costs no /proc reads.
	decided map[int]decision
	// forked are the cluster's processes the kernel's process events
	// told of (see Forked), with their parents: short-lived ones too.
	forked map[int]fork
	// drainForks, when the process events are read, handles those the
	// kernel has queued (procs.Forks.Drain); set before Place is called.
	drainForks func()
}

type fork struct {
	parent int
	at     time.Time
}

// maxForked bounds the forks kept, maxMembers the processes that exited
// kept: past it they are kept a shorter time.
const (
	maxForked  = 1 << 18
	maxMembers = 1 << 17
)

type decision struct {
	placement Placement
	at        time.Time
}

// decisionTTL is how long a pid that is not a member stays decided; a
// new process of the cluster that reuses such a pid within it is found
// by Poll meanwhile. maxDecided bounds the cache.
const (
	decisionTTL = time.Second
	maxDecided  = 1 << 16
)

// NewMembers returns a tracker of the cluster whose data directory is dataDir.
func NewMembers(dataDir string) *Members {
	return &Members{DataDir: dataDir, session: audit.Unset, procs: map[int]*Member{}, decided: map[int]decision{}, forked: map[int]fork{}}
}

// Postmaster returns the running postmaster's pid (0 when the server is
// down) and its audit session (audit.Unset when it has none of its own).
func (m *Members) Postmaster() (pid int, session uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.postmaster, m.session
}

// Change is what a Poll noticed about the server.
type Change int

const (
	NoChange       Change = iota
	Started               // a (new) postmaster runs
	Stopped               // no postmaster runs any more
	SessionStarted        // the running postmaster has just started its own audit session
)

// sessionGrace is how long after a postmaster is first seen its own audit
// session is looked for: postmaster.pid is written before
// shared_preload_libraries are loaded, so a watch can see the pid before
// pgseccomp has started the session (pgseccomp.audit_session).
const sessionGrace = 30 * time.Second

// Poll reads postmaster.pid and the process tree: it notes new
// processes of the cluster, titles that changed, and processes that
// exited.
func (m *Members) Poll(now time.Time) Change {
	pid := 0
	if f, err := procs.ReadPostmasterPID(m.DataDir); err == nil && !f.Standalone {
		if _, err := m.reader.Stat(f.PID); err == nil {
			pid = f.PID
		}
	}
	m.mu.Lock()
	old := m.postmaster
	m.mu.Unlock()
	change := NoChange
	switch {
	case pid != 0 && pid != old:
		change = Started
		ses := ownSession(pid)
		m.mu.Lock()
		m.postmaster, m.session, m.started = pid, ses, now
		m.mu.Unlock()
	case pid == 0 && old != 0:
		change = Stopped
		m.mu.Lock()
		m.postmaster = 0
		m.mu.Unlock()
	case pid != 0:
		m.mu.Lock()
		look := m.session == audit.Unset && now.Sub(m.started) < sessionGrace
		m.mu.Unlock()
		if look {
			if ses := ownSession(pid); ses != audit.Unset {
				change = SessionStarted
				m.mu.Lock()
				m.session = ses
				m.mu.Unlock()
			}
		}
	}
	alive := map[int]int{} // pid -> parent
	if pid != 0 {
		alive = m.descendants(pid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for p, parent := range alive {
		mem := m.procs[p]
		if mem == nil || !mem.Gone.IsZero() {
			mem = &Member{PID: p, Parent: parent, Postmaster: pid}
			m.procs[p] = mem
			delete(m.decided, p)
		}
		mem.Seen = now
		if mem.Title.Kind == "" || mem.Title.Kind == procs.KindStarting || strings.HasPrefix(mem.Title.Detail, "authentication") || strings.HasPrefix(mem.Title.Detail, "startup") {
			m.mu.Unlock()
			t := m.title(p, p == pid)
			m.mu.Lock()
			if t.Kind != "" {
				mem.Title = t
			}
		}
	}
	for p, f := range m.forked {
		if now.Sub(f.at) > memberRetention {
			delete(m.forked, p)
		}
	}
	retention := memberRetention
	if len(m.procs) > maxMembers {
		retention = memberRetention / 8 // thousands of connections a second
	}
	for p, mem := range m.procs {
		if _, ok := alive[p]; !ok && mem.Gone.IsZero() {
			mem.Gone = now
		}
		if !mem.Gone.IsZero() && now.Sub(mem.Gone) > retention {
			delete(m.procs, p)
		}
	}
	return change
}

// descendants returns pid and every process below it, each with its
// parent: from the kernel's lists of children when it has them, else
// from one scan of /proc (parents from /proc/PID/stat).
func (m *Members) descendants(root int) map[int]int {
	out := map[int]int{root: 0}
	queue := []int{root}
	for i := 0; i < len(queue); i++ {
		children, err := m.reader.Children(queue[i])
		if err != nil {
			if procs.IsVanished(err) && i > 0 {
				continue
			}
			return m.scanDescendants(root)
		}
		for _, c := range children {
			if _, seen := out[c]; !seen {
				out[c] = queue[i]
				queue = append(queue, c)
			}
		}
	}
	return out
}

func (m *Members) scanDescendants(root int) map[int]int {
	out := map[int]int{root: 0}
	pids, err := m.reader.PIDs()
	if err != nil {
		return out
	}
	children := map[int][]int{}
	for _, p := range pids {
		st, err := m.reader.Stat(p)
		if err != nil {
			continue
		}
		children[st.PPID] = append(children[st.PPID], p)
	}
	queue := []int{root}
	for i := 0; i < len(queue); i++ {
		for _, c := range children[queue[i]] {
			if _, seen := out[c]; !seen {
				out[c] = queue[i]
				queue = append(queue, c)
			}
		}
	}
	return out
}

// title reads a process's title as procs classifies it.
func (m *Members) title(pid int, isPostmaster bool) procs.Title {
	if isPostmaster {
		return procs.Title{Kind: procs.KindPostmaster}
	}
	args, err := m.reader.Cmdline(pid)
	if err != nil {
		return procs.Title{}
	}
	title := procs.TitleOf(args)
	if !strings.HasPrefix(title, "postgres: ") {
		if st, err := m.reader.Stat(pid); err == nil && (st.Comm == "postgres" || st.Comm == "postmaster") {
			return procs.Title{Kind: procs.KindStarting}
		}
		return procs.Title{Kind: procs.KindSubprocess, Detail: title}
	}
	return procs.ParseTitle(title)
}

// Forked notes a new process (from procs.Forks): it is the cluster's
// when its parent is the postmaster, a member, or a process noted so
// before. Other processes are not kept.
func (m *Members) Forked(parent, child int, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, member := m.procs[parent]
	_, forked := m.forked[parent]
	if parent != m.postmaster && !member && !forked || m.postmaster == 0 {
		return
	}
	if len(m.forked) >= maxForked {
		for pid, f := range m.forked {
			if now.Sub(f.at) > memberRetention/4 {
				delete(m.forked, pid)
			}
		}
	}
	m.forked[child] = fork{parent, now}
	delete(m.decided, child)
}

// forkedMember returns a process the process events placed.
func (m *Members) forkedMember(pid int) (Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.forked[pid]
	if !ok {
		return Member{}, false
	}
	return Member{PID: pid, Parent: f.parent, Postmaster: m.postmaster, Seen: f.at}, true
}

// forkedGone returns a process the process events placed that no longer
// runs: the fork event is all there is (a running one is read in /proc).
func (m *Members) forkedGone(pid, postmaster int) (Member, bool) {
	f, ok := m.forkedMember(pid)
	if !ok {
		return Member{}, false
	}
	if _, alive := m.descendsFrom(pid, postmaster); alive {
		return Member{}, false
	}
	return f, true
}

// Placement says whether a record's process is the cluster's.
type Placement int

const (
	NotOurs   Placement = iota
	Ours                // a member, by pid or by audit session
	Undecided           // gone before it was seen: the server log may tell
)

// Place decides whether the process of a record (pid, audit session ses)
// is the cluster's, and returns what is known of it. A live process not
// seen yet is placed by its ancestry, and remembered.
func (m *Members) Place(pid int, ses uint32, now time.Time) (Placement, Member) {
	m.mu.Lock()
	mem, known := m.procs[pid]
	postmaster, session := m.postmaster, m.session
	var copy Member
	if known {
		copy = *mem
	}
	d, cached := m.decided[pid]
	m.mu.Unlock()
	if known {
		return Ours, copy
	}
	if f, ok := m.forkedGone(pid, postmaster); ok {
		return Ours, f
	}
	if session != audit.Unset {
		// The server has a session of its own: the record's ses decides.
		if ses != session {
			return NotOurs, Member{}
		}
	}
	if cached && now.Sub(d.at) < decisionTTL {
		return d.placement, Member{PID: pid}
	}
	// The kernel queued the process's fork event before the process
	// ran: read it now rather than after the process may have gone.
	if m.drainForks != nil {
		m.drainForks()
		if f, ok := m.forkedGone(pid, postmaster); ok {
			return Ours, f
		}
	}
	placement, copy := m.place(pid, ses, postmaster, session, now)
	if placement != Ours {
		m.mu.Lock()
		if len(m.decided) >= maxDecided {
			clear(m.decided)
		}
		m.decided[pid] = decision{placement, now}
		m.mu.Unlock()
	}
	return placement, copy
}

// place decides for a pid that is not a member yet.
func (m *Members) place(pid int, ses uint32, postmaster int, session uint32, now time.Time) (Placement, Member) {
	if postmaster != 0 {
		if in, alive := m.descendsFrom(pid, postmaster); alive {
			if !in {
				return NotOurs, Member{}
			}
			t := m.title(pid, pid == postmaster)
			parent := 0
			if st, err := m.reader.Stat(pid); err == nil {
				parent = st.PPID
			} else if f, ok := m.forkedMember(pid); ok {
				parent = f.Parent // it exited meanwhile
			}
			m.mu.Lock()
			mem := &Member{PID: pid, Parent: parent, Postmaster: postmaster, Title: t, Seen: now}
			m.procs[pid] = mem
			copy := *mem
			m.mu.Unlock()
			return Ours, copy
		}
	}
	if session != audit.Unset && ses == session {
		return Ours, Member{PID: pid, Postmaster: postmaster}
	}
	return Undecided, Member{PID: pid}
}

// descendsFrom reports whether pid is ancestor or below it, and whether
// pid still runs to tell.
func (m *Members) descendsFrom(pid, ancestor int) (in, alive bool) {
	for range 32 {
		if pid == ancestor {
			return true, true
		}
		st, err := m.reader.Stat(pid)
		if err != nil {
			return false, false
		}
		if st.PPID <= 1 {
			return false, true
		}
		pid = st.PPID
	}
	return false, true
}

// Lookup returns what is known of a member.
func (m *Members) Lookup(pid int) (Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mem, ok := m.procs[pid]; ok {
		return *mem, true
	}
	return Member{}, false
}

// ownSession returns the audit session of pid when the process started
// one of its own (its parent is in another), audit.Unset otherwise: a
// session shared with the shell that started the server would take in
// everything else started from that shell.
func ownSession(pid int) uint32 {
	ses := readSession(pid)
	if ses == audit.Unset {
		return ses
	}
	st, err := (procs.Reader{}).Stat(pid)
	if err != nil || readSession(st.PPID) == ses {
		return audit.Unset
	}
	return ses
}

func readSession(pid int) uint32 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/sessionid")
	if err != nil {
		return audit.Unset
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 32)
	if err != nil {
		return audit.Unset
	}
	return uint32(v)
}
