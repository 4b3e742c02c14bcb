package record

import (
	"strings"
	"sync"

	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// ArchivingPath is the path of what the archiver does, and the programs
// its archive_command runs: background work, attributed by process (see
// lineage), not by the event during which it happened, so that a cluster
// that does not archive takes none of it from the shipped profile.
const ArchivingPath = "archiving"

// lineage tells the archiver's records, and its programs', from the rest:
// it knows the parent of every process forked during a pass (the kernel's
// process events, procs.Forks), so a program gone before its audit record
// is read (archive_command's sh, cp, ...) is still traced to the archiver
// that started it. A process it cannot trace is not the archiver's: its
// records stay with the event they happened in (conservative).
type lineage struct {
	drain func() // hands over the fork events the kernel has queued (procs.Forks.Drain)

	mu     sync.Mutex
	parent map[int]int
	// decided: a process (since its fork) is the archiver or one it
	// started (true), or a titled server process that is not (false).
	decided map[int]bool
}

func newLineage(drain func()) *lineage {
	return &lineage{drain: drain, parent: map[int]int{}, decided: map[int]bool{}}
}

// forked notes a new process (procs.Forks' handle); a reused pid forgets
// what was known of its previous process.
func (l *lineage) forked(parent, child int) {
	l.mu.Lock()
	l.parent[child] = parent
	delete(l.decided, child)
	l.mu.Unlock()
}

// reset forgets every process: a pass starts its server afresh.
func (l *lineage) reset() {
	l.mu.Lock()
	l.parent, l.decided = map[int]int{}, map[int]bool{}
	l.mu.Unlock()
}

// archiving reports whether pid is the archiver or a process it started
// (directly or not). title reads a process's title ("" once it is gone).
// Every server process is titled "postgres: ..." (the archiver's vfork
// child too, before its exec: it shares the archiver's memory); a program,
// a process gone, the postmaster, or a server process that has not set
// its title yet is decided by its parent.
//
// The fork events the kernel has queued are handled first: a process's
// own fork is queued before it runs, so its pid, which may be a reused
// one (pid_max is 32768 by default, and a pass forks thousands of
// backends), never carries what was known of its previous process.
func (l *lineage) archiving(pid int, title func(int) string) bool {
	if l.drain != nil {
		l.drain()
	}
	var derived []int // processes decided by an ancestor
	for range 16 {
		l.mu.Lock()
		d, known := l.decided[pid]
		parent, hasParent := l.parent[pid]
		l.mu.Unlock()
		if known {
			return l.settle(derived, d)
		}
		if t := title(pid); strings.HasPrefix(t, "postgres: ") {
			d := procs.ParseTitle(t).Kind == procs.KindArchiver
			l.mu.Lock()
			l.decided[pid] = d
			if _, ok := l.decided[parent]; hasParent && !d && !ok {
				// The postmaster, or the server process whose program
				// this is before its exec: never the archiver.
				l.decided[parent] = false
			}
			l.mu.Unlock()
			return l.settle(derived, d)
		}
		derived = append(derived, pid)
		if !hasParent {
			return false // untraced: not known to be the archiver's
		}
		pid = parent
	}
	return false
}

// settle caches a decision for the processes an ancestor decided: only
// that they are the archiver's (a server process not yet titled may still
// become the archiver).
func (l *lineage) settle(derived []int, d bool) bool {
	if d {
		l.mu.Lock()
		for _, p := range derived {
			l.decided[p] = true
		}
		l.mu.Unlock()
	}
	return d
}
