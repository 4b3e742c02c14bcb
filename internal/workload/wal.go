package workload

import (
	"context"
	"fmt"
)

// walStep: WAL in volume: new segments created (zero-filled or not),
// segment switches, checkpoints, compressed full-page images, commit
// variants, restore points, a non-exclusive backup, and the archiver
// copying segments with archive_command.
func walStep() Step {
	return step("wal-segments-checkpoints-archiving", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		archiving, err := s.bool(ctx, `SELECT current_setting('archive_mode') <> 'off' AND current_setting('archive_command') <> ''`)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, `CREATE TABLE w (id int, pad text) WITH (autovacuum_enabled = off)`); err != nil {
			return err
		}
		// Segments past the recycled ones are created by whoever writes
		// into them first: this backend (committing) or the WAL writer.
		for _, zero := range []string{"off", "on"} {
			if err := s.exec(ctx, `SET wal_init_zero = `+zero); err != nil {
				return err
			}
			for i := 0; i < 5; i++ {
				if err := s.exec(ctx,
					`INSERT INTO w SELECT g, repeat('w', 100) FROM generate_series(1, 200) g`,
					`SELECT pg_switch_wal()`,
					`INSERT INTO w VALUES (0, 'first in the segment')`,
				); err != nil {
					return err
				}
			}
		}
		if err := s.exec(ctx, `RESET wal_init_zero`, `CHECKPOINT`); err != nil {
			return err
		}
		// Full-page images after a checkpoint, compressed each way.
		for _, method := range []string{"pglz", "lz4", "zstd", "off"} {
			if err := s.exec(ctx,
				`SET wal_compression = `+method,
				`UPDATE w SET id = id + 1 WHERE id % 7 = 0`,
				`CHECKPOINT`,
			); err != nil && sqlState(err) != "22023" { // a method this build lacks
				return err
			}
		}
		if err := s.exec(ctx,
			`RESET wal_compression`,
			// Commit variants: asynchronous commit leaves flushing to the
			// WAL writer; commit_delay sleeps before flushing.
			`SET synchronous_commit = off`,
			`INSERT INTO w SELECT g, 'async' FROM generate_series(1, 1000) g`,
			`SET synchronous_commit = local`,
			`SET commit_delay = 100`,
			`SET commit_siblings = 0`,
			`INSERT INTO w VALUES (1, 'delayed commit')`,
			`RESET commit_delay`,
			`RESET commit_siblings`,
			`RESET synchronous_commit`,
			// One transaction bigger than wal_buffers: the backend writes
			// WAL out itself while inserting.
			`INSERT INTO w SELECT g, repeat('x', 200) FROM generate_series(1, 40000) g`,
			`SELECT pg_create_restore_point('`+prefix+`restore_point')`,
			`SELECT pg_current_wal_lsn(), pg_current_wal_insert_lsn(), pg_current_wal_flush_lsn(), pg_walfile_name(pg_current_wal_lsn()), pg_walfile_name_offset(pg_current_wal_lsn()), pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')`,
			`SELECT count(*) FROM pg_ls_waldir()`,
			`SELECT count(*) FROM pg_ls_archive_statusdir()`,
			`SELECT * FROM pg_stat_wal`,
			// A non-exclusive base backup driven from SQL.
			`SELECT pg_backup_start('`+prefix+`sql_backup', true)`,
			`SELECT pg_read_binary_file('global/pg_control') IS NOT NULL`,
		); err != nil {
			return err
		}
		stop := `SELECT lsn, length(labelfile), length(spcmapfile) FROM pg_backup_stop(` + fmt.Sprint(archiving) + `)`
		if err := s.exec(ctx, stop, `TRUNCATE w`, `CHECKPOINT`); err != nil {
			return err
		}
		if !archiving {
			r.skipf("archiving: archive_mode is off or archive_command is empty")
			return nil
		}
		// The archiver copies the segment we switched away from.
		segment, err := s.text(ctx, `SELECT pg_walfile_name(pg_current_wal_lsn())`)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, `INSERT INTO w VALUES (1, 'x')`, `SELECT pg_switch_wal()`); err != nil {
			return err
		}
		return r.waitFor(ctx, "the archiver to archive segment "+segment, waitTimeout, func() (bool, error) {
			var last string
			var failed int64
			if err := s.scan(ctx, `SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver`, nil, &last, &failed); err != nil {
				return false, err
			}
			return last >= segment, nil
		})
	})
}
