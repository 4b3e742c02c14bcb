package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// Objects of the restart and crash steps.
const (
	lifecycleGID    = prefix + "survivor"
	lifecycleSchema = "wl_lifecycle"
	// movedSuffix marks the WAL segment the startup-panic step hides.
	movedSuffix = ".pgseccomp-workload-moved"
)

// checkpointerPID is the checkpointer's process id: a new one means the
// postmaster went through a crash restart.
func checkpointerPID(ctx context.Context, s *session) (int64, error) {
	return s.int(ctx, `SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`)
}

// expectCrashRestart waits until the postmaster has gone through crash
// recovery after a backend died (a new checkpointer answers; a session
// opened before the postmaster noticed the death would still see the old
// one) and returns a fresh session in the step's schema.
func (r *runner) expectCrashRestart(ctx context.Context, before int64) (*session, error) {
	r.closeAll()
	var s *session
	err := r.waitFor(ctx, fmt.Sprintf("crash recovery (a checkpointer other than process %d)", before), 2*waitTimeout, func() (bool, error) {
		c, err := r.connect(ctx, workDB)
		if err != nil {
			return false, nil // refused while the postmaster reinitializes
		}
		after, err := checkpointerPID(ctx, c)
		if err != nil || after == before {
			r.release(c)
			return false, nil
		}
		s = c
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return s, s.exec(ctx, `SET search_path = `+quoteIdent(r.schemaName()))
}

// prepareSurvivors makes what a restart or crash must preserve or reset:
// committed rows, an unlogged table (emptied by crash recovery), a
// prepared transaction (recovered from pg_twophase or the WAL).
func prepareSurvivors(ctx context.Context, r *runner, s *session) (twoPhase bool, err error) {
	max, err := s.int(ctx, `SELECT current_setting('max_prepared_transactions')::int`)
	if err != nil {
		return false, err
	}
	if err := s.exec(ctx,
		`CREATE TABLE kept (id int PRIMARY KEY, v text)`,
		`INSERT INTO kept SELECT g, md5(g::text) FROM generate_series(1, 1000) g`,
		`CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text)`,
		`INSERT INTO scratch SELECT g, 'gone after a crash' FROM generate_series(1, 1000) g`,
		`CREATE INDEX ON scratch (v)`,
	); err != nil {
		return false, err
	}
	if max == 0 {
		return false, nil
	}
	return true, s.exec(ctx,
		`BEGIN`,
		`INSERT INTO kept VALUES (-1, 'prepared before the restart')`,
		`PREPARE TRANSACTION '`+lifecycleGID+`'`,
	)
}

// checkSurvivors checks after the server is back: committed rows are there,
// the prepared transaction can be committed; crashed says whether the
// unlogged table must be empty.
func checkSurvivors(ctx context.Context, r *runner, s *session, twoPhase, crashed bool) error {
	if twoPhase {
		if err := s.exec(ctx, `COMMIT PREPARED '`+lifecycleGID+`'`); err != nil {
			return err
		}
	}
	n, err := s.int(ctx, `SELECT count(*) FROM kept`)
	if err != nil {
		return err
	}
	want := int64(1000)
	if twoPhase {
		want++
	}
	if n != want {
		return r.errorf("after the server came back, table kept has %d rows, want %d", n, want)
	}
	u, err := s.int(ctx, `SELECT count(*) FROM scratch`)
	if err != nil {
		return err
	}
	if crashed && u != 0 {
		return r.errorf("after crash recovery the unlogged table has %d rows, want 0", u)
	}
	if !crashed && u != 1000 {
		return r.errorf("after a clean restart the unlogged table has %d rows, want 1000", u)
	}
	return nil
}

// restartStep: a clean shutdown (shutdown checkpoint, statistics and the
// autoprewarm list written) and a start (statistics read, a prepared
// transaction recovered, autoprewarm workers loading blocks).
func restartStep() Step {
	return step("restart", true, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		twoPhase, err := prepareSurvivors(ctx, r, s)
		if err != nil {
			return err
		}
		return restartAndCheck(ctx, r, "fast", "start the server after a fast shutdown", twoPhase)
	})
}

// restartAndCheck stops the server in mode ("fast", or "immediate" for a
// crash), starts it again and checks that what prepareSurvivors made
// survived.
func restartAndCheck(ctx context.Context, r *runner, mode, starting string, twoPhase bool) error {
	r.closeAll()
	if err := r.t.Stop(ctx, mode); err != nil {
		return r.errorf("stop the server (%s): %v", mode, err)
	}
	if err := r.t.Start(ctx); err != nil {
		return r.errorf("%s: %v", starting, err)
	}
	s, err := r.join(ctx)
	if err != nil {
		return err
	}
	return checkSurvivors(ctx, r, s, twoPhase, mode == "immediate")
}

// crashRecoveryStep: an immediate shutdown after a checkpoint and a
// variety of WAL records (files and directories created and removed,
// a database copied file by file, a tablespace, a prepared transaction),
// so that the startup process replays all of them, resets unlogged
// tables from their init forks and recovers the prepared transaction.
func crashRecoveryStep() Step {
	return step("crash-recovery-immediate-stop", true, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		spc := prefix + "crash_spc"
		db := prefix + "crash_db"
		admin, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := admin.exec(ctx,
			`DROP DATABASE IF EXISTS `+db,
			`DROP DATABASE IF EXISTS `+db+`_wal_log`,
			`DROP TABLESPACE IF EXISTS `+spc,
		); err != nil {
			return err
		}
		location := filepath.Join(dir, "spc")
		if err := r.mkdir(ctx, location); err != nil {
			return err
		}
		if err := s.exec(ctx, `CHECKPOINT`); err != nil {
			return err
		}
		twoPhase, err := prepareSurvivors(ctx, r, s)
		if err != nil {
			return err
		}
		if err := joinErr(
			admin.exec(ctx,
				`CREATE TABLESPACE `+spc+` LOCATION `+quoteLiteral(location),
				`CREATE DATABASE `+db+` STRATEGY FILE_COPY TABLESPACE `+spc,
				`ALTER DATABASE `+db+` SET TABLESPACE pg_default`,
				`CREATE DATABASE `+db+`_wal_log STRATEGY WAL_LOG`,
				`DROP DATABASE `+db+`_wal_log`,
			),
			s.exec(ctx,
				`CREATE TABLE moved (id int) TABLESPACE `+spc,
				`INSERT INTO moved SELECT generate_series(1, 1000)`,
				`UPDATE kept SET v = v || '+' WHERE id % 3 = 0`,
				`DELETE FROM kept WHERE id < 0`,
				`CREATE TABLE dropped AS SELECT * FROM kept`,
				`CREATE INDEX ON dropped (v)`,
				`TRUNCATE dropped`,
				`DROP TABLE dropped`,
				`DROP TABLE moved`,
				`SELECT pg_switch_wal()`,
				`INSERT INTO scratch VALUES (-1, 'written after the checkpoint')`,
				`CREATE SEQUENCE crash_seq`,
				`SELECT nextval('crash_seq')`,
				// A mapped catalog rewritten: the relation map file is
				// rewritten in redo.
				`VACUUM FULL pg_catalog.pg_class`,
			),
			admin.exec(ctx, `DROP DATABASE `+db, `DROP TABLESPACE `+spc),
		); err != nil {
			return err
		}
		return restartAndCheck(ctx, r, "immediate", "start the server for crash recovery", twoPhase)
	})
}

