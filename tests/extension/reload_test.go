package extension

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// Two valid configurations. A denies readlink to every session but joe's;
// B denies clone to every session, and readlink to joe's.
var (
	reloadA = map[string]string{
		"pgseccomp.session_roles":         "joe",
		"pgseccomp.session_syscall_error": readlinkSyscall(),
		"session_syscall_error.joe":       "",
	}
	reloadB = map[string]string{
		"pgseccomp.session_roles":         "joe",
		"pgseccomp.session_syscall_error": cloneSyscalls,
		"session_syscall_error.joe":       readlinkSyscall(),
	}
)

// reloadSession is an open session and what it was given at login.
type reloadSession struct {
	name   string
	conn   *pgx.Conn
	rows   []policy.Row    // seccomp_filter() right after login
	denied map[string]bool // probe name -> whether its syscalls are denied
}

// TestReloadNewSessionsOnly: after a reload, new sessions get the new
// filters and open sessions keep theirs, and seccomp_filter() of each tells
// the truth about it: a syscall the reload denies is denied to new sessions
// and still allowed to old ones, and the other way round, exactly as each
// session's rows say. A reload with an invalid value keeps the old one in
// force, for new sessions too, and the log names the setting and says why.
// (TestReloadKeepsOldFilters covers other invalid values by their rows.)
func TestReloadNewSessionsOnly(t *testing.T) {
	c := newCluster(t, reloadA)
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	createRole(t, admin, "joe")
	mustExec(t, admin, "GRANT pg_execute_server_program TO joe") // COPY TO PROGRAM: the clone probe
	createTablespace(t, c, admin, "regress_reload")
	probes := []probe{readlinkProbe("regress_reload"), cloneProbe}

	open := func(t *testing.T, name, role string) *reloadSession {
		t.Helper()
		conn := connect(t, c, role)
		s := &reloadSession{name: name, conn: conn, rows: filterRows(t, conn, ""), denied: map[string]bool{}}
		for _, p := range probes {
			s.denied[p.name] = checkProbe(t, conn, s.rows, p)
		}
		return s
	}
	// check: s's seccomp_filter() is what it was at login, and the kernel
	// still does what it says.
	check := func(t *testing.T, s *reloadSession) {
		t.Helper()
		if got := filterRows(t, s.conn, ""); !slices.Equal(got, s.rows) {
			t.Errorf("%s: seccomp_filter() changed since login:\ngot  %v\nwant %v", s.name, got, s.rows)
		}
		for _, p := range probes {
			if denied := checkProbe(t, s.conn, s.rows, p); denied != s.denied[p.name] {
				t.Errorf("%s: %s denied %v, at login %v", s.name, p.name, denied, s.denied[p.name])
			}
		}
	}
	// want checks which probes a session's filter denies.
	want := func(t *testing.T, s *reloadSession, denied ...string) {
		t.Helper()
		for _, p := range probes {
			if s.denied[p.name] != slices.Contains(denied, p.name) {
				t.Errorf("%s: %s denied %v, want %v (rows %v)", s.name, p.name, s.denied[p.name], !s.denied[p.name], s.rows)
			}
		}
	}

	superA := open(t, "superuser session opened under A", "")
	joeA := open(t, "joe's session opened under A", "joe")
	want(t, superA, "readlink")
	want(t, joeA)

	restoreReload(t, c, reloadB)
	superB := open(t, "superuser session opened under B", "")
	joeB := open(t, "joe's session opened under B", "joe")
	want(t, superB, "clone")
	want(t, joeB, "readlink")
	old := []*reloadSession{superA, joeA, superB, joeB}
	for _, s := range old {
		check(t, s)
	}

	tests := []struct {
		name     string
		settings map[string]string
		log      []string
		// what new sessions are denied: B's, unless a valid setting of the
		// same reload changed it
		superDenied, joeDenied []string
	}{
		{"role that cannot have per-role settings",
			with(reloadB, "pgseccomp.session_roles", `joe,"web-app"`),
			[]string{`invalid value for parameter "pgseccomp.session_roles"` + inConf(c), `Role "web-app" cannot have per-role settings`},
			[]string{"clone"}, []string{"readlink"}},
		{"misspelt per-role action",
			with(reloadB, "session_syscall_eror.joe", "clone"),
			[]string{"pgseccomp session settings not applied", `"session_syscall_eror.joe" is not a per-role setting`},
			[]string{"clone"}, []string{"readlink"}},
		{"space-separated session list",
			with(reloadB, "pgseccomp.session_syscall_error", "clone clone3"),
			[]string{`invalid value for parameter "pgseccomp.session_syscall_error"` + inConf(c), `Unknown syscall "clone clone3" (word 1 of the list): separate syscall names with commas`},
			[]string{"clone"}, []string{"readlink"}},
		{"empty entry in a per-role list",
			with(reloadB, "session_syscall_error.joe", readlinkSyscall()+",,chroot"),
			[]string{"pgseccomp session settings not applied", "Invalid value for session_syscall_error.joe" + inConf(c), "empty entry (word 2)"},
			[]string{"clone"}, []string{"readlink"}},
		{"unknown per-role default",
			with(reloadB, "session_syscall_default.joe", "deny"),
			[]string{"pgseccomp session settings not applied", `Invalid value for session_syscall_default.joe: "deny"`},
			[]string{"clone"}, []string{"readlink"}},
		// PostgreSQL applies the valid settings of a reload and keeps the
		// old value of each invalid one; pgseccomp keeps the whole previous
		// plan, so joe's new, empty, list does not apply either.
		{"invalid session list next to a valid per-role change",
			with(reloadB, "pgseccomp.session_syscall_error", "clone,cloone", "session_syscall_error.joe", ""),
			[]string{`invalid value for parameter "pgseccomp.session_syscall_error"` + inConf(c), `Unknown syscall "cloone" (word 2 of the list). Did you mean "clone"?`,
				"pgseccomp session settings not applied", "The reload rejected pgseccomp.session_syscall_error."},
			[]string{"clone"}, []string{"readlink"}},
		// The per-role settings are checked together when the postmaster
		// rebuilds the session filters: one bad value keeps all of them,
		// and the session-level lists, as they were.
		{"invalid per-role list next to a valid session change",
			with(reloadB, "pgseccomp.session_syscall_error", "", "session_syscall_error.joe", "readlinc"),
			[]string{"pgseccomp session settings not applied", `Invalid value for session_syscall_error.joe` + inConf(c), `Unknown syscall "readlinc" (word 1 of the list). Did you mean "readlink"?`},
			[]string{"clone"}, []string{"readlink"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged := reload(t, c, tt.settings)
			for _, w := range tt.log {
				if !strings.Contains(logged, w) {
					t.Errorf("the reload log does not contain %q:\n%s", w, logged)
				}
			}
			superNew := open(t, "superuser session opened after the reload", "")
			joeNew := open(t, "joe's session opened after the reload", "joe")
			want(t, superNew, tt.superDenied...)
			want(t, joeNew, tt.joeDenied...)
			for _, s := range old {
				check(t, s)
			}
			superNew.conn.Close(context.Background())
			joeNew.conn.Close(context.Background())
			restoreReload(t, c, reloadB)
		})
	}
}

// restoreReload reloads a valid configuration and fails t if the server
// rejects any of it.
func restoreReload(t *testing.T, c *cluster.Cluster, settings map[string]string) {
	t.Helper()
	logged := reload(t, c, settings)
	for _, rejected := range []string{"not applied", "invalid value", "contains errors"} {
		if strings.Contains(logged, rejected) {
			t.Fatalf("the server rejected a valid configuration:\n%s", logged)
		}
	}
}
