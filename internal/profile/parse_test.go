package profile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

func readFixture(t testing.TB, name string) *Profile {
	t.Helper()
	p, err := Read(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFixtures(t *testing.T) {
	p := readFixture(t, "recorded.json")
	if p.Source != "testdata/recorded.json" || p.Provenance.Architecture != "x86_64" {
		t.Errorf("source %q, arch %q", p.Source, p.Provenance.Architecture)
	}
	if got := p.RoleNames(); !reflect.DeepEqual(got, []string{"Joe", "josé"}) {
		t.Errorf("roles %q", got)
	}
	if a := p.Global.Action("readlink"); a != policy.Log {
		t.Errorf("global readlink: %v", a)
	}
	if a := p.Global.Action("ptrace"); a != policy.Error {
		t.Errorf("global ptrace (default): %v", a)
	}
	if a := p.SessionLayerOf("ann").Action("acct"); a != policy.Error {
		t.Errorf("ann's acct: %v", a)
	}
	if a := p.SessionLayerOf("Joe").Action("acct"); a != policy.Error {
		t.Errorf("Joe's acct (default): %v", a)
	}
	if n := p.Global.Counts["read"]; n != 6021 {
		t.Errorf("count of read %d", n)
	}
	if want := time.Date(2025, 11, 27, 23, 10, 4, 0, time.UTC); !p.Provenance.RecordedAt.Equal(want) {
		t.Errorf("recorded_at %v", p.Provenance.RecordedAt)
	}

	// An alias of an architecture is read as its libseccomp name.
	if a := readFixture(t, "archive.json").Provenance.Architecture; a != "x86_64" {
		t.Errorf("amd64 read as %q", a)
	}
}

// minimal is the smallest valid profile; the error cases change one thing.
const minimal = `{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64"},
 "global": {"default": "allow"}, "session": {"default": "allow"}}`

func TestParseMinimal(t *testing.T) {
	p, err := Parse([]byte(minimal), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Global.Default != policy.Allow || p.Global.Allow != nil || p.Roles != nil {
		t.Errorf("%+v", p)
	}
}

// TestParseErrors: every problem is reported with the file, the JSON
// location, the offending value and what to do.
func TestParseErrors(t *testing.T) {
	layerWith := func(global, session string) string {
		return `{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64"}, "global": ` + global + `, "session": ` + session + `}`
	}
	withRoles := func(roles string) string {
		return strings.TrimSuffix(minimal, "}") + `, "roles": ` + roles + `}`
	}
	withProvenance := func(pv string) string {
		return `{"format": "pgseccomp-profile/1", "provenance": ` + pv + `, "global": {"default": "allow"}, "session": {"default": "allow"}}`
	}
	longRole := strings.Repeat("r", 64)
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"empty file", " \n", []string{"p.json: the file is empty"}},
		{"broken JSON", "{\n  \"format\": \"pgseccomp-profile/1\",\n  \"global\": {\"default\": \"allow\",}\n}", []string{"p.json:3:", "invalid JSON", "a profile is a JSON object"}},
		{"not an object", `["read"]`, []string{"p.json: [\"read\"]: want a JSON object ({...}), not an array"}},
		{"no format", `{"provenance": {"architecture": "x86_64"}, "global": {"default": "allow"}, "session": {"default": "allow"}}`,
			[]string{`p.json: format: missing: a profile says its format first, "format": "pgseccomp-profile/1"`}},
		{"newer format", strings.Replace(minimal, "profile/1", "profile/2", 1),
			[]string{`p.json: format = "pgseccomp-profile/2": this pgseccomp reads profiles of format pgseccomp-profile/1 only`}},
		{"another format", strings.Replace(minimal, "pgseccomp-profile/1", "oci", 1),
			[]string{`p.json: format = "oci": not a pgseccomp profile`}},
		{"format not a string", strings.Replace(minimal, `"pgseccomp-profile/1"`, "1", 1),
			[]string{`p.json: format = 1: want a string, not a number`}},
		{"unknown top-level key", withRoles(`{}`)[:len(withRoles(`{}`))-1] + `, "role": {}}`,
			[]string{`p.json: role: unknown key: a profile has format, provenance, global, session, roles`}},
		{"misspelt list", layerWith(`{"default": "allow"}`, `{"default": "error", "alow": ["read"]}`),
			[]string{`p.json: session.alow: unknown key: session has default, allow, log, error, kill, counts; correct or remove it (a misspelt key would be ignored`}},
		{"key in another case", layerWith(`{"Default": "allow"}`, `{"default": "allow"}`),
			[]string{`p.json: global."Default": unknown key`, `p.json: global.default: missing`}},
		{"key twice", layerWith(`{"default": "allow"}`, `{"default": "error", "allow": ["read"], "allow": ["write"]}`),
			[]string{`p.json: session.allow: the key is given twice`}},
		{"no default", layerWith(`{"allow": ["read"]}`, `{"default": "allow"}`),
			[]string{`p.json: global.default: missing: a layer gives its default action (allow, log, error or kill)`}},
		{"no session layer", `{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64"}, "global": {"default": "allow"}}`,
			[]string{`p.json: session: missing: a profile has a session layer`}},
		{"unknown action", layerWith(`{"default": "allow"}`, `{"default": "deny"}`),
			[]string{`p.json: session.default = "deny": unknown action: use allow, log, error or kill`}},
		{"no architecture", withProvenance(`{"tool": "x"}`),
			[]string{`p.json: provenance.architecture: missing: the syscall names depend on it`}},
		{"unknown architecture", withProvenance(`{"architecture": "vax"}`),
			[]string{`p.json: provenance.architecture = "vax": unknown architecture: give the libseccomp name of the server's architecture (x86_64, i386`}},
		{"unknown syscall", layerWith(`{"default": "allow"}`, `{"default": "error", "allow": ["read", "write", "close", "raed"]}`),
			[]string{`p.json: session.allow[3] = "raed": unknown syscall: libseccomp`, `knows no syscall of that name on x86_64 or any other architecture; correct or remove it`}},
		{"syscall of another architecture", layerWith(`{"default": "allow", "error": ["socketcall"]}`, `{"default": "allow"}`),
			[]string{`p.json: global.error[0] = "socketcall": no such syscall on x86_64, the profile's architecture (it exists on i386`}},
		{"upper-case name", layerWith(`{"default": "allow", "allow": ["READ"]}`, `{"default": "allow"}`),
			[]string{`p.json: global.allow[0] = "READ": not a syscall name (syscall names are lower-case letters, digits and "_")`}},
		{"NUL in a name", layerWith(`{"default": "allow", "allow": ["read\u0000x"]}`, `{"default": "allow"}`),
			[]string{`p.json: global.allow[0] = "read\u0000x": not a syscall name`}},
		{"empty name", layerWith(`{"default": "allow", "kill": [""]}`, `{"default": "allow"}`),
			[]string{`p.json: global.kill[0] = "": empty syscall name: remove it`}},
		{"name in two lists", layerWith(`{"default": "allow"}`, `{"default": "error", "allow": ["read", "clone"], "error": ["clone"]}`),
			[]string{`p.json: session.error[0] = "clone": also in session.allow[1]: a syscall has one action in a layer, so keep it in one list`}},
		{"name twice in a list", layerWith(`{"default": "allow", "allow": ["read", "write", "read"]}`, `{"default": "allow"}`),
			[]string{`p.json: global.allow[2] = "read": named twice (also global.allow[0]): name each syscall once`}},
		{"not a string in a list", layerWith(`{"default": "allow", "allow": ["read", 1]}`, `{"default": "allow"}`),
			[]string{`p.json: global.allow[1] = 1: want a string, not a number`}},
		{"list not an array", layerWith(`{"default": "allow", "allow": "read,write"}`, `{"default": "allow"}`),
			[]string{`p.json: global.allow = "read,write": want an array ([...]), not a string`}},
		{"negative count", layerWith(`{"default": "allow", "counts": {"read": -1}}`, `{"default": "allow"}`),
			[]string{`p.json: global.counts."read" = -1: want a whole number from 0 to 18446744073709551615`}},
		{"fractional count", layerWith(`{"default": "allow", "counts": {"read": 1.5}}`, `{"default": "allow"}`),
			[]string{`p.json: global.counts."read" = 1.5: want a whole number`}},
		{"count of an unknown syscall", layerWith(`{"default": "allow", "counts": {"frobnicate": 3}}`, `{"default": "allow"}`),
			[]string{`p.json: global.counts."frobnicate": unknown syscall`}},
		{"empty role name", withRoles(`{"": {"default": "error"}}`),
			[]string{`p.json: roles."": empty role name: give the role's name, or remove the entry`}},
		{"role name PostgreSQL cannot have settings for", withRoles(`{"app-user": {"default": "error"}}`),
			[]string{`p.json: roles."app-user": a role with this name cannot have its own layer: its per-role settings (session_syscall_allow.app-user) cannot be written in postgresql.conf`}},
		{"role name with a dollar", withRoles(`{"app$1": {"default": "error"}}`),
			[]string{`p.json: roles."app$1": a role with this name cannot have its own layer`, `remove the entry, so that the role's sessions get the session layer`}},
		{"role name too long", withRoles(`{"` + longRole + `": {"default": "error"}}`),
			[]string{`p.json: roles."` + longRole + `": the role name is longer than PostgreSQL's 63-byte limit`}},
		{"roles differing in case", withRoles(`{"joe": {"default": "error"}, "Joe": {"default": "log"}}`),
			[]string{`p.json: roles."joe": roles "Joe" and "joe" differ only in case, and pgseccomp's per-role settings (session_syscall_allow.<role>) do not: keep one`}},
		{"role given twice", withRoles(`{"joe": {"default": "error"}, "joe": {"default": "log"}}`),
			[]string{`p.json: roles."joe": the key is given twice`}},
		{"role default unknown", withRoles(`{"joe": {"default": "forbid"}}`),
			[]string{`p.json: roles."joe".default = "forbid": unknown action`}},
		{"role list unknown syscall", withRoles(`{"Joe": {"default": "error", "allow": ["read", "opne"]}}`),
			[]string{`p.json: roles."Joe".allow[1] = "opne": unknown syscall`}},
		{"roles not an object", withRoles(`["joe"]`),
			[]string{`p.json: roles = ["joe"]: want a JSON object ({...}), not an array`}},
		{"bad time", withProvenance(`{"architecture": "x86_64", "recorded_at": "yesterday"}`),
			[]string{`p.json: provenance.recorded_at = "yesterday": not a time: write it as RFC 3339`}},
		{"negative seconds", withProvenance(`{"architecture": "x86_64", "seconds": -3}`),
			[]string{`p.json: provenance.seconds = -3: want the recording's wall time in seconds, 0 or more`}},
		{"unknown phase", withProvenance(`{"architecture": "x86_64", "passes": [{"number": 1, "phase": "warmup", "records": 3, "seconds": 1}]}`),
			[]string{`p.json: provenance.passes[0].phase = "warmup": unknown phase: use global, session, confirm, enforce`}},
		{"unknown syscall first seen", withProvenance(`{"architecture": "x86_64", "passes": [{"number": 1, "phase": "global", "new": ["read", "bogus"]}]}`),
			[]string{`p.json: provenance.passes[0].new[1] = "bogus": unknown syscall`}},
		{"withheld from an unknown layer", withProvenance(`{"architecture": "x86_64", "added": [{"layer": "global", "syscalls": ["pwritev"], "why": "WAL"}], "withheld": [{"layer": "client", "syscalls": ["io_uring_setup"], "why": "io_uring"}]}`),
			[]string{`p.json: provenance.withheld[0].layer = "client": unknown layer`}},
		{"withheld without a reason", withProvenance(`{"architecture": "x86_64", "withheld": [{"layer": "session", "syscalls": ["io_uring_setup"], "why": ""}]}`),
			[]string{`p.json: provenance.withheld[0].why = "": say why these syscalls were withheld`}},
		{"withheld misspelt syscall", withProvenance(`{"architecture": "x86_64", "withheld": [{"layer": "session", "syscalls": ["io_uring_stup"], "why": "io_uring"}]}`),
			[]string{`p.json: provenance.withheld[0].syscalls[0] = "io_uring_stup": unknown syscall`}},
		{"misspelt syscall on a path", withProvenance(`{"architecture": "x86_64", "paths": {"login hostssl cert": {"global": ["read", "getsockpt"]}}}`),
			[]string{`p.json: provenance.paths."login hostssl cert".global[1] = "getsockpt": unknown syscall`}},
		{"path with an unknown layer", withProvenance(`{"architecture": "x86_64", "paths": {"wal": {"client": ["read"]}}}`),
			[]string{`p.json: provenance.paths."wal".client: unknown key`}},
		{"path without a name", withProvenance(`{"architecture": "x86_64", "paths": {"": {"session": ["read"]}}}`),
			[]string{`p.json: provenance.paths."": empty path name`}},
		{"addition to a role without a layer", withProvenance(`{"architecture": "x86_64", "added": [{"layer": "role bob", "syscalls": ["pwritev"], "why": "WAL"}]}`),
			[]string{`p.json: provenance.added[0].layer = "role bob": the profile has no layer for role "bob"`}},
		{"addition to an unknown layer", withProvenance(`{"architecture": "x86_64", "added": [{"layer": "client", "syscalls": ["pwritev"], "why": "WAL"}]}`),
			[]string{`p.json: provenance.added[0].layer = "client": unknown layer: use "global", "session" or "role <name>"`}},
		{"addition without a reason", withProvenance(`{"architecture": "x86_64", "added": [{"layer": "global", "syscalls": ["pwritev"], "why": " "}]}`),
			[]string{`p.json: provenance.added[0].why = " ": say why these syscalls were added`}},
		{"unknown provenance key", withProvenance(`{"architecture": "x86_64", "host": "db1"}`),
			[]string{`p.json: provenance.host: unknown key: provenance has tool, recorded_at, architecture`}},
		{"every problem", layerWith(`{"default": "allow", "allow": ["raed", 7, "wirte"]}`, `{"default": "nope", "error": ["acct", "clone"], "log": ["clone"]}`),
			[]string{"p.json: global.allow[0] = \"raed\": unknown syscall", "p.json: global.allow[1] = 7: want a string", "p.json: global.allow[2] = \"wirte\": unknown syscall",
				"p.json: session.default = \"nope\": unknown action", "p.json: session.error[1] = \"clone\": also in session.log[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.data), "p.json")
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T, want Errors: %v", err, err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			for _, e := range errs {
				if e.File != "p.json" || e.Msg == "" {
					t.Errorf("incomplete error %+v", e)
				}
			}
		})
	}
}

