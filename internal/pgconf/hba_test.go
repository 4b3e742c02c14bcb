package pgconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseHBA(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []HBALine
		errs []string // substrings of the errors, in order
	}{
		{name: "debian's default", in: "# comment\nlocal   all             postgres                                peer\n\n" +
			"local   all             all                                     peer\n" +
			"host    all             all             127.0.0.1/32            scram-sha-256\n" +
			"host    all             all             ::1/128                 scram-sha-256\n" +
			"local   replication     all                                     peer\n",
			want: []HBALine{{2, "local", "peer"}, {4, "local", "peer"}, {5, "host", "scram-sha-256"}, {6, "host", "scram-sha-256"}, {7, "local", "peer"}}},
		{name: "address and mask", in: "hostssl all all 10.0.0.0 255.0.0.0 md5 clientcert=verify-ca\n",
			want: []HBALine{{1, "hostssl", "md5"}}},
		{name: "host name", in: "host all all .example.com cert\n", want: []HBALine{{1, "host", "cert"}}},
		{name: "quoted and commented", in: "local \"all\" \"my # user\" trust # the end\n", want: []HBALine{{1, "local", "trust"}}},
		{name: "continued", in: "host all \\\n all samenet \\\n  ident\nlocal all all peer\n",
			want: []HBALine{{1, "host", "ident"}, {4, "local", "peer"}}},
		{name: "crlf", in: "local all all trust\r\n", want: []HBALine{{1, "local", "trust"}}},
		{name: "bad type", in: "hots all all 0.0.0.0/0 trust\nlocal all all peer\n",
			want: []HBALine{{2, "local", "peer"}}, errs: []string{`pg_hba.conf:1: invalid connection type "hots"`}},
		{name: "no method", in: "local all all\nhost all all 127.0.0.1 255.255.255.255\n",
			errs: []string{"pg_hba.conf:1: end-of-line before authentication method", "pg_hba.conf:2: end-of-line"}},
		{name: "include", in: "include other.conf\n", errs: []string{"includes are not read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHBA([]byte(tt.in), "pg_hba.conf")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			var errs Errors
			errors.As(err, &errs)
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %d", err, len(tt.errs))
			}
			for i, e := range tt.errs {
				if !strings.Contains(errs[i].Error(), e) {
					t.Errorf("error %d = %q, want %q", i, errs[i], e)
				}
			}
		})
	}
}

func TestReadHBA(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pg_hba.conf")
	if err := os.WriteFile(path, []byte("local all all peer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadHBA(path); err != nil || len(got) != 1 {
		t.Errorf("ReadHBA: %v %v", got, err)
	}
	for _, bad := range []string{dir, filepath.Join(dir, "missing"), "/dev/zero"} {
		if _, err := ReadHBA(bad); err == nil {
			t.Errorf("ReadHBA(%s): no error", bad)
		}
	}
}

func FuzzParseHBA(f *testing.F) {
	f.Add("local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n")
	f.Add("host all \\\n all 10.0.0.0 255.0.0.0 \"md5\" # x\n")
	f.Add("hots\n\"\n\\")
	f.Fuzz(func(t *testing.T, in string) {
		lines, err := ParseHBA([]byte(in), "f")
		n := strings.Count(in, "\n") + 1
		for _, l := range lines {
			if l.Line < 1 || l.Line > n || !hbaTypes[l.Type] || l.Method == "" {
				t.Errorf("bad record %+v", l)
			}
		}
		var errs Errors
		if err != nil && !errors.As(err, &errs) {
			t.Errorf("error of type %T", err)
		}
	})
}
