package workload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copyStep: COPY between tables and server files, programs and the client,
// in every format.
func copyStep() Step {
	return step("copy-files", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		f := func(name string) string { return quoteLiteral(filepath.Join(dir, name)) }
		if err := s.exec(ctx,
			`CREATE TABLE src (id int, name text, at timestamptz, data bytea, j jsonb)`,
			`INSERT INTO src SELECT g, 'name ' || g || E'\t"quoted"', now(), decode(md5(g::text), 'hex'), jsonb_build_object('g', g) FROM generate_series(1, 20000) g`,
			`COPY src TO `+f("src.txt"),
			`COPY src TO `+f("src.csv")+` (FORMAT csv, HEADER, FORCE_QUOTE *)`,
			`COPY src TO `+f("src.bin")+` (FORMAT binary)`,
			`COPY (SELECT * FROM src WHERE id % 2 = 0) TO `+f("even.csv")+` (FORMAT csv, DELIMITER ';', NULL 'NULL', ENCODING 'LATIN1')`,
			`CREATE TABLE dst (LIKE src)`,
			`COPY dst FROM `+f("src.txt"),
			`COPY dst FROM `+f("src.csv")+` (FORMAT csv, HEADER MATCH)`,
			`COPY dst FROM `+f("src.bin")+` (FORMAT binary)`,
			`COPY dst (id, name, at, data, j) FROM `+f("even.csv")+` (FORMAT csv, DELIMITER ';', NULL 'NULL', ENCODING 'LATIN1') WHERE id < 1000`,
			// FREEZE needs the table created or truncated in the same transaction.
			`BEGIN`,
			`CREATE TABLE frozen (LIKE src)`,
			`COPY frozen FROM `+f("src.bin")+` (FORMAT binary, FREEZE)`,
			`COMMIT`,
			`BEGIN`,
			`TRUNCATE frozen`,
			`COPY frozen FROM `+f("src.csv")+` (FORMAT csv, HEADER, FREEZE)`,
			`COMMIT`,
			// Not COPY ... PROGRAM: a session that runs programs needs
			// execve, which the recorded session layer is meant to deny.
			// Record with a --workload that does it, if you need it.
			`SELECT count(*) FROM dst`,
		); err != nil {
			return err
		}
		// A file that does not exist: the error path.
		if err := s.expectError(ctx, "58P01", `COPY dst FROM `+f("missing.txt")); err != nil {
			return err
		}
		// COPY through the client (pgx): CopyFrom uses the binary format,
		// CopyTo and a text COPY FROM STDIN go through the raw protocol.
		rows := make([][]any, 5000)
		for i := range rows {
			rows[i] = []any{int32(i), fmt.Sprintf("client %d", i)}
		}
		if _, err := s.conn.CopyFrom(ctx, pgx.Identifier{"dst"}, []string{"id", "name"}, pgx.CopyFromRows(rows)); err != nil {
			return s.fail("COPY dst (id, name) FROM STDIN (FORMAT binary)", err)
		}
		var out bytes.Buffer
		if _, err := s.conn.PgConn().CopyTo(ctx, &out, "COPY dst TO STDOUT (FORMAT csv)"); err != nil {
			return s.fail("COPY dst TO STDOUT", err)
		}
		if _, err := s.conn.PgConn().CopyFrom(ctx, io.MultiReader(strings.NewReader(out.String())), "COPY dst FROM STDIN (FORMAT csv)"); err != nil {
			return s.fail("COPY dst FROM STDIN", err)
		}
		// psql's \copy, and a plain COPY FROM STDIN in a psql script.
		csv := filepath.Join(dir, "client.csv")
		if err := r.run(ctx, nil, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", workDB,
			"-c", `\copy `+r.schemaName()+`.src TO '`+csv+`' (FORMAT csv)`,
			"-c", `\copy `+r.schemaName()+`.dst FROM '`+csv+`' (FORMAT csv)`); err != nil {
			return err
		}
		return s.exec(ctx, `DROP TABLE src, dst, frozen`)
	})
}

