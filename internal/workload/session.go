package workload

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// session is one connection of a step. Its errors name the step, the
// statement and what the server said.
type session struct {
	step string
	db   string
	conn *pgx.Conn
}

// traceStatement, when set (by tests), sees how long each statement took.
var traceStatement func(step, sql string, d time.Duration)

// statementError is a statement that failed (or did not fail as expected).
type statementError struct {
	step, db, statement string
	err                 error
}

func (e *statementError) Error() string {
	return fmt.Sprintf("workload step %q, database %q: %s: %s", e.step, e.db, abbreviate(e.statement), describe(e.err))
}

func (e *statementError) Unwrap() error { return e.err }

// abbreviate shortens a statement to one line for an error message.
func abbreviate(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	const maxLen = 240
	if len(s) > maxLen {
		s = s[:maxLen] + " …"
	}
	return s
}

// describe renders a server error with everything the server said.
func describe(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	parts := []string{fmt.Sprintf("%s: %s (SQLSTATE %s)", pgErr.Severity, pgErr.Message, pgErr.Code)}
	for _, p := range []struct{ label, text string }{
		{"DETAIL", pgErr.Detail}, {"HINT", pgErr.Hint}, {"CONTEXT", pgErr.Where},
	} {
		if p.text != "" {
			parts = append(parts, p.label+": "+p.text)
		}
	}
	return strings.Join(parts, "; ")
}

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func (s *session) fail(statement string, err error) error {
	return &statementError{step: s.step, db: s.db, statement: statement, err: err}
}

// exec runs each statement in turn (simple protocol, so one string may hold
// several statements) and stops at the first error.
func (s *session) exec(ctx context.Context, statements ...string) error {
	for _, sql := range statements {
		begin := time.Now()
		if _, err := s.conn.Exec(ctx, sql); err != nil {
			return s.fail(sql, err)
		}
		if traceStatement != nil {
			traceStatement(s.step, sql, time.Since(begin))
		}
	}
	return nil
}

// execArgs runs one statement with parameters.
func (s *session) execArgs(ctx context.Context, sql string, args ...any) error {
	if _, err := s.conn.Exec(ctx, sql, args...); err != nil {
		return s.fail(sql, err)
	}
	return nil
}

// expectError runs a statement that must fail with SQLSTATE code: the
// workload drives the server into its error paths on purpose.
func (s *session) expectError(ctx context.Context, code, sql string) error {
	_, err := s.conn.Exec(ctx, sql)
	switch {
	case err == nil:
		return s.fail(sql, fmt.Errorf("succeeded, but the step expects it to fail with SQLSTATE %s", code))
	case sqlState(err) != code:
		return s.fail(sql, fmt.Errorf("expected SQLSTATE %s, got: %s", code, describe(err)))
	}
	return nil
}

// scan runs a query returning one row and scans it into dest.
func (s *session) scan(ctx context.Context, sql string, args []any, dest ...any) error {
	if err := s.conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		return s.fail(sql, err)
	}
	return nil
}

// int returns a one-value integer query's result.
func (s *session) int(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := s.scan(ctx, sql, args, &n)
	return n, err
}

// text returns a one-value text query's result.
func (s *session) text(ctx context.Context, sql string, args ...any) (string, error) {
	var v string
	err := s.scan(ctx, sql, args, &v)
	return v, err
}

// bool returns a one-value boolean query's result.
func (s *session) bool(ctx context.Context, sql string, args ...any) (bool, error) {
	var v bool
	err := s.scan(ctx, sql, args, &v)
	return v, err
}

// drain runs a query and reads (and discards) every row, so that the whole
// result is produced and sent.
func (s *session) drain(ctx context.Context, sql string, args ...any) (rows int64, err error) {
	r, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return 0, s.fail(sql, err)
	}
	for r.Next() {
		rows++
	}
	r.Close()
	if err := r.Err(); err != nil {
		return rows, s.fail(sql, err)
	}
	return rows, nil
}

// column returns the first column of every row as text.
func (s *session) column(ctx context.Context, sql string, args ...any) ([]string, error) {
	r, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.fail(sql, err)
	}
	vals, err := pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail(sql, err)
	}
	return vals, nil
}

// pid is the server process id of the session's backend.
func (s *session) pid() uint32 { return s.conn.PgConn().PID() }

// setting returns current_setting(name), or "" when the server does not
// know the setting.
func (s *session) setting(ctx context.Context, name string) (string, error) {
	return s.text(ctx, "SELECT coalesce(current_setting($1, true), '')", name)
}

func (s *session) close() {
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		s.conn.Close(ctx)
	}
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// quoteLiteral quotes an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// forceParallelSetting is the setting that runs every query in a parallel
// worker: force_parallel_mode up to 15, debug_parallel_query from 16 (no
// alias).
func (s *session) forceParallelSetting(ctx context.Context) (string, error) {
	major, err := cluster.ConnMajor(ctx, s.conn)
	if err != nil {
		return "", fmt.Errorf("workload step %q: %w", s.step, err)
	}
	if major < 16 {
		return "force_parallel_mode", nil
	}
	return "debug_parallel_query", nil
}
