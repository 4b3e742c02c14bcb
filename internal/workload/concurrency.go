package workload

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// waitTimeout bounds how long a step waits for the server to reach a state
// (a session blocked on a lock, a slot caught up); reaching it is an error.
const waitTimeout = 60 * time.Second

// background runs statements on s in a goroutine; the channel yields their
// error (nil if they all succeeded) once.
func background(ctx context.Context, s *session, statements ...string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.exec(ctx, statements...) }()
	return done
}

// waitBlocked waits until the backend pid waits for something of
// wait_event_type kind ("Lock", "Timeout", "Client", ...).
func (r *runner) waitBlocked(ctx context.Context, s *session, pid uint32, kind string) error {
	return r.waitFor(ctx, fmt.Sprintf("backend %d to wait on %s", pid, kind), waitTimeout, func() (bool, error) {
		return s.bool(ctx, "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = $2)", int32(pid), kind)
	})
}

// waitGone waits until backend pid has exited.
func (r *runner) waitGone(ctx context.Context, s *session, pid uint32) error {
	return r.waitFor(ctx, fmt.Sprintf("backend %d to exit", pid), waitTimeout, func() (bool, error) {
		alive, err := s.bool(ctx, "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)", int32(pid))
		return !alive, err
	})
}

// expectState checks that an error from a background statement carries
// SQLSTATE code.
func (r *runner) expectState(err error, code, what string) error {
	switch {
	case err == nil:
		return r.errorf("%s succeeded, but the step expects it to fail with SQLSTATE %s", what, code)
	case sqlState(err) != code:
		return r.errorf("%s: expected SQLSTATE %s, got: %v", what, code, err)
	}
	return nil
}

