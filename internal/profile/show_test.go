package profile

import (
	"strings"
	"testing"
)

func TestShow(t *testing.T) {
	p, err := Read("testdata/recorded.json")
	if err != nil {
		t.Fatal(err)
	}
	r := Show(p)
	tests := []struct {
		i           int
		layer, role string
		allow, log  int
	}{
		{0, GlobalLayerName, "", 47, 1},
		{2, RoleLayerName("Joe"), "Joe", len(p.Roles["Joe"].Allow), len(p.Roles["Joe"].Log)},
	}
	for _, tt := range tests {
		l := r.Layers[tt.i]
		if l.Layer != tt.layer || l.Role != tt.role || l.Allow != tt.allow || l.Log != tt.log {
			t.Errorf("layer %d: %+v, want %s %q with %d allowed, %d logged", tt.i, l, tt.layer, tt.role, tt.allow, tt.log)
		}
	}
	if len(r.Layers) != 2+len(p.Roles) {
		t.Errorf("%d layers, want global, session and %d roles", len(r.Layers), len(p.Roles))
	}
	var b strings.Builder
	WriteSummary(&b, p)
	for _, want := range []string{"Profile testdata/recorded.json (", `role "Joe"`, "(4 rows)\n", "A role's layer replaces the session layer"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
