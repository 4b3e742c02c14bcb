package extension

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/procs"
	"github.com/pgseccomp/pgseccomp/internal/watch"
)

// auditWatch collects the kernel's seccomp audit records (type 1326) of one
// cluster's processes while a workload runs.
//
// It reads them with the project's capture (audit.Capture: the audit
// netlink multicast group, with a large buffer; an overflow is reported)
// rather than /dev/kmsg, which the kernel rate-limits. Which records are
// the cluster's is decided as pgseccomp watch decides it (watch.Members):
// the postmaster of the data directory and its descendants, checked when
// the record arrives and, for a process already gone by then, against
// every process a poller saw in the cluster.
type auditWatch struct {
	capture *audit.Capture
	stop    chan struct{}
	done    sync.WaitGroup
	runErr  chan error

	mu      sync.Mutex
	members *watch.Members // nil until cluster()
	ours    []seccompRecord
	pending []seccompRecord // process gone before it could be placed
	stopped bool

	// whether another PostgreSQL server runs, checked at most every
	// 200 ms, when a record cannot be placed
	othersRunning bool
	othersChecked time.Time
}

// seccompRecord is one type=1326 audit record.
type seccompRecord struct {
	PID     int
	Session uint32
	Comm    string
	Exe     string
	Syscall string // the name, as libseccomp resolves number and arch
	Action  string // log, error, kill_process, ... (audit.Action)
	Title   string // the process's title when the record arrived, if it was alive
	// OthersRunning: another PostgreSQL server ran when this record of a
	// process that could not be placed arrived.
	OthersRunning bool
	early         bool // arrived before the watch knew the cluster
}

func (r seccompRecord) String() string {
	who := r.Title
	if who == "" {
		who = r.Comm
	}
	return fmt.Sprintf("pid %d (%s): %s -> %s", r.PID, who, r.Syscall, r.Action)
}

// watchSeccompAudit starts reading seccomp audit records; call cluster with
// the data directory once the server runs, and records to stop and get them.
func watchSeccompAudit(t *testing.T) *auditWatch {
	t.Helper()
	capture, err := audit.OpenCapture()
	if err != nil {
		t.Fatalf("read seccomp audit records: %v", err)
	}
	w := &auditWatch{capture: capture, stop: make(chan struct{}), runErr: make(chan error, 1)}
	go func() { w.runErr <- capture.Run(w.place, nil) }()
	w.done.Add(1)
	go w.pollMembers()
	t.Cleanup(func() { w.records() })
	return w
}

// cluster names the data directory of the cluster whose records are wanted.
func (w *auditWatch) cluster(dataDir string) {
	m := watch.NewMembers(dataDir)
	m.Poll(time.Now())
	w.mu.Lock()
	defer w.mu.Unlock()
	w.members = m
}

// records stops the watch and returns the cluster's records, the records
// of PostgreSQL processes that were gone before they could be placed while
// another PostgreSQL server ran (with none running, they are the
// cluster's), and an error if records were lost.
func (w *auditWatch) records() (ours, unplaced []seccompRecord, lost error) {
	w.mu.Lock()
	stopped := w.stopped
	w.stopped = true
	w.mu.Unlock()
	if !stopped {
		close(w.stop)
		w.done.Wait()
		w.capture.Stop()
		lost = <-w.runErr
		w.runErr <- lost
		w.capture.Close()
	} else {
		lost = <-w.runErr
		w.runErr <- lost
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	ours = append([]seccompRecord(nil), w.ours...)
	for _, r := range w.pending {
		if w.members != nil {
			if p, _ := w.members.Place(r.PID, r.Session, time.Now()); p == watch.Ours {
				ours = append(ours, r)
				continue
			} else if p == watch.NotOurs {
				continue
			}
		}
		if r.OthersRunning {
			unplaced = append(unplaced, r)
		} else {
			ours = append(ours, r)
		}
	}
	return ours, unplaced, lost
}

// seen reports whether a record of the cluster so far matches.
func (w *auditWatch) seen(match func(seccompRecord) bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.ours, match)
}

// place files a record as the cluster's, or as pending when its process
// is a PostgreSQL one that is gone (or came before cluster()); it ignores
// the records of other processes. It runs on the capture's goroutine.
func (w *auditWatch) place(rec *audit.Record) {
	_, name, ok := rec.Resolve()
	if !ok {
		name = fmt.Sprintf("syscall %d", rec.Syscall)
	}
	r := seccompRecord{PID: rec.PID, Session: rec.Session, Comm: string(rec.Comm), Exe: string(rec.Exe), Syscall: name, Action: rec.Action().String()}
	w.mu.Lock()
	members := w.members
	w.mu.Unlock()
	placement := watch.Undecided
	if members != nil {
		var m watch.Member
		placement, m = members.Place(rec.PID, rec.Session, time.Now())
		if m.Title.Kind != "" {
			r.Title = string(m.Title.Kind) + " " + m.Title.Detail
		}
	} else {
		r.early = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case placement == watch.Ours:
		w.ours = append(w.ours, r)
	case placement == watch.Undecided && procs.IsPostgresProgram(r.Exe):
		if time.Since(w.othersChecked) > 200*time.Millisecond {
			w.othersRunning = otherPostmasters(w.members)
			w.othersChecked = time.Now()
		}
		r.OthersRunning = w.othersRunning
		w.pending = append(w.pending, r)
	default: // another process's: ignored
	}
}

// pollMembers notes every process of the cluster, so that a record of a
// process that has exited can still be placed.
func (w *auditWatch) pollMembers() {
	defer w.done.Done()
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		w.mu.Lock()
		m := w.members
		w.mu.Unlock()
		if m != nil {
			m.Poll(time.Now())
		}
	}
}

// otherPostmasters reports whether a PostgreSQL server other than the
// cluster's runs on this machine.
func otherPostmasters(m *watch.Members) bool {
	ours := 0
	if m != nil {
		ours, _ = m.Postmaster()
	}
	clusters, _, err := procs.Reader{}.Discover()
	if err != nil {
		return true // cannot tell: be cautious
	}
	for _, c := range clusters {
		if c.PostmasterPID != 0 && c.PostmasterPID != ours {
			return true
		}
	}
	return false
}