// timeoutsStep: every way a statement or a session is cut short: timeouts,
// cancel requests, pg_cancel_backend, pg_terminate_backend, a vanished
// client noticed by client_connection_check_interval.
func timeoutsStep() Step {
	return step("timeouts-cancel-terminate", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, `CREATE TABLE t (id int PRIMARY KEY, v int)`, `INSERT INTO t SELECT g, 0 FROM generate_series(1, 100) g`); err != nil {
			return err
		}
		// statement_timeout
		if err := s.exec(ctx, `SET statement_timeout = '50ms'`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "57014", `SELECT pg_sleep(5)`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "57014", `SELECT count(*) FROM generate_series(1, 1000000000)`); err != nil {
			return err
		}
		if err := s.exec(ctx, `RESET statement_timeout`); err != nil {
			return err
		}

		// lock_timeout, NOWAIT, SKIP LOCKED against a session holding locks.
		holder, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := holder.exec(ctx, `BEGIN`, `SELECT * FROM t WHERE id = 1 FOR UPDATE`, `LOCK TABLE t IN SHARE MODE`); err != nil {
			return err
		}
		if err := s.exec(ctx, `SET lock_timeout = '50ms'`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "55P03", `UPDATE t SET v = 1 WHERE id = 2`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "55P03", `SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT`); err != nil {
			return err
		}
		if err := s.exec(ctx, `RESET lock_timeout`, `SELECT id FROM t FOR SHARE SKIP LOCKED`); err != nil {
			return err
		}
		// A lock wait long enough to be logged (log_lock_waits after
		// deadlock_timeout), then released. The wait is 50 times the
		// timeout: on a loaded machine the waiter may get the CPU to run
		// its deadlock check long after the timer fired.
		waiter := background(ctx, s, `SET deadlock_timeout = '10ms'`, `UPDATE t SET v = 2 WHERE id = 3`, `RESET deadlock_timeout`)
		if err := r.waitBlocked(ctx, holder, s.pid(), "Lock"); err != nil {
			return err
		}
		if err := holder.exec(ctx, `SELECT pg_sleep(0.5)`, `COMMIT`); err != nil {
			return err
		}
		if err := <-waiter; err != nil {
			return err
		}

		// pg_cancel_backend and the protocol's cancel request.
		victim, err := r.join(ctx)
		if err != nil {
			return err
		}
		running := background(ctx, victim, `SELECT pg_sleep(30)`)
		if err := r.waitBlocked(ctx, s, victim.pid(), "Timeout"); err != nil {
			return err
		}
		if err := s.execArgs(ctx, `SELECT pg_cancel_backend($1)`, int32(victim.pid())); err != nil {
			return err
		}
		if err := r.expectState(<-running, "57014", "pg_sleep cancelled by pg_cancel_backend"); err != nil {
			return err
		}
		running = background(ctx, victim, `SELECT pg_sleep(30)`)
		if err := r.waitBlocked(ctx, s, victim.pid(), "Timeout"); err != nil {
			return err
		}
		if err := victim.conn.PgConn().CancelRequest(ctx); err != nil {
			return r.errorf("send a cancel request for backend %d: %v", victim.pid(), err)
		}
		if err := r.expectState(<-running, "57014", "pg_sleep cancelled by a cancel request"); err != nil {
			return err
		}

		// pg_terminate_backend, waiting for the backend to exit.
		running = background(ctx, victim, `SELECT pg_sleep(30)`)
		if err := r.waitBlocked(ctx, s, victim.pid(), "Timeout"); err != nil {
			return err
		}
		if err := s.execArgs(ctx, `SELECT pg_terminate_backend($1, 10000)`, int32(victim.pid())); err != nil {
			return err
		}
		if err := r.expectState(<-running, "57P01", "pg_sleep in a backend terminated by pg_terminate_backend"); err != nil {
			return err
		}

		// idle_in_transaction_session_timeout and idle_session_timeout end
		// the session from inside the backend.
		for _, tc := range []struct{ setting, code string }{
			{"idle_in_transaction_session_timeout", "25P03"},
			{"idle_session_timeout", "57P05"},
		} {
			idle, err := r.join(ctx)
			if err != nil {
				return err
			}
			stmts := []string{`SET ` + tc.setting + ` = '20ms'`}
			if tc.setting == "idle_in_transaction_session_timeout" {
				stmts = append(stmts, `BEGIN`, `SELECT 1`)
			}
			if err := idle.exec(ctx, stmts...); err != nil {
				return err
			}
			pid := idle.pid()
			if err := r.waitGone(ctx, s, pid); err != nil {
				return err
			}
			// The client learns it on its next statement (or already has).
			if _, err := idle.conn.Exec(ctx, `SELECT 1`); err == nil {
				return r.errorf("backend %d with %s still answers", pid, tc.setting)
			}
			r.release(idle)
		}

		// A client that disappears during a long statement: with
		// client_connection_check_interval the backend polls its socket.
		lost, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := lost.exec(ctx, `SET client_connection_check_interval = '10ms'`, `SELECT pg_sleep(0.05)`); err != nil {
			return err
		}
		pid := lost.pid()
		running = background(ctx, lost, `SELECT pg_sleep(30)`)
		if err := r.waitBlocked(ctx, s, pid, "Timeout"); err != nil {
			return err
		}
		lost.conn.PgConn().Conn().Close()
		<-running
		r.release(lost)
		return r.waitGone(ctx, s, pid)
	})
}

// deadlockStep: two sessions waiting for each other; the deadlock detector
// breaks the cycle.
func deadlockStep() Step {
	return step("deadlock", false, func(ctx context.Context, r *runner) error {
		a, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := a.exec(ctx, `CREATE TABLE t (id int PRIMARY KEY, v int)`, `INSERT INTO t VALUES (1, 0), (2, 0)`); err != nil {
			return err
		}
		b, err := r.join(ctx)
		if err != nil {
			return err
		}
		for _, s := range []*session{a, b} {
			if err := s.exec(ctx, `SET deadlock_timeout = '20ms'`, `BEGIN`); err != nil {
				return err
			}
		}
		if err := a.exec(ctx, `UPDATE t SET v = v + 1 WHERE id = 1`); err != nil {
			return err
		}
		if err := b.exec(ctx, `UPDATE t SET v = v + 1 WHERE id = 2`); err != nil {
			return err
		}
		first := background(ctx, a, `UPDATE t SET v = v + 1 WHERE id = 2`)
		if err := r.waitBlocked(ctx, b, a.pid(), "Lock"); err != nil {
			return err
		}
		second := background(ctx, b, `UPDATE t SET v = v + 1 WHERE id = 1`)
		errA, errB := <-first, <-second
		// One of them is chosen as the victim.
		victim, survivor := errA, errB
		if errA == nil {
			victim, survivor = errB, errA
		}
		if survivor != nil {
			return survivor
		}
		if err := r.expectState(victim, "40P01", "the second of two crossing updates"); err != nil {
			return err
		}
		return joinErr(a.exec(ctx, `ROLLBACK`), b.exec(ctx, `ROLLBACK`))
	})
}

