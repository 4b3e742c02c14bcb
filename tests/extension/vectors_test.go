package extension

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/vectors"
)

// TestVectors runs every shared vector against a live server: the rows of
// seccomp_filter() must be exactly the vector's.
func TestVectors(t *testing.T) {
	c := newCluster(t, nil)
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	admin.Close(context.Background())
	roles := map[string]bool{}

	all, err := vectors.Load("../../testdata/vectors")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all {
		t.Run(v.File, func(t *testing.T) {
			reconfigure(t, c, v.Settings)
			admin := connect(t, c, "")
			for _, cs := range v.Cases {
				if cs.Role != "" && !roles[cs.Role] {
					createRole(t, admin, cs.Role)
					mustExec(t, admin, "GRANT EXECUTE ON FUNCTION set_client_filter(text,text,text,text,text) TO "+pgx.Identifier{cs.Role}.Sanitize())
					roles[cs.Role] = true
				}
			}
			for i, cs := range v.Cases {
				conn := connect(t, c, cs.Role)
				if cs.ClientFilter != nil {
					args := make([]any, 5)
					for j, a := range cs.ClientFilter {
						if a != nil {
							args[j] = *a
						}
					}
					got := queryString(t, conn, "SELECT set_client_filter($1, $2, $3, $4, $5)", args...)
					if got != "OK" {
						t.Fatalf("case %d: set_client_filter returned %q", i, got)
					}
				}
				var got []vectors.Row
				for _, r := range filterRows(t, conn, "") {
					got = append(got, vectors.Row{r.Syscall, r.FilterAction(), r.Context})
				}
				want := slices.Clone(cs.Rows)
				vectors.SortRows(got)
				vectors.SortRows(want)
				if !slices.Equal(got, want) {
					t.Errorf("case %d (role %q): %s\ngot  %v\nwant %v", i, cs.Role, v.About, got, want)
				}
				conn.Close(context.Background())
			}
		})
	}
}
