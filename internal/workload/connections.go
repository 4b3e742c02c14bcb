package workload

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Roles of the connections step.
const (
	roleLimited = prefix + "limited" // CONNECTION LIMIT 0
)

// tcpConfig returns the target's connection settings pointed at 127.0.0.1,
// or nil when the server does not listen there.
func tcpConfig(ctx context.Context, r *runner, s *session, db string) (*pgx.ConnConfig, error) {
	listen, err := s.setting(ctx, "listen_addresses")
	if err != nil {
		return nil, err
	}
	if listen != "*" && !containsWord(listen, "127.0.0.1") && !containsWord(listen, "localhost") && !containsWord(listen, "0.0.0.0") {
		r.skipf("TCP connections: listen_addresses is %q", listen)
		return nil, nil
	}
	cfg, err := pgx.ParseConfig(r.t.ConnString(db))
	if err != nil {
		return nil, r.errorf("parse the target's connection string: %v", err)
	}
	cfg.Host, cfg.Fallbacks = "127.0.0.1", nil
	return cfg, nil
}

// containsWord reports whether a comma-separated list contains w.
func containsWord(list, w string) bool {
	for _, f := range strings.Split(list, ",") {
		if strings.TrimSpace(f) == w {
			return true
		}
	}
	return false
}

// connectionsStep: how sessions begin and end: refused logins (after
// authentication, so under the session's filter), bad startup options,
// TCP with keepalive settings, an SSL request the server declines, a
// physical walsender that does nothing, many short and concurrent
// sessions, a client that vanishes without saying goodbye.
func connectionsStep() Step {
	return step("connections-fatal-tcp", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`DROP ROLE IF EXISTS `+roleLimited,
			`CREATE ROLE `+roleLimited+` LOGIN CONNECTION LIMIT 0`,
		); err != nil {
			return err
		}
		for _, tc := range []struct {
			db, code string
			params   []string
		}{
			{workDB, "28000", []string{"user=" + roleOwner}},               // NOLOGIN
			{workDB, "28000", []string{"user=" + prefix + "no_such_role"}}, // unknown role
			{workDB, "53300", []string{"user=" + roleLimited}},             // connection limit
			{workDB, "22023", []string{"options='-c work_mem=much'"}},      // invalid startup option
			{workDB, "55P02", []string{"options='-c shared_buffers=1MB'"}}, // needs a restart
		} {
			if err := r.expectConnectFailure(ctx, tc.db, tc.code, tc.params...); err != nil {
				return err
			}
		}
		// Startup options that work, and a physical walsender.
		for _, params := range [][]string{
			{"options='-c work_mem=8MB -c search_path=public -c statement_timeout=1min'"},
			{"replication=true", "default_query_exec_mode=simple_protocol"},
		} {
			c, err := r.connect(ctx, workDB, params...)
			if err != nil {
				return err
			}
			if _, err := c.conn.PgConn().Exec(ctx, `IDENTIFY_SYSTEM`).ReadAll(); err != nil && params[0] == "replication=true" {
				return c.fail("IDENTIFY_SYSTEM", err)
			}
			r.release(c)
		}
		// TCP, with keepalive settings applied to the socket and read back.
		cfg, err := tcpConfig(ctx, r, s, workDB)
		if err != nil {
			return err
		}
		if cfg != nil {
			for _, sslmode := range []string{"disable", "prefer"} {
				c := cfg.Copy()
				if sslmode == "prefer" {
					// libpq's default: ask for SSL, accept a refusal.
					pc, err := pgx.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=prefer", cfg.Port, quoteDSN(cfg.User), quoteDSN(workDB)))
					if err != nil {
						return r.errorf("%v", err)
					}
					c = pc
				}
				conn, err := pgx.ConnectConfig(ctx, c)
				if code := sqlState(err); code == "28000" || code == "28P01" {
					// A server of a DBA's that wants a password over TCP.
					r.skipf("TCP sessions: the server refuses the connection: %s", describe(err))
					break
				}
				if err != nil {
					return r.errorf("connect over TCP (sslmode=%s): %s", sslmode, describe(err))
				}
				tcp := &session{step: r.step, db: workDB, conn: conn}
				err = tcp.exec(ctx,
					`SET tcp_keepalives_idle = 60`,
					`SET tcp_keepalives_interval = 10`,
					`SET tcp_keepalives_count = 3`,
					`SET tcp_user_timeout = 30000`,
					`SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count'), current_setting('tcp_user_timeout')`,
					`SELECT inet_client_addr(), inet_client_port(), inet_server_addr(), inet_server_port()`,
					`SELECT * FROM pg_stat_ssl WHERE pid = pg_backend_pid()`,
					`SELECT * FROM pg_stat_gssapi WHERE pid = pg_backend_pid()`,
					`SET client_connection_check_interval = '10ms'`,
					`SELECT pg_sleep(0.05)`,
				)
				tcp.close()
				if err != nil {
					return err
				}
			}
		}
		// Many short sessions, some at once, and one that just disappears.
		for i := 0; i < 10; i++ {
			c, err := r.connect(ctx, workDB)
			if err != nil {
				return err
			}
			r.release(c)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := r.connect(ctx, workDB)
				if err != nil {
					errs <- err
					return
				}
				errs <- c.exec(ctx, `SELECT count(*) FROM pg_stat_activity`, `SELECT pg_sleep(0.02)`)
				r.release(c)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return err
			}
		}
		gone, err := r.connect(ctx, workDB)
		if err != nil {
			return err
		}
		pid := gone.pid()
		gone.conn.PgConn().Conn().Close()
		r.release(gone)
		if err := r.waitGone(ctx, s, pid); err != nil {
			return err
		}
		return s.exec(ctx, `DROP ROLE `+roleLimited)
	})
}

// reloadAndWait reloads the configuration and waits until new sessions
// see it (their pg_conf_load_time changes).
func (r *runner) reloadAndWait(ctx context.Context, s *session) error {
	before, err := s.text(ctx, `SELECT pg_conf_load_time()::text`)
	if err != nil {
		return err
	}
	if err := s.exec(ctx, `SELECT pg_reload_conf()`); err != nil {
		return err
	}
	return r.waitFor(ctx, "the server to reload its configuration", waitTimeout, func() (bool, error) {
		c, err := r.connect(ctx, "postgres")
		if err != nil {
			return false, err
		}
		defer r.release(c)
		after, err := c.text(ctx, `SELECT pg_conf_load_time()::text`)
		return after != before, err
	})
}
