package profile

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// L makes a layer: a default and "syscall:action" entries.
func L(t testing.TB, def string, entries ...string) Layer {
	t.Helper()
	d, err := policy.ParseAction(def)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]policy.Action{}
	for _, e := range entries {
		name, action, _ := strings.Cut(e, ":")
		a, err := policy.ParseAction(action)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = a
	}
	return NewLayer(d, m)
}

func prof(name string, global, session Layer, roles map[string]Layer) *Profile {
	return &Profile{Format: Format, Source: name, Provenance: Provenance{Architecture: "x86_64"}, Global: global, Session: session, Roles: roles}
}

func TestMergeLayers(t *testing.T) {
	tests := []struct {
		name string
		a, b Layer
		want Layer
	}{
		{"most permissive wins, defaults too",
			L(t, "error", "read:allow"), L(t, "allow", "ptrace:error"),
			L(t, "allow", "read:allow", "ptrace:error")},
		{"two allow-lists: their union",
			L(t, "error", "read:allow", "close:allow"), L(t, "error", "write:allow", "close:allow"),
			L(t, "error", "read:allow", "write:allow", "close:allow")},
		{"log beats error and kill",
			L(t, "error", "mount:log"), L(t, "kill", "mount:error"),
			L(t, "error", "mount:log")},
		{"a syscall one input lists gets the other's default when that is more permissive",
			L(t, "log", "acct:kill"), L(t, "error"),
			L(t, "log", "acct:error")},
		{"a syscall listed in neither keeps the least of the defaults",
			L(t, "kill", "read:allow"), L(t, "error", "read:allow"),
			L(t, "error", "read:allow")},
		{"an entry equal to the merged default is kept",
			L(t, "allow", "read:allow"), L(t, "allow", "write:log"),
			L(t, "allow", "read:allow", "write:allow")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][2]Layer{{tt.a, tt.b}, {tt.b, tt.a}} {
				m, err := Merge(prof("a.json", order[0], order[1], nil), prof("b.json", order[1], order[0], nil))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(m.Global, tt.want) || !reflect.DeepEqual(m.Session, tt.want) {
					t.Errorf("merged\n global %+v\n session %+v\nwant %+v", m.Global, m.Session, tt.want)
				}
			}
		})
	}
}

// TestMergeRoleFallback: where an input has no layer for a role, its
// sessions get the session layer there, and that is what is merged.
func TestMergeRoleFallback(t *testing.T) {
	a := prof("a.json", L(t, "allow"), L(t, "error", "read:allow", "write:allow", "kill:allow"),
		map[string]Layer{"joe": L(t, "error", "read:allow")})
	b := prof("b.json", L(t, "allow"), L(t, "error", "read:allow", "openat:allow", "kill:error"),
		map[string]Layer{"ann": L(t, "kill", "read:allow", "sendto:log")})
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Layer{
		// joe: a's own layer with b's session layer
		"joe": L(t, "error", "read:allow", "openat:allow", "kill:error"),
		// ann: a's session layer with b's own layer
		"ann": L(t, "error", "read:allow", "write:allow", "kill:allow", "sendto:log"),
	}
	if !reflect.DeepEqual(m.Roles, want) {
		t.Errorf("roles\n%+v\nwant\n%+v", m.Roles, want)
	}
	if want := L(t, "error", "read:allow", "write:allow", "openat:allow", "kill:allow"); !reflect.DeepEqual(m.Session, want) {
		t.Errorf("session %+v", m.Session)
	}
}

