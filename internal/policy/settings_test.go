package policy

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func build(t *testing.T, values map[string]string) (*Policy, error) {
	t.Helper()
	s, err := ParseSettingsMap(values)
	if err != nil {
		return nil, err
	}
	return s.Build(nativeArch(t))
}

// TestValidation: what the model accepts, and the rejections that are the
// model's own (a name longer than any syscall, another architecture's
// syscall, ...). The rejections the extension shares with the model are
// the vectors of testdata/vectors/rejected (TestRejections).
func TestValidation(t *testing.T) {
	long := strings.Repeat("x", 70)
	tests := []struct {
		name   string
		values map[string]string
		want   []string // substrings of the error; nil: valid
	}{
		{"valid lists", map[string]string{"pgseccomp.global_syscall_allow": " read , write,read ", "pgseccomp.session_syscall_error": "clone"}, nil},
		{"names are case-insensitive", map[string]string{"PgSeccomp.Global_Syscall_Default": "LOG"}, nil},
		{"space-separated list", map[string]string{"pgseccomp.session_syscall_allow": "read write"},
			[]string{"pgseccomp.session_syscall_allow", `Unknown syscall "read write" (word 1 of the list): separate syscall names with commas.`}},
		{"star with spaces is the whole list", map[string]string{"pgseccomp.session_syscall_allow": " * "}, nil},
		{"blank list is empty", map[string]string{"pgseccomp.global_syscall_allow": " \t "}, nil},
		{"name longer than any syscall", map[string]string{"pgseccomp.global_syscall_allow": long},
			[]string{`Unknown syscall "` + long[:64] + `..."`}},
		{"syscall of another architecture", map[string]string{"pgseccomp.global_syscall_allow": "socketcall"},
			[]string{"pgseccomp.global_syscall_allow", `Syscall "socketcall" (word 1 of the list) does not exist on this architecture`}},
		{"a session list and an inherited global list do not conflict", map[string]string{"pgseccomp.global_syscall_error": "clone", "pgseccomp.session_syscall_allow": "clone"}, nil},
		{"a per-role list beats the session list of another action", map[string]string{
			"pgseccomp.session_syscall_error": "clone", "pgseccomp.session_roles": "joe", "session_syscall_allow.joe": "clone"}, nil},
		{"conflicting session lists overridden for a role", map[string]string{
			"pgseccomp.session_syscall_error": "clone", "pgseccomp.session_syscall_allow": "clone",
			"pgseccomp.session_roles": "joe", "session_syscall_kill.joe": "clone"},
			[]string{`Syscall "clone" is named in both pgseccomp.session_syscall_allow and pgseccomp.session_syscall_error.`}},
		{"per-role name without a role", map[string]string{"session_syscall_allow": "clone"},
			[]string{`"session_syscall_allow" is not a setting`, "pgseccomp.session_syscall_allow"}},
		{"unknown pgseccomp setting", map[string]string{"pgseccomp.global_syscall_allowed": "read"},
			[]string{`Unrecognized configuration parameter "pgseccomp.global_syscall_allowed"`}},
		{"per-role names are case-insensitive", map[string]string{"pgseccomp.session_roles": "Joe", "SESSION_SYSCALL_ALLOW.JOE": "clone"}, nil},
		{"worker filters cannot be set", map[string]string{"pgseccomp.parallel_worker_filters": "0"},
			[]string{"pgseccomp.parallel_worker_filters", "remove it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, tt.values)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("want Problems, got %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseAction(t *testing.T) {
	for in, want := range map[string]Action{"allow": Allow, "LOG": Log, "Error": Error, "kill": Kill} {
		got, err := ParseAction(in)
		if err != nil || got != want {
			t.Errorf("ParseAction(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "deny", "errno", "kil", " error", "log\t", "\u212aill" /* Kelvin sign folds to k in Unicode */} {
		if _, err := ParseAction(in); err == nil {
			t.Errorf("ParseAction(%q) accepted", in)
		}
	}
	if !(Allow < Log && Log < Error && Error < Kill) {
		t.Error("actions are not ordered by precedence")
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"on": true, "OFF": false, "of": false, "t": true, "tRu": true, "yes": true, "n": false, "1": true, "0": false} {
		got, ok := parseBool(in)
		if !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "o", " on", "truee", "2", "01"} {
		if _, ok := parseBool(in); ok {
			t.Errorf("parseBool(%q) accepted", in)
		}
	}
}

// TestDefaultWithSpaces: PostgreSQL would start with the default "allow"
// when an action default has spaces around it, so the extension refuses the
// value, and so does the model.
func TestDefaultWithSpaces(t *testing.T) {
	for _, name := range []string{"pgseccomp.global_syscall_default", "pgseccomp.session_syscall_default"} {
		_, err := ParseSettingsMap(map[string]string{name: " error"})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "' error'") {
			t.Errorf("%s = ' error': error %v, want one naming the setting and the value", name, err)
		}
	}
}

func TestSessionRoles(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" joe , Alice ", []string{"joe", "alice"}},
		{`"Joe",x$1`, []string{"Joe", "x$1"}},
		{strings.Repeat("a", 70), []string{strings.Repeat("a", 63)}},
	}
	for _, tt := range tests {
		got, detail := splitSessionRoles(tt.in)
		if detail != "" || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitSessionRoles(%q) = %q, %q; want %q", tt.in, got, detail, tt.want)
		}
	}
}

func TestPreloaded(t *testing.T) {
	for in, want := range map[string]bool{"pgseccomp": true, "pg_stat_statements, pgseccomp": true, `'$libdir/pgseccomp'`: false,
		"$libdir/pgseccomp": true, "/usr/lib/postgresql/15/lib/pgseccomp.so": true, `"pgseccomp"`: true, "pgseccomp_x": false, "": false} {
		if got := preloads(in); got != want {
			t.Errorf("preloads(%q) = %v", in, got)
		}
	}
}

// TestTruncateIdentifier: names are cut to 63 bytes at a UTF-8 character
// boundary, as pg_mbcliplen cuts them.
func TestTruncateIdentifier(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"joe", "joe"},
		{a(63), a(63)},
		{a(70), a(63)},
		{a(61) + "é", a(61) + "é"},       // 63 bytes: whole
		{a(62) + "é", a(62)},             // é would end at byte 64
		{a(62) + "éé", a(62)},            // and the next one too
		{a(60) + "€x", a(60) + "€"},      // € is 3 bytes: ends at 63
		{a(61) + "€", a(61)},             // € would straddle byte 63
		{a(59) + "😀" + "b", a(59) + "😀"}, // 4 bytes ending at 63
		{a(60) + "😀", a(60)},             // 4 bytes straddling
		{"é" + a(70), "é" + a(61)},       // 2 + 61 = 63
		{strings.Repeat("é", 40), strings.Repeat("é", 31)}, // 62 bytes
	} {
		got := TruncateIdentifier(tt.in)
		if got != tt.want || len(got) > 63 || !utf8.ValidString(got) {
			t.Errorf("TruncateIdentifier(%q) = %q (%d bytes), want %q", tt.in, got, len(got), tt.want)
		}
	}
}

func TestIsSetting(t *testing.T) {
	for name, want := range map[string]bool{
		"pgseccomp.enabled": true, "PgSeccomp.Session_Roles": true, "session_syscall_error.joe": true,
		"session_syscall_default.Joe": true, "shared_preload_libraries": false, "session_syscall_error": false,
		"work_mem": false, "pgseccompx.enabled": false,
	} {
		if got := IsSetting(name); got != want {
			t.Errorf("IsSetting(%q) = %v, want %v", name, got, want)
		}
	}
}
