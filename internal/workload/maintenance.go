package workload

import (
	"context"
	"time"
)

// vacuumStep: VACUUM in its forms (including the truncation of a table's
// empty tail and a throttled one that sleeps), ANALYZE, and VACUUM FULL.
func vacuumStep() Step {
	return step("vacuum-analyze", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		return s.exec(ctx,
			`CREATE TABLE v (id int PRIMARY KEY, k int, pad text) WITH (autovacuum_enabled = off)`,
			`INSERT INTO v SELECT g, g % 100, repeat('v', 300) FROM generate_series(1, 30000) g`,
			`CREATE INDEX ON v (k)`,
			`CREATE INDEX ON v USING brin (id)`,
			`DELETE FROM v WHERE id > 15000`,
			`UPDATE v SET k = k + 1 WHERE id % 10 = 0`,
			`VACUUM (VERBOSE, ANALYZE) v`,
			`SELECT pg_relation_size('v')`,
			`DELETE FROM v WHERE id % 2 = 0`,
			`VACUUM (FREEZE, DISABLE_PAGE_SKIPPING, INDEX_CLEANUP on) v`,
			`VACUUM (INDEX_CLEANUP off, TRUNCATE off, PROCESS_TOAST off) v`,
			`VACUUM (SKIP_LOCKED) v, pg_class`,
			// Cost-based delay: the backend sleeps between rounds of work.
			`SET vacuum_cost_delay = '1ms'`,
			`SET vacuum_cost_limit = 200`,
			`UPDATE v SET pad = 'x'`,
			`VACUUM v`,
			`RESET vacuum_cost_delay`,
			`RESET vacuum_cost_limit`,
			`VACUUM FULL VERBOSE v`,
			`ANALYZE VERBOSE v`,
			`ANALYZE v (k)`,
			`VACUUM pg_catalog.pg_class`,
			`VACUUM FULL pg_catalog.pg_statistic`,
			`ANALYZE`,
			`SELECT relname, n_dead_tup, last_vacuum, vacuum_count FROM pg_stat_user_tables WHERE relname = 'v'`,
			`DROP TABLE v`,
		)
	})
}

// indexStep: every index access method, concurrent builds, GIN's pending
// list, BRIN summarization, CLUSTER and REINDEX in their forms.
func indexStep() Step {
	return step("indexes-cluster-reindex", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		return s.exec(ctx,
			`CREATE TABLE ix (id int, k int, t text, arr int[], pt point, rng int4range, ts tsvector, at timestamptz)`,
			`INSERT INTO ix SELECT g, g % 100, md5(g::text), ARRAY[g % 10, g % 7], point(g % 100, g / 100), int4range(g, g + 10),
			        to_tsvector('simple', 'word' || (g % 50)), '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 10000) g`,
			`CREATE INDEX ix_btree ON ix (k, id) INCLUDE (t)`,
			`CREATE UNIQUE INDEX ix_unique ON ix (id)`,
			`CREATE INDEX ix_partial ON ix (t) WHERE k = 1`,
			`CREATE INDEX ix_expr ON ix (lower(t))`,
			`CREATE INDEX ix_hash ON ix USING hash (t)`,
			`CREATE INDEX ix_gin ON ix USING gin (arr) WITH (fastupdate = on, gin_pending_list_limit = 64)`,
			`CREATE INDEX ix_gin_ts ON ix USING gin (ts)`,
			`CREATE INDEX ix_gist ON ix USING gist (pt)`,
			`CREATE INDEX ix_gist_rng ON ix USING gist (rng)`,
			`CREATE INDEX ix_spgist ON ix USING spgist (pt)`,
			`CREATE INDEX ix_spgist_t ON ix USING spgist (t)`,
			`CREATE INDEX ix_brin ON ix USING brin (at) WITH (pages_per_range = 4, autosummarize = on)`,
			`CREATE INDEX ix_brin_multi ON ix USING brin (id int4_minmax_multi_ops)`,
			`CREATE INDEX ix_brin_bloom ON ix USING brin (t text_bloom_ops)`,
			`CREATE INDEX CONCURRENTLY ix_conc ON ix (at)`,
			// Inserts go to the GIN pending list, then are cleaned up.
			`INSERT INTO ix (id, arr, at) SELECT g, ARRAY[g], '2025-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(10001, 11000) g`,
			`SELECT gin_clean_pending_list('ix_gin')`,
			`SELECT brin_summarize_new_values('ix_brin')`,
			`SELECT brin_summarize_range('ix_brin', 0)`,
			`SELECT brin_desummarize_range('ix_brin', 0)`,
			`ANALYZE ix`,
			`SET enable_seqscan = off`,
			`SELECT count(*) FROM ix WHERE k = 5 AND id > 100`,
			`SELECT count(*) FROM ix WHERE t = md5('77')`,
			`SELECT count(*) FROM ix WHERE arr @> ARRAY[3]`,
			`SELECT count(*) FROM ix WHERE ts @@ 'word7'`,
			`SELECT id FROM ix ORDER BY pt <-> point(50, 50) LIMIT 5`,
			`SELECT count(*) FROM ix WHERE rng && int4range(100, 200)`,
			`SELECT count(*) FROM ix WHERE pt <@ box '(0,0),(10,10)'`,
			`SELECT count(*) FROM ix WHERE t LIKE 'ab%'`,
			`SELECT count(*) FROM ix WHERE at BETWEEN '2024-01-02' AND '2024-01-03'`,
			`SELECT count(*) FROM ix WHERE lower(t) = md5('5')`,
			`RESET enable_seqscan`,
			`DELETE FROM ix WHERE id % 4 = 0`,
			`VACUUM ix`,
			`CLUSTER ix USING ix_btree`,
			`CLUSTER VERBOSE ix`,
			`REINDEX INDEX ix_btree`,
			`REINDEX TABLE ix`,
			`REINDEX (VERBOSE) TABLE CONCURRENTLY ix`,
			`REINDEX INDEX CONCURRENTLY ix_gin`,
			// REINDEX DATABASE and SYSTEM run the same loop over every table
			// of the database (system catalogs included), at a high cost.
			`REINDEX SCHEMA `+quoteIdent(r.schemaName()),
			`ALTER INDEX ix_btree SET (fillfactor = 70)`,
			`ALTER INDEX ix_btree RENAME TO ix_btree2`,
			`DROP INDEX CONCURRENTLY ix_conc`,
			`DROP TABLE ix`,
		)
	})
}