// TestParseCapsErrors: a thoroughly wrong file gets a readable message.
func TestParseCapsErrors(t *testing.T) {
	var names []string
	for i := 0; i < 80; i++ {
		names = append(names, `"nope`+strings.Repeat("x", i%7)+`"`)
	}
	data := `{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64"}, "global": {"default": "allow", "allow": [` +
		strings.Join(names, ",") + `]}, "session": {"default": "allow"}}`
	_, err := Parse([]byte(data), "p.json")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != maxErrors+1 || !strings.Contains(errs[maxErrors].Msg, "and 30 more problems") {
		t.Fatalf("%d errors: %v", len(errs), err)
	}
}

func TestReadMissing(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "none.json"))
	if err == nil || !strings.Contains(err.Error(), "cannot read profile") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("%v", err)
	}
}

func TestSniff(t *testing.T) {
	for data, want := range map[string]bool{
		`{"format": "pgseccomp-profile/1"}`:    true,
		"\xef\xbb\xbf\n  {":                    true,
		"{":                                    true,
		"shared_preload_libraries = 'x'\n":     false,
		"# {\npgseccomp.enabled = on\n":        false,
		"":                                     false,
		"   ":                                  false,
		`["pgseccomp-profile/1"]`:              false,
		"pgseccomp.global_syscall_allow = '{'": false,
	} {
		if got := Sniff([]byte(data)); got != want {
			t.Errorf("Sniff(%q) = %v", data, got)
		}
	}
}