// TestMergeFixtures: on two real recordings, every session of every role
// gets, for every syscall, the most permissive action of the inputs.
func TestMergeFixtures(t *testing.T) {
	a, b := readFixture(t, "recorded.json"), readFixture(t, "archive.json")
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("merged profile is invalid: %v", err)
	}
	names := append(a.Global.Names(), b.Global.Names()...)
	names = append(names, "acct", "mount", "ptrace", "kexec_load", "unshare")
	for _, r := range []string{"", "Joe", "josé", "reporting", "nobody"} {
		for _, name := range names {
			want := min(a.SessionLayerOf(r).Action(name), b.SessionLayerOf(r).Action(name))
			if got := m.SessionLayerOf(r).Action(name); got != want {
				t.Errorf("role %q, %s: %v, want %v", r, name, got, want)
			}
		}
	}
	for _, name := range names {
		if got, want := m.Global.Action(name), min(a.Global.Action(name), b.Global.Action(name)); got != want {
			t.Errorf("global %s: %v, want %v", name, got, want)
		}
	}
	// Counts add; a role's only where the role has its own layer.
	if got := m.Global.Counts["read"]; got != 6021+100 {
		t.Errorf("global read count %d", got)
	}
	if got := m.Global.Counts["execve"]; got != 12 {
		t.Errorf("global execve count %d", got)
	}
	if got := m.Roles["Joe"].Counts["read"]; got != 310+5 {
		t.Errorf("Joe's read count %d", got)
	}
	if got := m.Roles["josé"].Counts; got != nil {
		t.Errorf("josé's counts %v, want none (neither input counted for the role)", got)
	}

	pv := m.Provenance
	if pv.Tool != MergeTool || pv.Architecture != "x86_64" || !pv.RecordedAt.Equal(time.Date(2025, 11, 28, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("provenance %+v", pv)
	}
	if !reflect.DeepEqual(pv.MergedFrom, []string{"testdata/recorded.json", "testdata/archive.json"}) {
		t.Errorf("merged_from %q", pv.MergedFrom)
	}
	if !reflect.DeepEqual(pv.Workloads, []string{"pgbench", "maintenance", "archive"}) {
		t.Errorf("workloads %q", pv.Workloads)
	}
	if pv.PostgreSQL != "15.14 (Debian 15.14-0+deb12u1); 15.15 (Debian 15.15-0+deb12u1)" || pv.Glibc != "2.36" {
		t.Errorf("versions %q %q", pv.PostgreSQL, pv.Glibc)
	}
	if pv.Seconds != 180.4 || len(pv.Added) != 1 || pv.Passes != nil {
		t.Errorf("seconds %v, added %v, passes %v", pv.Seconds, pv.Added, pv.Passes)
	}

	// Merging is idempotent and the order of inputs does not change the
	// filters.
	again, err := Merge(m, a)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := Merge(b, a)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []*Profile{again, ba} {
		if d := Diff(m, other); d.Differ() {
			t.Errorf("filters differ:\n%s", d.Text())
		}
	}
	self, err := Merge(a, a)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(a, self); d.Differ() {
		t.Errorf("a profile merged with itself differs:\n%s", d.Text())
	}
}

func TestMergeRefuses(t *testing.T) {
	x86 := readFixture(t, "recorded.json")
	arm := readFixture(t, "aarch64.json")
	tests := []struct {
		name     string
		profiles []*Profile
		want     []string
	}{
		{"architectures differ", []*Profile{x86, arm},
			[]string{"cannot merge testdata/recorded.json (x86_64) with testdata/aarch64.json (aarch64)", "merge the profiles of each architecture separately"}},
		{"nothing", nil, []string{"nothing to merge"}},
		{"roles differing in case",
			[]*Profile{prof("a.json", L(t, "allow"), L(t, "allow"), map[string]Layer{"joe": L(t, "error")}),
				prof("b.json", L(t, "allow"), L(t, "allow"), map[string]Layer{"Joe": L(t, "error")})},
			[]string{`cannot merge role "joe" of a.json with role "Joe" of b.json: the names differ only in case`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Merge(tt.profiles...)
			if err == nil {
				t.Fatalf("merged: %+v", m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

// TestMergePaths: the merged profile's paths are the union of the inputs',
// path by path and layer by layer.
func TestMergePaths(t *testing.T) {
	a := prof("a.json", L(t, "error", "read:allow"), L(t, "error"), nil)
	b := prof("b.json", L(t, "error", "write:allow"), L(t, "error"), nil)
	a.Provenance.Paths = map[string]PathSyscalls{"base backup": {Global: []string{"read", "openat"}}, "login local peer": {Session: []string{"read"}}}
	b.Provenance.Paths = map[string]PathSyscalls{"base backup": {Global: []string{"write", "read"}, Session: []string{"sendto"}}}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]PathSyscalls{
		"base backup":      {Global: []string{"openat", "read", "write"}, Session: []string{"sendto"}},
		"login local peer": {Session: []string{"read"}},
	}
	if !reflect.DeepEqual(m.Provenance.Paths, want) {
		t.Errorf("merged paths %+v, want %+v", m.Provenance.Paths, want)
	}
}