// adminFunctionsStep: the functions a DBA uses to look at the server's
// files, sizes and settings from SQL.
func adminFunctionsStep() Step {
	return step("admin-functions", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		file := quoteLiteral(filepath.Join(dir, "note.txt"))
		if err := s.exec(ctx,
			`COPY (SELECT 'a line of text') TO `+file,
			`SELECT pg_read_file(`+file+`), pg_read_binary_file(`+file+`, 0, 4), pg_read_file(`+file+`, 2, 3, true), pg_stat_file(`+file+`)`,
			`SELECT pg_read_file('postgresql.conf', 0, 100), pg_read_binary_file('PG_VERSION'), pg_stat_file('global/pg_control'), pg_stat_file('no_such_file', true)`,
			`SELECT pg_ls_dir('.'), pg_ls_dir('no_such_dir', true, false)`,
			`SELECT count(*) FROM pg_ls_dir('pg_wal')`,
			`SELECT * FROM pg_ls_waldir()`,
			`SELECT * FROM pg_ls_archive_statusdir()`,
			`SELECT * FROM pg_ls_tmpdir()`,
			`SELECT * FROM pg_ls_logicalsnapdir()`,
			`SELECT * FROM pg_ls_logicalmapdir()`,
			`SELECT pg_ls_replslotdir(slot_name) FROM pg_replication_slots`,
			`SELECT pg_current_logfile(), pg_current_logfile('csvlog')`,
			`SELECT pg_database_size(current_database()), pg_database_size('postgres'), pg_tablespace_size('pg_default'), pg_tablespace_size('pg_global')`,
			`SELECT pg_size_pretty(sum(pg_total_relation_size(oid))), sum(pg_relation_size(oid, 'fsm')), sum(pg_indexes_size(oid)), sum(pg_table_size(oid)) FROM pg_class WHERE relkind IN ('r', 'm', 't')`,
			`SELECT pg_relation_filepath('pg_class'), pg_relation_filenode('pg_class'), pg_filenode_relation(0, pg_relation_filenode('pg_class'))`,
			`SELECT * FROM pg_control_checkpoint(), pg_control_system(), pg_control_init(), pg_control_recovery()`,
			`SELECT count(*) FROM pg_file_settings`,
			`SELECT count(*) FROM pg_hba_file_rules`,
			`SELECT count(*) FROM pg_ident_file_mappings`,
			`SELECT count(*) FROM pg_config`,
			`SELECT count(*) FROM pg_settings WHERE pending_restart`,
			`SELECT count(*) FROM pg_shmem_allocations`,
			`SELECT count(*) FROM pg_backend_memory_contexts`,
			`SELECT pg_log_backend_memory_contexts(pg_backend_pid())`,
			`SELECT pg_log_backend_memory_contexts(pid) FROM pg_stat_activity WHERE backend_type IN ('checkpointer', 'walwriter', 'autovacuum launcher')`,
			`SELECT * FROM pg_stat_slru`,
			`SELECT * FROM pg_stat_wal, pg_stat_bgwriter, pg_stat_archiver`,
			`SELECT count(*) FROM pg_stat_activity, pg_locks`,
			`SELECT * FROM pg_stat_database WHERE datname = current_database()`,
			`SELECT * FROM pg_stat_replication_slots`,
			// Resetting statistics would disturb a DBA's monitoring: only the
			// step's own counters are reset.
			`CREATE TABLE counted (id int)`,
			`SELECT pg_stat_force_next_flush(), pg_stat_clear_snapshot(), pg_stat_reset_single_table_counters('counted'::regclass)`,
			`SELECT pg_postmaster_start_time(), pg_conf_load_time(), pg_is_in_recovery(), version(), current_setting('data_directory'), pg_current_xact_id(), pg_snapshot_xmin(pg_current_snapshot())`,
			`SELECT pg_get_wal_replay_pause_state() FROM pg_stat_activity WHERE false`,
			`SELECT txid_current(), txid_status(txid_current()), pg_xact_commit_timestamp(xmin), pg_last_committed_xact() FROM pg_class LIMIT 1`,
			`SELECT pg_get_keywords(), pg_get_catalog_foreign_keys() LIMIT 5`,
			`SELECT pg_notification_queue_usage(), pg_safe_snapshot_blocking_pids(pg_backend_pid()), pg_blocking_pids(pg_backend_pid())`,
			`SELECT pg_sleep(0.01), pg_sleep_for('10 milliseconds'), pg_sleep_until(clock_timestamp() + interval '10 ms')`,
		); err != nil {
			return err
		}
		// adminpack writes, renames and removes server files.
		if ok, err := hasExtension(ctx, s, "adminpack"); err != nil {
			return err
		} else if ok {
			a := func(name string) string { return quoteLiteral(filepath.Join(dir, name)) }
			if err := s.exec(ctx,
				`CREATE EXTENSION IF NOT EXISTS adminpack`,
				`SELECT pg_file_write(`+a("admin.txt")+`, 'written by adminpack', false)`,
				`SELECT pg_file_write(`+a("admin.txt")+`, ', appended', true)`,
				`SELECT pg_file_sync(`+a("admin.txt")+`)`,
				`SELECT pg_file_rename(`+a("admin.txt")+`, `+a("admin2.txt")+`)`,
				`SELECT pg_file_unlink(`+a("admin2.txt")+`)`,
				`DROP EXTENSION adminpack`,
			); err != nil {
				return err
			}
		}
		return nil
	})
}