// TestWriteDeterministic: the same profile gives the same bytes, with
// lists sorted and times in UTC, and reads back equal.
func TestWriteDeterministic(t *testing.T) {
	p := readFixture(t, "recorded.json")
	var first bytes.Buffer
	if err := p.Write(&first); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		var again bytes.Buffer
		if err := p.Clone().Write(&again); err != nil {
			t.Fatal(err)
		}
		if again.String() != first.String() {
			t.Fatalf("output %d differs", i)
		}
	}
	back, err := Parse(first.Bytes(), p.Source)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("read back differs:\n%+v\n%+v", back, p)
	}

	// What a recording withheld reads back as written.
	w := p.Clone()
	w.Provenance.Withheld = []Addition{{Layer: "session", Syscalls: []string{"io_uring_setup", "io_uring_enter"}, Why: "io_uring"}}
	var wb bytes.Buffer
	if err := w.Write(&wb); err != nil {
		t.Fatal(err)
	}
	if back, err := Parse(wb.Bytes(), "w.json"); err != nil || !reflect.DeepEqual(back.Provenance.Withheld, []Addition{{Layer: "session", Syscalls: []string{"io_uring_enter", "io_uring_setup"}, Why: "io_uring"}}) {
		t.Errorf("withheld read back: %v, %+v", err, back)
	}

	// A recording's paths read back sorted, as written.
	pw := p.Clone()
	pw.Provenance.Paths = map[string]PathSyscalls{"login hostssl scram-sha-256": {Global: []string{"getsockopt", "accept"}, Session: []string{"read"}}, "built-in/wal": {Global: []string{"pwritev"}}}
	var pb bytes.Buffer
	if err := pw.Write(&pb); err != nil {
		t.Fatal(err)
	}
	wantPaths := map[string]PathSyscalls{"login hostssl scram-sha-256": {Global: []string{"accept", "getsockopt"}, Session: []string{"read"}}, "built-in/wal": {Global: []string{"pwritev"}}}
	if back, err := Parse(pb.Bytes(), "pw.json"); err != nil || !reflect.DeepEqual(back.Provenance.Paths, wantPaths) {
		t.Errorf("paths read back: %v, %+v", err, back)
	}

	// Made in memory, unsorted, in another time zone.
	q := &Profile{
		Provenance: Provenance{Architecture: "arm64", RecordedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))},
		Global:     Layer{Default: policy.Error, Allow: []string{"write", "read"}},
		Session:    NewLayer(policy.Log, map[string]policy.Action{"openat": policy.Error, "close": policy.Allow}),
	}
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("a profile without a format validated: %v", err)
	}
	var b bytes.Buffer
	if err := q.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`"format": "pgseccomp-profile/1"`, `"recorded_at": "2025-01-02T02:04:05Z"`, `"architecture": "aarch64"`,
		"\"allow\": [\n      \"read\",\n      \"write\"\n    ]", `"workloads": []`, "\"session\": {\n    \"default\": \"log\",\n    \"allow\": [\n      \"close\"\n    ],\n    \"error\": [\n      \"openat\"\n    ]\n  }\n}\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := Parse(b.Bytes(), "q.json"); err != nil {
		t.Errorf("written profile does not read: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	p := readFixture(t, "archive.json")
	path := filepath.Join(t.TempDir(), "out.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("%v %v", fi, err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	back.Source = p.Source
	if !reflect.DeepEqual(back, p) {
		t.Errorf("read back differs")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := p.WriteFile(filepath.Join(t.TempDir(), "missing", "out.json")); err == nil || !strings.Contains(err.Error(), "writing profile") {
		t.Errorf("writing into a missing directory: %v", err)
	}
}

func TestLayerSet(t *testing.T) {
	l := Layer{Default: policy.Error, Allow: []string{"read"}}
	l.Set("write", policy.Allow)
	l.Set("read", policy.Log)
	l.Set("read", policy.Log)
	if !reflect.DeepEqual(l.Allow, []string{"write"}) || !reflect.DeepEqual(l.Log, []string{"read"}) {
		t.Errorf("%+v", l)
	}
	if got := l.Names(); !reflect.DeepEqual(got, []string{"read", "write"}) {
		t.Errorf("names %v", got)
	}
	if a, ok := l.Lookup("clone"); ok || l.Action("clone") != policy.Error {
		t.Errorf("clone: %v %v", a, ok)
	}
}

// TestParseErrorOrder: problems are listed in the order of the file,
// whether the JSON's shape or a value is wrong.
func TestParseErrorOrder(t *testing.T) {
	data := `{"format": "pgseccomp-profile/1", "provenance": {"architecture": "x86_64"},
	 "global": {"default": "allow", "allow": ["raed", 7, "wirte"]},
	 "session": {"default": "nope", "error": ["acct", "clone"], "log": ["clone"]}}`
	_, err := Parse([]byte(data), "p.json")
	var locs []string
	var errs Errors
	errors.As(err, &errs)
	for _, e := range errs {
		locs = append(locs, e.Location)
	}
	want := []string{"global.allow[0]", "global.allow[1]", "global.allow[2]", "session.default", "session.error[1]"}
	if !reflect.DeepEqual(locs, want) {
		t.Errorf("locations %q, want %q", locs, want)
	}
}
