package workload

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Tablespaces and databases of the storage steps.
const (
	spcDir     = prefix + "spc"     // LOCATION in the scratch directory
	spcInPlace = prefix + "inplace" // in pg_tblspc itself
	spcDB      = prefix + "spcdb"
	spcDBCopy  = prefix + "spcdb_copy"
)

// tablespacesStep: tablespaces with a directory of their own (a symlink
// in pg_tblspc) and in place; tables, indexes, temporary files and whole
// databases moved between them; then dropped.
func tablespacesStep() Step {
	return step("tablespaces", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		admin, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := admin.exec(ctx,
			`DROP DATABASE IF EXISTS `+spcDBCopy,
			`DROP DATABASE IF EXISTS `+spcDB,
		); err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		location := filepath.Join(dir, "spc")
		if err := r.mkdir(ctx, location); err != nil {
			return err
		}
		if err := s.exec(ctx,
			`DROP TABLESPACE IF EXISTS `+spcDir,
			`DROP TABLESPACE IF EXISTS `+spcInPlace,
			`CREATE TABLESPACE `+spcDir+` LOCATION `+quoteLiteral(location),
			`SET allow_in_place_tablespaces = on`,
			`CREATE TABLESPACE `+spcInPlace+` LOCATION ''`,
			`RESET allow_in_place_tablespaces`,
			`ALTER TABLESPACE `+spcDir+` SET (random_page_cost = 2, effective_io_concurrency = 4)`,
			`CREATE TABLE t (id int PRIMARY KEY USING INDEX TABLESPACE `+spcInPlace+`, pad text) TABLESPACE `+spcDir,
			`INSERT INTO t SELECT g, repeat('s', 200) FROM generate_series(1, 20000) g`,
			`CREATE INDEX t_pad ON t (pad) TABLESPACE `+spcDir,
			`ALTER TABLE t SET TABLESPACE `+spcInPlace,
			`ALTER INDEX t_pad SET TABLESPACE `+spcInPlace,
			`ALTER TABLE t SET TABLESPACE `+spcDir,
			`REINDEX (TABLESPACE `+spcInPlace+`, VERBOSE) TABLE t`,
			`CREATE MATERIALIZED VIEW mv TABLESPACE `+spcDir+` AS SELECT * FROM t WHERE id < 100`,
			`ALTER TABLE ALL IN TABLESPACE `+spcInPlace+` SET TABLESPACE `+spcDir,
			`VACUUM FULL t`,
			// Temporary files and temporary tables in a tablespace.
			`SET temp_tablespaces = `+spcDir+`, `+spcInPlace,
			`SET work_mem = '64kB'`,
			`SELECT count(*) FROM (SELECT * FROM t ORDER BY md5(pad || id)) s`,
			`CREATE TEMP TABLE tt AS SELECT * FROM t`,
			`DROP TABLE tt`,
			`RESET work_mem`,
			`RESET temp_tablespaces`,
			`SELECT pg_tablespace_size('`+spcDir+`'), pg_tablespace_size('`+spcInPlace+`'), pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = '`+spcDir+`'`,
			`SELECT pg_tablespace_databases(oid) FROM pg_tablespace WHERE spcname LIKE '`+prefix+`%'`,
		); err != nil {
			return err
		}
		// Whole databases: created in a tablespace (copying directories),
		// moved to another one, used as a template.
		if err := admin.exec(ctx,
			`CREATE DATABASE `+spcDB+` TABLESPACE `+spcDir+` STRATEGY FILE_COPY`,
			`ALTER DATABASE `+spcDB+` SET TABLESPACE `+spcInPlace,
			`CREATE DATABASE `+spcDBCopy+` TEMPLATE `+spcDB+` TABLESPACE `+spcDir+` STRATEGY WAL_LOG`,
			`DROP DATABASE `+spcDBCopy,
			`DROP DATABASE `+spcDB,
		); err != nil {
			return err
		}
		return s.exec(ctx,
			`DROP MATERIALIZED VIEW mv`,
			`DROP TABLE t`,
			`ALTER TABLESPACE `+spcDir+` RENAME TO `+spcDir+`_renamed`,
			`DROP TABLESPACE `+spcDir+`_renamed`,
			`DROP TABLESPACE `+spcInPlace,
		)
	})
}