// backendCrashStep: one backend killed with SIGKILL; the postmaster ends
// every other process, resets shared memory and runs crash recovery while
// staying up.
func backendCrashStep() Step {
	return step("backend-crash-sigkill", true, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		twoPhase, err := prepareSurvivors(ctx, r, s)
		if err != nil {
			return err
		}
		victim, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := victim.exec(ctx, `BEGIN`, `INSERT INTO kept VALUES (-2, 'lost in the crash')`); err != nil {
			return err
		}
		before, err := checkpointerPID(ctx, s)
		if err != nil {
			return err
		}
		if err := r.run(ctx, nil, "kill", "-KILL", strconv.Itoa(int(victim.pid()))); err != nil {
			return err
		}
		s, err = r.expectCrashRestart(ctx, before)
		if err != nil {
			return err
		}
		return checkSurvivors(ctx, r, s, twoPhase, true)
	})
}

// backendAbortStep: a backend that calls the C library's abort() (what a
// PANIC does), from PL/Perl's POSIX::abort: the filters must let abort()
// raise SIGABRT, or the PANIC becomes a segmentation fault. Not Perl's
// CORE::dump, which is kill(getpid(), SIGABRT) and never reaches abort():
// on 19, whose startup process no longer PANICs, a profile recorded with
// it lacked tgkill and a backend's abort() became a segmentation fault.
// The victim starts Perl and compiles the function before the event
// BackendAbortEvent begins, so that the event holds the abort() and the
// crash restart, which every server meets, and not what starting Perl
// takes, which a server without PL/Perl never does.
func backendAbortStep() Step {
	st := step("backend-abort-plperlu", true, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := hasExtension(ctx, s, "plperlu"); err != nil {
			return err
		} else if !ok {
			r.skipf("abort() in a backend: plperlu is not installed")
			return nil
		}
		if err := s.exec(ctx,
			`CREATE EXTENSION IF NOT EXISTS plperlu`,
			`CREATE OR REPLACE FUNCTION abort_backend(really int) RETURNS void LANGUAGE plperlu AS 'use POSIX (); POSIX::abort() if $_[0]; return;'`,
		); err != nil {
			return err
		}
		before, err := checkpointerPID(ctx, s)
		if err != nil {
			return err
		}
		victim, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := victim.exec(ctx, `SELECT abort_backend(0)`); err != nil {
			return err
		}
		r.mark(BackendAbortEvent)
		defer r.mark("")
		if _, err := victim.conn.Exec(ctx, `SELECT abort_backend(1)`); err == nil {
			return r.errorf("SELECT abort_backend(1) returned; the backend should have aborted")
		}
		_, err = r.expectCrashRestart(ctx, before)
		return err
	})
	st.Meets = BackendAbortEvent
	return st
}

