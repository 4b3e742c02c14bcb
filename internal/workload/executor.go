package workload

import (
	"context"
	"encoding/json"
	"fmt"
)

// explainJSON runs EXPLAIN (ANALYZE, FORMAT JSON) of query and returns the
// plan tree.
func explainJSON(ctx context.Context, s *session, query string) (any, error) {
	sql := "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) " + query
	var raw string
	if err := s.scan(ctx, sql, nil, &raw); err != nil {
		return nil, err
	}
	var plan any
	if err := json.Unmarshal([]byte(raw), &plan); err != nil {
		return nil, s.fail(sql, fmt.Errorf("parse the JSON plan: %w", err))
	}
	return plan, nil
}

// planSum adds up a numeric plan property over all nodes (e.g. "Workers
// Launched", "Temp Written Blocks"); jit properties are nested objects and
// are found the same way ("Functions" under "JIT").
func planSum(v any, key string) float64 {
	var sum float64
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if n, ok := child.(float64); ok && k == key {
				sum += n
				continue
			}
			sum += planSum(child, key)
		}
	case []any:
		for _, child := range x {
			sum += planSum(child, key)
		}
	}
	return sum
}

// explainExpect runs query under EXPLAIN ANALYZE and fails unless the plan
// shows at least min of the numeric property key: the proof that the step
// took the code path it is there for.
func (r *runner) explainExpect(ctx context.Context, s *session, query, key string, min float64) error {
	plan, err := explainJSON(ctx, s, query)
	if err != nil {
		return err
	}
	if got := planSum(plan, key); got < min {
		return r.errorf("EXPLAIN ANALYZE %s: %q is %v, the step needs at least %v (is the server short of %s?)",
			abbreviate(query), key, got, min, hintFor(key))
	}
	return nil
}

func hintFor(key string) string {
	switch key {
	case "Workers Launched":
		return "background worker slots: max_worker_processes, max_parallel_workers"
	case "Temp Written Blocks":
		return "nothing: work_mem is set low on purpose"
	}
	return "what the query needs"
}

