package extension

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// vector is one file of testdata/vectors (see its README).
type vector struct {
	Name     string            `json:"name"`
	About    string            `json:"about"`
	Settings map[string]string `json:"settings"`
	Cases    []struct {
		Role         string      `json:"role"`
		ClientFilter []*string   `json:"client_filter"`
		Rows         [][3]string `json:"rows"`
	} `json:"cases"`
}

func loadVectors(t *testing.T) map[string]vector {
	t.Helper()
	files, err := filepath.Glob("../../testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test vectors in ../../testdata/vectors (%v)", err)
	}
	vectors := map[string]vector{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		vectors[filepath.Base(f)] = v
	}
	return vectors
}

// TestVectors runs every shared vector against a live server: the rows of
// seccomp_filter() must be exactly the vector's.
func TestVectors(t *testing.T) {
	c := newCluster(t, nil)
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	admin.Close(context.Background())
	roles := map[string]bool{}

	for file, v := range loadVectors(t) {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
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
					if len(cs.ClientFilter) != 5 {
						t.Fatalf("case %d: client_filter needs 5 arguments, has %d", i, len(cs.ClientFilter))
					}
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
				var got [][3]string
				for _, r := range filterRows(t, conn, "") {
					got = append(got, [3]string{r.Syscall, r.Action, r.Context})
				}
				want := slices.Clone(cs.Rows)
				sortRows(got)
				sortRows(want)
				if !slices.Equal(got, want) {
					t.Errorf("case %d (role %q): %s\ngot  %v\nwant %v", i, cs.Role, v.About, got, want)
				}
				conn.Close(context.Background())
			}
		})
	}
}

func sortRows(rows [][3]string) {
	slices.SortFunc(rows, func(a, b [3]string) int {
		if c := strings.Compare(a[2], b[2]); c != 0 {
			return c
		}
		return strings.Compare(a[0], b[0])
	})
}
