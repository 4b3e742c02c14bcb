package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Event is one line of watch's output: a violation, or a burst of
// identical ones within one interval (Count > 1). Its JSON field names are
// stable (README, "pgseccomp watch").
type Event struct {
	Time        time.Time `json:"time"`      // the first record's
	LastTime    time.Time `json:"last_time"` // the last record's
	Count       uint64    `json:"count"`
	PID         int       `json:"pid"`
	Kind        string    `json:"kind"`                 // client backend, parallel worker, checkpointer, ...
	Worker      string    `json:"worker,omitempty"`     // a background worker's name
	LeaderPID   int       `json:"leader_pid,omitempty"` // a parallel worker's leader
	Parent      int       `json:"parent_pid,omitempty"` // the backend that forked this process (COPY ... PROGRAM)
	Role        string    `json:"role,omitempty"`
	Database    string    `json:"database,omitempty"`
	Application string    `json:"application_name,omitempty"`
	ClientAddr  string    `json:"client_addr,omitempty"`
	Statement   string    `json:"statement,omitempty"`
	Syscall     string    `json:"syscall"`
	SyscallNr   int64     `json:"syscall_nr"`
	Arch        string    `json:"arch"`
	Action      string    `json:"action"` // log, error, kill
	// Layer is the layer that decided it: global, session, role (the
	// role's own session layer) or client (set_client_filter()); "" when
	// the configuration does not explain the record (see Unattributed).
	Layer   string `json:"layer"`
	Setting string `json:"setting,omitempty"` // the setting whose list (or default) gave the action
	// AuditSession is the record's ses= (omitted when unset).
	AuditSession *uint32 `json:"audit_session,omitempty"`
	// Unattributed names each field that could not be known, and why.
	Unattributed map[string]string `json:"unattributed,omitempty"`
}

// Note is a line about the watch itself: the server started or stopped,
// records lost, records that could not be placed.
type Note struct {
	Time  time.Time `json:"time"`
	Note  string    `json:"note"` // server_started, server_audit_session, server_stopped, records_lost, capture_overflow, unplaced
	Count uint64    `json:"count,omitempty"`
	PID   int       `json:"pid,omitempty"`
	Text  string    `json:"text"`
}

// writer writes events and notes as JSON lines or human lines.
type writer struct {
	out  io.Writer
	json bool
}

func (w writer) event(e *Event) {
	if w.json {
		b, _ := json.Marshal(e)
		w.out.Write(append(b, '\n'))
		return
	}
	fmt.Fprintln(w.out, e.human())
}

func (w writer) note(n Note) {
	if w.json {
		b, _ := json.Marshal(n)
		w.out.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(w.out, "%s watch: %s\n", n.Time.UTC().Format(humanTime), n.Text)
}

const humanTime = "2006-01-02T15:04:05.000Z"

// human is the event as one line.
func (e *Event) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pid %d %s", e.Time.UTC().Format(humanTime), e.PID, e.Kind)
	if e.Worker != "" {
		fmt.Fprintf(&b, " %q", e.Worker)
	}
	if e.LeaderPID != 0 {
		fmt.Fprintf(&b, " of leader %d", e.LeaderPID)
	}
	if e.Parent != 0 {
		fmt.Fprintf(&b, " forked by %d", e.Parent)
	}
	for _, f := range []struct{ k, v string }{{"role", e.Role}, {"db", e.Database}, {"app", e.Application}, {"client", e.ClientAddr}} {
		if f.v != "" {
			fmt.Fprintf(&b, " %s=%s", f.k, f.v)
		}
	}
	fmt.Fprintf(&b, ": %s (%s) %s", e.Syscall, e.Arch, e.Action)
	if e.Layer != "" {
		fmt.Fprintf(&b, " by layer %s", e.Layer)
		if e.Setting != "" {
			fmt.Fprintf(&b, " (%s)", e.Setting)
		}
	}
	if e.Count > 1 {
		fmt.Fprintf(&b, ", %d times in %v", e.Count, e.LastTime.Sub(e.Time).Round(time.Millisecond))
	}
	if e.Statement != "" {
		fmt.Fprintf(&b, "; statement: %s", oneLine(e.Statement))
	}
	if len(e.Unattributed) > 0 {
		keys := make([]string, 0, len(e.Unattributed))
		for k := range e.Unattributed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("; unknown:")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s (%s)", k, e.Unattributed[k])
		}
	}
	return b.String()
}

// oneLine folds a statement's lines and clips it.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
