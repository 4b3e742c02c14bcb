package explain

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

func TestSessionRoles(t *testing.T) {
	long := strings.Repeat("r", 70)
	s := &policy.Settings{SessionRoles: []string{"joe", "ann"}}
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"none given: a role not listed", Options{}, []string{""}},
		{"given, in order", Options{Roles: []string{"ann", "bob"}}, []string{"ann", "bob"}},
		{"cut to 63 bytes", Options{Roles: []string{long}}, []string{long[:63]}},
		{"every listed role once, then one not listed", Options{Roles: []string{"ann"}, AllRoles: true}, []string{"ann", "joe", ""}},
	}
	for _, tt := range tests {
		if got := sessionRoles(tt.o, s); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRoleNotes(t *testing.T) {
	s := &policy.Settings{SessionRoles: []string{"joe"}}
	tests := []struct {
		given []string
		want  []string // a substring of each note, in order
	}{
		{[]string{"joe", "ann"}, nil},
		{[]string{"Joe"}, []string{`role "Joe" is not in pgseccomp.session_roles, which lists "joe"`}},
		{[]string{strings.Repeat("j", 64)}, []string{"is 64 bytes; PostgreSQL truncates names to 63 bytes"}},
	}
	for _, tt := range tests {
		got := roleNotes(tt.given, s)
		if len(got) != len(tt.want) {
			t.Errorf("%q: notes %q, want %d", tt.given, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%q: note %q lacks %q", tt.given, got[i], w)
			}
		}
	}
}

func TestSessionTitle(t *testing.T) {
	tests := []struct {
		s    SessionReport
		want string
	}{
		{SessionReport{}, "a session of any role not in pgseccomp.session_roles"},
		{SessionReport{Role: "joe", Listed: true}, `a session of role "joe" (in pgseccomp.session_roles)`},
		{SessionReport{Role: "ann", ClientFilter: "'error', NULL, NULL, NULL, NULL"},
			`a session of role "ann" (not in pgseccomp.session_roles: session-level settings), after SELECT set_client_filter('error', NULL, NULL, NULL, NULL)`},
	}
	for _, tt := range tests {
		if got := tt.s.Title(); got != tt.want {
			t.Errorf("Title() = %q, want %q", got, tt.want)
		}
	}
}