// joinErr returns the first non-nil error.
func joinErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// rowLocksStep: row locks shared by several transactions become
// multixacts; enough of them to write pages of the multixact SLRUs, with
// subtransactions (whose ids go to pg_subtrans) and a savepoint loop long
// enough to overflow the subtransaction cache.
func rowLocksStep() Step {
	return step("row-locks-multixact-subtransactions", false, func(ctx context.Context, r *runner) error {
		a, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := a.exec(ctx,
			`CREATE TABLE t (id int PRIMARY KEY, v int)`,
			`INSERT INTO t SELECT g, 0 FROM generate_series(1, 20000) g`,
			`CREATE TABLE child (id int REFERENCES t, note text)`,
			`BEGIN`,
			`SELECT count(*) FROM (SELECT * FROM t FOR SHARE) x`,
		); err != nil {
			return err
		}
		b, err := r.join(ctx)
		if err != nil {
			return err
		}
		c, err := r.join(ctx)
		if err != nil {
			return err
		}
		// Each row locked in its own subtransaction: a new member set, so a
		// new multixact, per row.
		if err := b.exec(ctx,
			`BEGIN`,
			`DO $$ BEGIN
			   FOR i IN 1..20000 LOOP
			     BEGIN
			       PERFORM FROM t WHERE id = i FOR KEY SHARE;
			       IF i % 5000 = 0 THEN RAISE EXCEPTION 'roll back this one'; END IF;
			     EXCEPTION WHEN raise_exception THEN NULL;
			     END;
			   END LOOP;
			 END $$`,
			`SELECT id FROM t WHERE id <= 100 FOR SHARE`,
		); err != nil {
			return err
		}
		// A foreign key check takes KEY SHARE locks; an update of the
		// locked rows adds an updater to their multixacts.
		if err := c.exec(ctx,
			`BEGIN`,
			`INSERT INTO child SELECT g, 'x' FROM generate_series(200, 300) g`,
			`SELECT id FROM t WHERE id BETWEEN 1000 AND 2000 FOR SHARE`,
		); err != nil {
			return err
		}
		if err := a.exec(ctx, `COMMIT`); err != nil {
			return err
		}
		if err := joinErr(b.exec(ctx, `UPDATE t SET v = v + 1 WHERE id <= 100`, `COMMIT`), c.exec(ctx, `COMMIT`)); err != nil {
			return err
		}
		if err := a.exec(ctx, `SELECT count(*) FROM t WHERE xmax <> 0`); err != nil {
			return err
		}
		// More than 64 subtransactions with xids: the snapshot of another
		// session overflows and looks subtransactions up in pg_subtrans.
		if err := b.exec(ctx, `BEGIN`); err != nil {
			return err
		}
		for i := 0; i < 80; i++ {
			if err := b.exec(ctx, fmt.Sprintf("SAVEPOINT sp%d", i), fmt.Sprintf("INSERT INTO child VALUES (%d, 'sp')", i+1)); err != nil {
				return err
			}
			if i%10 == 9 {
				if err := b.exec(ctx, fmt.Sprintf("RELEASE SAVEPOINT sp%d", i)); err != nil {
					return err
				}
			}
		}
		if err := b.exec(ctx, `ROLLBACK TO SAVEPOINT sp50`); err != nil {
			return err
		}
		if err := c.exec(ctx, `SELECT count(*) FROM child`, `BEGIN ISOLATION LEVEL REPEATABLE READ`, `SELECT count(*) FROM child`); err != nil {
			return err
		}
		if err := b.exec(ctx, `DO $$ BEGIN FOR i IN 1..200 LOOP BEGIN INSERT INTO child VALUES (i, 'loop'); EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $$`, `COMMIT`); err != nil {
			return err
		}
		if err := c.exec(ctx, `SELECT count(*) FROM child`, `COMMIT`); err != nil {
			return err
		}
		return a.exec(ctx, `DROP TABLE child, t`)
	})
}

