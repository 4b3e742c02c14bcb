package watch

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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

// TestReloadState: pgseccomp_filters_outdated follows the server's reload
// state file, absent without one, and a rejection is said once. The
// "postmaster" is this test process, named by a postmaster.pid.
func TestReloadState(t *testing.T) {
	dir := t.TempDir()
	pid := os.Getpid()
	if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(fmt.Sprintf("%d\n%s\n", pid, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "pg_stat_tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m := NewMetrics()
	w := New(Config{DataDir: dir, Out: &out, Metrics: m})
	w.members.Poll(time.Now())
	gauge := func() (float64, bool) {
		families, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == "pgseccomp_filters_outdated" {
				return f.GetMetric()[0].GetGauge().GetValue(), true
			}
		}
		return 0, false
	}
	var reported time.Time
	if reported = w.reloadState(reported); !reported.IsZero() {
		t.Fatal("a rejection reported without a state file")
	}
	if v, ok := gauge(); ok {
		t.Errorf("pgseccomp_filters_outdated = %v without a state file, want it absent", v)
	}
	state := fmt.Sprintf("pid=%d\ngeneration=3\nplan_since=1796536134.158000\nrejected_at=1796536200.500000\nrejected_setting=pgseccomp.session_syscall_error\nrejected_detail=Unknown syscall \"getpriorty\".\n", pid)
	if err := os.WriteFile(filepath.Join(dir, "pg_stat_tmp", "pgseccomp.status"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	reported = w.reloadState(reported)
	reported = w.reloadState(reported)
	if v, ok := gauge(); !ok || v != 1 {
		t.Errorf("pgseccomp_filters_outdated = %v (exported %v) after a rejected reload, want 1", v, ok)
	}
	if n := strings.Count(out.String(), "rejected a reload"); n != 1 || !strings.Contains(out.String(), `getpriorty`) {
		t.Errorf("the rejection was said %d times, want once naming the word:\n%s", n, out.String())
	}
}