// startupPanicStep: the startup process PANICs. With the server stopped
// cleanly, the WAL segment holding the latest checkpoint record is renamed
// (in pg_wal itself, so the rename never crosses file systems); the server
// then fails to start ("could not locate a valid checkpoint record") with
// a PANIC, i.e. abort() in the startup process. The segment is renamed
// back and the server starts normally: nothing else was touched.
func startupPanicStep() Step {
	return step("startup-panic", true, func(ctx context.Context, r *runner) error {
		walDir := filepath.Join(r.t.DataDir(), "pg_wal")
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		// 19 ends the startup process with FATAL, not PANIC, when the
		// checkpoint record is missing: no abort() there (a backend's is
		// backend-abort-plperlu's).
		major, err := cluster.ConnMajor(ctx, s.conn)
		if err != nil {
			return err
		}
		level := "PANIC"
		if major >= 19 {
			level = "FATAL"
		}
		if err := s.exec(ctx,
			`CREATE TABLE before_panic AS SELECT generate_series(1, 100) AS id`,
		); err != nil {
			return err
		}
		r.closeAll()
		if err := r.t.Stop(ctx, "fast"); err != nil {
			return r.errorf("stop the server (fast): %v", err)
		}
		segment, err := r.checkpointSegment(ctx)
		if err != nil {
			return joinErr(err, r.t.Start(ctx))
		}
		original := filepath.Join(walDir, segment)
		moved := original + movedSuffix
		if err := r.run(ctx, nil, "mv", "-n", original, moved); err != nil {
			return joinErr(err, r.t.Start(ctx))
		}
		log, startErr := r.t.StartExpectingFailure(ctx)
		// Whatever happened, put the segment back and start the server.
		if err := r.run(context.WithoutCancel(ctx), nil, "mv", "-n", moved, original); err != nil {
			return r.errorf("put WAL segment %s back from %s: %v; do it by hand (mv %s %s) before starting the server",
				segment, moved, err, moved, original)
		}
		if startErr != nil {
			return r.errorf("the server was expected not to start without WAL segment %s: %v", segment, startErr)
		}
		if err := r.t.Start(ctx); err != nil {
			return r.errorf("start the server after putting WAL segment %s back: %v", segment, err)
		}
		if !strings.Contains(log, level+":") || !strings.Contains(log, "could not locate a valid checkpoint record") {
			return r.errorf("without WAL segment %s the startup process was expected to fail with %s (\"could not locate a valid checkpoint record\"); the server logged:\n%s",
				segment, level, lastLines(log, outputLines))
		}
		s, err = r.join(ctx)
		if err != nil {
			return err
		}
		n, err := s.int(ctx, `SELECT count(*) FROM before_panic`)
		if err != nil {
			return err
		}
		if n != 100 {
			return r.errorf("after the PANIC and a normal start, table before_panic has %d rows, want 100", n)
		}
		return nil
	})
}

