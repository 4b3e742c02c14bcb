package extension

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// TestKillUnderLoadLosesNoCommit: a kill rule is survivable. While pgbench
// (4 clients) and Go writers insert rows, a session of role victim, whose
// per-role kill list names readlink, reads a tablespace's location: it dies
// with SIGSYS, the postmaster ends every session and runs crash recovery,
// the server accepts connections again, and every commit the server
// acknowledged, before and after the crash, is there. pgbench's clients are
// disconnected by the restart; the writers reconnect and go on.
func TestKillUnderLoadLosesNoCommit(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{
		"pgseccomp.session_roles":     "victim",
		"session_syscall_kill.victim": readlink,
	})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	createRole(t, admin, "victim")
	createTablespace(t, c, admin, "regress_killload")
	mustExec(t, admin, "CREATE TABLE acked (writer int, seq int, PRIMARY KEY (writer, seq))")
	mustExec(t, admin, "CREATE TABLE bench_writes (id bigserial PRIMARY KEY, client int, at timestamptz DEFAULT clock_timestamp())")
	admin.Close(context.Background())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// pgbench: 4 clients inserting until the crash disconnects them
	script := filepath.Join(c.BaseDir, "insert.sql")
	if err := os.WriteFile(script, []byte("INSERT INTO bench_writes (client) VALUES (:client_id);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var pgbenchOut bytes.Buffer
	pgbench := c.Command(ctx, "pgbench", "-n", "-c", "4", "-j", "2", "-T", "600", "-f", script)
	pgbench.Stdout, pgbench.Stderr = &pgbenchOut, &pgbenchOut
	if err := pgbench.Start(); err != nil {
		t.Fatalf("start pgbench: %v", err)
	}
	pgbenchDone := make(chan error, 1)
	go func() { pgbenchDone <- pgbench.Wait() }()

	const nWriters = 4
	writers := make([]*ackWriter, nWriters)
	var wg sync.WaitGroup
	for i := range writers {
		writers[i] = &ackWriter{id: i, c: c}
		wg.Add(1)
		go func() { defer wg.Done(); writers[i].run(ctx) }()
	}
	stopWriters := func() {
		cancel()
		wg.Wait()
	}
	defer stopWriters()

	// Under load: every writer and pgbench have committed rows.
	poll := connectRetry(t, c)
	waitFor(t, "100 commits per writer and 100 pgbench inserts", func() bool {
		var benchRows int
		if err := poll.QueryRow(ctx, "SELECT count(*) FROM bench_writes").Scan(&benchRows); err != nil {
			t.Fatalf("count pgbench's rows: %v", err)
		}
		return minAcked(writers) >= 100 && benchRows >= 100
	})
	select {
	case err := <-pgbenchDone:
		t.Fatalf("pgbench ended before the kill: %v\n%s", err, pgbenchOut.String())
	default:
	}
	poll.Close(ctx)

	// How the log names a killed backend: 18 says "client backend" where
	// 15 to 17 say "server process".
	major, err := c.ServerMajor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killedWho := "server process"
	if major >= 18 {
		killedWho = "client backend"
	}

	// The victim: its filter kills it on readlink.
	_, offset, err := c.LogSince(0)
	if err != nil {
		t.Fatal(err)
	}
	victim := connect(t, c, "victim")
	if rows := filterRows(t, victim, "context = 'session' AND syscall = '"+readlink+"'"); len(rows) != 1 || rows[0].FilterAction() != "session->kill" {
		t.Fatalf("victim's %s rows: %+v, want session->kill", readlink, rows)
	}
	ackedBefore := totalAcked(writers)
	victimPID := victim.PgConn().PID()
	_, err = victim.Exec(ctx, tablespaceLocation("regress_killload"))
	if err == nil {
		t.Fatal("pg_tablespace_location() returned in a session whose filter kills readlink")
	}
	t.Logf("victim %d: %v", victimPID, err)

	// The postmaster reports the kill, restarts every session, recovers.
	var logged string
	waitFor(t, "crash recovery to finish", func() bool {
		logged, _, err = c.LogSince(offset)
		if err != nil {
			t.Fatal(err)
		}
		kill := strings.Index(logged, fmt.Sprintf("%s (PID %d) was terminated by signal 31: Bad system call", killedWho, victimPID))
		return kill >= 0 && strings.Contains(logged[kill:], "database system is ready to accept connections")
	})
	for _, w := range []string{
		"terminating any other active server processes",
		"all server processes terminated; reinitializing",
		"database system was not properly shut down; automatic recovery in progress",
		"redo done at",
	} {
		if !strings.Contains(logged, w) {
			t.Errorf("the server log after the kill does not say %q:\n%s", w, logged)
		}
	}

	// Every writer commits again after recovery.
	after := make([]int, nWriters)
	for i, w := range writers {
		after[i] = w.ackedCount() + 50
	}
	waitFor(t, "50 more commits per writer after recovery", func() bool {
		for i, w := range writers {
			if w.ackedCount() < after[i] {
				return false
			}
		}
		return true
	})
	stopWriters()
	select {
	case err := <-pgbenchDone:
		t.Logf("pgbench, disconnected by the restart: %v\n%s", err, lastLinesOf(pgbenchOut.String(), 6))
	case <-time.After(30 * time.Second):
		t.Errorf("pgbench still runs 30 s after its clients lost their sessions")
	}

	// No acknowledged commit is lost.
	check := connectRetry(t, c)
	present := map[[2]int]bool{}
	rows, err := check.Query(context.Background(), "SELECT writer, seq FROM acked")
	if err != nil {
		t.Fatal(err)
	}
	var w, s int
	if _, err := pgx.ForEachRow(rows, []any{&w, &s}, func() error {
		present[[2]int{w, s}] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var lost, inDoubtPresent, inDoubt, phantom, acked int
	for _, wr := range writers {
		for _, seq := range wr.acked {
			acked++
			if !present[[2]int{wr.id, seq}] {
				lost++
				if lost <= 10 {
					t.Errorf("writer %d: acknowledged commit of seq %d is missing after crash recovery", wr.id, seq)
				}
			}
		}
		for _, seq := range wr.inDoubt {
			inDoubt++
			if present[[2]int{wr.id, seq}] {
				inDoubtPresent++
			}
		}
	}
	for k := range present {
		if k[0] < 0 || k[0] >= nWriters || k[1] > writers[k[0]].attempted {
			phantom++
		}
	}
	if phantom > 0 {
		t.Errorf("%d rows present that no writer attempted", phantom)
	}
	var benchRows int
	if err := check.QueryRow(context.Background(), "SELECT count(*) FROM bench_writes").Scan(&benchRows); err != nil {
		t.Fatal(err)
	}
	t.Logf("acknowledged commits: %d before the kill, %d in all; rows present: %d; lost: %d; "+
		"in doubt when the connection broke: %d (%d of them committed); pgbench rows: %d",
		ackedBefore, acked, len(present), lost, inDoubt, inDoubtPresent, benchRows)
	if lost > 0 {
		t.Errorf("%d of %d acknowledged commits lost", lost, acked)
	}
	for _, wr := range writers {
		for _, e := range wr.unexpected {
			t.Errorf("writer %d: %v", wr.id, e)
		}
	}
}

// ackWriter inserts (id, 1), (id, 2), ... one transaction each, and
// remembers which commits the server acknowledged. A statement whose
// connection broke may or may not have committed: it is in doubt, and its
// sequence number is never reused.
type ackWriter struct {
	id int
	c  *cluster.Cluster

	mu         sync.Mutex
	acked      []int
	inDoubt    []int
	attempted  int
	unexpected []error
}

func (w *ackWriter) run(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = w.c.Connect(ctx, "", "postgres"); err != nil {
				conn = nil
				time.Sleep(50 * time.Millisecond) // starting up, or in recovery
				continue
			}
		}
		w.mu.Lock()
		w.attempted++
		seq := w.attempted
		w.mu.Unlock()
		_, err := conn.Exec(context.Background(), "INSERT INTO acked (writer, seq) VALUES ($1, $2)", w.id, seq)
		w.mu.Lock()
		switch {
		case err == nil:
			w.acked = append(w.acked, seq)
		default:
			w.inDoubt = append(w.inDoubt, seq)
			if !crashDisconnect(err) {
				w.unexpected = append(w.unexpected, fmt.Errorf("seq %d: %w", seq, err))
			}
		}
		w.mu.Unlock()
		if err != nil {
			conn.Close(context.Background())
			conn = nil
		}
	}
}

func (w *ackWriter) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// crashDisconnect reports whether err is what a session sees when the
// postmaster ends it for crash recovery: a FATAL admin shutdown or crash
// message, or a connection that just broke.
func crashDisconnect(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return false
	}
	return true // the connection broke without a message
}

func minAcked(ws []*ackWriter) int {
	m := -1
	for _, w := range ws {
		if n := w.ackedCount(); m < 0 || n < m {
			m = n
		}
	}
	return m
}

func totalAcked(ws []*ackWriter) int {
	n := 0
	for _, w := range ws {
		n += w.ackedCount()
	}
	return n
}

// waitFor polls cond until it holds, failing t after two minutes: a
// safety net for a hung server, not a measure of speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("still waiting for %s after 2 minutes", what)
}

func lastLinesOf(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
