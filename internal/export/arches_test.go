package export

import (
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

func TestParseArchList(t *testing.T) {
	tests := []struct {
		list string
		want []syscalls.Arch
		err  string
	}{
		{"", []syscalls.Arch{syscalls.X86_64, syscalls.I386, syscalls.X32}, ""},
		{" x86_64 , arm64", []syscalls.Arch{syscalls.X86_64, syscalls.AArch64}, ""},
		{"x86_64,amd64", nil, "x86_64 is listed twice"},
		{"vax", nil, "vax"},
	}
	for _, tt := range tests {
		got, err := ParseArchList(tt.list, syscalls.X86_64)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: %v, %v; want an error with %q", tt.list, got, err, tt.err)
		case tt.err == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("%q: %v, %v; want %v", tt.list, got, err, tt.want)
		}
	}
}

func TestFromLayer(t *testing.T) {
	l := &policy.Layer{Default: policy.Error, Rules: map[int]policy.Action{0: policy.Allow, 101: policy.Kill}}
	f := FromLayer(l, syscalls.X86_64, "global layer of postgresql.conf")
	want := map[string]policy.Action{"read": policy.Allow, "ptrace": policy.Kill}
	if f.Default != policy.Error || f.Source != "global layer of postgresql.conf" || len(f.Syscalls) != len(want) {
		t.Fatalf("%+v", f)
	}
	for name, a := range want {
		if f.Syscalls[name] != a {
			t.Errorf("%s: %v, want %v", name, f.Syscalls[name], a)
		}
	}
}
