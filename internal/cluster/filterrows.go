package cluster

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// FilterRowsSQL selects every row of seccomp_filter(), the columns in the
// order FilterRows and FilterRowsOfResults read them.
const FilterRowsSQL = "SELECT syscall, syscallnum, filter_action, context FROM seccomp_filter()"

// FilterRows reads the rows of seccomp_filter() in conn's session, those
// the SQL condition where selects ("" for every row, $1... are args),
// ordered by context and syscall.
func FilterRows(ctx context.Context, conn *pgx.Conn, where string, args ...any) ([]policy.Row, error) {
	sql := FilterRowsSQL
	if where != "" {
		sql += " WHERE " + where
	}
	sql += " ORDER BY context, syscall"
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sql, err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (policy.Row, error) {
		var name, filterAction, context string
		var num int32
		if err := r.Scan(&name, &num, &filterAction, &context); err != nil {
			return policy.Row{}, err
		}
		return policy.ParseRow(name, int(num), filterAction, context)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sql, err)
	}
	return got, nil
}

// FilterRowsOfResults reads the rows of FilterRowsSQL sent with the simple
// protocol (as a replication connection must send it), in the order the
// server returned them.
func FilterRowsOfResults(results []*pgconn.Result) ([]policy.Row, error) {
	var out []policy.Row
	for _, r := range results {
		if r.Err != nil {
			return nil, r.Err
		}
		for _, row := range r.Rows {
			if len(row) != 4 {
				return nil, fmt.Errorf("%s: a row of %d columns, want 4", FilterRowsSQL, len(row))
			}
			num, err := strconv.Atoi(string(row[1]))
			if err != nil {
				return nil, fmt.Errorf("%s: syscallnum %q: %v", FilterRowsSQL, row[1], err)
			}
			pr, err := policy.ParseRow(string(row[0]), num, string(row[2]), string(row[3]))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", FilterRowsSQL, err)
			}
			out = append(out, pr)
		}
	}
	return out, nil
}
