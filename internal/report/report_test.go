package report

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		numeric map[int]bool
		rows    [][]string
		want    string
	}{
		{"one row", []string{"syscall", "syscallnum"}, map[int]bool{1: true}, [][]string{{"<default>", "-1"}},
			"  syscall  | syscallnum\n-----------+------------\n <default> |         -1\n(1 row)\n"},
		{"no rows", []string{"a"}, nil, nil, " a\n---\n(0 rows)\n"},
		{"wide characters count as one", []string{"role", "n"}, map[int]bool{1: true}, [][]string{{"jöe", "7"}, {"ann", "12"}},
			" role | n\n------+----\n jöe  |  7\n ann  | 12\n(2 rows)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			Table(&b, tt.headers, tt.numeric, tt.rows)
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 records"}, {1, "1 record"}, {2, "2 records"}}
	for _, tt := range tests {
		if got := Plural(tt.n, "record", "records"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
