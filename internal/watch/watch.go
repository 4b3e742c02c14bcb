// Package watch is pgseccomp watch: it reads the kernel's seccomp audit
// records as they are written (internal/audit's capture), keeps those of
// one cluster's processes (its postmaster, followed across restarts, and
// every descendant, remembered after they exit; every fork the kernel's
// process events report below it, however short-lived; the postmaster's
// own audit session when it has one; the pids its server log names), and
// turns them into events that say who was denied what: the process's
// kind, the session's role, database, application and client (process
// titles, internal/procs; the server log, internal/serverlog), the
// statement when the log has it, the syscall by the record's ABI, the
// action, and the layer that decided it, from the configuration in force
// (internal/policy, as explain computes it).
//
// Records are counted per interval: identical records (same pid,
// syscall, ABI and action) make one event with an exact count, and the
// number of distinct events an interval holds is bounded, so memory does
// not grow with the rate.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// Config says what to watch and how.
type Config struct {
	DataDir string
	Log     LogSource
	// Policy returns the configuration in force, built for arch; it is
	// called again after the server reloads or restarts.
	Policy func(arch policy.Arch) (*policy.Policy, error)
	// Interval is how long identical records are counted into one event
	// (default 1 s); Hold how long an interval's records wait for the
	// server log to say who made them (default 500 ms); Poll how often
	// the process tree and the log are read (default 20 ms).
	Interval, Hold, Poll time.Duration
	// MaxKeys bounds the distinct events of one interval (default
	// 10,000); records beyond are counted per syscall and action only.
	MaxKeys int
	JSON    bool
	Out     io.Writer
	Metrics *Metrics // nil for none
}

// key tells identical records apart.
type key struct {
	pid     int
	arch    uint32
	syscall int64
	action  audit.Action
}

// tally is the records of one key in one interval.
type tally struct {
	count       uint64
	first, last time.Time
	placement   Placement
	member      Member
	ses         uint32
	overflow    bool // counted past MaxKeys: the pid is not kept
}

type bucket struct {
	due     time.Time
	tallies map[key]*tally
}

// unplacedEvery is how often records that could not be placed are
// reported (their count is exact, and in the metrics at once).
const unplacedEvery = 10 * time.Second

// Watcher runs one watch.
type Watcher struct {
	cfg      Config
	members  *Members
	sessions *Sessions
	out      writer

	replaying bool // past records: the processes running now are not theirs

	mu      sync.Mutex
	current map[key]*tally
	stats   Stats

	// unplaced records not yet reported, and when they last were
	unplaced      uint64
	unplacedNoted time.Time

	// forks reads the kernel's process events (nil when they cannot be
	// read, and forksErr says why).
	forks    *procs.Forks
	forksErr error

	policyMu  sync.Mutex
	policies  map[policy.Arch]*policy.Policy
	policyErr map[policy.Arch]error
	stale     bool
}

// Stats are a watch's totals.
type Stats struct {
	Records   uint64 // records of the cluster's processes
	Events    uint64 // event lines written
	Unplaced  uint64 // records of exited PostgreSQL processes not placed
	Lost      uint64 // increase of the kernel's lost counter
	Overflows uint64 // capture socket overflows
}

// New returns a watcher.
func New(cfg Config) *Watcher {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 500 * time.Millisecond
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 10000
	}
	w := &Watcher{cfg: cfg, members: NewMembers(cfg.DataDir), out: writer{cfg.Out, cfg.JSON},
		current: map[key]*tally{}, policies: map[policy.Arch]*policy.Policy{}, policyErr: map[policy.Arch]error{}}
	w.sessions = NewSessions(w.invalidatePolicy)
	return w
}

// Stats returns the totals so far.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) invalidatePolicy() {
	w.policyMu.Lock()
	w.stale = true
	w.policyMu.Unlock()
}

