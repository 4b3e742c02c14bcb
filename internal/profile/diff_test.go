package profile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

func TestDiffLayers(t *testing.T) {
	tests := []struct {
		name string
		a, b *Profile
		want []LayerDifference
	}{
		{"same filters, different lists",
			// an entry equal to the default does nothing
			prof("a.json", L(t, "allow", "read:allow"), L(t, "error"), nil),
			prof("b.json", L(t, "allow"), L(t, "error"), nil),
			[]LayerDifference{}},
		{"an action and a default",
			prof("a.json", L(t, "error", "pwritev:error", "read:allow"), L(t, "error"), nil),
			prof("b.json", L(t, "error", "pwritev:allow", "read:allow"), L(t, "log"), nil),
			[]LayerDifference{
				{Layer: "global", Syscalls: []SyscallDifference{{"pwritev", policy.Error, policy.Allow, Looser}}},
				{Layer: "session", Default: &ActionChange{policy.Error, policy.Log, Looser}},
			}},
		{"effective actions: a listed syscall against the other's default",
			prof("a.json", L(t, "log"), L(t, "allow", "acct:error"), nil),
			prof("b.json", L(t, "log"), L(t, "error", "read:allow"), nil),
			// acct: error in both (A's list, B's default); read: allow in both
			[]LayerDifference{{Layer: "session", Default: &ActionChange{policy.Allow, policy.Error, Tighter}}}},
		{"a role only in B is compared with A's session layer",
			prof("a.json", L(t, "allow"), L(t, "error", "read:allow", "write:allow"), nil),
			prof("b.json", L(t, "allow"), L(t, "error", "read:allow", "write:allow"), map[string]Layer{"joe": L(t, "error", "read:allow")}),
			[]LayerDifference{{Layer: "role joe", Role: "joe", OnlyIn: "b", Syscalls: []SyscallDifference{{"write", policy.Allow, policy.Error, Tighter}}}}},
		{"a role only in A with the same filter still differs",
			prof("a.json", L(t, "allow"), L(t, "error", "read:allow"), map[string]Layer{"joe": L(t, "error", "read:allow")}),
			prof("b.json", L(t, "allow"), L(t, "error", "read:allow"), nil),
			[]LayerDifference{{Layer: "role joe", Role: "joe", OnlyIn: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(tt.a, tt.b)
			if !reflect.DeepEqual(d.Layers, tt.want) {
				t.Errorf("layers\n%+v\nwant\n%+v", d.Layers, tt.want)
			}
			if d.Differ() != (len(tt.want) > 0) {
				t.Errorf("Differ() = %v", d.Differ())
			}
		})
	}
}

func TestDiffFixtures(t *testing.T) {
	a, b := readFixture(t, "recorded.json"), readFixture(t, "archive.json")
	d := Diff(a, b)
	if !d.Differ() {
		t.Fatal("no difference")
	}
	golden(t, "diff.golden", d.Text())

	// The JSON form has the same facts, actions by name.
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"a":"testdata/recorded.json"`, `{"layer":"global","default":{"a":"error","b":"log","change":"looser"}`,
		`{"syscall":"execve","a":"error","b":"allow","change":"looser"}`, `{"syscall":"readlink","a":"log","b":"error","change":"tighter"}`, `{"layer":"role josé","role":"josé","only_in":"a"`,
		`{"field":"postgresql","a":"15.14 (Debian 15.14-0+deb12u1)","b":"15.15 (Debian 15.15-0+deb12u1)"}`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s:\n%s", want, data)
		}
	}

	same := Diff(a, a.Clone())
	if same.Differ() || len(same.Provenance) != 0 || !strings.HasSuffix(same.Text(), "The filters are the same.\n") {
		t.Errorf("a profile differs from itself:\n%s", same.Text())
	}
	// Provenance alone does not make the filters differ.
	c := a.Clone()
	c.Provenance.Kernel = "6.12.0"
	if d := Diff(a, c); d.Differ() || len(d.Provenance) != 1 || !strings.Contains(d.Text(), "  kernel:\n    - 6.1.0-40-amd64\n    + 6.12.0\n") {
		t.Errorf("kernel only:\n%s", d.Text())
	}
}
