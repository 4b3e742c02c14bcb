package workload

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// roleHBA logs in by the password lines of pg_hba.conf that name all
// users, and by lines that name it (a cluster recorded in place gets one
// for each type and password method of its own: cluster.AttachOptions).
const roleHBA = prefix + "hba"

// HBARole is the role the pg-hba-logins step logs in as by password.
const HBARole = roleHBA

// ExercisedMethods are the pg_hba.conf methods hbaLoginsStep logs in with;
// a recording of a cluster whose pg_hba.conf uses any other one (gss,
// sspi, ident, ldap, radius, cert, pam, bsd) takes that method's
// syscalls from the shipped profile.
var ExercisedMethods = map[string]bool{
	"trust": true, "reject": true, "peer": true,
	"scram-sha-256": true, "md5": true, "password": true,
}

// HBARule is one line of pg_hba_file_rules, as the server parsed it.
type HBARule struct {
	Line             int
	Type, Method     string
	address, netmask string
	databases, users []string
}

// hbaLoginsStep: a login by every line of the server's own pg_hba.conf
// that the step can use: local peer as the server's OS user; trust,
// scram-sha-256, md5 and password over the Unix socket or TCP to
// 127.0.0.1 (with SSL required on hostssl lines, refused on hostnossl),
// as a role of its own, or, on a server made for the recording (a copy),
// as the role a line names, given a password there for the login (its
// own is put back afterwards). A line it cannot use
// is named, with why.
func hbaLoginsStep() Step {
	return step("pg-hba-logins", false, func(ctx context.Context, r *runner) error {
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		rules, err := ReadHBARules(ctx, s.conn)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, `DROP ROLE IF EXISTS `+roleHBA, `CREATE ROLE `+roleHBA+` LOGIN PASSWORD 'workload-hba'`); err != nil {
			return err
		}
		base, err := pgx.ParseConfig(r.t.ConnString("postgres"))
		if err != nil {
			return r.errorf("parse the target's connection string: %v", err)
		}
		done := map[string]bool{}
		for _, rule := range rules {
			key := rule.Type + " " + rule.Method
			if done[key] {
				continue
			}
			r.mark(LoginEvent(rule.Type, rule.Method))
			why, err := r.hbaLogin(ctx, s, base, rule)
			r.mark("")
			if err != nil {
				return err
			}
			if why != "" {
				r.skipf("pg_hba.conf line %d (%s %s): %s", rule.Line, rule.Type, rule.Method, why)
				continue
			}
			done[key] = true
		}
		return s.exec(ctx, `DROP ROLE `+roleHBA)
	})
}

// ReadHBARules reads the lines of pg_hba.conf the server accepted.
func ReadHBARules(ctx context.Context, conn *pgx.Conn) ([]HBARule, error) {
	const what = "SELECT FROM pg_hba_file_rules"
	rows, err := conn.Query(ctx, `SELECT line_number, type, auth_method, coalesce(address, ''), coalesce(netmask, ''), coalesce(database, '{}'), coalesce(user_name, '{}')
		FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number`)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var rules []HBARule
	for rows.Next() {
		var h HBARule
		if err := rows.Scan(&h.Line, &h.Type, &h.Method, &h.address, &h.netmask, &h.databases, &h.users); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		rules = append(rules, h)
	}
	return rules, rows.Err()
}

// hbaLogin logs in by one rule; why says why it could not.
func (r *runner) hbaLogin(ctx context.Context, s *session, base *pgx.ConnConfig, rule HBARule) (why string, err error) {
	if !ExercisedMethods[rule.Method] {
		return fmt.Sprintf("method %s cannot be exercised here", rule.Method), nil
	}
	db := "postgres"
	if !slices.Contains(rule.databases, "all") {
		if slices.Contains(rule.databases, "replication") || len(rule.databases) == 0 || strings.HasPrefix(rule.databases[0], "@") {
			return "a replication or file-listed database (base backups log in by replication lines)", nil
		}
		db = rule.databases[0]
		if db == "sameuser" || db == "samerole" || db == "samegroup" {
			return "database " + db, nil
		}
	}
	user, password := roleHBA, "workload-hba"
	if rule.Method == "peer" {
		if rule.Type != "local" {
			return "peer on a TCP line", nil
		}
		// psql as the server's OS user, with no PGUSER: the OS user name.
		return "", r.peerLogin(ctx, db)
	}
	if !slices.Contains(rule.users, "all") && rule.users[0] != roleHBA {
		named := rule.users[0]
		if strings.HasPrefix(named, "+") || strings.HasPrefix(named, "@") {
			return "users given as a group or a file", nil
		}
		if !r.t.Throwaway() {
			return "it names role " + named + ", whose password only a copy may change", nil
		}
		user = named
		// The role's own password (its stored verifier) comes back
		// after the login, so that the user's workloads can log in too.
		var old *string
		if err := s.scan(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1`, []any{named}, &old); err != nil {
			return "", err
		}
		if err := s.exec(ctx, `ALTER ROLE `+quoteIdent(named)+` PASSWORD 'workload-hba'`); err != nil {
			return "", err
		}
		defer func() {
			restore := `ALTER ROLE ` + quoteIdent(named) + ` PASSWORD NULL`
			if old != nil {
				restore = `ALTER ROLE ` + quoteIdent(named) + ` PASSWORD ` + quoteLiteral(*old)
			}
			if rerr := s.exec(ctx, restore); err == nil {
				err = rerr
			}
		}()
	}
	cfg := base.Copy()
	cfg.User, cfg.Database, cfg.Password = user, db, password
	if rule.Type != "local" {
		if !covers127(rule.address, rule.netmask) {
			return "address " + rule.address + " does not cover 127.0.0.1, the only one the recorded server listens on", nil
		}
		tls := map[string]string{"hostssl": "require", "hostnossl": "disable", "host": "prefer", "hostgssenc": "", "hostnogssenc": "prefer"}[rule.Type]
		if tls == "" {
			return "GSSAPI encryption", nil
		}
		dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=%s", base.Port, quoteDSN(user), password, quoteDSN(db), tls)
		if cfg, err = pgx.ParseConfig(dsn); err != nil {
			return "", r.errorf("parse %q: %v", dsn, err)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if rule.Method == "reject" {
		if err == nil {
			conn.Close(ctx)
		}
		return "", nil // refused, as the line says: that path is recorded too
	}
	if err != nil {
		return "a login by it failed (an earlier line matched?): " + describe(err), nil
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SELECT current_user, count(*) FROM pg_class`)
	return "", err
}

// peerLogin runs psql as the server's OS user over the Unix socket.
func (r *runner) peerLogin(ctx context.Context, db string) error {
	cmd := r.t.Command(ctx, "psql", "-X", "-d", db, "-c", "SELECT current_user")
	env := cmd.Env[:0:0]
	for _, kv := range cmd.Env {
		if !strings.HasPrefix(kv, "PGUSER=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return r.errorf("peer login (psql as the server's OS user): %v\n%s", err, lastLines(string(out), outputLines))
	}
	return nil
}

// covers127 reports whether a pg_hba_file_rules address matches 127.0.0.1.
// (netmask "" for a host name or keyword).
func covers127(address, netmask string) bool {
	switch address {
	case "all", "samehost", "samenet", "localhost":
		return true
	}
	ip, mask := net.ParseIP(address).To4(), net.ParseIP(netmask).To4()
	if ip == nil || mask == nil {
		return false
	}
	n := net.IPNet{IP: ip.Mask(net.IPMask(mask)), Mask: net.IPMask(mask)}
	return n.Contains(net.IPv4(127, 0, 0, 1))
}
