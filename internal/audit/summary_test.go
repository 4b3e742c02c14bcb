package audit

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// record makes a Record for the filter and summary tests.
func record(pid int, comm, exe string, auditArch uint32, nr int64, action Action, unixMilli int64) *Record {
	r := &Record{PID: pid, Comm: []byte(comm), Exe: []byte(exe), AuditArch: auditArch, Syscall: nr, Code: uint32(action), Compat: -1}
	if unixMilli != 0 {
		r.Time = time.UnixMilli(unixMilli)
	}
	return r
}

const x86_64, i386 = 0xc000003e, 0x40000003

func TestFilter(t *testing.T) {
	pg := record(10, "postgres", "/usr/lib/postgresql/15/bin/postgres", x86_64, 89, ActionErrno, 1_795_820_182_744)
	undated := record(11, "postgres", "/usr/lib/postgresql/15/bin/postgres", x86_64, 89, ActionLog, 0)
	since := time.UnixMilli(1_795_820_182_744)
	for _, tt := range []struct {
		name    string
		f       Filter
		pg, und bool
	}{
		{"zero", Filter{}, true, true},
		{"pid", Filter{PIDs: []int{9, 10}}, true, false},
		{"comm", Filter{Comms: []string{"postgres"}}, true, true},
		{"comm differs", Filter{Comms: []string{"postmaster", "Postgres"}}, false, false},
		{"exe path", Filter{Exes: []string{"/usr/lib/postgresql/15/bin/postgres"}}, true, true},
		{"exe name", Filter{Exes: []string{"postgres"}}, true, true},
		{"exe other path", Filter{Exes: []string{"/usr/bin/postgres"}}, false, false},
		{"exe part of a name", Filter{Exes: []string{"gres"}}, false, false},
		{"action", Filter{Actions: []Action{ActionErrno, ActionKillProcess}}, true, false},
		{"since, equal", Filter{Since: since}, true, false},
		{"since, later", Filter{Since: since.Add(time.Millisecond)}, false, false},
		{"all", Filter{PIDs: []int{10}, Comms: []string{"postgres"}, Exes: []string{"postgres"}, Actions: []Action{ActionErrno}, Since: since}, true, false},
	} {
		if got := tt.f.Match(pg); got != tt.pg {
			t.Errorf("%s: dated record: %v", tt.name, got)
		}
		if got := tt.f.Match(undated); got != tt.und {
			t.Errorf("%s: undated record: %v", tt.name, got)
		}
	}
}

func TestSummary(t *testing.T) {
	var s Summary
	for _, r := range []*Record{
		record(10, "postgres", "/pg", x86_64, 89, ActionLog, 3000),
		record(10, "postgres", "/pg", x86_64, 89, ActionErrno, 1000),
		record(11, "postgres", "/pg", x86_64, 89, ActionLog, 2000),
		record(11, "psql", "/psql", x86_64, 0, ActionLog, 0), // undated
		record(12, "a.out", "/a.out", i386, 20, ActionKillProcess, 5000),
		record(12, "a.out", "/a.out", x86_64, syscalls.X32SyscallBit|39, ActionLog, 5000),
		record(13, "odd", "/odd", x86_64, 999, ActionLog, 4000), // unknown number
		record(14, "odd", "/odd", 0x8, 4001, ActionLog, 4000),   // unresolved arch (mips)
		record(10, "postgres", "/pg", x86_64, 89, ActionLog, 2500),
	} {
		s.Add(r)
	}
	got := describeSyscalls(s.Syscalls())
	want := `x86_64 read 0 true count=1 first=-62135596800000 last=-62135596800000 pids=[11] actions=map[log:1] comms=["psql"] exes=["/psql"]
x86_64 readlink 89 true count=4 first=1000 last=3000 pids=[10 11] actions=map[error:1 log:3] comms=["postgres"] exes=["/pg"]
x86_64 syscall_999 999 false count=1 first=4000 last=4000 pids=[13] actions=map[log:1] comms=["odd"] exes=["/odd"]
i386 getpid 20 true count=1 first=5000 last=5000 pids=[12] actions=map[kill_process:1] comms=["a.out"] exes=["/a.out"]
x32 getpid 1073741863 true count=1 first=5000 last=5000 pids=[12] actions=map[log:1] comms=["a.out"] exes=["/a.out"]
mips syscall_4001 4001 false count=1 first=4000 last=4000 pids=[14] actions=map[log:1] comms=["odd"] exes=["/odd"]
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s.Records() != 9 || s.Undated != 1 {
		t.Errorf("records %d, undated %d", s.Records(), s.Undated)
	}
	// PIDs returns a copy.
	list := s.Syscalls()
	pids := list[1].PIDs()
	pids[0] = -1
	if list[1].PIDs()[0] != 10 {
		t.Error("PIDs returns the entry's own slice")
	}
}

// Merging summaries of parts of the records gives the summary of all.
func TestSummaryMerge(t *testing.T) {
	var records []*Record
	for i := range 500 {
		nr := int64(i * 7 % 40)
		arch := uint32(x86_64)
		if i%50 == 0 {
			arch = i386
		}
		action := Actions[i%len(Actions)]
		records = append(records, record(100+i%13, fmt.Sprintf("c%d", i%3), fmt.Sprintf("/e%d", i%4), arch, nr, action, int64(1000+i*37%500)))
	}
	var whole Summary
	for _, r := range records {
		whole.Add(r)
	}
	var merged Summary
	for part := range 3 {
		var s Summary
		for i, r := range records {
			if i%3 == part {
				s.Add(r)
			}
		}
		merged.Merge(&s)
	}
	if got, want := describeSyscalls(merged.Syscalls()), describeSyscalls(whole.Syscalls()); got != want {
		t.Errorf("merged\n%s\nwhole\n%s", got, want)
	}
	// A merged summary goes on tallying.
	merged.Add(record(999, "late", "/late", x86_64, 0, ActionLog, 1))
	merged.Add(record(998, "late", "/late", i386, 1, ActionLog, 1))
	for _, e := range merged.Syscalls() {
		if e.Arch == syscalls.X86_64 && e.Number == 0 && !slices.Contains(e.PIDs(), 999) ||
			e.Arch == syscalls.I386 && e.Number == 1 && !slices.Equal(e.PIDs(), []int{998}) {
			t.Errorf("after merge: %s pids %v", e.Name, e.PIDs())
		}
	}
}

func TestActionIndex(t *testing.T) {
	for i, a := range Actions {
		if actionIndex(a) != i {
			t.Errorf("actionIndex(%v) = %d, want %d", a, actionIndex(a), i)
		}
	}
}
