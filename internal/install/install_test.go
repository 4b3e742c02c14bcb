package install

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

const shipped = "../../profiles/postgresql-15-debian-12-x86_64.json"

// layout writes a cluster directory (postgresql.conf, PG_VERSION, conf.d)
// with the given files (relative name -> content) and returns it.
func layout(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ConfDir), 0o755); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"PG_VERSION": "15\n", "postgresql.conf": "port = 5499\ninclude_dir = 'conf.d'\n"}
	for name, content := range files {
		base[name] = content
	}
	for name, content := range base {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInstall(t *testing.T) {
	p, err := profile.Read(shipped)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		files   map[string]string
		enforce policy.Action
		check   Check
		preload string // shared_preload_libraries in force after install
		refused string // part of the refusal, "" when it must succeed
	}{
		{name: "nothing preloaded", enforce: policy.Log, preload: "pgseccomp"},
		{name: "keeps what is preloaded", enforce: policy.Error, preload: "pg_stat_statements,auto_explain,pgseccomp",
			files: map[string]string{"postgresql.conf": "shared_preload_libraries = 'pg_stat_statements, auto_explain'\ninclude_dir = 'conf.d'\n"}},
		{name: "already preloaded", enforce: policy.Error, preload: "pgseccomp,pg_stat_statements",
			files: map[string]string{ConfDir + "/00-libs.conf": "shared_preload_libraries = 'pgseccomp,pg_stat_statements'\n"}},
		{name: "preload set by ALTER SYSTEM", enforce: policy.Log, refused: "(ALTER SYSTEM), which overrides any file: run ALTER SYSTEM SET shared_preload_libraries = 'pg_cron,pgseccomp';",
			files: map[string]string{pgconf.AutoConfName: "shared_preload_libraries = 'pg_cron'\n"}},
		{name: "preload set after conf.d", enforce: policy.Log, refused: "postgresql.conf:2 sets shared_preload_libraries = \"pg_cron\" after",
			files: map[string]string{"postgresql.conf": "include_dir = 'conf.d'\nshared_preload_libraries = 'pg_cron'\n"}},
		{name: "no include_dir", enforce: policy.Log, refused: "add  include_dir = 'conf.d'  at the end of",
			files: map[string]string{"postgresql.conf": "port = 5499\n"}},
		{name: "overridden by a later conf.d file", enforce: policy.Error, refused: "zz.conf:1 sets pgseccomp.session_syscall_default after",
			files: map[string]string{ConfDir + "/zz.conf": "pgseccomp.session_syscall_default = 'allow'\n"}},
		{name: "a snippet copied by hand", enforce: policy.Log, refused: "was not written by pgseccomp install",
			files: map[string]string{ConfDir + "/" + SnippetName: "pgseccomp.enabled = on\n"}},
		{name: "lint refuses", enforce: policy.Error, refused: "x.conf:1: the server would not start",
			check: func(*pgconf.File) []string { return []string{"x.conf:1: the server would not start"} }},
		{name: "kill", enforce: policy.Kill, refused: "kill makes every denial a crash restart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := layout(t, tc.files)
			e, err := cluster.FindExisting("", dir)
			if err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(filepath.Join(dir, ConfDir, SnippetName))
			pl, err := Install(e, p, tc.enforce, tc.check)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("Install: %v, want a refusal containing %q", err, tc.refused)
				}
				after, _ := os.ReadFile(filepath.Join(dir, ConfDir, SnippetName))
				if string(after) != string(before) {
					t.Fatal("a refused install changed the snippet")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := pl.Apply(); err != nil {
				t.Fatal(err)
			}
			f, err := pgconf.Load(filepath.Join(dir, "postgresql.conf"))
			if err != nil {
				t.Fatal(err)
			}
			if s, _ := f.Lookup(policy.PreloadLibrariesName); s.Value != tc.preload {
				t.Errorf("shared_preload_libraries = %q at %s, want %q", s.Value, s.Where(), tc.preload)
			}
			if s, _ := f.Lookup(policy.GlobalDefaultName); s.Value != tc.enforce.String() {
				t.Errorf("%s = %q, want %q", policy.GlobalDefaultName, s.Value, tc.enforce)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, ConfDir, ".*")); len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
			// Uninstall gives back the configuration there was.
			un, err := Uninstall(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := un.Apply(); err != nil {
				t.Fatal(err)
			}
			g, err := pgconf.Load(filepath.Join(dir, "postgresql.conf"))
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(g.Lines, func(s pgconf.Setting) bool { return policy.IsSetting(s.Name) }) {
				t.Errorf("pgseccomp settings left after uninstall: %v", g.Lines)
			}
			if s, _ := g.Lookup(policy.PreloadLibrariesName); (s.Value == "") != (tc.files == nil) {
				t.Errorf("shared_preload_libraries after uninstall = %q", s.Value)
			}
		})
	}
}

func TestUninstallLeavesForeignFile(t *testing.T) {
	dir := layout(t, map[string]string{ConfDir + "/" + SnippetName: "pgseccomp.enabled = on\n"})
	e, err := cluster.FindExisting("", dir)
	if err != nil {
		t.Fatal(err)
	}
	var refused *RefusedError
	if _, err := Uninstall(e); !errors.As(err, &refused) {
		t.Fatalf("Uninstall of a file install did not write: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfDir, SnippetName)); err != nil {
		t.Fatal(err)
	}
}

// TestInstallNamesOtherMajor: the shipped profile for 15 installed on a
// cluster of 18 is a note (install does not refuse it), naming both.
func TestInstallNamesOtherMajor(t *testing.T) {
	p, err := profile.Read(shipped)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		version string
		warned  bool
	}{{"15\n", false}, {"18\n", true}} {
		e, err := cluster.FindExisting("", layout(t, map[string]string{"PG_VERSION": c.version}))
		if err != nil {
			t.Fatal(err)
		}
		pl, err := Install(e, p, policy.Log, nil)
		if err != nil {
			t.Fatal(err)
		}
		warned := false
		for _, n := range pl.Notes {
			if strings.Contains(n, "the profile is for PostgreSQL 15") && strings.Contains(n, "the server is PostgreSQL 18") {
				warned = true
			}
		}
		if warned != c.warned {
			t.Errorf("PG_VERSION %q: notes %q, want a note on the major: %v", strings.TrimSpace(c.version), pl.Notes, c.warned)
		}
	}
}
