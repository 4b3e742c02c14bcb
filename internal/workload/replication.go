package workload

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// Replication slots the steps create (and drop).
const (
	slotStandby     = prefix + "standby"
	slotReceiveWAL  = prefix + "receivewal"
	slotDecoding    = prefix + "decoding"
	slotRecvLogical = prefix + "recvlogical"
	slotSubscriber  = prefix + "subscription"
	publication     = prefix + "pub"
	subscription    = prefix + "sub"
	subscriberDB    = prefix + "subscriber"
)

// requireSenders checks that the server can run n more walsenders; steps
// skip what it cannot do.
func requireSenders(ctx context.Context, r *runner, s *session, n int64) (bool, error) {
	free, err := s.int(ctx, `SELECT current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication)`)
	if err != nil {
		return false, err
	}
	if free < n {
		r.skipf("replication: max_wal_senders leaves %d walsenders free, the step needs %d", free, n)
		return false, nil
	}
	return true, nil
}

// requireLogical checks wal_level = logical.
func requireLogical(ctx context.Context, r *runner, s *session) (bool, error) {
	level, err := s.setting(ctx, "wal_level")
	if err != nil {
		return false, err
	}
	if level != "logical" {
		r.skipf("logical decoding: wal_level is %q, not logical", level)
		return false, nil
	}
	return true, nil
}

// maxBackupBytes bounds the size of a server that is not a throwaway one
// that the base backup steps copy into the scratch directory.
const maxBackupBytes = 2 << 30

// backupAffordable reports whether a base backup of the server fits the
// steps: any throwaway server, another one up to maxBackupBytes.
func backupAffordable(ctx context.Context, r *runner, s *session) (bool, error) {
	if r.t.Throwaway() {
		return true, nil
	}
	size, err := s.int(ctx, `SELECT sum(pg_database_size(oid))::bigint FROM pg_database`)
	if err != nil {
		return false, err
	}
	if size > maxBackupBytes {
		r.skipf("base backups: the databases take %d MB, more than the %d MB a recording copies from a server that is not a throwaway one", size>>20, maxBackupBytes>>20)
		return false, nil
	}
	return true, nil
}

// baseBackupStep takes a base backup with pg_basebackup; the walsender
// does the server's side: a checkpoint, reading every file, and what args
// ask for (compression, a target on the server, throttling).
func baseBackupStep(name string, args ...string) Step {
	return step(name, false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if ok, err := requireSenders(ctx, r, s, 2); err != nil || !ok {
			return err
		}
		if ok, err := backupAffordable(ctx, r, s); err != nil || !ok {
			return err
		}
		full := []string{"--checkpoint=fast", "--no-sync", "--label=" + prefix + name}
		for _, a := range args {
			full = append(full, strings.ReplaceAll(a, "{dir}", dir))
		}
		// Where the backup manifest lands: the backup is complete.
		manifest := filepath.Join(dir, "server", "backup_manifest")
		if !hasTarget(args) {
			full = append(full, "-D", filepath.Join(dir, "backup"))
			manifest = filepath.Join(dir, "backup", "backup_manifest")
		}
		if strings.Contains(strings.Join(args, " "), "target=shell") {
			manifest = filepath.Join(r.t.ScratchDir(), shellBackupSubdir, "backup_manifest")
			cmd, err := s.setting(ctx, "basebackup_to_shell.command")
			if err != nil {
				return err
			}
			if cmd == "" {
				r.skipf("the shell backup target: basebackup_to_shell is not loaded, or basebackup_to_shell.command is empty")
				return nil
			}
			defer r.removeAll(context.WithoutCancel(ctx), filepath.Join(r.t.ScratchDir(), shellBackupSubdir))
		}
		r.mark(BaseBackupEventOf(args))
		defer r.mark("")
		err = r.run(ctx, nil, "pg_basebackup", full...)
		if err != nil && strings.Contains(err.Error(), "workers") {
			// A libzstd built without threads: compress without workers.
			r.skipf("zstd compression with workers: %v", err)
			for i, a := range full {
				full[i] = strings.ReplaceAll(a, ",workers=2", "")
			}
			if rerr := r.removeAll(ctx, filepath.Join(dir, "server")); rerr != nil {
				return rerr
			}
			err = r.run(ctx, nil, "pg_basebackup", full...)
		}
		if err != nil {
			return err
		}
		if err := r.run(ctx, nil, "test", "-s", manifest); err != nil {
			return r.errorf("pg_basebackup %s succeeded but left no backup manifest at %s", strings.Join(full, " "), manifest)
		}
		return nil
	})
}