// serializableStep: serializable transactions that conflict, a deferrable
// read-only one, and enough predicate locks to be promoted.
func serializableStep() Step {
	return step("serializable", false, func(ctx context.Context, r *runner) error {
		a, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := a.exec(ctx,
			`CREATE TABLE doctors (name text PRIMARY KEY, on_call bool)`,
			`INSERT INTO doctors VALUES ('alice', true), ('bob', true)`,
			`CREATE TABLE big (id int PRIMARY KEY, v int)`,
			`INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g`,
			`ANALYZE big`,
		); err != nil {
			return err
		}
		b, err := r.join(ctx)
		if err != nil {
			return err
		}
		// Write skew: both read, both write what the other read.
		for _, s := range []*session{a, b} {
			if err := s.exec(ctx, `BEGIN ISOLATION LEVEL SERIALIZABLE`, `SELECT count(*) FROM doctors WHERE on_call`); err != nil {
				return err
			}
		}
		if err := a.exec(ctx, `UPDATE doctors SET on_call = false WHERE name = 'alice'`); err != nil {
			return err
		}
		if err := b.exec(ctx, `UPDATE doctors SET on_call = false WHERE name = 'bob'`); err != nil {
			return err
		}
		if err := a.exec(ctx, `COMMIT`); err != nil {
			return err
		}
		if err := r.expectState(b.exec(ctx, `COMMIT`), "40001", "COMMIT of the second write-skewed serializable transaction"); err != nil {
			return err
		}
		// Many index probes: predicate locks are promoted to page and
		// relation locks.
		if err := a.exec(ctx, `BEGIN ISOLATION LEVEL SERIALIZABLE`,
			`SET LOCAL enable_seqscan = off`,
			`DO $$ BEGIN FOR i IN 1..3000 LOOP PERFORM v FROM big WHERE id = i * 5; END LOOP; END $$`,
			`SELECT count(*) FROM pg_locks WHERE mode = 'SIReadLock'`,
			`UPDATE big SET v = v + 1 WHERE id = 7`); err != nil {
			return err
		}
		// A deferrable read-only transaction waits for a safe snapshot:
		// until the read-write one ends.
		deferred := background(ctx, b, `BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE`, `SELECT sum(v) FROM big`, `COMMIT`)
		if err := r.waitBlocked(ctx, a, b.pid(), "IPC"); err != nil {
			return err
		}
		if err := joinErr(a.exec(ctx, `COMMIT`), <-deferred); err != nil {
			return err
		}
		return a.exec(ctx, `DROP TABLE doctors, big`)
	})
}

// advisoryLocksStep: advisory locks in every flavour, and a wait for one.
func advisoryLocksStep() Step {
	return step("advisory-locks", false, func(ctx context.Context, r *runner) error {
		a, err := r.work(ctx)
		if err != nil {
			return err
		}
		b, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := a.exec(ctx,
			`SELECT pg_advisory_lock(1), pg_advisory_lock(1, 2), pg_advisory_lock_shared(3)`,
			`SELECT pg_try_advisory_lock(4), pg_try_advisory_lock_shared(5, 6)`,
			`BEGIN`,
			`SELECT pg_advisory_xact_lock(7), pg_advisory_xact_lock_shared(8), pg_try_advisory_xact_lock(9), pg_try_advisory_xact_lock_shared(10, 11)`,
			`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`,
			`COMMIT`,
		); err != nil {
			return err
		}
		if err := b.exec(ctx, `SELECT pg_try_advisory_lock(1)`, `SELECT pg_advisory_lock_shared(3)`, `SELECT pg_advisory_unlock_shared(3)`); err != nil {
			return err
		}
		waiting := background(ctx, b, `SELECT pg_advisory_lock(1)`, `SELECT pg_advisory_unlock(1)`)
		if err := r.waitBlocked(ctx, a, b.pid(), "Lock"); err != nil {
			return err
		}
		if err := a.exec(ctx, `SELECT pg_advisory_unlock(1)`, `SELECT pg_advisory_unlock(1, 2)`, `SELECT pg_advisory_unlock_all()`); err != nil {
			return err
		}
		return <-waiting
	})
}

