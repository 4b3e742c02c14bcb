package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ConnString returns a keyword/value connection string for the cluster's Unix
// socket: host=SocketDir port=Port user=… dbname=… sslmode=disable. user ""
// means OSUser (the bootstrap superuser); database "" means "postgres".
func (c *Cluster) ConnString(user, database string) string {
	return c.connString(c.SocketDir, user, database)
}

// TCPConnString is ConnString over TCP: host=127.0.0.1 instead of the socket.
func (c *Cluster) TCPConnString(user, database string) string {
	return c.connString("127.0.0.1", user, database)
}

func (c *Cluster) connString(host, user, database string) string {
	if user == "" {
		user = c.Superuser()
	}
	if database == "" {
		database = "postgres"
	}
	return strings.Join([]string{
		"host=" + dsnQuote(host),
		"port=" + strconv.Itoa(c.Port),
		"user=" + dsnQuote(user),
		"dbname=" + dsnQuote(database),
		"sslmode=disable",
	}, " ")
}

// dsnQuote quotes a keyword/value connection string value when it needs it.
func dsnQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r\v\f'\\=") {
		return s
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// Connect opens a pgx connection over the cluster's Unix socket (see
// ConnString for the defaults). The caller closes it. On failure the error
// includes the end of the server log.
func (c *Cluster) Connect(ctx context.Context, user, database string) (*pgx.Conn, error) {
	dsn := c.ConnString(user, database)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %q: %w\n(is the server running? Start it.) last %d lines of %s:\n%s",
			dsn, err, connectErrLogLines, c.LogFile, c.LogTail(connectErrLogLines))
	}
	return conn, nil
}

// Superuser is the role connections use when they name none: OSUser, the
// bootstrap superuser, except in a copy or in place (CopyRole).
func (c *Cluster) Superuser() string {
	if c.superuser != "" {
		return c.superuser
	}
	return c.OSUser
}

// TCPHost is the address the server listens on for TCP connections
// (host and hostssl lines of pg_hba.conf): 127.0.0.1, or "" for a copy
// of an existing cluster, or one recorded in place, that listens on no
// TCP address.
func (c *Cluster) TCPHost() string {
	switch {
	case c.copy != nil && c.copy.listen == "",
		c.inPlace != nil && c.inPlace.listen == "":
		return ""
	}
	return "127.0.0.1"
}

// ServerMajor returns the running server's major version (15, 17, 18, ...);
// see ConnMajor. Tests that meet a difference between majors (a renamed
// setting, a reworded log line) ask it rather than skip.
func (c *Cluster) ServerMajor(ctx context.Context) (int, error) {
	conn, err := c.Connect(ctx, "", "")
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	return ConnMajor(ctx, conn)
}

// ConnMajor returns the major version of the server conn is connected to,
// from server_version_num (170012 is 17). It uses the simple protocol, so
// that it works on a connection whose prepared statements were discarded.
func ConnMajor(ctx context.Context, conn *pgx.Conn) (int, error) {
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int",
		pgx.QueryExecModeSimpleProtocol).Scan(&num); err != nil {
		return 0, fmt.Errorf("cluster: read server_version_num: %w", err)
	}
	return num / 10000, nil
}
