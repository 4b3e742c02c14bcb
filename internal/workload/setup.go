package workload

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// Roles the workload creates (and drops in teardown).
const (
	roleUser  = prefix + "user"  // an ordinary login role with a SCRAM password
	roleMD5   = prefix + "md5"   // a login role with an MD5 password
	roleOwner = prefix + "owner" // owns objects, for REASSIGN/DROP OWNED
)

// setupStep makes the workload database and roles, after removing whatever
// an interrupted run left behind.
func setupStep() Step {
	return step("setup", false, func(ctx context.Context, r *runner) error {
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := dropLeftovers(ctx, r, s); err != nil {
			return err
		}
		if err := s.exec(ctx,
			"CREATE DATABASE "+workDB+" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' STRATEGY WAL_LOG",
			"SET password_encryption = 'scram-sha-256'",
			"CREATE ROLE "+roleUser+" LOGIN PASSWORD 'workload-scram'",
			"SET password_encryption = 'md5'",
			"CREATE ROLE "+roleMD5+" LOGIN PASSWORD 'workload-md5'",
			"RESET password_encryption",
			"CREATE ROLE "+roleOwner+" NOLOGIN",
			"GRANT ALL ON DATABASE "+workDB+" TO "+roleUser+", "+roleMD5,
			"ALTER DATABASE "+workDB+" OWNER TO "+roleOwner,
			"ALTER DATABASE "+workDB+" OWNER TO CURRENT_USER",
		); err != nil {
			return err
		}
		w, err := r.connect(ctx, workDB)
		if err != nil {
			return err
		}
		return w.exec(ctx, autovacuumSQL...)
	})
}

// Teardown is the teardown step alone: pgseccomp record runs it when a
// workload fails on a cluster recorded in place, so that nothing the
// steps made stays in it.
func Teardown() Step { return teardownStep() }

// teardownStep removes everything the workload made: databases, roles,
// tablespaces, slots, and the scratch directories the server writes to.
func teardownStep() Step {
	return step("teardown", false, func(ctx context.Context, r *runner) error {
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		if err := dropLeftovers(ctx, r, s); err != nil {
			return err
		}
		for _, sub := range []string{archiveSubdir, shellBackupSubdir} {
			if err := r.removeAll(ctx, filepath.Join(r.t.ScratchDir(), sub)); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropLeftovers drops every object named like the workload's: first what
// keeps a database from being dropped (subscriptions, slots, prepared
// transactions), then databases, tablespaces and roles.
func dropLeftovers(ctx context.Context, r *runner, s *session) error {
	like := prefix + "%"
	dbs, err := s.column(ctx, "SELECT datname::text FROM pg_database WHERE datname = $1 OR datname LIKE $2 ORDER BY 1", workDB, like)
	if err != nil {
		return err
	}
	// Subscriptions live in a database and own a slot elsewhere: detach
	// them from their slots before dropping them.
	for _, db := range dbs {
		if err := dropSubscriptions(ctx, r, db); err != nil {
			return err
		}
	}
	// A prepared transaction is finished in its own database.
	rows, err := s.conn.Query(ctx, "SELECT gid, database::text FROM pg_prepared_xacts WHERE gid LIKE $1", like)
	if err != nil {
		return s.fail("SELECT gid FROM pg_prepared_xacts", err)
	}
	type prepared struct{ gid, db string }
	xacts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[prepared])
	if err != nil {
		return s.fail("SELECT gid FROM pg_prepared_xacts", err)
	}
	for _, x := range xacts {
		ps, err := r.connect(ctx, x.db)
		if err != nil {
			return err
		}
		err = ps.exec(ctx, "ROLLBACK PREPARED "+quoteLiteral(x.gid))
		r.release(ps)
		if err != nil {
			return err
		}
	}
	if err := s.exec(ctx,
		// A slot in use by a walsender (pg_receivewal, a subscription) cannot be dropped.
		`SELECT pg_terminate_backend(active_pid, 10000) FROM pg_replication_slots
		  WHERE slot_name LIKE '`+like+`' AND active_pid IS NOT NULL`,
		`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
		  WHERE slot_name LIKE '`+like+`'`,
	); err != nil {
		return err
	}
	for _, db := range dbs {
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(db)+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	spcs, err := s.column(ctx, "SELECT spcname::text FROM pg_tablespace WHERE spcname LIKE $1", like)
	if err != nil {
		return err
	}
	for _, spc := range spcs {
		if err := s.exec(ctx, "DROP TABLESPACE "+quoteIdent(spc)); err != nil {
			return err
		}
	}
	roles, err := s.column(ctx, "SELECT rolname::text FROM pg_roles WHERE rolname LIKE $1", like)
	if err != nil {
		return err
	}
	for _, role := range roles {
		if err := s.exec(ctx, "DROP OWNED BY "+quoteIdent(role), "DROP ROLE "+quoteIdent(role)); err != nil {
			return err
		}
	}
	return nil
}

// dropSubscriptions drops the subscriptions in database db, leaving their
// slots to be dropped by name.
func dropSubscriptions(ctx context.Context, r *runner, db string) error {
	s, err := r.connect(ctx, db)
	if err != nil {
		return err
	}
	defer r.release(s)
	subs, err := s.column(ctx, "SELECT subname::text FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())")
	if err != nil {
		return err
	}
	for _, sub := range subs {
		q := quoteIdent(sub)
		if err := s.exec(ctx,
			fmt.Sprintf("ALTER SUBSCRIPTION %s DISABLE", q),
			fmt.Sprintf("ALTER SUBSCRIPTION %s SET (slot_name = NONE)", q),
			fmt.Sprintf("DROP SUBSCRIPTION %s", q)); err != nil {
			return err
		}
	}
	return nil
}
