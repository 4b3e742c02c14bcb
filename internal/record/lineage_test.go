package record

import "testing"

// TestLineage: the archiver, the programs it starts and theirs (even gone,
// and even when their fork event is read only when asked), are the
// archiver's; a backend's program, the postmaster, an untraced process,
// and a pid reused by another process (its fork event still queued) are
// not; a server process not yet titled is not decided for good.
func TestLineage(t *testing.T) {
	const postmaster, archiver, vforked, sh, cp, backend, program, other = 100, 101, 102, 103, 104, 105, 106, 999
	titles := map[int]string{
		postmaster: "/usr/lib/postgresql/15/bin/postgres -D /data",
		archiver:   "/usr/lib/postgresql/15/bin/postgres -D /data", // not titled yet
		vforked:    "postgres: 15/main: archiver ",                 // shares the archiver's memory
		sh:         "sh -c cp pg_wal/000000010000000000000001 /archive/000000010000000000000001",
		backend:    "postgres: 15/main: joe db [local] COPY",
		program:    "gzip",
		other:      "bash",
	}
	title := func(pid int) string { return titles[pid] }
	var queued [][2]int
	var l *lineage
	l = newLineage(func() {
		for _, f := range queued {
			l.forked(f[0], f[1])
		}
		queued = nil
	})
	for _, f := range [][2]int{{postmaster, archiver}, {archiver, vforked}, {postmaster, backend}, {backend, program}} {
		l.forked(f[0], f[1])
	}
	check := func(pid int, want bool) {
		t.Helper()
		if got := l.archiving(pid, title); got != want {
			t.Errorf("archiving(%d) = %v, want %v", pid, got, want)
		}
	}
	check(archiver, false) // not titled yet: its parent, the postmaster, is undecided
	titles[archiver] = "postgres: 15/main: archiver last was 000000010000000000000001"
	check(archiver, true)
	check(vforked, true)
	queued = [][2]int{{vforked, sh}, {sh, cp}} // read only when asked
	delete(titles, sh)                         // gone before its record is read
	check(cp, true)
	check(sh, true)
	check(backend, false)
	check(program, false)
	check(postmaster, false)
	check(other, false)              // untraced
	queued = [][2]int{{backend, cp}} // cp's pid reused by a backend's program, its fork not read yet
	check(cp, false)
	l.reset()
	check(vforked, true) // titled as the archiver: decided by its title alone
	check(sh, false)     // untraced after the reset
}
