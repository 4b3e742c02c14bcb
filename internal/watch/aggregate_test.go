package watch

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// TestBurstCounts: records of an interval become one event per pid,
// syscall, ABI and action with an exact count; past MaxKeys distinct
// events, records are still counted exactly, by syscall and action.
func TestBurstCounts(t *testing.T) {
	var out bytes.Buffer
	w := New(Config{DataDir: t.TempDir(), Out: &out, MaxKeys: 2})
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	backend := Member{PID: 10, Title: procs.Title{Kind: procs.KindClientBackend, Role: "joe", Database: "app", Host: "[local]"}}
	rec := func(pid int, syscall int64, code uint32) *audit.Record {
		return &audit.Record{PID: pid, AuditArch: 0xc000003e, Syscall: syscall, Code: code, Session: audit.Unset,
			Exe: []byte("/usr/lib/postgresql/15/bin/postgres")}
	}
	counts := []struct {
		pid     int
		syscall int64
		code    uint32
		n       int
	}{
		{10, 89, uint32(audit.ActionErrno), 1000},
		{10, 89, uint32(audit.ActionLog), 7},
		{11, 89, uint32(audit.ActionErrno), 5}, // a third distinct event: past MaxKeys
		{12, 89, uint32(audit.ActionErrno), 6},
	}
	for _, c := range counts {
		for i := range c.n {
			w.count(rec(c.pid, c.syscall, c.code), Ours, backend, at.Add(time.Duration(i)*time.Millisecond))
		}
	}
	w.flush(w.rotate(at))
	st := w.Stats()
	if st.Records != 1018 || st.Events != 3 {
		t.Errorf("stats %+v, want 1018 records in 3 events", st)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var burst, overflow string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "1000 times"):
			burst = l
		case strings.Contains(l, "pid 0 unknown"):
			overflow = l
		}
	}
	want := "2026-12-06T05:00:00.000Z pid 10 client backend role=joe db=app client=[local]: readlink (x86_64) error, 1000 times in 999ms"
	if !strings.HasPrefix(burst, want) {
		t.Errorf("burst line %q\nwant it to start %q", burst, want)
	}
	if !strings.Contains(overflow, "11 times") || !strings.Contains(overflow, "more than 2 distinct events") {
		t.Errorf("overflow line %q: want the 11 records of pids 11 and 12 counted by syscall and action", overflow)
	}
}
