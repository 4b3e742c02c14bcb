package policy

import (
	"strings"
	"testing"
)

// FuzzParseList: ParseList never panics; an accepted list, written back
// from its numbers' names, parses to the same syscalls; a rejected one says
// why in a sentence.
func FuzzParseList(f *testing.F) {
	for _, seed := range []string{"read,write", " * ", "read,,write", "read write", "*,read", "", "socketcall", "clone, clone3 ,clone"} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	arch := nativeArch(f)
	f.Fuzz(func(t *testing.T, value string, allowInherit bool) {
		list, err := ParseList(value, allowInherit, arch)
		if err != nil {
			if msg := err.Error(); msg == "" || !(strings.HasSuffix(msg, ".") || strings.HasSuffix(msg, "?")) {
				t.Fatalf("%q: message %q", value, msg)
			}
			return
		}
		if list.Inherit {
			if !allowInherit || trimCSpace(value) != "*" {
				t.Fatalf("%q read as '*'", value)
			}
			return
		}
		var names []string
		for _, nr := range list.Syscalls {
			names = append(names, SyscallName(arch, nr))
		}
		again, err := ParseList(strings.Join(names, ","), false, arch)
		if err != nil || len(again.Syscalls) != len(list.Syscalls) {
			t.Fatalf("%q -> %q -> %v %v", value, names, again, err)
		}
		for i := range again.Syscalls {
			if again.Syscalls[i] != list.Syscalls[i] {
				t.Fatalf("%q: %v != %v", value, again.Syscalls, list.Syscalls)
			}
		}
	})
}

// FuzzSettings: any values for the settings go through ParseSettings,
// Build and Rows without panicking, and a configuration Build accepts
// gives rows with a <default> row first and each syscall once per context.
func FuzzSettings(f *testing.F) {
	f.Add("read,acct", "log", "*", "error", "joe", "acct", "allow", "seccomp")
	f.Add("", "allow", "clone", "kill", `"Joe",ann`, "*", "LOG", "")
	f.Add("seccomp", "error", "", "allow", "joe,,x", "", "x", "*")
	arch := nativeArch(f)
	f.Fuzz(func(t *testing.T, globalAllow, globalDefault, sessionError, sessionDefault, roles, roleAllow, roleDefault, clientError string) {
		values := map[string]string{
			"pgseccomp.global_syscall_allow":    globalAllow,
			"pgseccomp.global_syscall_default":  globalDefault,
			"pgseccomp.session_syscall_error":   sessionError,
			"pgseccomp.session_syscall_default": sessionDefault,
			"pgseccomp.session_roles":           roles,
			"session_syscall_allow.joe":         roleAllow,
			"session_syscall_default.joe":       roleDefault,
		}
		s, err := ParseSettingsMap(values)
		if err != nil {
			return
		}
		p, err := s.Build(arch)
		if err != nil {
			return
		}
		for _, role := range []string{"", "joe", "Joe"} {
			for _, client := range []*ClientArgs{nil, {Lists: [NumActions]*string{Error: &clientError}}} {
				rows, err := p.Rows(role, client)
				if err != nil {
					continue
				}
				seen := map[string]bool{}
				for i, r := range rows {
					if (i == 0 || r.Context != rows[i-1].Context) != (r.Syscall == DefaultRowName) {
						t.Fatalf("rows out of order: %v", rows)
					}
					key := r.Context + "/" + r.Syscall
					if seen[key] || !r.Action.Valid() {
						t.Fatalf("bad row %v in %v", r, rows)
					}
					seen[key] = true
				}
			}
		}
	})
}
