package workload

import (
	"context"
	"path/filepath"
)

// Databases of the client tools steps.
const (
	restoreDB = prefix + "restored"
	benchDB   = prefix + "pgbench"
)

// dumpRestoreStep: pg_dump in every format (the directory format with two
// jobs synchronizes their snapshots), pg_restore with two jobs into a new
// database, pg_dumpall of the globals.
func dumpRestoreStep() Step {
	return step("pg-dump-restore", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE dumped (id int PRIMARY KEY, v text, doc jsonb)`,
			`INSERT INTO dumped SELECT g, md5(g::text), jsonb_build_object('g', g) FROM generate_series(1, 20000) g`,
			`CREATE INDEX ON dumped (v)`,
			`CREATE TABLE dumped2 AS SELECT * FROM dumped`,
			`CREATE VIEW dumped_view AS SELECT id FROM dumped`,
			`SELECT lo_from_bytea(0, 'dumped large object')`,
		); err != nil {
			return err
		}
		schema := r.schemaName()
		for _, args := range [][]string{
			{"-Fc", "-Z", "1", "-f", filepath.Join(dir, "dump.custom")},
			{"-Fd", "-j", "2", "-f", filepath.Join(dir, "dump.dir")},
			{"-Fp", "--inserts", "--rows-per-insert=100", "-f", filepath.Join(dir, "dump.sql")},
			{"-Ft", "-f", filepath.Join(dir, "dump.tar")},
		} {
			if err := r.run(ctx, nil, "pg_dump", append(args, "-n", schema, "--blobs", "-d", workDB)...); err != nil {
				return err
			}
		}
		admin, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := admin.exec(ctx,
			`DROP DATABASE IF EXISTS `+restoreDB+` WITH (FORCE)`,
			`CREATE DATABASE `+restoreDB+` TEMPLATE template0`,
		); err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_restore", "-j", "2", "-d", restoreDB, filepath.Join(dir, "dump.dir")); err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_restore", "--clean", "--if-exists", "-d", restoreDB, filepath.Join(dir, "dump.custom")); err != nil {
			return err
		}
		if err := r.run(ctx, nil, "pg_dumpall", "--globals-only", "-f", filepath.Join(dir, "globals.sql")); err != nil {
			return err
		}
		return admin.exec(ctx, `DROP DATABASE `+restoreDB+` WITH (FORCE)`)
	})
}

// pgbenchStep: pgbench's initialization (client-side COPY and server-side
// generation) and short runs: many clients, every query protocol, and a
// new connection for every transaction.
func pgbenchStep() Step {
	return step("pgbench", false, func(ctx context.Context, r *runner) error {
		admin, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := admin.exec(ctx,
			`DROP DATABASE IF EXISTS `+benchDB+` WITH (FORCE)`,
			`CREATE DATABASE `+benchDB,
		); err != nil {
			return err
		}
		for _, args := range [][]string{
			{"-i", "-s", "1", "-q", "--partitions=2", "--foreign-keys"},
			{"-i", "-s", "1", "-q", "-I", "dtGvp"},
			{"-n", "-c", "4", "-j", "2", "-t", "100", "-M", "prepared"},
			{"-n", "-c", "2", "-t", "100", "-M", "extended", "-N"},
			{"-n", "-c", "2", "-t", "50", "-S", "-M", "simple"},
			{"-n", "-c", "2", "-t", "40", "-C", "-S"},
		} {
			if err := r.run(ctx, nil, "pgbench", append(args, benchDB)...); err != nil {
				return err
			}
		}
		return admin.exec(ctx, `DROP DATABASE `+benchDB+` WITH (FORCE)`)
	})
}

// maintenanceToolsStep: the client programs that drive maintenance from
// outside: vacuumdb and reindexdb with parallel jobs, clusterdb, pg_amcheck,
// vacuumlo, pg_isready.
func maintenanceToolsStep() Step {
	return step("maintenance-client-tools", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		schema := r.schemaName()
		if err := s.exec(ctx,
			`CREATE TABLE m1 (id int PRIMARY KEY, v text)`,
			`CREATE TABLE m2 (id int PRIMARY KEY, v text)`,
			`INSERT INTO m1 SELECT g, md5(g::text) FROM generate_series(1, 5000) g`,
			`INSERT INTO m2 SELECT * FROM m1`,
			`CLUSTER m1 USING m1_pkey`,
			`SELECT lo_create(0)`,
		); err != nil {
			return err
		}
		for _, cmd := range [][]string{
			{"vacuumdb", "-j", "2", "--analyze", "-t", schema + ".m1", "-t", schema + ".m2", "-d", workDB},
			{"vacuumdb", "--analyze-in-stages", "-t", schema + ".m1", "-d", workDB},
			{"reindexdb", "-j", "2", "-S", schema, "-d", workDB},
			{"clusterdb", "-t", schema + ".m1", "-d", workDB},
			{"pg_amcheck", "--install-missing", "-j", "2", "--heapallindexed", "-s", schema, "-d", workDB},
			{"vacuumlo", workDB},
			{"pg_isready"},
		} {
			if err := r.run(ctx, nil, cmd[0], cmd[1:]...); err != nil {
				return err
			}
		}
		return s.exec(ctx, `DROP TABLE m1, m2`, `DROP EXTENSION IF EXISTS amcheck`)
	})
}