// maxNaptimeWait is the longest autovacuum_naptime, in seconds, for which
// the autovacuum step waits for the workers.
const maxNaptimeWait = 10

// autovacuumTable is made by the setup step, with dead rows for the
// autovacuum workers to find while the other steps run.
const autovacuumTable = "wl_autovacuum.churn"

// autovacuumSQL makes autovacuumTable.
var autovacuumSQL = []string{
	`DROP SCHEMA IF EXISTS wl_autovacuum CASCADE`,
	`CREATE SCHEMA wl_autovacuum`,
	`CREATE TABLE ` + autovacuumTable + ` (id int PRIMARY KEY, v text) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 100, autovacuum_vacuum_cost_delay = 1)`,
	`INSERT INTO ` + autovacuumTable + ` SELECT g, repeat('a', 100) FROM generate_series(1, 20000) g`,
	`DELETE FROM ` + autovacuumTable + ` WHERE id > 5000`,
	`UPDATE ` + autovacuumTable + ` SET v = 'b' WHERE id % 2 = 0`,
}

// autovacuumStep checks that autovacuum workers vacuumed (with cost-based
// sleeps and the truncation of the table's empty end) and analyzed the
// table the setup step left them, waiting for them if needed.
func autovacuumStep() Step {
	return step("autovacuum-workers", false, func(ctx context.Context, r *runner) error {
		s, err := r.connect(ctx, workDB)
		if err != nil {
			return err
		}
		on, err := s.bool(ctx, `SELECT current_setting('autovacuum')::bool AND current_setting('track_counts')::bool`)
		if err != nil {
			return err
		}
		if !on {
			r.skipf("autovacuum: autovacuum or track_counts is off")
			return nil
		}
		exists, err := s.bool(ctx, `SELECT to_regclass($1) IS NOT NULL`, autovacuumTable)
		if err != nil {
			return err
		}
		if !exists {
			r.skipf("autovacuum: %s is missing (the setup step did not run)", autovacuumTable)
			return nil
		}
		naptime, err := s.int(ctx, `SELECT setting::int FROM pg_settings WHERE name = 'autovacuum_naptime'`)
		if err != nil {
			return err
		}
		done := `SELECT autovacuum_count > 0 AND autoanalyze_count > 0 FROM pg_stat_user_tables WHERE relid = $1::regclass`
		if naptime > maxNaptimeWait {
			// Waiting for a slow autovacuum would stall the recording.
			if ok, err := s.bool(ctx, done, autovacuumTable); err != nil || ok {
				return err
			}
			r.skipf("waiting for autovacuum: autovacuum_naptime is %ds (the step waits when it is at most %ds)", naptime, maxNaptimeWait)
			return nil
		}
		return r.waitFor(ctx, "autovacuum to vacuum and analyze "+autovacuumTable, time.Duration(3*naptime)*time.Second+waitTimeout, func() (bool, error) {
			return s.bool(ctx, done, autovacuumTable)
		})
	})
}
