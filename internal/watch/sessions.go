package watch

import (
	"sync"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/serverlog"
)

// sessionRetention is how long the server log's facts about a pid are
// kept after its last line; maxSessions bounds them whatever the rate of
// connections.
const (
	sessionRetention = 10 * time.Minute
	maxSessions      = 100000
	maxStatements    = 4
)

// stamped is a statement and when the log wrote it.
type stamped struct {
	at   time.Time
	text string
}

// logSession is what the server log says about one pid.
type logSession struct {
	start       time.Time // its first line (connection received, authorized)
	last        time.Time
	role        string
	database    string
	application string
	host        string
	leader      int
	backendType string
	ran         []stamped // log_statement lines, the last few
	errors      []stamped // ERROR/FATAL lines with a statement, the last few
	terminated  *stamped  // the postmaster's report of its death by a signal
	signal      int
}

// Sessions indexes the server log by pid: who each backend is, what it
// ran, how it ended. Memory is bounded (sessionRetention, maxSessions).
type Sessions struct {
	mu     sync.Mutex
	byPID  map[int]*logSession
	reload func() // called when the server logs a reload
}

// NewSessions returns an empty index; reload, if not nil, is called when
// the log says the server reloaded its configuration.
func NewSessions(reload func()) *Sessions {
	return &Sessions{byPID: map[int]*logSession{}, reload: reload}
}

func addStamped(list []stamped, s stamped) []stamped {
	if len(list) == maxStatements {
		copy(list, list[1:])
		list = list[:maxStatements-1]
	}
	return append(list, s)
}

// Add files one log entry.
func (s *Sessions) Add(e serverlog.Entry) {
	if e.PID <= 0 {
		return
	}
	if e.Message == "received SIGHUP, reloading configuration files" && s.reload != nil {
		s.reload()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pid, _, sig, statement, ok := e.Terminated(); ok {
		ls := s.get(pid, e.Time)
		ls.terminated = &stamped{e.Time, statement}
		ls.signal = sig
		return
	}
	ls := s.get(e.PID, e.Time)
	if host, ok := e.Received(); ok {
		// A new connection: whatever this pid was before is over.
		*ls = logSession{start: e.Time, last: e.Time, host: host}
		return
	}
	if role, db, app, ok := e.Authorized(); ok {
		ls.role, ls.database, ls.application = role, db, app
	}
	fill(&ls.role, e.User)
	fill(&ls.database, e.Database)
	fill(&ls.application, e.Application)
	fill(&ls.host, e.Host)
	fill(&ls.backendType, e.BackendType)
	if e.LeaderPID > 0 {
		ls.leader = e.LeaderPID
	}
	if st, ok := e.RanStatement(); ok {
		ls.ran = addStamped(ls.ran, stamped{e.Time, st})
	}
	if e.Statement != "" && (e.Severity == "ERROR" || e.Severity == "FATAL" || e.Severity == "PANIC") {
		ls.errors = addStamped(ls.errors, stamped{e.Time, e.Statement})
	}
}

func fill(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func (s *Sessions) get(pid int, at time.Time) *logSession {
	ls := s.byPID[pid]
	if ls == nil {
		if len(s.byPID) >= maxSessions {
			s.evictLocked(time.Time{})
		}
		ls = &logSession{start: at}
		s.byPID[pid] = ls
	}
	if at.After(ls.last) {
		ls.last = at
	}
	return ls
}

// Evict forgets pids whose last line is older than sessionRetention.
func (s *Sessions) Evict(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evictLocked(now)
}

// evictLocked drops old sessions; with a zero now (the index is full) it
// drops the oldest half.
func (s *Sessions) evictLocked(now time.Time) {
	if now.IsZero() {
		var newest time.Time
		for _, ls := range s.byPID {
			if ls.last.After(newest) {
				newest = ls.last
			}
		}
		now = newest.Add(sessionRetention / 2)
		limit := now.Add(-sessionRetention / 2)
		for pid, ls := range s.byPID {
			if ls.last.Before(limit) {
				delete(s.byPID, pid)
			}
		}
		return
	}
	for pid, ls := range s.byPID {
		if now.Sub(ls.last) > sessionRetention {
			delete(s.byPID, pid)
		}
	}
}

// Lookup returns a copy of what the log says about pid.
func (s *Sessions) Lookup(pid int) (logSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls, ok := s.byPID[pid]
	if !ok {
		return logSession{}, false
	}
	c := *ls
	c.ran = append([]stamped(nil), ls.ran...)
	c.errors = append([]stamped(nil), ls.errors...)
	return c, true
}

// statementAt returns the statement a session ran when it made a record
// between first and last: for a kill, the one the postmaster reported;
// for an error, the statement of an error logged from first on; else the
// last statement logged before last.
func (ls *logSession) statementAt(first, last time.Time, killed, errored bool) string {
	const slack = 2 * time.Second
	if killed && ls.terminated != nil && ls.terminated.text != "" {
		return ls.terminated.text
	}
	if errored || killed {
		for _, e := range ls.errors {
			if !e.at.Before(first.Add(-slack)) {
				return e.text
			}
		}
	}
	st := ""
	for _, r := range ls.ran {
		if r.at.Before(last.Add(slack)) {
			st = r.text
		}
	}
	return st
}
