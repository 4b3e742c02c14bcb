package extension

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// tamperSettings: every session is denied readlink, except those of the
// bootstrap superuser and of role free; joe's own list also denies chroot,
// so that joe's rows differ from the session-level ones.
func tamperSettings(superuser string) map[string]string {
	return map[string]string{
		"pgseccomp.session_roles":            "joe,free," + superuser,
		"pgseccomp.session_syscall_error":    readlinkSyscall(),
		"session_syscall_error.joe":          readlinkSyscall() + ",chroot",
		"session_syscall_error.free":         "",
		"session_syscall_error." + superuser: "",
	}
}

// TestNothingUserControlledChangesFilter: the session filter is fixed when
// the client authenticates; nothing a user can send or set afterwards
// changes it. Each attempt is a subtest; after it, the session's
// seccomp_filter() rows are the ones its role got at login, the kernel
// still denies (or allows) readlink as they say, and /proc shows no filter
// added or removed.
//
// Outcomes measured on PostgreSQL 15 (each asserted below):
//   - startup option -c pgseccomp.session_syscall_allow=..., -c
//     pgseccomp.session_syscall_default=allow, a startup parameter
//     pgseccomp.session_syscall_error: connection refused, FATAL "parameter
//     ... cannot be changed now" (the session settings are reload-only).
//   - startup option -c pgseccomp.enabled=off: connection refused, FATAL
//     "parameter ... cannot be changed without restarting the server".
//   - startup option -c session_syscall_error.joe= (a per-role setting):
//     accepted as a placeholder that nothing reads; filter unchanged.
//   - ALTER ROLE joe SET / ALTER DATABASE SET of a pgseccomp.* session
//     setting, even by a superuser: ERROR "cannot be changed now"; of
//     pgseccomp.enabled: ERROR "cannot be changed without restarting".
//   - ALTER ROLE joe SET / ALTER DATABASE SET session_syscall_error.joe =
//     ”: stored; joe's sessions show the placeholder as ”, filter
//     unchanged.
//   - SET ROLE (joe to free, a role with no restrictions; superuser to joe)
//     and SET SESSION AUTHORIZATION (superuser to joe): the filter stays the
//     authenticated role's. joe may not SET ROLE to the superuser, nor SET
//     SESSION AUTHORIZATION to anyone: ERROR "permission denied".
//   - SET / SET LOCAL / set_config() of pgseccomp.session_syscall_error:
//     ERROR "cannot be changed now"; of session_syscall_error.joe: accepted,
//     filter unchanged. RESET ALL, DISCARD ALL: filter unchanged.
//   - a second set_client_filter(): ERROR "the client filter of this
//     session is already loaded"; the first client filter stays.
//   - seccomp_filter() and set_client_filter() without a grant: ERROR
//     "permission denied for function".
//   - ALTER SYSTEM by a superuser, then a reload: new sessions get the new
//     filter, an open session keeps its own (a superuser can change the
//     configuration; SECURITY.md says so).
func TestNothingUserControlledChangesFilter(t *testing.T) {
	c := newCluster(t, nil)
	restoreReload(t, c, tamperSettings(c.OSUser))
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	createRole(t, admin, "joe")
	mustExec(t, admin, "CREATE ROLE free NOLOGIN")
	mustExec(t, admin, "GRANT EXECUTE ON FUNCTION seccomp_filter() TO free")
	mustExec(t, admin, "GRANT free TO joe")
	mustExec(t, admin, "GRANT EXECUTE ON FUNCTION set_client_filter(text,text,text,text,text) TO joe")
	mustExec(t, admin, "CREATE ROLE nogrant LOGIN")
	createTablespace(t, c, admin, "regress_tamper")
	readlink := readlinkProbe("regress_tamper")
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	globalFilters := seccompFilters(t, postmaster)

	// What each role gets at login.
	joeRows := filterRows(t, connect(t, c, "joe"), "")
	superRows := filterRows(t, admin, "")
	if a := effectiveAction(joeRows, readlinkSyscall(), "session"); a != "session->error" {
		t.Fatalf("joe's %s: %q, want session->error", readlinkSyscall(), a)
	}
	if a := effectiveAction(superRows, readlinkSyscall(), "session"); a != "session->allow" {
		t.Fatalf("the superuser's %s: %q, want session->allow", readlinkSyscall(), a)
	}

	// unchanged checks that conn's session still has the filter want (the
	// rows its role got at login), that readlink is denied iff want says
	// so, and that its backend has the postmaster's filters plus filters.
	unchanged := func(t *testing.T, conn *pgx.Conn, want []policy.Row, filters int) {
		t.Helper()
		got := filterRows(t, conn, "")
		if !slices.Equal(got, want) {
			t.Errorf("seccomp_filter() changed:\ngot  %v\nwant %v", got, want)
		}
		if n := seccompFilters(t, int(conn.PgConn().PID())); n != globalFilters+filters {
			t.Errorf("backend has %d seccomp filters, want %d", n, globalFilters+filters)
		}
		// last: a denied readlink aborts an open transaction
		checkProbe(t, conn, want, readlink)
	}
	joe := func(t *testing.T) *pgx.Conn { return connect(t, c, "joe") }
	// fails runs sql and checks that it fails with want.
	fails := func(t *testing.T, conn *pgx.Conn, sql, want string) {
		t.Helper()
		_, err := conn.Exec(context.Background(), sql)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want an error with %q", sql, err, want)
		}
		t.Logf("%s: %v", sql, err)
	}
	show := func(t *testing.T, conn *pgx.Conn, name string) string {
		t.Helper()
		return queryString(t, conn, "SELECT current_setting($1, true)", name)
	}

	t.Run("startup options", func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			params  map[string]string // startup packet parameters
			refused string            // what the FATAL says; "" = accepted
		}{
			{"-c pgseccomp.session_syscall_allow", map[string]string{"options": "-c pgseccomp.session_syscall_allow=" + readlinkSyscall()},
				`parameter "pgseccomp.session_syscall_allow" cannot be changed now`},
			{"-c pgseccomp.session_syscall_default=allow", map[string]string{"options": "-c pgseccomp.session_syscall_default=allow"},
				`parameter "pgseccomp.session_syscall_default" cannot be changed now`},
			{"-c pgseccomp.enabled=off", map[string]string{"options": "-c pgseccomp.enabled=off"},
				`parameter "pgseccomp.enabled" cannot be changed without restarting the server`},
			{"startup parameter pgseccomp.session_syscall_error", map[string]string{"pgseccomp.session_syscall_error": ""},
				`parameter "pgseccomp.session_syscall_error" cannot be changed now`},
			{"-c session_syscall_error.joe=", map[string]string{"options": "-c session_syscall_error.joe="}, ""},
			{"startup parameter session_syscall_error.joe", map[string]string{"session_syscall_error.joe": ""}, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				conn, err := connectWith(c, "joe", tt.params)
				switch {
				case tt.refused != "" && err == nil:
					conn.Close(context.Background())
					t.Fatalf("connection with %v accepted, want refused with %q", tt.params, tt.refused)
				case tt.refused != "":
					if !strings.Contains(err.Error(), tt.refused) {
						t.Fatalf("connection with %v: %v, want refused with %q", tt.params, err, tt.refused)
					}
					t.Logf("refused: %v", firstLine(err))
					unchanged(t, joe(t), joeRows, 1)
				case err != nil:
					t.Fatalf("connection with %v: %v", tt.params, err)
				default:
					defer conn.Close(context.Background())
					if v := show(t, conn, "session_syscall_error.joe"); v != "" {
						t.Errorf("session_syscall_error.joe = %q in the session, want the startup value ''", v)
					}
					unchanged(t, conn, joeRows, 1)
				}
			})
		}
	})

	t.Run("ALTER ROLE and ALTER DATABASE", func(t *testing.T) {
		t.Cleanup(func() {
			mustExec(t, admin, "ALTER ROLE joe RESET ALL")
			mustExec(t, admin, "ALTER DATABASE postgres RESET ALL")
		})
		for _, target := range []string{"ROLE joe", "DATABASE postgres"} {
			fails(t, admin, "ALTER "+target+" SET pgseccomp.session_syscall_error = ''",
				`parameter "pgseccomp.session_syscall_error" cannot be changed now`)
			fails(t, admin, "ALTER "+target+" SET pgseccomp.session_syscall_default = 'allow'",
				`parameter "pgseccomp.session_syscall_default" cannot be changed now`)
			fails(t, admin, "ALTER "+target+" SET pgseccomp.enabled = off",
				`parameter "pgseccomp.enabled" cannot be changed without restarting the server`)
			mustExec(t, admin, "ALTER "+target+" SET session_syscall_error.joe = ''")
			mustExec(t, admin, "ALTER "+target+" SET session_syscall_error.free = ''")
			conn := joe(t)
			if v := show(t, conn, "session_syscall_error.joe"); v != "" {
				t.Errorf("after ALTER %s SET session_syscall_error.joe = '': joe's session shows %q", target, v)
			}
			unchanged(t, conn, joeRows, 1)
			conn.Close(context.Background())
		}
	})

	t.Run("SET ROLE", func(t *testing.T) {
		conn := joe(t)
		mustExec(t, conn, "SET ROLE free") // free has no restrictions of its own
		if got := queryString(t, conn, "SELECT current_user::text"); got != "free" {
			t.Fatalf("current_user = %q after SET ROLE free", got)
		}
		unchanged(t, conn, joeRows, 1)
		mustExec(t, conn, "RESET ROLE")
		fails(t, conn, "SET ROLE "+pgx.Identifier{c.OSUser}.Sanitize(), `permission denied to set role "`+c.OSUser+`"`)
		unchanged(t, conn, joeRows, 1)

		super := connect(t, c, "")
		mustExec(t, super, "SET ROLE joe")
		unchanged(t, super, superRows, 1)
	})

	t.Run("SET SESSION AUTHORIZATION", func(t *testing.T) {
		super := connect(t, c, "")
		mustExec(t, super, "SET SESSION AUTHORIZATION joe")
		if got := queryString(t, super, "SELECT session_user::text"); got != "joe" {
			t.Fatalf("session_user = %q after SET SESSION AUTHORIZATION joe", got)
		}
		unchanged(t, super, superRows, 1)

		conn := joe(t)
		fails(t, conn, "SET SESSION AUTHORIZATION "+pgx.Identifier{c.OSUser}.Sanitize(), "permission denied to set session authorization")
		fails(t, conn, "SET SESSION AUTHORIZATION free", "permission denied to set session authorization")
		unchanged(t, conn, joeRows, 1)
	})

	t.Run("SET", func(t *testing.T) {
		conn := joe(t)
		mustExec(t, conn, "SET session_syscall_error.joe = ''")
		mustExec(t, conn, "SET session_syscall_default.joe = 'allow'")
		unchanged(t, conn, joeRows, 1)
		fails(t, conn, "SET pgseccomp.session_syscall_error = ''",
			`parameter "pgseccomp.session_syscall_error" cannot be changed now`)
		fails(t, conn, "SET pgseccomp.session_roles = ''",
			`parameter "pgseccomp.session_roles" cannot be changed now`)
		unchanged(t, conn, joeRows, 1)
	})

	t.Run("set_config", func(t *testing.T) {
		conn := joe(t)
		if got := queryString(t, conn, "SELECT set_config('session_syscall_error.joe', '', false)"); got != "" {
			t.Fatalf("set_config returned %q", got)
		}
		unchanged(t, conn, joeRows, 1)
		fails(t, conn, "SELECT set_config('pgseccomp.session_syscall_error', '', false)",
			`parameter "pgseccomp.session_syscall_error" cannot be changed now`)
		unchanged(t, conn, joeRows, 1)
	})

	t.Run("SET LOCAL", func(t *testing.T) {
		conn := joe(t)
		mustExec(t, conn, "BEGIN")
		mustExec(t, conn, "SET LOCAL session_syscall_error.joe = ''")
		unchanged(t, conn, joeRows, 1) // inside the transaction
		mustExec(t, conn, "ROLLBACK")
		mustExec(t, conn, "BEGIN")
		fails(t, conn, "SET LOCAL pgseccomp.session_syscall_error = ''",
			`parameter "pgseccomp.session_syscall_error" cannot be changed now`)
		mustExec(t, conn, "ROLLBACK")
		unchanged(t, conn, joeRows, 1)
	})

	t.Run("RESET ALL", func(t *testing.T) {
		conn := joe(t)
		mustExec(t, conn, "SET session_syscall_error.joe = ''")
		mustExec(t, conn, "RESET ALL")
		unchanged(t, conn, joeRows, 1)
	})

	t.Run("DISCARD ALL", func(t *testing.T) {
		conn := joe(t)
		mustExec(t, conn, "DISCARD ALL")
		unchanged(t, conn, joeRows, 1)
	})

	t.Run("second set_client_filter", func(t *testing.T) {
		conn := joe(t)
		if got := queryString(t, conn, "SELECT set_client_filter(NULL, NULL, NULL, 'swapon', NULL)"); got != "OK" {
			t.Fatalf("set_client_filter returned %q", got)
		}
		withClient := filterRows(t, conn, "")
		if a := effectiveAction(withClient, "swapon", "session"); a != "client->error" {
			t.Fatalf("after set_client_filter: swapon is %q, want client->error", a)
		}
		fails(t, conn, "SELECT set_client_filter('allow', '', '', '', '')", "the client filter of this session is already loaded")
		unchanged(t, conn, withClient, 2)
		checkProbe(t, conn, withClient, readlink)
	})

	t.Run("no grant", func(t *testing.T) {
		conn := connect(t, c, "nogrant")
		fails(t, conn, "SELECT * FROM seccomp_filter()", "permission denied for function seccomp_filter")
		fails(t, conn, "SELECT set_client_filter('allow', '', '', '', '')", "permission denied for function set_client_filter")
		// nogrant cannot read its rows; the session-level list denies it readlink.
		if err := readlink.run(conn); err == nil || !strings.Contains(err.Error(), readlink.denied) {
			t.Errorf("readlink as nogrant: %v, want %q", err, readlink.denied)
		}
		if n := seccompFilters(t, int(conn.PgConn().PID())); n != globalFilters+1 {
			t.Errorf("nogrant's backend has %d seccomp filters, want %d", n, globalFilters+1)
		}
	})

	t.Run("ALTER SYSTEM by a superuser", func(t *testing.T) {
		open := joe(t)
		mustExec(t, admin, "ALTER SYSTEM SET session_syscall_error.joe = ''")
		t.Cleanup(func() {
			mustExec(t, admin, "ALTER SYSTEM RESET session_syscall_error.joe")
			reloadAndWait(t, c)
		})
		reloadAndWait(t, c)
		unchanged(t, open, joeRows, 1)
		fresh := joe(t)
		rows := filterRows(t, fresh, "")
		if a := effectiveAction(rows, readlinkSyscall(), "session"); a != "session->allow" {
			t.Errorf("a new session of joe after ALTER SYSTEM and reload: %s is %q, want session->allow", readlinkSyscall(), a)
		}
		checkProbe(t, fresh, rows, readlink)
	})
}

// connectWith connects as user with extra startup packet parameters
// ("options" is what libpq sends for PGOPTIONS).
func connectWith(c *cluster.Cluster, user string, params map[string]string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.ConnString(user, "postgres"))
	if err != nil {
		return nil, err
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// reloadAndWait reloads without changing the managed settings.
func reloadAndWait(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	if err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
