package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
)

// longRole is a role name of 70 bytes, over PostgreSQL's 63.
const longRole = "explain_long_role_name_of_seventy_bytes_which_postgresql_cuts_at_63xyz"

// TestExplainMatchesLiveCluster: explain, reading a real cluster's
// configuration files offline, prints exactly the rows seccomp_filter()
// returns in sessions of several roles (with and without per-role settings)
// and after set_client_filter().
func TestExplainMatchesLiveCluster(t *testing.T) {
	settings := map[string]string{
		"shared_preload_libraries":               "pgseccomp",
		"pgseccomp.enabled":                      "on",
		"pgseccomp.global_syscall_default":       "log",
		"pgseccomp.global_syscall_allow":         "read,write,openat,close,newfstatat,seccomp,prctl,futex,epoll_wait,nanosleep,acct",
		"pgseccomp.global_syscall_error":         "swapon",
		"pgseccomp.session_syscall_allow":        "nanosleep,swapoff",
		"pgseccomp.session_syscall_error":        "acct,chroot",
		"pgseccomp.session_syscall_log":          "*",
		"pgseccomp.session_roles":                `explain_joe,"Explain_Ann",explain_bob,Explain_Cap,` + longRole,
		"session_syscall_error.Explain_Cap":      "syslog", // the role listed is explain_cap
		"session_syscall_allow." + longRole[:63]: "acct",   // the role listed is the name cut to 63 bytes
		"session_syscall_error.explain_joe":      "",
		"session_syscall_allow.explain_joe":      "acct",
		"SESSION_SYSCALL_DEFAULT.Explain_Ann":    "log",
		"session_syscall_kill.explain_bob":       "syslog",
		"session_syscall_log.explain_bob":        "chroot",
	}
	conf := map[string]string{}
	for k, v := range settings {
		conf[k] = cluster.QuoteValue(v)
	}
	c := clustertest.New(t, cluster.Options{Settings: conf})
	ctx := context.Background()
	admin, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	mustExecLive(t, admin, "CREATE EXTENSION pgseccomp")
	// CREATE ROLE cuts longRole to 63 bytes, and so does a login by it.
	roles := []string{"explain_joe", "Explain_Ann", "explain_bob", "explain_other", "Explain_Cap", "explain_cap", longRole}
	for _, r := range roles {
		mustExecLive(t, admin, "CREATE ROLE "+pgx.Identifier{r}.Sanitize()+" LOGIN")
		mustExecLive(t, admin, "GRANT EXECUTE ON FUNCTION seccomp_filter() TO "+pgx.Identifier{r}.Sanitize())
		mustExecLive(t, admin, "GRANT EXECUTE ON FUNCTION set_client_filter(text,text,text,text,text) TO "+pgx.Identifier{r}.Sanitize())
	}

	cases := []struct {
		role   string
		client string // --client-filter, "" for none
		sql    []any  // the same arguments for set_client_filter
	}{
		{role: "explain_joe"},
		{role: "Explain_Ann"},
		{role: "explain_bob"},
		{role: "explain_other"},
		// session_roles = 'Explain_Cap' lists explain_cap, not "Explain_Cap".
		{role: "Explain_Cap"},
		{role: "explain_cap"},
		// A 70-byte name is the role of its first 63 bytes, for the
		// server's login and for explain --role.
		{role: longRole},
		// (A client default of error would deny the backend its own
		// socket writes: it would crash, and the postmaster restart all.)
		{role: "explain_joe", client: "NULL, NULL, NULL, 'nanosleep', NULL", sql: []any{nil, nil, nil, "nanosleep", nil}},
		{role: "explain_other", client: "default=log; allow=*; kill=chroot", sql: []any{"log", "*", nil, nil, "chroot"}},
		{role: "Explain_Ann", client: "NULL, 'acct', NULL, NULL, NULL", sql: []any{nil, "acct", nil, nil, nil}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s", tc.role, tc.client), func(t *testing.T) {
			conn, err := c.Connect(ctx, tc.role, "postgres")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if tc.sql != nil {
				if _, err := conn.Exec(ctx, "SELECT set_client_filter($1, $2, $3, $4, $5)", tc.sql...); err != nil {
					t.Fatal(err)
				}
			}
			live := liveRows(t, conn)

			args := []string{"explain", "--pgdata", c.DataDir, "--role", tc.role, "--json"}
			if tc.client != "" {
				args = append(args, "--client-filter", tc.client)
			}
			code, out, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("explain exited %d: %s", code, errOut)
			}
			var raw struct {
				Global   []map[string]any `json:"global"`
				Sessions []struct {
					Rows []map[string]any `json:"rows"`
				} `json:"sessions"`
			}
			if err := json.Unmarshal([]byte(out), &raw); err != nil {
				t.Fatalf("decode: %v\n%s", err, out)
			}
			var model []string
			for _, r := range append(raw.Global, raw.Sessions[0].Rows...) {
				model = append(model, fmt.Sprintf("%v|%v|%v|%v", r["syscall"], r["syscallnum"], r["filter_action"], r["context"]))
			}
			slices.Sort(model)
			if strings.Join(model, "\n") != strings.Join(live, "\n") {
				t.Errorf("explain:\n%s\nseccomp_filter():\n%s", strings.Join(model, "\n"), strings.Join(live, "\n"))
			}
		})
	}

	// The table output is psql's: the same text as the JSON's rows.
	code, out, errOut := runCLI(t, "explain", "--pgdata", c.DataDir, "--role", "explain_bob", "--context", "session")
	if code != 0 || !regexp.MustCompile(`(?m)^ syslog +\| +103 \| session->kill +\| session$`).MatchString(out) {
		t.Errorf("table exited %d (%s):\n%s", code, errOut, out)
	}
}

func mustExecLive(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// liveRows are seccomp_filter()'s rows as "syscall|num|filter_action|context", sorted.
func liveRows(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := cluster.FilterRows(context.Background(), conn, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s|%d|%s|%s", r.Syscall, r.Number, r.FilterAction(), r.Context))
	}
	slices.Sort(out)
	return out
}