func hasTarget(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "--target") {
			return true
		}
	}
	return false
}

// standbyStep takes a plain base backup with WAL streamed alongside, checks
// it with pg_verifybackup, then starts it as a hot standby on a port of its
// own, streaming from a physical slot: the primary's walsender serves it
// (the standby itself is not part of the recording, and runs without
// shared_preload_libraries).
func standbyStep() Step {
	return step("base-backup-plain-standby", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := requireSenders(ctx, r, s, 3); err != nil || !ok {
			return err
		}
		if ok, err := backupAffordable(ctx, r, s); err != nil || !ok {
			return err
		}
		if err := s.exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '`+slotStandby+`'`); err != nil {
			return err
		}
		data := filepath.Join(dir, "standby")
		r.mark(BaseBackupEvent)
		err = r.run(ctx, nil, "pg_basebackup", "-D", data, "-Fp", "-X", "stream", "--checkpoint=fast",
			"--no-sync", "-R", "-C", "-S", slotStandby, "--manifest-checksums=SHA256", "--max-rate=512M",
			"--label="+prefix+"standby")
		r.mark("")
		if err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_verifybackup", "--no-parse-wal", data); err != nil {
			return err
		}
		port, err := freePort()
		if err != nil {
			return r.errorf("%v", err)
		}
		socket := filepath.Join(dir, "socket")
		if err := r.mkdir(ctx, socket); err != nil {
			return err
		}
		logFile := filepath.Join(dir, "standby.log")
		opts := strings.Join([]string{
			"-p " + strconv.Itoa(port),
			"-c listen_addresses=''",
			"-c unix_socket_directories='" + socket + "'",
			"-c shared_preload_libraries=''",
			"-c archive_mode=off",
			"-c hot_standby=on",
			"-c hot_standby_feedback=on",
			"-c wal_receiver_status_interval=1",
			"-c cluster_name=" + prefix + "standby",
			"-c logging_collector=off",
		}, " ")
		if err := r.run(ctx, nil, "pg_ctl", "-D", data, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
			return r.withLog(err, logFile)
		}
		defer r.run(context.WithoutCancel(ctx), nil, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		if err := s.exec(ctx,
			`CREATE TABLE replicated (id int PRIMARY KEY, t text)`,
			`INSERT INTO replicated SELECT g, md5(g::text) FROM generate_series(1, 5000) g`,
		); err != nil {
			return err
		}
		lsn, err := s.text(ctx, `SELECT pg_current_wal_lsn()::text`)
		if err != nil {
			return err
		}
		// Wait for the standby to replay it, asking the standby itself.
		standby, err := r.connectElsewhere(ctx, socket, port, "postgres")
		if err != nil {
			return r.withLog(err, logFile)
		}
		defer standby.Close(context.WithoutCancel(ctx))
		if err := r.waitFor(ctx, "the standby to replay up to "+lsn, waitTimeout, func() (bool, error) {
			var done bool
			err := standby.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done)
			return done, err
		}); err != nil {
			return r.withLog(err, logFile)
		}
		if err := s.exec(ctx,
			`SELECT application_name, state, sync_state, replay_lsn FROM pg_stat_replication`,
			`SELECT * FROM pg_stat_wal_receiver`,
			`SELECT slot_name, active, restart_lsn, xmin FROM pg_replication_slots WHERE slot_name = '`+slotStandby+`'`,
			`SELECT pg_switch_wal()`,
		); err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"); err != nil {
			return r.withLog(err, logFile)
		}
		// The walsender goes away with the standby; then the slot can go.
		if err := r.waitFor(ctx, "the standby's slot to become inactive", waitTimeout, func() (bool, error) {
			return s.bool(ctx, `SELECT NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '`+slotStandby+`' AND active)`)
		}); err != nil {
			return err
		}
		return s.exec(ctx, `SELECT pg_drop_replication_slot('`+slotStandby+`')`, `DROP TABLE replicated`)
	})
}

// withLog adds the end of a log file to err.
func (r *runner) withLog(err error, logFile string) error {
	b, rerr := os.ReadFile(logFile)
	if rerr != nil {
		return fmt.Errorf("%w\n(cannot read %s: %v)", err, logFile, rerr)
	}
	return fmt.Errorf("%w\nlast lines of %s:\n%s", err, logFile, lastLines(string(b), outputLines))
}

// connectElsewhere connects, as the target's user, to another server on
// the machine (the standby).
func (r *runner) connectElsewhere(ctx context.Context, socketDir string, port int, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(r.t.ConnString(db))
	if err != nil {
		return nil, r.errorf("parse the target's connection string: %v", err)
	}
	cfg.Host, cfg.Port, cfg.Fallbacks = socketDir, uint16(port), nil
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, r.errorf("connect to the server on port %d: %s", port, describe(err))
	}
	return conn, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free TCP port for the standby: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// receiveWALStep: pg_receivewal streams from a physical slot up to a known
// position, reporting flushes (--synchronous).
func receiveWALStep() Step {
	return step("physical-slot-pg-receivewal", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := requireSenders(ctx, r, s, 1); err != nil || !ok {
			return err
		}
		if err := s.exec(ctx,
			`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '`+slotReceiveWAL+`'`,
			`SELECT pg_create_physical_replication_slot('`+slotReceiveWAL+`', true)`,
			`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 5000) g`,
			`SELECT pg_switch_wal()`,
			`INSERT INTO t VALUES (0, 'after the switch')`,
		); err != nil {
			return err
		}
		// pg_receivewal stops once it has received WAL past --endpos.
		end, err := s.text(ctx, `SELECT (pg_current_wal_flush_lsn() - 1)::text`)
		if err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_receivewal", "-D", dir, "-S", slotReceiveWAL, "--endpos="+end,
			"--no-loop", "--synchronous", "--no-password"); err != nil {
			return err
		}
		return s.exec(ctx,
			`SELECT slot_name, restart_lsn, wal_status, safe_wal_size FROM pg_replication_slots`,
			`SELECT pg_replication_slot_advance('`+slotReceiveWAL+`', pg_current_wal_lsn())`,
			`SELECT pg_copy_physical_replication_slot('`+slotReceiveWAL+`', '`+slotReceiveWAL+`_copy', true)`,
			`SELECT pg_drop_replication_slot('`+slotReceiveWAL+`')`,
		)
	})
}

// logicalDecodingStep: logical decoding through SQL with test_decoding:
// transactions big enough to spill to disk (and to be streamed), TOAST,
// two-phase transactions, messages, catalog rewrites that write mapping
// files, slot advance and copy.
func logicalDecodingStep() Step {
	return step("logical-decoding-sql", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := requireLogical(ctx, r, s); err != nil || !ok {
			return err
		}
		if err := s.exec(ctx,
			`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '`+slotDecoding+`'`,
			`SELECT pg_create_logical_replication_slot('`+slotDecoding+`', 'test_decoding', false, true)`,
			`SET logical_decoding_work_mem = '64kB'`,
			`CREATE TABLE d (id int PRIMARY KEY, t text, big text)`,
			`INSERT INTO d SELECT g, md5(g::text), NULL FROM generate_series(1, 20000) g`,
			`UPDATE d SET t = 'updated' WHERE id % 10 = 0`,
			`DELETE FROM d WHERE id % 10 = 1`,
			`INSERT INTO d VALUES (-1, 'toasted', repeat(md5('x'), 5000))`,
			`SELECT pg_logical_emit_message(true, 'wl', 'transactional message')`,
			`SELECT pg_logical_emit_message(false, 'wl', 'non-transactional message')`,
			`BEGIN`,
			`INSERT INTO d VALUES (-2, 'prepared', NULL)`,
			`PREPARE TRANSACTION '`+prefix+`decoded'`,
			`SELECT count(*) FROM pg_logical_slot_peek_changes('`+slotDecoding+`', NULL, NULL, 'include-xids', '0')`,
			`COMMIT PREPARED '`+prefix+`decoded'`,
			`TRUNCATE d`,
			`SELECT count(*) FROM pg_logical_slot_get_changes('`+slotDecoding+`', NULL, NULL, 'include-xids', '0', 'skip-empty-xacts', '1', 'include-timestamp', '1')`,
			// Streaming of a large transaction instead of spilling it.
			`INSERT INTO d SELECT g, md5(g::text), NULL FROM generate_series(1, 20000) g`,
			`SELECT count(*) FROM pg_logical_slot_get_changes('`+slotDecoding+`', NULL, NULL, 'stream-changes', '1', 'skip-empty-xacts', '1')`,
			// Rewriting a catalog table while a logical slot needs its old
			// rows writes logical mapping files.
			`VACUUM FULL pg_catalog.pg_attrdef`,
			`ALTER TABLE d ADD COLUMN extra int DEFAULT 5`,
			`INSERT INTO d (id, t) VALUES (-3, 'after the catalog rewrite')`,
			`SELECT count(*) FROM pg_logical_slot_get_binary_changes('`+slotDecoding+`', NULL, NULL, 'force-binary', '1')`,
			`SELECT count(*) FROM pg_ls_logicalmapdir()`,
			`SELECT count(*) FROM pg_ls_logicalsnapdir()`,
			`SELECT count(*) FROM pg_ls_replslotdir('`+slotDecoding+`')`,
			`INSERT INTO d (id, t) VALUES (-4, 'skipped by advance')`,
			`SELECT pg_replication_slot_advance('`+slotDecoding+`', pg_current_wal_lsn())`,
			`SELECT pg_copy_logical_replication_slot('`+slotDecoding+`', '`+slotDecoding+`_copy', true)`,
		); err != nil {
			return err
		}
		var spilled, streamed int64
		if err := s.scan(ctx, `SELECT spill_txns, stream_txns FROM pg_stat_replication_slots WHERE slot_name = '`+slotDecoding+`'`, nil, &spilled, &streamed); err != nil {
			return err
		}
		if spilled == 0 || streamed == 0 {
			return r.errorf("slot %s spilled %d and streamed %d transactions; the step needs both to decode large transactions to disk and streamed", slotDecoding, spilled, streamed)
		}
		if err := s.exec(ctx,
			`SELECT pg_stat_reset_replication_slot('`+slotDecoding+`')`,
			`SELECT pg_drop_replication_slot('`+slotDecoding+`')`,
			// Replication origins (what a logical replication subscriber keeps).
			`SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE roname = '`+prefix+`origin'`,
			`SELECT pg_replication_origin_create('`+prefix+`origin')`,
			`SELECT pg_replication_origin_session_setup('`+prefix+`origin')`,
			`BEGIN`,
			`SELECT pg_replication_origin_xact_setup('0/100', now())`,
			`INSERT INTO d (id) VALUES (-5)`,
			`COMMIT`,
			`SELECT pg_replication_origin_session_progress(true)`,
			`SELECT pg_replication_origin_session_reset()`,
			`SELECT pg_replication_origin_advance('`+prefix+`origin', '0/200')`,
			`SELECT * FROM pg_replication_origin_status`,
			`SELECT pg_replication_origin_drop('`+prefix+`origin')`,
			`DROP TABLE d`,
		); err != nil {
			return err
		}
		return nil
	})
}

// recvLogicalStep: logical decoding in a walsender, driven by
// pg_recvlogical, spilling to disk (logical_decoding_work_mem set through
// PGOPTIONS).
func recvLogicalStep() Step {
	return step("logical-decoding-pg-recvlogical", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := requireLogical(ctx, r, s); err != nil || !ok {
			return err
		}
		if ok, err := requireSenders(ctx, r, s, 1); err != nil || !ok {
			return err
		}
		if err := s.exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '`+slotRecvLogical+`'`); err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_recvlogical", "-d", workDB, "--slot="+slotRecvLogical, "--create-slot",
			"--plugin=test_decoding", "--two-phase"); err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE t (id int PRIMARY KEY, v text)`,
			`INSERT INTO t SELECT g, repeat('v', 50) FROM generate_series(1, 10000) g`,
			`UPDATE t SET v = 'u' WHERE id < 100`,
		); err != nil {
			return err
		}
		end, err := s.text(ctx, `SELECT pg_current_wal_lsn()::text`)
		if err != nil {
			return err
		}
		cmd := []string{"-d", workDB, "--slot=" + slotRecvLogical, "--start", "-f", filepath.Join(dir, "changes.txt"),
			"--endpos=" + end, "--no-loop", "-o", "include-xids=0", "-o", "skip-empty-xacts=1", "--fsync-interval=1"}
		if _, err := r.command(ctx, cmdOpts{env: []string{"PGOPTIONS=-c logical_decoding_work_mem=64kB"}}, "pg_recvlogical", cmd...); err != nil {
			return err
		}
		return r.run(ctx, nil, "pg_recvlogical", "-d", workDB, "--slot="+slotRecvLogical, "--drop-slot")
	})
}

// logicalReplicationStep: a publication and a subscription to it in
// another database of the same server: the launcher, apply and tablesync
// workers, the walsenders serving them, streaming of large transactions
// to the subscriber's temporary files, two-phase commit, an apply error
// that disables the subscription, ALTER SUBSCRIPTION ... SKIP.
func logicalReplicationStep() Step {
	return step("logical-replication", false, func(ctx context.Context, r *runner) error {
		pub, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := requireLogical(ctx, r, pub); err != nil || !ok {
			return err
		}
		if ok, err := requireSenders(ctx, r, pub, 4); err != nil || !ok {
			return err
		}
		admin, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if exists, err := admin.bool(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, subscriberDB); err != nil {
			return err
		} else if exists {
			if err := dropSubscriptions(ctx, r, subscriberDB); err != nil {
				return err
			}
		}
		schema := quoteIdent(r.schemaName())
		tables := `CREATE TABLE items (id int PRIMARY KEY, v text, big text);
			CREATE TABLE tags (id int PRIMARY KEY, tag text, secret text);
			CREATE TABLE events (id bigint, at date NOT NULL, kind text) PARTITION BY RANGE (at);
			CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
			ALTER TABLE events REPLICA IDENTITY FULL;
			ALTER TABLE events_2024 REPLICA IDENTITY FULL`
		if err := admin.exec(ctx,
			`DROP DATABASE IF EXISTS `+subscriberDB+` WITH (FORCE)`,
			`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '`+slotSubscriber+`'`,
			`CREATE DATABASE `+subscriberDB,
		); err != nil {
			return err
		}
		if err := pub.exec(ctx,
			tables,
			`INSERT INTO items SELECT g, md5(g::text), NULL FROM generate_series(1, 5000) g`,
			`INSERT INTO tags SELECT g, 'tag' || g, 'secret' FROM generate_series(1, 500) g`,
			`INSERT INTO events SELECT g, '2024-01-01'::date + g % 300, 'k' FROM generate_series(1, 1000) g`,
			`DROP PUBLICATION IF EXISTS `+publication,
			`CREATE PUBLICATION `+publication+` FOR TABLE items, tags (id, tag) WHERE (id > 10), events WITH (publish_via_partition_root = true)`,
			// Created apart from CREATE SUBSCRIPTION, which would wait for
			// itself when publisher and subscriber are the same server.
			`SELECT pg_create_logical_replication_slot('`+slotSubscriber+`', 'pgoutput', false, true)`,
		); err != nil {
			return err
		}
		sub, err := r.connect(ctx, subscriberDB)
		if err != nil {
			return err
		}
		// The walsender decodes with a small logical_decoding_work_mem, so
		// that big transactions are streamed to the subscriber.
		conninfo := r.t.ConnString(workDB) + " application_name=" + prefix + "sub options='-c logical_decoding_work_mem=64kB'"
		if err := sub.exec(ctx,
			`CREATE SCHEMA `+schema,
			`SET search_path = `+schema,
			tables,
			`CREATE SUBSCRIPTION `+subscription+` CONNECTION `+quoteLiteral(conninfo)+` PUBLICATION `+publication+
				` WITH (create_slot = false, slot_name = '`+slotSubscriber+`', streaming = on, binary = true, two_phase = true, disable_on_error = true, synchronous_commit = on)`,
		); err != nil {
			return err
		}
		if err := r.waitFor(ctx, "the subscription's initial table copies", waitTimeout, func() (bool, error) {
			return sub.bool(ctx, `SELECT count(*) = 3 AND bool_and(srsubstate = 'r') FROM pg_subscription_rel`)
		}); err != nil {
			return err
		}
		// Changes, a transaction large enough to be streamed, a two-phase one.
		if err := pub.exec(ctx,
			`UPDATE items SET v = 'updated' WHERE id % 10 = 0`,
			`DELETE FROM items WHERE id % 10 = 1`,
			`INSERT INTO items VALUES (-1, 'toasted', repeat(md5('y'), 3000))`,
			`INSERT INTO items SELECT g, md5(g::text), NULL FROM generate_series(10001, 30000) g`,
			`UPDATE events SET kind = 'moved'`,
			`BEGIN`,
			`INSERT INTO tags VALUES (100001, 'prepared', 'x')`,
			`PREPARE TRANSACTION '`+prefix+`replicated'`,
			`COMMIT PREPARED '`+prefix+`replicated'`,
			`TRUNCATE tags`,
		); err != nil {
			return err
		}
		if err := waitSubscriberCaughtUp(ctx, r, pub, sub, -1000); err != nil {
			return err
		}
		n, err := sub.int(ctx, `SELECT count(*) FROM items`)
		if err != nil {
			return err
		}
		want, err := pub.int(ctx, `SELECT count(*) FROM items`)
		if err != nil {
			return err
		}
		if n != want {
			return r.errorf("the subscriber has %d rows in items, the publisher %d", n, want)
		}
		// An apply error (a duplicate key on the subscriber) disables the
		// subscription; skip the failed transaction and go on.
		if err := sub.exec(ctx, `INSERT INTO items VALUES (-100, 'conflict', NULL)`); err != nil {
			return err
		}
		if err := pub.exec(ctx, `INSERT INTO items VALUES (-100, 'from the publisher', NULL)`); err != nil {
			return err
		}
		if err := r.waitFor(ctx, "the apply error to disable the subscription", waitTimeout, func() (bool, error) {
			return sub.bool(ctx, `SELECT NOT subenabled FROM pg_subscription WHERE subname = '`+subscription+`'`)
		}); err != nil {
			return err
		}
		if err := sub.exec(ctx,
			`SELECT * FROM pg_stat_subscription_stats`,
			`DELETE FROM items WHERE id = -100`,
			`ALTER SUBSCRIPTION `+subscription+` ENABLE`,
		); err != nil {
			return err
		}
		if err := pub.exec(ctx, `INSERT INTO items VALUES (-101, 'after the error', NULL)`); err != nil {
			return err
		}
		if err := waitSubscriberCaughtUp(ctx, r, pub, sub, -1001); err != nil {
			return err
		}
		if err := pub.exec(ctx,
			`ALTER PUBLICATION `+publication+` DROP TABLE events`,
			`ALTER PUBLICATION `+publication+` SET TABLE items, events`,
		); err != nil {
			return err
		}
		if err := sub.exec(ctx,
			`ALTER SUBSCRIPTION `+subscription+` REFRESH PUBLICATION WITH (copy_data = false)`,
			`SELECT * FROM pg_stat_subscription`,
			`ALTER SUBSCRIPTION `+subscription+` DISABLE`,
			`ALTER SUBSCRIPTION `+subscription+` SET (slot_name = NONE)`,
			`DROP SUBSCRIPTION `+subscription,
		); err != nil {
			return err
		}
		if err := r.waitFor(ctx, "the subscription's walsender to exit", waitTimeout, func() (bool, error) {
			return pub.bool(ctx, `SELECT NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '`+slotSubscriber+`' AND active)`)
		}); err != nil {
			return err
		}
		r.release(sub)
		return joinErr(
			pub.exec(ctx, `SELECT pg_drop_replication_slot('`+slotSubscriber+`')`, `DROP PUBLICATION `+publication),
			admin.exec(ctx, `DROP DATABASE `+subscriberDB+` WITH (FORCE)`),
		)
	})
}

// waitSubscriberCaughtUp inserts a marker row on the publisher and waits
// for the subscriber to apply it: everything before it is applied too.
func waitSubscriberCaughtUp(ctx context.Context, r *runner, pub, sub *session, marker int) error {
	if err := pub.execArgs(ctx, `INSERT INTO items VALUES ($1, 'marker', NULL)`, marker); err != nil {
		return err
	}
	return r.waitFor(ctx, fmt.Sprintf("the subscriber to apply marker row %d", marker), waitTimeout, func() (bool, error) {
		return sub.bool(ctx, `SELECT EXISTS (SELECT FROM items WHERE id = $1)`, marker)
	})
}

// replicationProtocolStep: the replication protocol's commands in a
// database walsender (which also runs SQL), an exported snapshot imported
// by another session, and pg_export_snapshot.
func replicationProtocolStep() Step {
	return step("replication-protocol-snapshots", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := requireLogical(ctx, r, s); err != nil || !ok {
			return err
		}
		if ok, err := requireSenders(ctx, r, s, 1); err != nil || !ok {
			return err
		}
		if err := s.exec(ctx, `CREATE TABLE snap (id int)`, `INSERT INTO snap VALUES (1)`); err != nil {
			return err
		}
		repl, err := r.connect(ctx, workDB, "replication=database", "default_query_exec_mode=simple_protocol")
		if err != nil {
			return err
		}
		conn := repl.conn.PgConn()
		ident, err := conn.Exec(ctx, `IDENTIFY_SYSTEM`).ReadAll()
		if err != nil || len(ident) == 0 || len(ident[0].Rows) == 0 {
			return repl.fail("IDENTIFY_SYSTEM", fmt.Errorf("no result row (error: %v)", err))
		}
		// Timeline 1 has no history file; a later one (after a promotion) has.
		timeline := string(ident[0].Rows[0][1])
		var snapshot string
		for _, cmd := range []string{
			`SHOW wal_segment_size`,
			`TIMELINE_HISTORY ` + timeline,
			`CREATE_REPLICATION_SLOT ` + prefix + `protocol_physical TEMPORARY PHYSICAL (RESERVE_WAL)`,
			`READ_REPLICATION_SLOT ` + prefix + `protocol_physical`,
			`SELECT count(*) FROM pg_stat_replication`,
			// The exported snapshot lives until the walsender's next command.
			`CREATE_REPLICATION_SLOT ` + prefix + `protocol TEMPORARY LOGICAL test_decoding (SNAPSHOT 'export')`,
		} {
			results, err := conn.Exec(ctx, cmd).ReadAll()
			if err != nil {
				if strings.HasPrefix(cmd, "TIMELINE_HISTORY") && timeline == "1" && sqlState(err) == "58P01" {
					continue // no history file on timeline 1
				}
				return repl.fail(cmd, err)
			}
			if strings.HasPrefix(cmd, "CREATE_REPLICATION_SLOT") && len(results) > 0 && len(results[0].Rows) > 0 {
				snapshot = string(results[0].Rows[0][2])
			}
		}
		if snapshot == "" {
			return r.errorf("CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export') returned no snapshot name")
		}
		// Import the walsender's snapshot, and a snapshot exported from SQL.
		other, err := r.join(ctx)
		if err != nil {
			return err
		}
		if err := joinErr(
			s.exec(ctx, `INSERT INTO snap VALUES (2)`),
			other.exec(ctx,
				`BEGIN ISOLATION LEVEL REPEATABLE READ`,
				`SET TRANSACTION SNAPSHOT `+quoteLiteral(snapshot),
				`SELECT count(*) FROM snap`,
				`COMMIT`),
			s.exec(ctx, `BEGIN ISOLATION LEVEL REPEATABLE READ`),
		); err != nil {
			return err
		}
		exported, err := s.text(ctx, `SELECT pg_export_snapshot()`)
		if err != nil {
			return err
		}
		if err := other.exec(ctx,
			`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`,
			`SET TRANSACTION SNAPSHOT `+quoteLiteral(exported),
			`SELECT count(*) FROM snap`,
			`COMMIT`,
		); err != nil {
			return err
		}
		if err := s.exec(ctx, `COMMIT`); err != nil {
			return err
		}
		// Ending the walsender's session drops its temporary slot.
		r.release(repl)
		return r.waitFor(ctx, "the temporary slot to go", waitTimeout, func() (bool, error) {
			return s.bool(ctx, `SELECT NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name LIKE '`+prefix+`protocol%')`)
		})
	})
}

// walSummarizerStep: the WAL summarizer of 17 and later (summarize_wal is
// off by default; a DBA turns it on for incremental backups): the process
// reads WAL and writes summaries to pg_wal/summaries, and the walsender
// builds an incremental base backup from them. Skipped before 17.
func walSummarizerStep() Step {
	return step("wal-summarizer-incremental-backup", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		major, err := cluster.ConnMajor(ctx, s.conn)
		if err != nil {
			return err
		}
		if major < 17 {
			r.skipf("the WAL summarizer: PostgreSQL %d has none (17 added it)", major)
			return nil
		}
		if ok, err := requireSenders(ctx, r, s, 2); err != nil || !ok {
			return err
		}
		if ok, err := backupAffordable(ctx, r, s); err != nil || !ok {
			return err
		}
		w, err := r.work(ctx)
		if err != nil {
			return err
		}
		used := [][2]string{{"summarize_wal", ""}}
		defer func() {
			ctx := context.WithoutCancel(ctx)
			if alterSystem(ctx, s, used) == nil {
				r.reloadAndWait(ctx, s)
			}
		}()
		if err := alterSystem(ctx, s, [][2]string{{"summarize_wal", "on"}}); err != nil {
			return err
		}
		if err := r.reloadAndWait(ctx, s); err != nil {
			return err
		}
		full := filepath.Join(dir, "full")
		if err := r.run(ctx, nil, "pg_basebackup", "--checkpoint=fast", "--no-sync", "-X", "fetch", "--label="+prefix+"full", "-D", full); err != nil {
			return err
		}
		if err := w.exec(ctx, `CREATE TABLE ws AS SELECT g FROM generate_series(1, 10000) g`, `SELECT pg_switch_wal()`); err != nil {
			return err
		}
		// The walsender waits for the summarizer to reach the backup's
		// start before it builds the incremental backup.
		if err := r.run(ctx, nil, "pg_basebackup", "--checkpoint=fast", "--no-sync", "-X", "fetch", "--label="+prefix+"incremental",
			"--incremental="+filepath.Join(full, "backup_manifest"), "-D", filepath.Join(dir, "incremental")); err != nil {
			return err
		}
		return s.exec(ctx, `SELECT count(*) FROM pg_available_wal_summaries()`, `SELECT * FROM pg_get_wal_summarizer_state()`)
	})
}
