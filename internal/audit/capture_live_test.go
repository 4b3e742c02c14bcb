package audit_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// TestCaptureLosesNothing proves the recorder's capture path lossless: a
// backend issues a known set of distinct syscalls, many thousand times in
// one query, while the whole server logs every syscall it makes (the
// volume of a first recording pass) and pgbench keeps it busy; every
// round, the captured count of each of those syscalls must equal exactly
// what a quiet calibration round counted, the capture socket must not
// overflow and the kernel's lost counter must not move.
func TestCaptureLosesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: audit multicast group, audit session")
	}
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	const calls = 20000
	arch := syscalls.Native()

	capture, err := audit.OpenCapture()
	if err != nil {
		t.Fatal(err)
	}
	counter := &pidCounter{counts: map[int]map[int]uint64{}}
	done := make(chan error, 1)
	go func() { done <- capture.Run(counter.add, nil) }()
	defer func() {
		capture.Stop()
		if err := <-done; err != nil {
			t.Errorf("capture: %v", err)
		}
		capture.Close()
	}()

	c := clustertest.New(t, cluster.Options{AuditSession: true, Settings: map[string]string{
		"shared_preload_libraries":          "'pgseccomp'",
		"pgseccomp.enabled":                 "on",
		"pgseccomp.global_syscall_default":  "'log'", // every syscall of every process is a record
		"pgseccomp.session_syscall_default": "'allow'",
		"max_connections":                   "20",
	}})
	ses, _ := c.AuditSession()
	counter.session = ses
	empty := filepath.Join(c.BaseDir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := c.Command(ctx, "pgbench", "-i", "-s", "2", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}

	// The known set: pg_ls_dir of an empty directory opens it, checks it
	// with fstat, reads it with getdents64 (entries, then the end) and
	// closes it; pg_stat_file of a missing file is one failed stat.
	query := fmt.Sprintf(`SELECT count(*) FROM generate_series(1, %d) g,
		LATERAL (SELECT pg_ls_dir(%s || repeat('/.', g %% 2))
		          UNION ALL SELECT pg_stat_file('/nonexistent/pgseccomp' || g, true)::text) f`, calls, quoteLiteral(empty))
	target := []string{"getdents64", "newfstatat", "openat", "close"}

	run := func() map[string]uint64 {
		t.Helper()
		conn, err := c.Connect(ctx, c.OSUser, "postgres")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var pid int
		if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		// Warm the caches, so that the measured query reads no catalog file.
		if _, err := conn.Exec(ctx, query); err != nil {
			t.Fatal(err)
		}
		before := settle(counter, pid)
		if _, err := conn.Exec(ctx, query); err != nil {
			t.Fatal(err)
		}
		after := settle(counter, pid)
		got := map[string]uint64{}
		for _, name := range target {
			nr, _ := arch.Number(name)
			got[name] = after[nr] - before[nr]
		}
		return got
	}

	lostBefore, err := audit.ReadKernelStatus()
	if err != nil {
		t.Fatal(err)
	}
	want := run()
	t.Logf("calibration (quiet): %v for %d calls", want, calls)
	if want["getdents64"] < calls || want["newfstatat"] < calls {
		t.Fatalf("calibration counted %v for %d calls: the query does not make the syscalls it should", want, calls)
	}

	for round := 1; round <= rounds; round++ {
		load := c.Command(ctx, "pgbench", "-S", "-c", "4", "-j", "2", "-T", "30")
		if err := load.Start(); err != nil {
			t.Fatal(err)
		}
		recordsBefore := counter.total()
		began := time.Now()
		got := run()
		rate := float64(counter.total()-recordsBefore) / time.Since(began).Seconds()
		load.Process.Kill()
		load.Wait()
		// Fewer records than the quiet calibration is a loss. More is the
		// backend's own doing under load (one more getdents64 was seen
		// once in 7 rounds): every call is still captured.
		var short []string
		for name, n := range want {
			if got[name] < n {
				short = append(short, fmt.Sprintf("%s %d of %d", name, got[name], n))
			}
		}
		switch {
		case len(short) > 0:
			t.Errorf("round %d: captured %v, want %v: records were lost (%s)", round, got, want, strings.Join(short, ", "))
		case !maps.Equal(got, want):
			t.Logf("round %d: all %v captured, and the backend made more calls than in the calibration %v, under %.0f records/s of the server", round, got, want, rate)
		default:
			t.Logf("round %d: all %v captured, under %.0f records/s of the server", round, got, rate)
		}
	}
	lostAfter, err := audit.ReadKernelStatus()
	if err != nil {
		t.Fatal(err)
	}
	if lostAfter.Lost != lostBefore.Lost {
		t.Errorf("the kernel's audit lost counter rose from %d to %d", lostBefore.Lost, lostAfter.Lost)
	}
	if other := counter.otherSessions(); other > 0 {
		t.Logf("%d records of other processes (other audit sessions) were told apart", other)
	}
}

// pidCounter counts one audit session's records per pid and syscall.
type pidCounter struct {
	mu      sync.Mutex
	session uint32
	counts  map[int]map[int]uint64
	records uint64
	others  uint64
}

func (p *pidCounter) add(rec *audit.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Session != p.session || p.session == 0 {
		p.others++
		return
	}
	p.records++
	m := p.counts[rec.PID]
	if m == nil {
		m = map[int]uint64{}
		p.counts[rec.PID] = m
	}
	m[int(rec.Syscall)]++
}

func (p *pidCounter) snapshot(pid int) map[int]uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts[pid])
}

func (p *pidCounter) total() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records
}

func (p *pidCounter) otherSessions() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.others
}

// settle waits until no record of pid has arrived for 300 ms (the
// backend waits for its next query meanwhile) and returns its counts.
func settle(p *pidCounter, pid int) map[int]uint64 {
	sum := func(m map[int]uint64) (n uint64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	last, quiet := p.snapshot(pid), 0
	for quiet < 3 {
		time.Sleep(100 * time.Millisecond)
		if now := p.snapshot(pid); sum(now) == sum(last) {
			quiet++
		} else {
			quiet, last = 0, now
		}
	}
	return last
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
