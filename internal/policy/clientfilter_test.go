package policy

import "testing"

func TestParseClientFilter(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		in   string
		want [5]*string
	}{
		{"NULL,NULL,NULL,NULL,NULL", [5]*string{}},
		{"'error', NULL, null, 'clone,clone3', NULL", [5]*string{s("error"), nil, nil, s("clone,clone3"), nil}},
		{"set_client_filter('log','*','','it''s',NULL)", [5]*string{s("log"), s("*"), s(""), s("it's"), nil}},
		{"select set_client_filter(NULL,NULL,NULL,NULL,'x');", [5]*string{nil, nil, nil, nil, s("x")}},
		{"default=error; error=clone,clone3", [5]*string{s("error"), nil, nil, s("clone,clone3"), nil}},
		{"allow=*;log=;kill_list=ptrace;default_action=log", [5]*string{s("log"), s("*"), s(""), nil, s("ptrace")}},
	}
	for _, tt := range tests {
		got, err := ParseClientFilter(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		want := ClientArgsFromSQL(tt.want)
		if ClientFilterSQL(&got) != ClientFilterSQL(&want) {
			t.Errorf("%q: got %s, want %s", tt.in, ClientFilterSQL(&got), ClientFilterSQL(&want))
		}
	}
	for _, bad := range []string{"'error'", "'a','b','c','d','e','f'", "'x", "error=a; error=b", "deny=x", "clone", "'a' 'b','c','d','e'", "set_client_filter 'a'"} {
		if _, err := ParseClientFilter(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseClientFilter: never panics, and what it accepts written back as
// SQL reads the same.
func FuzzParseClientFilter(f *testing.F) {
	for _, seed := range []string{"NULL,NULL,NULL,NULL,NULL", "'error',NULL,NULL,'clone',NULL", "default=log;allow=*", "set_client_filter('a''b',NULL,NULL,NULL,NULL)"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args, err := ParseClientFilter(in)
		if err != nil {
			return
		}
		sql := ClientFilterSQL(&args)
		again, err := ParseClientFilter(sql)
		if err != nil || ClientFilterSQL(&again) != sql {
			t.Fatalf("%q -> %q -> %v", in, sql, err)
		}
	})
}
