package policy

import (
	"errors"
	"strings"
	"testing"
)

func str(s string) *string { return &s }

func rowsText(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.Syscall + " " + r.FilterAction() + " " + r.Context + "\n")
	}
	return b.String()
}

func TestRows(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		role   string
		client *ClientArgs
		want   string // rows of both contexts, in seccomp_filter() order
	}{
		{
			name:   "talk example 2: the global log wins over the session allow",
			values: map[string]string{"pgseccomp.global_syscall_default": "log", "pgseccomp.session_syscall_allow": "nanosleep"},
			want: "<default> global->log global\n" +
				"<default> global->log session\n" +
				"nanosleep global->log session\n",
		},
		{
			name: "the innermost layer is named on a tie",
			values: map[string]string{"pgseccomp.global_syscall_error": "acct",
				"pgseccomp.session_syscall_default": "log", "pgseccomp.global_syscall_default": "log"},
			want: "<default> global->log global\n" +
				"acct global->error global\n" +
				"<default> session->log session\n" +
				"acct session->error session\n",
		},
		{
			name: "a role's own lists and default",
			values: map[string]string{"pgseccomp.session_syscall_error": "acct", "pgseccomp.session_roles": "joe",
				"session_syscall_allow.joe": "acct", "session_syscall_default.joe": "log"},
			role: "joe",
			want: "<default> global->allow global\n" +
				"<default> session->log session\n" +
				"acct session->allow session\n",
		},
		{
			name: "session_roles matches the authenticated name exactly",
			values: map[string]string{"pgseccomp.session_syscall_error": "acct", "pgseccomp.session_roles": "joe",
				"session_syscall_error.joe": ""},
			role: "Joe",
			want: "<default> global->allow global\n" +
				"<default> session->allow session\n" +
				"acct session->error session\n",
		},
		{
			name:   "an explicit client list beats the session list it inherits",
			values: map[string]string{"pgseccomp.session_syscall_allow": "acct"},
			client: &ClientArgs{Lists: [NumActions]*string{Error: str("acct")}},
			want: "<default> global->allow global\n" +
				"<default> client->allow session\n" +
				"acct client->error session\n",
		},
		{
			name:   "client default NULL is the session's",
			values: map[string]string{"pgseccomp.session_syscall_default": "log"},
			client: &ClientArgs{Lists: [NumActions]*string{Allow: str("acct")}},
			want: "<default> global->allow global\n" +
				"<default> client->log session\n" +
				"acct session->log session\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := build(t, tt.values)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := p.Rows(tt.role, tt.client)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsText(rows); got != tt.want {
				t.Errorf("got\n%swant\n%s", got, tt.want)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	p, err := build(t, map[string]string{"pgseccomp.session_syscall_error": "seccomp"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args ClientArgs
		want string
	}{
		{"two explicit lists", ClientArgs{Lists: [NumActions]*string{Allow: str("acct"), Kill: str("acct")}},
			`Syscall "acct" is named in both argument allow_list and argument kill_list.`},
		{"bad default", ClientArgs{Default: str("deny")}, "argument default_action of set_client_filter() = 'deny'"},
		{"bad list", ClientArgs{Lists: [NumActions]*string{Log: str("acct,")}}, "argument log_list of set_client_filter() = 'acct,'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.ClientLayer("", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Valid arguments, but the session layer denies the loader syscall.
	_, err = p.ClientLayer("", ClientArgs{})
	var loadErr *LoadError
	if !errors.As(err, &loadErr) || loadErr.Denied[0] != "seccomp" {
		t.Errorf("got %v, want a LoadError naming seccomp", err)
	}
}

func TestRefused(t *testing.T) {
	p, err := build(t, map[string]string{"pgseccomp.global_syscall_error": "seccomp"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Rows("", nil)
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Errorf("got %v, want a RefusedError", err)
	}
	if len(p.GlobalRows()) != 2 {
		t.Errorf("global rows: %v", p.GlobalRows())
	}
}