// databasesStep: creating databases both ways (WAL_LOG copies blocks
// through the WAL, FILE_COPY copies files and checkpoints), altering,
// refusing and forcing connections, dropping.
func databasesStep() Step {
	return step("databases", false, func(ctx context.Context, r *runner) error {
		a, b := prefix+"db_wal_log", prefix+"db_file_copy"
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`DROP DATABASE IF EXISTS `+a+` WITH (FORCE)`,
			`DROP DATABASE IF EXISTS `+b+` WITH (FORCE)`,
			`DROP DATABASE IF EXISTS `+a+`_renamed WITH (FORCE)`,
			`CREATE DATABASE `+a+` STRATEGY WAL_LOG`,
			`CREATE DATABASE `+b+` TEMPLATE `+a+` STRATEGY FILE_COPY OID 987654`,
			`ALTER DATABASE `+a+` RENAME TO `+a+`_renamed`,
			`ALTER DATABASE `+a+`_renamed RENAME TO `+a,
			`ALTER DATABASE `+a+` OWNER TO `+roleOwner,
			`ALTER DATABASE `+a+` OWNER TO CURRENT_USER`,
			`ALTER DATABASE `+a+` IS_TEMPLATE true`,
			`ALTER DATABASE `+a+` IS_TEMPLATE false`,
			`COMMENT ON DATABASE `+a+` IS 'workload'`,
			`ALTER DATABASE `+a+` CONNECTION LIMIT 1`,
		); err != nil {
			return err
		}
		first, err := r.connect(ctx, a)
		if err != nil {
			return err
		}
		if err := first.exec(ctx, `CREATE TABLE t AS SELECT generate_series(1, 1000) AS id`); err != nil {
			return err
		}
		// Connection limits are only enforced for non-superusers.
		if err := r.expectConnectFailure(ctx, a, "53300", "user="+roleUser); err != nil {
			return err
		}
		if err := s.exec(ctx, `ALTER DATABASE `+a+` ALLOW_CONNECTIONS false`); err != nil {
			return err
		}
		if err := r.expectConnectFailure(ctx, a, "55000"); err != nil {
			return err
		}
		if err := r.expectConnectFailure(ctx, prefix+"no_such_database", "3D000"); err != nil {
			return err
		}
		if err := r.expectConnectFailure(ctx, "template0", "55000"); err != nil {
			return err
		}
		// Dropping a database someone is connected to: its backends are
		// terminated first.
		pid := first.pid()
		if err := s.exec(ctx,
			`ALTER DATABASE `+a+` ALLOW_CONNECTIONS true`,
			`ALTER DATABASE `+a+` CONNECTION LIMIT -1`,
			`DROP DATABASE `+a+` WITH (FORCE)`,
		); err != nil {
			return err
		}
		if err := r.waitGone(ctx, s, pid); err != nil {
			return err
		}
		return s.exec(ctx, `DROP DATABASE `+b)
	})
}

// expectConnectFailure connects to db and expects the server to refuse
// with SQLSTATE code.
func (r *runner) expectConnectFailure(ctx context.Context, db, code string, params ...string) error {
	dsn := r.t.ConnString(db) + " " + strings.Join(params, " ")
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		conn.Close(ctx)
		return r.errorf("connecting to database %q (%s) succeeded, but the step expects SQLSTATE %s", db, strings.Join(params, " "), code)
	}
	if got := sqlState(err); got != code {
		return r.errorf("connecting to database %q (%s): expected SQLSTATE %s, got: %s", db, strings.Join(params, " "), code, describe(err))
	}
	return nil
}

// largeObjectsStep: large objects through the SQL functions, the server's
// lo_import/lo_export of files, and the client's large object API.
func largeObjectsStep() Step {
	return step("large-objects", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		in, out := quoteLiteral(filepath.Join(dir, "in.bin")), quoteLiteral(filepath.Join(dir, "out.bin"))
		if err := s.exec(ctx,
			`CREATE TABLE docs (name text, lo oid)`,
			`COPY (SELECT repeat(md5(g::text), 100) FROM generate_series(1, 300) g) TO `+in,
			`INSERT INTO docs SELECT 'imported', lo_import(`+in+`)`,
			`INSERT INTO docs SELECT 'created', lo_from_bytea(0, decode(repeat('00ff', 100000), 'hex'))`,
			`SELECT lo_export(lo, `+out+`) FROM docs WHERE name = 'imported'`,
			`SELECT length(pg_read_binary_file(`+out+`))`,
			`SELECT lo_put(lo, 1000, '\x0102') FROM docs WHERE name = 'created'`,
			`SELECT length(lo_get(lo)), length(lo_get(lo, 10, 100)) FROM docs`,
			`BEGIN`,
			`SELECT lo_open(lo, x'60000'::int) FROM docs WHERE name = 'created'`,
			`SELECT lowrite(0, decode(repeat('ab', 50000), 'hex'))`,
			`SELECT lo_lseek64(0, 0, 0), length(loread(0, 5000)), lo_tell64(0)`,
			`SELECT lo_truncate64(0, 500)`,
			`SELECT lo_close(0)`,
			`COMMIT`,
		); err != nil {
			return err
		}
		// Through the client's API (which calls the same functions).
		tx, err := s.conn.Begin(ctx)
		if err != nil {
			return s.fail("BEGIN", err)
		}
		los := tx.LargeObjects()
		oid, err := los.Create(ctx, 0)
		if err != nil {
			return s.fail("lo_create", err)
		}
		obj, err := los.Open(ctx, oid, pgx.LargeObjectModeWrite|pgx.LargeObjectModeRead)
		if err != nil {
			return s.fail("lo_open", err)
		}
		if _, err := obj.Write([]byte(strings.Repeat("large object ", 20000))); err != nil {
			return s.fail("lowrite", err)
		}
		if err := obj.Close(); err != nil {
			return s.fail("lo_close", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return s.fail("COMMIT", err)
		}
		return s.exec(ctx,
			fmt.Sprintf(`ALTER LARGE OBJECT %d OWNER TO %s`, oid, roleOwner),
			fmt.Sprintf(`GRANT SELECT ON LARGE OBJECT %d TO %s`, oid, roleUser),
			fmt.Sprintf(`SELECT lo_unlink(%d)`, oid),
			`SELECT lo_unlink(lo) FROM docs`,
			`DROP TABLE docs`,
		)
	})
}