// spillStep: sorts, hashes, materializations and index builds too big for
// work_mem spill to temporary files; temp_file_limit stops one.
func spillStep() Step {
	return step("sort-hash-spill-temp-files", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t, g % 1000 AS k FROM generate_series(1, 50000) g`,
			`CREATE TABLE big2 AS SELECT * FROM big`,
			`ANALYZE big, big2`,
			`SET work_mem = '64kB'`,
			`SET log_temp_files = 0`,
			`SET max_parallel_workers_per_gather = 0`,
			`SET enable_hashagg = on`,
		); err != nil {
			return err
		}
		for _, q := range []string{
			// external merge sort
			`SELECT * FROM big ORDER BY t`,
			// hash aggregate spilling into batches
			`SELECT t, count(*) FROM big GROUP BY t`,
			// multi-batch hash join
			`SELECT count(*) FROM big a JOIN big2 b USING (t)`,
			// window function over a tuplestore on disk
			`SELECT id, sum(k) OVER (ORDER BY id ROWS BETWEEN 1000 PRECEDING AND CURRENT ROW) FROM big`,
			// materialized CTE read twice
			`WITH m AS MATERIALIZED (SELECT * FROM big) SELECT count(*) FROM m a, (SELECT count(*) FROM m) b`,
		} {
			if err := r.explainExpect(ctx, s, q, "Temp Written Blocks", 1); err != nil {
				return err
			}
		}
		if err := s.exec(ctx,
			`SET enable_hashagg = off`,
			`SELECT k, count(DISTINCT t) FROM big GROUP BY k`,
			`SELECT DISTINCT t FROM big`,
			`SELECT t FROM big EXCEPT SELECT t FROM big2 WHERE id % 2 = 0`,
			`RESET enable_hashagg`,
			`SET enable_hashjoin = off`,
			`SELECT count(*) FROM big a JOIN big2 b USING (t)`,
			`RESET enable_hashjoin`,
			// merge join with materialization, incremental sort
			`CREATE INDEX ON big (k)`,
			`SELECT * FROM big ORDER BY k, t LIMIT 50000`,
			`SELECT * FROM (SELECT * FROM big ORDER BY t) s OFFSET 99990`,
			// a recursive CTE and a set-returning function's tuplestore
			`WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50000) SELECT count(*) FROM r`,
			`CREATE FUNCTION many() RETURNS SETOF big LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT * FROM big; END $$`,
			`SELECT count(*) FROM many()`,
			// a held cursor is materialized at commit
			`BEGIN`,
			`DECLARE held CURSOR WITH HOLD FOR SELECT * FROM big`,
			`COMMIT`,
			`FETCH 10 FROM held`,
			`CLOSE held`,
			// an external sort for an index build, and for CLUSTER
			`SET maintenance_work_mem = '1MB'`,
			`CREATE INDEX big_t ON big (t)`,
			`CLUSTER big USING big_t`,
			`RESET maintenance_work_mem`,
			// a hash index build sorts by hash code
			`CREATE INDEX ON big2 USING hash (t)`,
		); err != nil {
			return err
		}
		// temp_file_limit cuts a query short.
		if err := s.exec(ctx, `SET temp_file_limit = '200kB'`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "53400", `SELECT * FROM big ORDER BY md5(t)`); err != nil {
			return err
		}
		return s.exec(ctx, `RESET temp_file_limit`, `DROP TABLE big, big2 CASCADE`)
	})
}

// memoryStep: allocations big enough for malloc to use mmap, grown with
// mremap and returned with munmap, and big in-memory sorts and hashes.
func memoryStep() Step {
	return step("large-allocations", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		return s.exec(ctx,
			// Grown step by step: realloc of big chunks (mremap once they
			// are mmapped), then allocations past malloc's mmap threshold.
			`SELECT length(string_agg(md5(g::text), '')) FROM generate_series(1, 300000) g`,
			`SELECT cardinality(array_agg(g)) FROM generate_series(1, 1000000) g`,
			`SELECT length(jsonb_agg(g)::text) FROM generate_series(1, 100000) g`,
			`SELECT length(repeat(repeat('x', 1024), 100 * 1024))`,
			`SELECT length(repeat(repeat('yz', 512), 40 * 1024) || repeat(repeat('w', 1024), 30 * 1024))`,
			`SELECT length(decode(repeat(repeat('ab', 512), 16 * 1024), 'hex'))`,
			// In-memory sorts and hashes whose arrays and tables grow large.
			`SET work_mem = '512MB'`,
			`SET hash_mem_multiplier = 4`,
			`SELECT count(*) FROM (SELECT g FROM generate_series(1, 300000) g ORDER BY g % 1000, g DESC) s`,
			`SELECT count(*) FROM generate_series(1, 200000) a JOIN generate_series(1, 200000) b ON a = b`,
			`SELECT count(*) FROM (SELECT g % 150000, count(*) FROM generate_series(1, 300000) g GROUP BY 1) s`,
			`RESET work_mem`,
			`RESET hash_mem_multiplier`,
			`SELECT count(*) FROM pg_backend_memory_contexts`,
		)
	})
}

// tempTablesStep: temporary tables larger than temp_buffers, so the
// backend writes and reads its own local buffers' files.
func tempTablesStep() Step {
	return step("temp-tables", false, func(ctx context.Context, r *runner) error {
		// temp_buffers can only change before the session's first temp table.
		s, err := r.work(ctx, "options='-c temp_buffers=800kB'")
		if err != nil {
			return err
		}
		return s.exec(ctx,
			`CREATE TEMP TABLE tt (id int PRIMARY KEY, pad text)`,
			`INSERT INTO tt SELECT g, repeat('t', 200) FROM generate_series(1, 50000) g`,
			`ANALYZE tt`,
			`SELECT count(*), sum(length(pad)) FROM tt`,
			`UPDATE tt SET pad = 'short' WHERE id % 3 = 0`,
			`VACUUM tt`,
			`CREATE INDEX ON tt (pad)`,
			`SELECT * FROM tt WHERE pad = 'short' LIMIT 10`,
			`TRUNCATE tt`,
			`CREATE TEMP TABLE tt_commit (id int) ON COMMIT DELETE ROWS`,
			`BEGIN`,
			`INSERT INTO tt_commit SELECT generate_series(1, 1000)`,
			`CREATE TEMP TABLE tt_drop ON COMMIT DROP AS SELECT * FROM tt_commit`,
			`COMMIT`,
			`CREATE TEMP SEQUENCE tseq`,
			`CREATE TEMP VIEW tv AS SELECT nextval('tseq')`,
			`SELECT * FROM tv`,
			`DISCARD TEMP`,
		)
	})
}

// jitStep: JIT compilation with LLVM (inlining and optimization too), in
// the backend and in parallel workers.
func jitStep() Step {
	return step("jit", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		// pg_jit_available() is false while jit is off, 19's default: any
		// session may turn it on.
		if err := s.exec(ctx, `SET jit = on`); err != nil {
			return err
		}
		if ok, err := s.bool(ctx, `SELECT pg_jit_available()`); err != nil {
			return err
		} else if !ok {
			r.skipf("JIT: pg_jit_available() is false (no llvmjit, or jit_provider cannot be loaded)")
			return nil
		}
		if err := s.exec(ctx,
			`CREATE TABLE j AS SELECT g AS id, g % 97 AS k, md5(g::text) AS t, g * 1.5 AS f FROM generate_series(1, 50000) g`,
			`ANALYZE j`,
			`SET jit = on`,
			`SET jit_above_cost = 0`,
			`SET jit_inline_above_cost = 0`,
			`SET jit_optimize_above_cost = 0`,
			`SET max_parallel_workers_per_gather = 0`,
		); err != nil {
			return err
		}
		if err := r.explainExpect(ctx, s, `SELECT k, sum(f), avg(id), count(*) FILTER (WHERE t LIKE 'a%') FROM j WHERE id % 3 = 0 GROUP BY k`, "Functions", 1); err != nil {
			return err
		}
		if err := s.exec(ctx,
			`SELECT count(*) FROM j a JOIN j b ON a.id = b.id + 1 WHERE a.k < 50`,
			`SET jit_expressions = off`,
			`SELECT sum(f) FROM j`,
			`RESET jit_expressions`,
			`SET jit_tuple_deforming = off`,
			`SELECT sum(id) FROM j`,
			`RESET jit_tuple_deforming`,
			// Parallel workers compile their part of the plan too.
			`SET max_parallel_workers_per_gather = 2`,
			`SET parallel_setup_cost = 0`,
			`SET parallel_tuple_cost = 0`,
			`SET min_parallel_table_scan_size = 0`,
		); err != nil {
			return err
		}
		if err := r.explainExpect(ctx, s, `SELECT k, sum(f) FROM j GROUP BY k`, "Workers Launched", 1); err != nil {
			return err
		}
		return s.exec(ctx, `DROP TABLE j`)
	})
}

// parallelStep: every kind of parallel plan, parallel index builds and
// parallel vacuum; parallel hash joins share temporary files.
func parallelStep() Step {
	return step("parallel-query", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE p AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS t FROM generate_series(1, 100000) g`,
			`CREATE TABLE q AS SELECT g AS id, md5((g * 7)::text) AS t FROM generate_series(1, 50000) g`,
			`CREATE TABLE parts (id int, k int) PARTITION BY HASH (id)`,
			`CREATE TABLE parts_0 PARTITION OF parts FOR VALUES WITH (MODULUS 2, REMAINDER 0)`,
			`CREATE TABLE parts_1 PARTITION OF parts FOR VALUES WITH (MODULUS 2, REMAINDER 1)`,
			`INSERT INTO parts SELECT g, g % 10 FROM generate_series(1, 20000) g`,
			`ANALYZE p, q, parts`,
			`SET jit = off`,
			`SET max_parallel_workers_per_gather = 2`,
			`SET parallel_setup_cost = 0`,
			`SET parallel_tuple_cost = 0`,
			`SET min_parallel_table_scan_size = 0`,
			`SET min_parallel_index_scan_size = 0`,
		); err != nil {
			return err
		}
		// Parallel index build (workers sort and spill to a shared fileset).
		if err := s.exec(ctx,
			`SET maintenance_work_mem = '1MB'`,
			`SET max_parallel_maintenance_workers = 2`,
			`CREATE INDEX p_t ON p (t)`,
			`CREATE INDEX p_k ON p (k)`,
			`CREATE INDEX q_t ON q (t)`,
			`RESET maintenance_work_mem`,
		); err != nil {
			return err
		}
		for _, q := range []string{
			`SELECT count(*) FROM p WHERE t LIKE '%ab%'`,                  // parallel seq scan
			`SELECT k, count(*), avg(id) FROM p GROUP BY k`,               // partial aggregate
			`SELECT * FROM p WHERE k < 10 ORDER BY t`,                     // gather merge
			`SELECT sum(k) FROM parts`,                                    // parallel append
			`SELECT count(*) FROM p WHERE k = 5 OR k = 7 OR id < 100`,     // parallel bitmap heap scan
			`SELECT count(*) FROM p WHERE t > 'f'`,                        // parallel index (only) scan
			`SELECT count(*) FROM p JOIN q USING (t)`,                     // parallel hash join
			`SELECT count(*) FROM p WHERE id IN (SELECT id * 2 FROM q)`,   // parallel semi join
			`SELECT string_agg(t, ',') FROM (SELECT t FROM p LIMIT 10) s`, // limit under gather
		} {
			if err := r.explainExpect(ctx, s, q, "Workers Launched", 1); err != nil {
				return err
			}
		}
		// A parallel hash join that spills: batches in shared temp files.
		if err := s.exec(ctx, `SET work_mem = '128kB'`, `SET enable_parallel_hash = on`); err != nil {
			return err
		}
		if err := r.explainExpect(ctx, s, `SELECT count(*) FROM p a JOIN q b USING (t)`, "Temp Written Blocks", 1); err != nil {
			return err
		}
		forceParallel, err := s.forceParallelSetting(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`SELECT count(*) FROM p a JOIN q b USING (t)`,
			`RESET work_mem`,
			// Parallel query inside a serializable transaction, with a cursor
			// (no parallelism) and without leader participation.
			`BEGIN ISOLATION LEVEL SERIALIZABLE`,
			`SELECT count(*) FROM p WHERE k = 3`,
			`COMMIT`,
			`SET parallel_leader_participation = off`,
			`SELECT count(*) FROM p`,
			`RESET parallel_leader_participation`,
			// Every query in a parallel worker.
			`SET `+forceParallel+` = on`,
			`SELECT count(*) FROM q WHERE id < 10`,
			`SELECT now(), current_setting('work_mem'), pg_backend_pid()`,
			`SET `+forceParallel+` = regress`,
			`SELECT t FROM q WHERE id = 5`,
			`RESET `+forceParallel,
			// CREATE TABLE AS and matviews use parallel plans for their query.
			`CREATE TABLE pc AS SELECT k, count(*) FROM p GROUP BY k`,
			`CREATE MATERIALIZED VIEW pm AS SELECT k, max(t) FROM p GROUP BY k`,
			`REFRESH MATERIALIZED VIEW pm`,
			// Parallel vacuum: each index vacuumed by a worker.
			`DELETE FROM p WHERE id % 3 = 0`,
			`VACUUM (PARALLEL 2, VERBOSE) p`,
			`DROP TABLE p, q, parts, pc CASCADE`,
		); err != nil {
			return err
		}
		return nil
	})
}

