package profile

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// readBack writes the snippet into a conf.d directory that a
// postgresql.conf includes, reads it as the postmaster would, and builds
// the layers as the extension would.
func readBack(t *testing.T, snippet string, arch policy.Arch) (*policy.Settings, *policy.Policy) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf.d", "pgseccomp.conf"), []byte(snippet), 0o644); err != nil {
		t.Fatal(err)
	}
	main := "shared_preload_libraries = 'pg_stat_statements,pgseccomp'\ninclude_dir = 'conf.d'\n"
	if err := os.WriteFile(filepath.Join(dir, "postgresql.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := pgconf.LoadOptions(filepath.Join(dir, "postgresql.conf"), pgconf.Options{NoAutoConf: true})
	if err != nil {
		t.Fatalf("the snippet does not read as a configuration: %v\n%s", err, snippet)
	}
	s, err := policy.SettingsFromConf(f)
	if err != nil {
		t.Fatalf("pgseccomp would reject the snippet's settings: %v\n%s", err, snippet)
	}
	p, err := s.Build(arch)
	if err != nil {
		t.Fatalf("pgseccomp would reject the snippet's lists: %v\n%s", err, snippet)
	}
	return s, p
}

// layerFromPolicy is a built layer as a profile layer.
func layerFromPolicy(l *policy.Layer) Layer {
	out := Layer{Default: l.Default}
	for _, a := range policy.Actions {
		*out.list(a) = l.Names(a)
	}
	out.normalize()
	return out
}

// withoutCounts is the layer's filter alone.
func withoutCounts(l Layer) Layer {
	l = l.clone()
	l.Counts = nil
	return l
}

// roundTripProfile has roles whose names need care: mixed case, bytes
// above 0x7f, digits.
func roundTripProfile(t *testing.T) *Profile {
	p := readFixture(t, "recorded.json")
	p.Roles["report_2"] = L(t, "kill", "read:allow", "write:allow", "sendto:log")
	p.Roles["_ops"] = L(t, "allow", "ptrace:error", "kexec_load:kill")
	p.Roles["Ärger"] = L(t, "error", "read:allow")
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSnippetRoundTrip: the snippet, read back as PostgreSQL reads it and
// built as the extension builds it, gives exactly the profile's layers.
func TestSnippetRoundTrip(t *testing.T) {
	p := roundTripProfile(t)
	arch, _ := p.Arch()
	s, built := readBack(t, Snippet(p, nil), arch)
	if !s.Active() || !s.Enabled {
		t.Errorf("the snippet with a preloading postgresql.conf is not active")
	}
	wantRoles := p.RoleNames()
	if !reflect.DeepEqual(s.SessionRoles, wantRoles) {
		t.Errorf("session_roles read back as %q, want %q", s.SessionRoles, wantRoles)
	}
	check := func(name string, got *policy.Layer, want Layer) {
		t.Helper()
		if got == nil {
			t.Errorf("%s: no layer", name)
			return
		}
		if g, w := layerFromPolicy(got), withoutCounts(want); !reflect.DeepEqual(g, w) {
			t.Errorf("%s read back as\n%+v\nwant\n%+v", name, g, w)
		}
	}
	check("global", built.Global, p.Global)
	check("session", built.Session, p.Session)
	for _, r := range wantRoles {
		check("role "+r, built.Roles[r], p.Roles[r])
	}
	if len(built.Roles) != len(wantRoles) {
		t.Errorf("roles built: %d, want %d", len(built.Roles), len(wantRoles))
	}
	// A session of a role authenticating as "joe" is not Joe's.
	if built.SessionLayer("joe") != built.Session {
		t.Errorf("role joe got Joe's layer")
	}

	// ToSettings gives the same settings, located in the profile.
	ts, err := ToSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ts.Build(arch)
	if err != nil {
		t.Fatal(err)
	}
	check("global from ToSettings", tb.Global, p.Global)
	check("session from ToSettings", tb.Session, p.Session)
	for _, r := range wantRoles {
		check("role "+r+" from ToSettings", tb.Roles[r], p.Roles[r])
	}
	if w := ts.Where(policy.SessionListName(policy.Allow)); w != "testdata/recorded.json: session.allow" {
		t.Errorf("session allow list located at %q", w)
	}
	if w := ts.Where(policy.RoleListName(policy.Kill, "_ops")); w != `testdata/recorded.json: roles."_ops".kill` {
		t.Errorf("_ops's kill list located at %q", w)
	}
	if !ts.Active() {
		t.Errorf("a profile's settings are not active")
	}
}

// TestSnippetEnforce: --enforce replaces every default, lists unchanged.
func TestSnippetEnforce(t *testing.T) {
	p := roundTripProfile(t)
	arch, _ := p.Arch()
	for _, enforce := range []policy.Action{policy.Log, policy.Error, policy.Kill} {
		snippet := Snippet(p, &enforce)
		_, built := readBack(t, snippet, arch)
		layers := []*policy.Layer{built.Global, built.Session}
		for _, r := range p.RoleNames() {
			layers = append(layers, built.Roles[r])
		}
		for _, l := range layers {
			if l.Default != enforce {
				t.Errorf("--enforce %s: a layer's default is %s", enforce, l.Default)
			}
		}
		if got := built.Global.Names(policy.Allow); !reflect.DeepEqual(got, p.Global.Allow) {
			t.Errorf("--enforce %s changed the global allow list", enforce)
		}
		if !strings.Contains(snippet, "# Enforcing: every default action here is "+enforce.String()) {
			t.Errorf("--enforce %s: the header does not say so", enforce)
		}
	}
}

func TestSnippetGolden(t *testing.T) {
	p := readFixture(t, "recorded.json")
	golden(t, "recorded.conf.golden", Snippet(p, nil))
	e := policy.Error
	golden(t, "recorded-enforce-error.conf.golden", Snippet(readFixture(t, "archive.json"), &e))
}

// TestSnippetHeaderIsComment: provenance with line breaks cannot add
// settings to the file.
func TestSnippetHeaderIsComment(t *testing.T) {
	p := readFixture(t, "aarch64.json")
	p.Provenance.PostgreSQL = "15\npgseccomp.enabled = off"
	p.Provenance.Workloads = []string{"a\rb", "c\x00d"}
	p.Provenance.Added = []Addition{{Layer: "global", Syscalls: []string{"ptrace"}, Why: "x\n\nshared_preload_libraries = ''"}}
	snippet := Snippet(p, nil)
	entries, errs := pgconf.Parse([]byte(snippet), "pgseccomp.conf")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, e := range entries {
		if e.Name == "shared_preload_libraries" || e.Name == policy.EnabledName && e.Value != "on" {
			t.Errorf("a provenance field became a setting: %s = %q", e.Name, e.Value)
		}
	}
}

func TestQuoteRoleName(t *testing.T) {
	for role, want := range map[string]string{
		"joe":      "joe",
		"report_2": "report_2",
		"_ops":     "_ops",
		"Joe":      `"Joe"`,
		"josé":     `"josé"`,
		"app-user": `"app-user"`,
		`a"b`:      `"a""b"`,
		"2fa":      `"2fa"`,
		"$x":       `"$x"`,
		"a b,c":    `"a b,c"`,
	} {
		got := QuoteRoleName(role)
		if got != want {
			t.Errorf("QuoteRoleName(%q) = %s, want %s", role, got, want)
		}
		// PostgreSQL's SplitIdentifierString (policy's copy of it, with
		// one more role) gives back the exact name.
		s, _ := policy.ParseSettingsMap(map[string]string{policy.SessionRolesName: got + ", other"})
		if len(s.SessionRoles) != 2 || s.SessionRoles[0] != role {
			t.Errorf("%s splits into %q", got, s.SessionRoles)
		}
	}
}

func TestLocations(t *testing.T) {
	p := roundTripProfile(t)
	m := Locations(p)
	for setting, want := range map[string]string{
		"pgseccomp.global_syscall_allow":    "global.allow",
		"pgseccomp.session_syscall_default": "session.default",
		"session_syscall_error.Joe":         `roles."Joe".error`,
		"session_syscall_default.Ärger":     `roles."Ärger".default`,
		"pgseccomp.session_roles":           "roles",
	} {
		if m[setting] != want {
			t.Errorf("%s -> %q, want %q", setting, m[setting], want)
		}
	}
}
