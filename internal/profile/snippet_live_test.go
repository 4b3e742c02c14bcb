package profile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// TestSnippetLoadsInPostgreSQL: a real server started with the snippet in
// its conf.d loads exactly the profile's filters: seccomp_filter() in a
// session of each role (one with a mixed-case name, one with a name beyond
// ASCII, one without a layer of its own) returns the rows the model gives
// for ToSettings.
func TestSnippetLoadsInPostgreSQL(t *testing.T) {
	arch, err := policy.NativeArch()
	if err != nil {
		t.Skip(err)
	}
	p := &Profile{
		Format:     Format,
		Source:     "live.json",
		Provenance: Provenance{Architecture: arch.String(), Tool: "test"},
		Global:     L(t, "allow", "acct:error", "swapon:error", "kexec_load:kill", "nanosleep:allow"),
		Session:    L(t, "allow", "chroot:error", "swapoff:error", "syslog:log"),
		Roles: map[string]Layer{
			"Joe":  L(t, "allow", "syslog:error", "chroot:allow"),
			"josé": L(t, "allow", "ptrace:kill", "pivot_root:error"),
		},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	c := clustertest.NewStopped(t, cluster.Options{Settings: map[string]string{
		"shared_preload_libraries": "'pgseccomp'",
		"include_dir":              "'conf.d'", // relative to the managed file, in the data directory
	}})
	dir := filepath.Join(c.DataDir, "conf.d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pgseccomp.conf"), []byte(Snippet(p, nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE EXTENSION pgseccomp")

	settings, err := ToSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	model, err := settings.Build(arch)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"Joe", "josé", "joe"} {
		t.Run(role, func(t *testing.T) {
			ident := pgx.Identifier{role}.Sanitize()
			exec("CREATE ROLE " + ident + " LOGIN")
			exec("GRANT EXECUTE ON FUNCTION seccomp_filter() TO " + ident)
			conn, err := c.Connect(ctx, role, "postgres")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			rows, err := cluster.FilterRows(ctx, conn, "")
			if err != nil {
				t.Fatal(err)
			}
			var live []string
			for _, r := range rows {
				live = append(live, fmt.Sprintf("%s|%d|%s|%s", r.Syscall, r.Number, r.FilterAction(), r.Context))
			}
			want, err := model.Rows(role, nil)
			if err != nil {
				t.Fatal(err)
			}
			var expected []string
			for _, r := range want {
				expected = append(expected, fmt.Sprintf("%s|%d|%s|%s", r.Syscall, r.Number, r.FilterAction(), r.Context))
			}
			slices.Sort(live)
			slices.Sort(expected)
			if strings.Join(live, "\n") != strings.Join(expected, "\n") {
				t.Errorf("seccomp_filter():\n%s\nthe profile:\n%s", strings.Join(live, "\n"), strings.Join(expected, "\n"))
			}
		})
	}
}