// prefetchStep: reads that announce themselves to the kernel
// (posix_fadvise) and writes pushed out early (sync_file_range): bitmap
// heap scans with effective_io_concurrency, ANALYZE with
// maintenance_io_concurrency, pg_prewarm, and backend_flush_after.
func prefetchStep() Step {
	return step("prefetch-writeback-io", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE io (id int, k int, pad text) WITH (autovacuum_enabled = off)`,
			`INSERT INTO io SELECT g, g % 500, repeat('p', 100) FROM generate_series(1, 50000) g`,
			`CREATE INDEX io_k ON io (k)`,
			// VACUUM FULL writes the new files past shared buffers, so the
			// next reads miss the buffer pool and are prefetched.
			`VACUUM FULL io`,
			`SET effective_io_concurrency = 32`,
			`SET maintenance_io_concurrency = 32`,
			`ANALYZE io`,
			`SET enable_seqscan = off`,
			`SET enable_indexscan = off`,
			`SELECT count(*), sum(length(pad)) FROM io WHERE k IN (1, 50, 100, 150, 200, 250, 300, 350, 400, 450)`,
			`RESET enable_seqscan`,
			`RESET enable_indexscan`,
		); err != nil {
			return err
		}
		if ok, err := hasExtension(ctx, s, "pg_prewarm"); err != nil {
			return err
		} else if ok {
			if err := s.exec(ctx,
				`CREATE EXTENSION IF NOT EXISTS pg_prewarm`,
				`SELECT pg_prewarm('io', 'prefetch')`,
				`SELECT pg_prewarm('io', 'read')`,
				`SELECT pg_prewarm('io', 'buffer')`,
				`SELECT pg_prewarm('io_k', 'buffer', 'main', 0, 5)`,
			); err != nil {
				return err
			}
			// With pg_prewarm preloaded, the autoprewarm worker runs; dump
			// its block list now.
			preloaded, err := s.bool(ctx, `SELECT current_setting('shared_preload_libraries') ~ 'pg_prewarm'`)
			if err != nil {
				return err
			}
			if preloaded {
				if err := s.exec(ctx, `SELECT autoprewarm_dump_now()`); err != nil {
					return err
				}
			}
			if err := s.exec(ctx, `DROP EXTENSION pg_prewarm`); err != nil {
				return err
			}
		}
		// Bulk writes go through a small ring of buffers that the backend
		// writes itself; backend_flush_after makes it ask the kernel to
		// start writing back early.
		return s.exec(ctx,
			`SET backend_flush_after = '64kB'`,
			`UPDATE io SET pad = repeat('q', 100)`,
			`VACUUM io`,
			`CREATE TABLE io_copy (LIKE io)`,
			`INSERT INTO io_copy SELECT * FROM io`,
			`COPY (SELECT * FROM io) TO '/dev/null'`,
			`CREATE TABLE io_ctas AS SELECT * FROM io, generate_series(1, 2)`,
			`RESET backend_flush_after`,
			`DROP TABLE io, io_copy, io_ctas`,
		)
	})
}