// configStep: changing the configuration from SQL: SET in its forms,
// ALTER SYSTEM (which rewrites postgresql.auto.conf), reloads, per-role and
// per-database settings.
func configStep() Step {
	return step("settings-alter-system-reload", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		// A placeholder of our own in postgresql.auto.conf, removed again:
		// ALTER SYSTEM rewrites the file even so, and the reload makes every
		// process read the configuration files.
		const marker = "pgseccomp_workload.marker"
		return s.exec(ctx,
			`SET work_mem = '1MB'`,
			`SET LOCAL work_mem = '2MB'`,
			`BEGIN`,
			`SET LOCAL statement_timeout = '1min'`,
			`SELECT set_config('work_mem', '3MB', true), current_setting('work_mem')`,
			`COMMIT`,
			`SHOW ALL`,
			`RESET ALL`,
			`SET search_path = `+quoteIdent(r.schemaName())+`, public`,
			// The placeholder must exist in the session for ALTER SYSTEM to accept it.
			`SET `+marker+` = 'off'`,
			`ALTER SYSTEM SET `+marker+` = 'on'`,
			`SELECT pg_reload_conf()`,
			`SELECT pg_sleep(0.1)`,
			`SELECT count(*) FROM pg_file_settings WHERE name = '`+marker+`'`,
			`ALTER SYSTEM RESET `+marker,
			`SELECT pg_reload_conf()`,
			`ALTER ROLE `+roleUser+` SET work_mem = '8MB'`,
			`ALTER ROLE `+roleUser+` IN DATABASE `+workDB+` SET statement_timeout = '1min'`,
			`ALTER DATABASE `+workDB+` SET random_page_cost = 1.1`,
			`SELECT count(*) FROM pg_db_role_setting`,
			`ALTER ROLE `+roleUser+` RESET ALL`,
			`ALTER ROLE `+roleUser+` IN DATABASE `+workDB+` RESET ALL`,
			`ALTER DATABASE `+workDB+` RESET ALL`,
			// Settings whose assignment does more than store a value.
			`SET log_statement = 'all'`,
			`SET log_min_duration_statement = 0`,
			`SET log_duration = on`,
			`SET log_error_verbosity = verbose`,
			`SET log_parameter_max_length = -1`,
			`SELECT 1`,
			`RESET log_statement`,
			`RESET log_min_duration_statement`,
			`RESET log_duration`,
			`RESET log_error_verbosity`,
			`SET log_statement_stats = on`,
			`SELECT count(*) FROM pg_class`,
			`RESET log_statement_stats`,
			`SET log_parser_stats = on`,
			`SET log_planner_stats = on`,
			`SET log_executor_stats = on`,
			`SELECT count(*) FROM pg_attribute`,
			`RESET log_parser_stats`,
			`RESET log_planner_stats`,
			`RESET log_executor_stats`,
			`SET client_min_messages = debug5`,
			`SET log_min_messages = debug5`,
			`SELECT 1`,
			`RESET client_min_messages`,
			`RESET log_min_messages`,
			`SET trace_notify = on`,
			`SET trace_sort = on`,
			`SELECT count(*) FROM (SELECT * FROM pg_class ORDER BY relname) t`,
			`RESET trace_sort`,
			`RESET trace_notify`,
			`SET session_replication_role = replica`,
			`RESET session_replication_role`,
			`SET default_transaction_isolation = 'repeatable read'`,
			`SELECT 1`,
			`RESET default_transaction_isolation`,
			`SET vacuum_cost_delay = '1ms'`,
			`SET synchronous_commit = off`,
			`RESET ALL`,
		)
	})
}