// preparedXactsStep: two-phase commit, with a checkpoint while prepared so
// that the state goes to pg_twophase files.
func preparedXactsStep() Step {
	return step("prepared-transactions", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if max, err := s.int(ctx, `SELECT current_setting('max_prepared_transactions')::int`); err != nil {
			return err
		} else if max < 2 {
			r.skipf("two-phase commit: max_prepared_transactions is %d", max)
			return nil
		}
		if err := s.exec(ctx, `CREATE TABLE t (id int, v text)`); err != nil {
			return err
		}
		for i := range 2 {
			gid := fmt.Sprintf("%sxact_%d", prefix, i)
			if err := s.exec(ctx,
				`BEGIN`,
				fmt.Sprintf(`INSERT INTO t SELECT g, 'prepared %d' FROM generate_series(1, 1000) g`, i),
				fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, 4200+i),
				`SELECT id FROM t FOR UPDATE`,
				`PREPARE TRANSACTION `+quoteLiteral(gid),
			); err != nil {
				return err
			}
		}
		if err := s.exec(ctx,
			`SELECT * FROM pg_prepared_xacts`,
			`CHECKPOINT`,
			`SELECT count(*) FROM pg_ls_dir('pg_twophase')`,
			`COMMIT PREPARED '`+prefix+`xact_0'`,
			`ROLLBACK PREPARED '`+prefix+`xact_1'`,
		); err != nil {
			return err
		}
		n, err := s.int(ctx, `SELECT count(*) FROM t`)
		if err != nil {
			return err
		}
		if n != 1000 {
			return r.errorf("after COMMIT PREPARED of one and ROLLBACK PREPARED of another transaction, the table has %d rows, want 1000", n)
		}
		return nil
	})
}

// notifyStep: LISTEN/NOTIFY with enough payload to fill many pages of the
// notification queue (its SLRU files are created and truncated away).
func notifyStep() Step {
	return step("listen-notify", false, func(ctx context.Context, r *runner) error {
		listener, err := r.work(ctx)
		if err != nil {
			return err
		}
		sender, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := listener.exec(ctx, `LISTEN wl_channel`, `LISTEN wl_other`, `UNLISTEN wl_other`); err != nil {
			return err
		}
		const perXact, xacts = 40, 10
		want := perXact*xacts + 1
		received := make(chan error, 1)
		go func() {
			for n := 0; n < want; n++ {
				if err := listener.conn.PgConn().WaitForNotification(ctx); err != nil {
					received <- r.errorf("waiting for notification %d of %d: %v", n+1, want, err)
					return
				}
			}
			received <- nil
		}()
		payload := strings.Repeat("p", 7000)
		for x := 0; x < xacts; x++ {
			if err := sender.exec(ctx,
				`BEGIN`,
				fmt.Sprintf(`SELECT pg_notify('wl_channel', g || '%s') FROM generate_series(%d, %d) g`, payload, x*perXact, (x+1)*perXact-1),
				`SELECT pg_notification_queue_usage()`,
				`COMMIT`,
			); err != nil {
				return err
			}
		}
		if err := sender.exec(ctx, `NOTIFY wl_channel, 'last'`); err != nil {
			return err
		}
		select {
		case err := <-received:
			if err != nil {
				return err
			}
		case <-time.After(waitTimeout):
			return r.errorf("the listener did not receive %d notifications within %v", want, waitTimeout)
		}
		return listener.exec(ctx, `UNLISTEN *`, `SELECT pg_notification_queue_usage()`)
	})
}
