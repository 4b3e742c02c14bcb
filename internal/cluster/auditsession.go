package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// auditSession is an OS thread with an audit session of its own: the
// server is started from it, so that every process of the server carries
// that session id (ses= in its audit records) and a recorder can tell the
// server's seccomp records from every other process's on the machine,
// even those of a process gone before its record was read.
//
// The kernel gives a task a new session id when its loginuid is written
// (audit_set_loginuid; the extension does the same from inside the
// postmaster while the loginuid is unset, see README "Audit session", and
// keeps the session it finds here). Writing needs CAP_AUDIT_CONTROL once a
// loginuid is set; the id is per task
// and a fork copies it, so the writes and the forks of pg_ctl happen on
// one locked thread, which ends with its goroutine.
type auditSession struct {
	id   uint32
	work chan func()
}

// newAuditSession starts the thread and returns once it has its session.
func newAuditSession() (*auditSession, error) {
	s := &auditSession{work: make(chan func())}
	ready := make(chan error)
	go func() {
		// Never unlocked: the thread keeps the session, and the runtime
		// ends a locked thread when its goroutine returns.
		runtime.LockOSThread()
		uid := strconv.Itoa(os.Getuid())
		if err := os.WriteFile("/proc/thread-self/loginuid", []byte(uid), 0); err != nil {
			ready <- fmt.Errorf("start an audit session for the server: write /proc/thread-self/loginuid: %w (needs CAP_AUDIT_CONTROL and a kernel with audit; run as root)", err)
			return
		}
		raw, err := os.ReadFile("/proc/thread-self/sessionid")
		if err == nil {
			var id uint64
			id, err = strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 32)
			s.id = uint32(id)
		}
		if err != nil {
			ready <- fmt.Errorf("start an audit session for the server: read /proc/thread-self/sessionid: %w", err)
			return
		}
		if s.id == 0xffffffff {
			ready <- fmt.Errorf("start an audit session for the server: the kernel gave no session id (audit disabled at build time?)")
			return
		}
		ready <- nil
		for f := range s.work {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// do runs f on the session's thread and waits for it.
func (s *auditSession) do(f func()) {
	done := make(chan struct{})
	s.work <- func() { defer close(done); f() }
	<-done
}

// close ends the thread.
func (s *auditSession) close() { close(s.work) }

// AuditSession is an audit session of its own for programs this process
// starts, such as pg_ctlcluster starting an existing cluster's server:
// their seccomp records carry its ID (ses=), so they can be told from
// every other process's on the machine. Needs root.
type AuditSession struct{ s *auditSession }

// NewAuditSession starts one; Close ends it.
func NewAuditSession() (*AuditSession, error) {
	s, err := newAuditSession()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return &AuditSession{s: s}, nil
}

// ID is the session id, ses= in audit records.
func (a *AuditSession) ID() uint32 { return a.s.id }

// Run runs cmd (started from the session's thread, so that it and its
// children carry the session) and waits for it.
func (a *AuditSession) Run(cmd *exec.Cmd) (err error) {
	a.s.do(func() { err = cmd.Start() })
	if err != nil {
		return err
	}
	return cmd.Wait()
}

// Close ends the session's thread; programs started in it keep the session.
func (a *AuditSession) Close() { a.s.close() }
