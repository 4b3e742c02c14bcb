package workload

import "context"

// clientFilterStep: a session restricts itself with pgseccomp's
// set_client_filter(), then runs a parallel query, whose workers load the
// leader's session and client layers. Loading a filter from inside a
// confined session needs syscalls of its own (seccomp, and libseccomp's),
// which only this path makes; on a server without pgseccomp the step
// skips itself.
func clientFilterStep() Step {
	return step("pgseccomp-client-filter", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		loaded, err := s.bool(ctx, `SELECT current_setting('shared_preload_libraries') ~ 'pgseccomp' AND current_setting('pgseccomp.enabled', true) = 'on'`)
		if err != nil {
			return err
		}
		if !loaded {
			r.skipf("pgseccomp is not loaded")
			return nil
		}
		return s.exec(ctx,
			`CREATE EXTENSION IF NOT EXISTS pgseccomp`,
			`CREATE TABLE cf AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 50000) g`,
			`ANALYZE cf`,
			// Nothing the session does is named: every list inherits the
			// session's own (NULL), so only the loading is new.
			`SELECT set_client_filter(NULL, NULL, NULL, NULL, NULL)`,
			`SELECT count(*) FROM seccomp_filter() WHERE context = 'session'`,
			`SET max_parallel_workers_per_gather = 2`,
			`SET parallel_setup_cost = 0`,
			`SET parallel_tuple_cost = 0`,
			`SET min_parallel_table_scan_size = 0`,
			`SELECT count(*), max(t) FROM cf`,
			`DROP TABLE cf`,
		)
	})
}
