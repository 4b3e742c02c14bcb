package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// pg15 is a profile recorded on x86_64 that names syscalls aarch64 lacks.
const pg15 = "../profile/testdata/recorded.json"

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "postgresql.conf")
	if err := os.WriteFile(conf, []byte("shared_preload_libraries = 'pgseccomp'\npgseccomp.session_syscall_allow = 'getpriorty'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	confIn, err := LoadConf(conf, "")
	if err != nil {
		t.Fatal(err)
	}
	profIn, err := ReadProfile(pg15)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      *Input
		arch    string
		kind    string
		problem string // a substring of the first problem, "" for none
	}{
		{"a bad word in a configuration", confIn, "x86_64", "configuration", `Unknown syscall "getpriorty"`},
		{"a profile on its own architecture", profIn, "", "profile", ""},
		{"a profile on another architecture", profIn, "aarch64", "profile", `recorded.json: global.allow: Syscall`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arch, err := Arch(tt.arch, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			c := Check(tt.in, arch)
			if tt.in.Kind() != tt.kind {
				t.Errorf("Kind() = %q, want %q", tt.in.Kind(), tt.kind)
			}
			if c.Settings == nil {
				t.Fatal("no settings")
			}
			switch {
			case tt.problem == "" && len(c.Problems) > 0:
				t.Errorf("problems %v, want none", c.Problems)
			case tt.problem == "" && c.Policy == nil:
				t.Error("no policy built")
			case tt.problem != "" && (len(c.Problems) == 0 || !strings.Contains(c.Problems[0].Error(), tt.problem)):
				t.Errorf("problems %v, want one with %q", c.Problems, tt.problem)
			}
		})
	}
}

func TestArch(t *testing.T) {
	prof, err := ReadProfile("../profile/testdata/aarch64.json")
	if err != nil {
		t.Fatal(err)
	}
	native, err := policy.NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag string
		in   *Input
		want string
	}{
		{"", nil, native.String()},
		{"", prof, "aarch64"},
		{"x86_64", prof, "x86_64"},
		{"arm64", nil, "aarch64"},
	}
	for _, tt := range tests {
		got, err := Arch(tt.flag, tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("Arch(%q) = %v, %v; want %s", tt.flag, got, err, tt.want)
		}
	}
	if _, err := Arch("vax", nil); err == nil || !strings.Contains(err.Error(), "vax") {
		t.Errorf("Arch(vax): %v, want an error naming it", err)
	}
}

func TestRewrite(t *testing.T) {
	prof, err := ReadProfile(pg15)
	if err != nil {
		t.Fatal(err)
	}
	conf := &Input{Path: "postgresql.conf"}
	tests := []struct {
		in        *Input
		msg, want string
	}{
		{prof, "allow pwritev in " + policy.GlobalListName(policy.Allow) + " (restart)", "allow pwritev in global.allow of " + pg15},
		{conf, "allow pwritev in " + policy.GlobalListName(policy.Allow) + " (restart)", "allow pwritev in " + policy.GlobalListName(policy.Allow) + " (restart)"},
	}
	for _, tt := range tests {
		if got := tt.in.Rewrite(tt.msg); got != tt.want {
			t.Errorf("Rewrite(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
