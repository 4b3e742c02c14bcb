package pgconf

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Entry
	}{
		{"equals", "port = 5432\n", []Entry{{"port", "5432", 1}}},
		{"no equals", "port 5432\n", []Entry{{"port", "5432", 1}}},
		{"no spaces", "port=5432", []Entry{{"port", "5432", 1}}},
		{"comments and blank lines", "# comment\n\n   \t\nport = 5432 # trailing\n", []Entry{{"port", "5432", 4}}},
		{"quoted", "log_line_prefix = '%m [%p] %q%u@%d '\n", []Entry{{"log_line_prefix", "%m [%p] %q%u@%d ", 1}}},
		{"hash inside quotes", "a = 'x # y' # z\n", []Entry{{"a", "x # y", 1}}},
		{"doubled quote", "a = 'it''s'\n", []Entry{{"a", "it's", 1}}},
		{"only doubled quotes", "a = ''''\n", []Entry{{"a", "'", 1}}},
		{"empty string", "a = ''\n", []Entry{{"a", "", 1}}},
		{"backslash escapes", `a = 'x\ty\n\'z\\\q\101\0'` + "\n", []Entry{{"a", "x\ty\n'z\\qA", 1}}},
		{"octal NUL ends the value", `a = 'ab\0cd'`, []Entry{{"a", "ab", 1}}},
		{"unit", "shared_buffers = 128MB\n", []Entry{{"shared_buffers", "128MB", 1}}},
		{"negative", "a = -1\n", []Entry{{"a", "-1", 1}}},
		{"real", "a = 1.5e3\n", []Entry{{"a", "1.5e3", 1}}},
		{"dot alone is a real", "a = .\n", []Entry{{"a", ".", 1}}},
		{"hex", "a = 0x1F\n", []Entry{{"a", "0x1F", 1}}},
		{"unquoted path", "a = /var/lib/x:y\n", nil}, // a value cannot start with "/"
		{"unquoted string", "dynamic_shared_memory_type = posix-v2.x\n", []Entry{{"dynamic_shared_memory_type", "posix-v2.x", 1}}},
		{"qualified name", "pgseccomp.enabled = on\nsession_syscall_error.joe ''\n",
			[]Entry{{"pgseccomp.enabled", "on", 1}, {"session_syscall_error.joe", "", 2}}},
		{"crlf", "a = 1\r\nb = 2\r\n", []Entry{{"a", "1", 1}, {"b", "2", 2}}},
		{"high-bit letters", "a = caf\xc3\xa9\n", []Entry{{"a", "caf\xc3\xa9", 1}}},
		{"include directives are entries", "include 'x.conf'\ninclude_dir = 'conf.d'\n",
			[]Entry{{"include", "x.conf", 1}, {"include_dir", "conf.d", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := Parse([]byte(tt.in), "test.conf")
			if tt.want == nil {
				if len(errs) == 0 {
					t.Fatalf("want a syntax error, got %+v", got)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"missing value", "a = 1\nport =\nb = 2\n", []string{"test.conf:2: syntax error near end of line"}},
		{"missing value at EOF", "port =", []string{"test.conf:1: syntax error near end of line"}},
		{"unterminated quote", "a = 'abc\n", []string{`test.conf:1: syntax error near token "'"`}},
		{"two values", "a = b c\n", []string{`test.conf:1: syntax error near token "c"`}},
		{"no name", "= 1\n", []string{`test.conf:1: syntax error near token "="`}},
		{"name with two dots", "a.b.c = 1\n", []string{`test.conf:1: syntax error near token "a.b.c"`}},
		{"name starting with a digit", "1a = 1\n", []string{`test.conf:1: syntax error near token "1a"`}},
		{"dollar in a role name", "session_syscall_allow.joe$1 = ''\n", []string{`test.conf:1: syntax error near token "$"`}},
		{"unit on a real", "a = 1.5GB\n", []string{`test.conf:1: syntax error near token "GB"`}},
		{"every bad line", "a =\nb = 1\nc = d e\n", []string{"test.conf:1: syntax error near end of line", `test.conf:3: syntax error near token "e"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse([]byte(tt.in), "test.conf")
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTooManyErrors(t *testing.T) {
	_, errs := Parse([]byte(strings.Repeat("=\n", 500)), "bad.conf")
	if len(errs) != maxSyntaxErrors+1 || !strings.Contains(errs[len(errs)-1].Msg, "too many") {
		t.Errorf("%d errors, last %v", len(errs), errs[len(errs)-1])
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"'plain'", "plain"},
		{"''", ""},
		{"'it''s'", "it's"},
		{`'back\\slash'`, `back\slash`},
		{`'x\ty\n\'z\101'`, "x\ty\n'zA"},
		{"128MB", "128MB"},
		{"on", "on"},
		{"'", "'"}, // too short to be quoted
	}
	for _, tt := range tests {
		if got := Unquote(tt.in); got != tt.want {
			t.Errorf("Unquote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"", "it's", `C:\dir\`, "two\nlines", `\''\`, "/var/run/postgresql"} {
		if got := Unquote(Quote(s)); got != s {
			t.Errorf("Unquote(Quote(%q)) = %q", s, got)
		}
	}
}

// FuzzParse: Parse never panics, every entry it returns has a name and a
// line within the file, and a value written back quoted reads the same.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"port = 5432\n", "a 'it''s'\n", `a = 'x\n\101\0'`, "pgseccomp.session_syscall_allow = '*'\n",
		"include_dir 'conf.d'\n", "a = 1.5e3\nb = 0x1F\n", "# c\n\r\n", "a = 'unterminated\n", "a.b.c = -.\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := Parse(data, "fuzz.conf")
		lines := strings.Count(string(data), "\n") + 1
		for _, e := range entries {
			if e.Name == "" || e.Line < 1 || e.Line > lines {
				t.Fatalf("bad entry %+v in a file of %d lines", e, lines)
			}
			if strings.IndexByte(e.Value, 0) >= 0 {
				t.Fatalf("value %q holds a NUL byte", e.Value)
			}
			again, errs := Parse([]byte(e.Name+" = "+Quote(e.Value)+"\n"), "again.conf")
			if len(errs) > 0 || len(again) != 1 || again[0].Value != e.Value || again[0].Name != e.Name {
				t.Fatalf("%q = %q does not read back: %+v %v", e.Name, e.Value, again, errs)
			}
			if got := Unquote(Quote(e.Value)); got != e.Value {
				t.Fatalf("Unquote(Quote(%q)) = %q", e.Value, got)
			}
		}
	})
}