// Run watches until ctx is done, reading records from capture (which it
// runs and stops, but does not close). It returns nil when ctx ends.
func (w *Watcher) Run(ctx context.Context, capture *audit.Capture) error {
	status, statusErr := audit.ReadKernelStatus()
	if statusErr != nil {
		w.note(Note{Text: fmt.Sprintf("cannot read the kernel's audit lost counter (%v): lost records will not be reported", statusErr), Note: "records_lost"})
	}
	// The kernel's process events tell the parent of every process,
	// however short-lived; without them such processes are placed by the
	// server log or the audit session only.
	if forks, err := procs.OpenForks(); err != nil {
		w.forksErr = err
		w.note(Note{Note: "process_events", Text: fmt.Sprintf("%v: a process that exits within %v of its fork is placed by the server log or the postmaster's audit session only", err, w.cfg.Poll)})
	} else {
		w.forks = forks
		// A record of a process not seen yet reads the fork events the
		// kernel queued before it: its parent is known whichever socket
		// was read first.
		w.members.drainForks = func() { forks.Drain() }
		forked := make(chan error, 1)
		go func() {
			forked <- forks.Run(func(parent, child int) { w.members.Forked(parent, child, time.Now()) })
		}()
		defer func() {
			forks.Stop()
			<-forked
			forks.Close()
		}()
	}
	captured := make(chan error, 1)
	go func() { captured <- capture.Run(w.onRecord, nil) }()
	t := &tail{src: w.cfg.Log, dataDir: w.cfg.DataDir}
	defer t.close()

	var queue []bucket
	poll := time.NewTicker(w.cfg.Poll)
	defer poll.Stop()
	nextInterval := time.Now().Add(w.cfg.Interval)
	var nextSlow time.Time
	var logErr string
	var overflows, forkOverflows uint64
	var rejectedAt time.Time
	finish := func() error {
		capture.Stop()
		err := <-captured
		t.read(w.sessions.Add)
		queue = append(queue, w.rotate(time.Now()))
		for _, b := range queue {
			w.flush(b)
		}
		if errors.Is(err, audit.ErrOverflow) {
			return nil // reported as it happened
		}
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return finish()
		case err := <-captured:
			captured <- err
			return finish()
		case now := <-poll.C:
			change := w.members.Poll(now)
			if change == Started || change == Stopped {
				// What the old server did is printed before the note.
				t.read(w.sessions.Add)
				queue = append(queue, w.rotate(now))
				for _, b := range queue {
					w.flush(b)
				}
				queue = queue[:0]
			}
			switch change {
			case Started:
				pid, ses := w.members.Postmaster()
				text := fmt.Sprintf("server running, postmaster pid %d", pid)
				if ses != audit.Unset {
					text += fmt.Sprintf(", in audit session %d of its own", ses)
				}
				w.note(Note{Note: "server_started", PID: pid, Text: text})
				w.invalidatePolicy()
				if m := w.cfg.Metrics; m != nil {
					m.up.Set(1)
					m.starts.Inc()
				}
			case SessionStarted:
				pid, ses := w.members.Postmaster()
				w.note(Note{Note: "server_audit_session", PID: pid, Text: fmt.Sprintf("postmaster pid %d is in audit session %d of its own", pid, ses)})
			case Stopped:
				w.note(Note{Note: "server_stopped", Text: "server stopped (no postmaster.pid, or its process is gone); waiting for it to start"})
				if m := w.cfg.Metrics; m != nil {
					m.up.Set(0)
				}
			}
			if err := t.read(w.sessions.Add); err != nil {
				if err.Error() != logErr {
					w.note(Note{Note: "server_log", Text: fmt.Sprintf("%v: roles, applications and statements of processes gone before they were seen cannot be known", err)})
					logErr = err.Error()
				}
			} else {
				logErr = ""
			}
			if now.After(nextInterval) {
				queue = append(queue, w.rotate(now.Add(w.cfg.Hold)))
				nextInterval = now.Add(w.cfg.Interval)
			}
			for len(queue) > 0 && now.After(queue[0].due) {
				w.flush(queue[0])
				queue = queue[1:]
			}
			if n := capture.Overflows(); n > overflows {
				w.note(Note{Note: "capture_overflow", Count: n - overflows, Text: fmt.Sprintf("the audit socket's buffer overflowed %d time(s): the kernel dropped records for this watch; counts are low", n-overflows)})
				w.addStats(func(s *Stats) { s.Overflows += n - overflows })
				if m := w.cfg.Metrics; m != nil {
					m.overflows.Add(float64(n - overflows))
				}
				overflows = n
			}
			if w.forks != nil {
				if n := w.forks.Overflows(); n > forkOverflows {
					w.note(Note{Note: "process_events", Count: n - forkOverflows, Text: fmt.Sprintf("the process events socket overflowed %d time(s): the kernel dropped fork events; a process that exits before it is seen may have no known parent", n-forkOverflows)})
					forkOverflows = n
				}
			}
			if now.After(nextSlow) {
				nextSlow = now.Add(time.Second)
				if statusErr == nil {
					if st, err := audit.ReadKernelStatus(); err == nil && st.Lost != status.Lost {
						d := uint64(st.Lost - status.Lost)
						w.note(Note{Note: "records_lost", Count: d, Text: fmt.Sprintf("the kernel's audit lost counter rose by %d (to %d): the audit subsystem dropped records (backlog %d/%d, rate limit %d/s), some may be this cluster's", d, st.Lost, st.Backlog, st.BacklogLimit, st.RateLimit)})
						w.addStats(func(s *Stats) { s.Lost += d })
						if m := w.cfg.Metrics; m != nil {
							m.lost.Add(float64(d))
						}
						status = st
					}
				}
				w.sessions.Evict(now)
				w.confinement()
				rejectedAt = w.reloadState(rejectedAt)
			}
		}
	}
}