// checkpointSegment reads pg_control (with pg_controldata, the server
// stopped) and returns the name of the WAL segment that holds the latest
// checkpoint record.
func (r *runner) checkpointSegment(ctx context.Context) (string, error) {
	out, err := r.output(ctx, nil, "pg_controldata", "-D", r.t.DataDir())
	if err != nil {
		return "", err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return checkpointSegmentName(fields)
}

// checkpointSegmentName computes the segment file name from pg_controldata
// fields: "Latest checkpoint location" (an LSN), "Latest checkpoint's
// TimeLineID", "Bytes per WAL segment".
func checkpointSegmentName(fields map[string]string) (string, error) {
	const (
		locKey  = "Latest checkpoint location"
		tliKey  = "Latest checkpoint's TimeLineID"
		sizeKey = "Bytes per WAL segment"
	)
	if state := fields["Database cluster state"]; state != "" && state != "shut down" {
		return "", fmt.Errorf("pg_controldata says the cluster state is %q, not \"shut down\"; the server must be stopped cleanly", state)
	}
	hi, lo, ok := strings.Cut(fields[locKey], "/")
	if !ok {
		return "", fmt.Errorf("pg_controldata: %q is %q, not an LSN like 0/1A2B3C8", locKey, fields[locKey])
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	tli, err3 := strconv.ParseUint(fields[tliKey], 10, 32)
	size, err4 := strconv.ParseUint(fields[sizeKey], 10, 64)
	if err := joinErr(err1, err2, err3, err4); err != nil {
		return "", fmt.Errorf("pg_controldata: cannot read %q=%q, %q=%q, %q=%q: %v",
			locKey, fields[locKey], tliKey, fields[tliKey], sizeKey, fields[sizeKey], err)
	}
	if size == 0 || size&(size-1) != 0 || size > 1<<30 {
		return "", fmt.Errorf("pg_controldata: %q is %d, not a power of two up to 1GB", sizeKey, size)
	}
	lsn := h<<32 | l
	segno := lsn / size
	perID := (uint64(1) << 32) / size
	return fmt.Sprintf("%08X%08X%08X", tli, segno/perID, segno%perID), nil
}

// standbyPromoteStep: the server itself becomes a hot standby fed from its
// own WAL archive (restore_command run by the startup process, restartpoints
// by the checkpointer with archive_cleanup_command, read-only sessions and
// replay pause/resume), then is promoted: recovery ends on a new timeline
// (recovery_end_command, a timeline history file, the last segment kept as
// .partial). The cluster goes on, one timeline further.
func standbyPromoteStep() Step {
	return step("standby-mode-restore-command-promote", true, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		mode, err := s.setting(ctx, "archive_mode")
		if err != nil {
			return err
		}
		if mode == "off" {
			r.skipf("standby mode from the archive: archive_mode is off")
			return nil
		}
		archive := filepath.Join(r.t.ScratchDir(), archiveSubdir)
		settings := [][2]string{
			{"restore_command", "cp " + shellQuote(archive) + "/%f %p"},
			{"archive_cleanup_command", "echo workload: archive cleanup would keep %r >/dev/null"},
			{"recovery_end_command", "echo workload: recovery ended >/dev/null"},
			{"hot_standby", "on"},
		}
		if err := s.exec(ctx,
			`CREATE TABLE before_standby AS SELECT generate_series(1, 500) AS id`,
			`SELECT pg_switch_wal()`,
		); err != nil {
			return err
		}
		if err := alterSystem(ctx, s, settings); err != nil {
			return err
		}
		defer func() {
			ctx := context.WithoutCancel(ctx)
			if c, err := r.connect(ctx, "postgres"); err == nil && alterSystem(ctx, c, resetSettings(settings)) == nil {
				r.reloadAndWait(ctx, c)
			}
		}()
		r.closeAll()
		if err := r.t.Stop(ctx, "fast"); err != nil {
			return r.errorf("stop the server (fast): %v", err)
		}
		signal := filepath.Join(r.t.DataDir(), "standby.signal")
		if err := r.writeFile(ctx, signal, nil); err != nil {
			return joinErr(err, r.t.Start(ctx))
		}
		if err := r.t.Start(ctx); err != nil {
			// Do not leave a server that cannot start in standby mode behind.
			rmErr := r.run(context.WithoutCancel(ctx), nil, "rm", "-f", signal)
			return joinErr(r.errorf("start the server as a standby: %v", err), rmErr, r.t.Start(ctx))
		}
		standby, err := r.join(ctx)
		if err != nil {
			return err
		}
		inRecovery, err := standby.bool(ctx, `SELECT pg_is_in_recovery()`)
		if err != nil {
			return err
		}
		if !inRecovery {
			return r.errorf("with standby.signal the server should be in recovery, but pg_is_in_recovery() is false")
		}
		if err := standby.exec(ctx,
			`SELECT count(*) FROM before_standby`,
			`SELECT pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn(), pg_last_xact_replay_timestamp(), pg_get_wal_replay_pause_state()`,
			`SELECT pg_wal_replay_pause()`,
			`SELECT pg_get_wal_replay_pause_state()`,
			`SELECT pg_wal_replay_resume()`,
			`BEGIN ISOLATION LEVEL REPEATABLE READ`,
			`SELECT count(*) FROM pg_class`,
			`COMMIT`,
			`SELECT * FROM pg_stat_database_conflicts WHERE datname = current_database()`,
			// A restartpoint, which runs archive_cleanup_command.
			`CHECKPOINT`,
		); err != nil {
			return err
		}
		if err := standby.expectError(ctx, "25006", `INSERT INTO before_standby VALUES (0)`); err != nil {
			return err
		}
		if err := standby.exec(ctx, `SELECT pg_promote(true, 60)`); err != nil {
			return err
		}
		if err := standby.exec(ctx,
			`INSERT INTO before_standby VALUES (0)`,
			`SELECT timeline_id FROM pg_control_checkpoint()`,
		); err != nil {
			return err
		}
		if err := alterSystem(ctx, standby, resetSettings(settings)); err != nil {
			return err
		}
		return r.reloadAndWait(ctx, standby)
	})
}