// reloadState reads whether the server runs session filters older than
// its configuration (a rejected reload), sets the metric, and says so once
// per rejection; it returns the rejection reported.
func (w *Watcher) reloadState(reported time.Time) time.Time {
	pid, _ := w.members.Postmaster()
	s, err := procs.ReadReloadState(w.cfg.DataDir)
	known := err == nil && pid != 0 && s.PID == pid
	if m := w.cfg.Metrics; m != nil {
		m.setOutdated(known && s.Rejected(), known)
	}
	if !known || !s.Rejected() || s.RejectedAt.Equal(reported) {
		return reported
	}
	what := s.RejectedDetail
	if s.RejectedSetting != "" {
		what = s.RejectedSetting + ": " + what
	}
	w.note(Note{Note: "filters_outdated", PID: pid, Text: fmt.Sprintf("the server rejected a reload at %s (%s) and runs the session filters in force since %s: until it reloads a corrected configuration, layers computed from the files on disk may not explain its records",
		s.RejectedAt.UTC().Format(humanTime), what, s.PlanSince.UTC().Format(humanTime))})
	w.invalidatePolicy()
	return s.RejectedAt
}

func (w *Watcher) addStats(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

func (w *Watcher) note(n Note) {
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.note(n)
}

// confinement sets the processes gauge, as status checks them.
func (w *Watcher) confinement() {
	m := w.cfg.Metrics
	pid, _ := w.members.Postmaster()
	if m == nil || pid == 0 {
		return
	}
	c, _, err := procs.Reader{}.OfPostmaster(pid)
	if err != nil {
		return
	}
	un := len(c.Unconfined())
	m.processes.WithLabelValues("true").Set(float64(len(c.Processes) - un))
	m.processes.WithLabelValues("false").Set(float64(un))
}

// onRecord places one record and counts it; it runs on the capture's
// goroutine and must keep up with it.
func (w *Watcher) onRecord(rec *audit.Record) {
	now := time.Now()
	placement, mem := w.members.Place(rec.PID, rec.Session, now)
	at := rec.Time
	if at.IsZero() {
		at = now
	}
	w.count(rec, placement, mem, at)
}

// count adds a placed record to the current interval.
func (w *Watcher) count(rec *audit.Record, placement Placement, mem Member, at time.Time) {
	if placement == NotOurs {
		return
	}
	postgres := procs.IsPostgresProgram(string(rec.Exe))
	if placement == Undecided && !postgres {
		return // another program that has exited: not a server process
	}
	k := key{rec.PID, rec.AuditArch, rec.Syscall, rec.Action()}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.current[k]
	if t == nil {
		overflow := len(w.current) >= w.cfg.MaxKeys
		if overflow {
			k.pid = 0
			t = w.current[k]
		}
		if t == nil {
			t = &tally{first: at, placement: placement, member: mem, ses: rec.Session, overflow: overflow}
			w.current[k] = t
		}
	}
	t.count++
	t.last = at
	if t.member.Title.Kind == "" && mem.Title.Kind != "" {
		t.member = mem
	}
}

// rotate ends the current interval.
func (w *Watcher) rotate(due time.Time) bucket {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := bucket{due: due, tallies: w.current}
	w.current = make(map[key]*tally, len(b.tallies))
	return b
}

// flush attributes an interval's tallies and writes their events.
func (w *Watcher) flush(b bucket) {
	var unplaced uint64
	for k, t := range b.tallies {
		if t.placement == Undecided {
			if f, ok := w.members.forkedMember(k.pid); ok && !w.replaying {
				t.placement, t.member = Ours, f
			} else if !w.logPlaces(k.pid, t.first) {
				unplaced += t.count
				continue
			}
		}
		e := w.attribute(k, t)
		w.mu.Lock()
		w.stats.Records += t.count
		w.stats.Events++
		w.out.event(e)
		w.mu.Unlock()
		if m := w.cfg.Metrics; m != nil {
			m.violations.WithLabelValues(e.Layer, e.Action, e.Syscall, e.Arch, w.roleLabel(e.Role)).Add(float64(t.count))
		}
	}
	if unplaced > 0 {
		w.addStats(func(s *Stats) { s.Unplaced += unplaced })
		if m := w.cfg.Metrics; m != nil {
			m.unplaced.Add(float64(unplaced))
		}
		w.unplaced += unplaced
	}
	if now := time.Now(); w.unplaced > 0 && now.Sub(w.unplacedNoted) >= unplacedEvery {
		w.note(Note{Note: "unplaced", Count: w.unplaced, Text: fmt.Sprintf("%d record(s) of PostgreSQL processes that exited before they were seen, and that the server log does not name, were not counted as this cluster's: other clusters' on this host, or this one's if log_connections is off (the postmaster's own audit session would tell)", w.unplaced)})
		w.unplaced, w.unplacedNoted = 0, now
	}
}

// logPlaces reports whether the server log places a record of pid made
// at first, a process the watch never saw running: its session must have
// begun shortly before, for a process the watch did not see lived
// between two polls. A pid the log named long ago has been reused,
// perhaps by another cluster's process. A replay has only the log, read
// in step with the records.
func (w *Watcher) logPlaces(pid int, first time.Time) bool {
	const window = 10 * time.Second
	ls, ok := w.sessions.Lookup(pid)
	if !ok {
		return false
	}
	return w.replaying || !ls.start.Before(first.Add(-window))
}
