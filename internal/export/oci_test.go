package export

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

var x86Arches = []syscalls.Arch{syscalls.X86_64, syscalls.I386, syscalls.X32}

// ociCases are the profiles the golden files hold; wantNotes are words
// one of the notes must contain.
var ociCases = []struct {
	name      string
	p         Filter
	o         OCIOptions
	wantNotes []string
}{
	{"allow-default", profileOf(policy.Allow, map[policy.Action][]string{
		policy.Log: {"readlink"}, policy.Error: {"ptrace", "mount"}, policy.Kill: {"kexec_load"},
	}), OCIOptions{Arches: x86Arches}, nil},
	{"error-default", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Log: {"readlink"}, policy.Kill: {"ptrace", "execve"},
	}), OCIOptions{Arches: x86Arches}, []string{"container runtime", "execve", "newfstatat does not exist on i386"}},
	{"kill-default-trial", profileOf(policy.Kill, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Error: {"socket"},
	}), OCIOptions{Arches: []syscalls.Arch{syscalls.X86_64}, Trial: true}, []string{"trial profile"}},
	{"log-default-aarch64", profileOf(policy.Log, map[policy.Action][]string{
		policy.Allow: {"read", "write", "ppoll", "faccessat", "newfstatat"}, policy.Error: {"ptrace"},
	}), OCIOptions{Arches: []syscalls.Arch{syscalls.AArch64, syscalls.ARM}}, []string{"newfstatat does not exist on arm"}},
}

func TestOCIGolden(t *testing.T) {
	for _, tc := range ociCases {
		t.Run(tc.name, func(t *testing.T) {
			out, notes, err := OCIJSON(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("oci", tc.name+".json"), out)
			all := strings.Join(notes, "\n")
			for _, w := range tc.wantNotes {
				if !strings.Contains(all, w) {
					t.Errorf("notes lack %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestOCIDecodes reads each profile as the OCI runtime spec types (no
// unknown field allowed) and as Docker does (moby's LoadProfile, which
// dockerd runs on --security-opt seccomp=FILE), and checks that both give
// back what was written and that every name resolves with libseccomp on
// every listed architecture.
func TestOCIDecodes(t *testing.T) {
	for _, tc := range ociCases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := OCIJSON(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := OCI(tc.p, tc.o)

			var strict specs.LinuxSeccomp
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&strict); err != nil {
				t.Fatalf("not an OCI linux.seccomp: %v", err)
			}
			if !reflect.DeepEqual(&strict, want) {
				t.Errorf("decoded %+v, wrote %+v", strict, want)
			}

			docker, err := mobyseccomp.LoadProfile(string(out), &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}})
			if err != nil {
				t.Fatalf("Docker's loader rejects it: %v", err)
			}
			if docker.DefaultAction != want.DefaultAction || !reflect.DeepEqual(docker.DefaultErrnoRet, want.DefaultErrnoRet) ||
				!reflect.DeepEqual(docker.Architectures, want.Architectures) || !reflect.DeepEqual(docker.Syscalls, want.Syscalls) ||
				!reflect.DeepEqual(docker.Flags, want.Flags) {
				t.Errorf("Docker's loader reads %+v, wrote %+v", docker, want)
			}

			for i, arch := range strict.Architectures {
				a := archFromOCI(t, arch)
				for _, group := range strict.Syscalls {
					for _, name := range group.Names {
						nr, err := libseccomp.GetSyscallFromNameByArch(name, a.Seccomp())
						if err != nil {
							t.Errorf("%s: libseccomp does not know %q", arch, name)
						}
						// The first architecture is PostgreSQL's: a real
						// number there, not another ABI's pseudo-number.
						if i == 0 && nr < 0 {
							t.Errorf("%s: %q is not a syscall of PostgreSQL's architecture", arch, name)
						}
					}
				}
			}
		})
	}
}

// TestOCINeverStricter checks every syscall of the primary architecture:
// the profile acts as pgseccomp's global layer, or more loosely only for
// the container runtime's syscalls.
func TestOCINeverStricter(t *testing.T) {
	for _, tc := range ociCases {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := OCI(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			checkOCI(t, tc.p, tc.o, s)
		})
	}
}

func checkOCI(t *testing.T, p Filter, o OCIOptions, s *specs.LinuxSeccomp) {
	t.Helper()
	primary := archFromOCI(t, s.Architectures[0])
	runtime := map[string]bool{}
	for _, n := range ContainerRuntimeSyscalls {
		runtime[n] = true
	}
	for _, name := range primary.Names() {
		want, ok := p.Syscalls[name]
		if !ok {
			want = p.Default
		}
		got := ociModelAction(t, s, name)
		if o.Trial {
			if got > policy.Log {
				t.Errorf("%s: trial profile gives %v", name, got)
			}
			continue
		}
		switch {
		case got == want:
		case got > want:
			t.Errorf("%s: profile gives %v, stricter than pgseccomp's %v", name, got, want)
		case runtime[name] && got == policy.Allow:
		default:
			t.Errorf("%s: profile gives %v, pgseccomp %v, for no reason given", name, got, want)
		}
	}
}

// ociModelAction is what runc does with syscall name under s, in
// pgseccomp's terms.
func ociModelAction(t *testing.T, s *specs.LinuxSeccomp, name string) policy.Action {
	t.Helper()
	action, errno := s.DefaultAction, s.DefaultErrnoRet
	for _, g := range s.Syscalls {
		for _, n := range g.Names {
			if n == name {
				action, errno = g.Action, g.ErrnoRet
			}
		}
	}
	switch action {
	case specs.ActAllow:
		return policy.Allow
	case specs.ActLog:
		return policy.Log
	case specs.ActErrno:
		if errno == nil || *errno != 13 {
			t.Fatalf("%s: SCMP_ACT_ERRNO without errno 13", name)
		}
		return policy.Error
	case specs.ActKillProcess:
		return policy.Kill
	}
	t.Fatalf("%s: unexpected action %s", name, action)
	return 0
}

func archFromOCI(t *testing.T, arch specs.Arch) syscalls.Arch {
	t.Helper()
	for a, name := range ociArchNames {
		if name == arch {
			return a
		}
	}
	t.Fatalf("unknown OCI architecture %s", arch)
	return 0
}

func TestDefaultOCIArches(t *testing.T) {
	for native, want := range map[syscalls.Arch][]specs.Arch{
		syscalls.X86_64:  {specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		syscalls.AArch64: {specs.ArchAARCH64, specs.ArchARM},
		syscalls.S390X:   {specs.ArchS390X, specs.ArchS390},
		syscalls.PPC64LE: {specs.ArchPPC64LE},
		syscalls.RISCV64: {specs.ArchRISCV64},
	} {
		var got []specs.Arch
		for _, a := range DefaultOCIArches(native) {
			name, err := OCIArch(a)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: %v, want %v", native, got, want)
		}
	}
}

func TestOCIErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Filter
		o       OCIOptions
		wantErr string
	}{
		{"unknown syscall", profileOf(policy.Allow, map[policy.Action][]string{policy.Error: {"ptrace", "ptrase"}}), OCIOptions{},
			`syscall "ptrase" does not exist`},
		{"not on primary", profileOf(policy.Allow, map[policy.Action][]string{policy.Error: {"open"}}), OCIOptions{Arches: []syscalls.Arch{syscalls.AArch64}},
			`syscall "open" does not exist on aarch64`},
		{"arch twice", profileOf(policy.Allow, nil), OCIOptions{Arches: []syscalls.Arch{syscalls.X86_64, syscalls.X86_64}},
			"listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := OCI(tc.p, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzOCI checks random profiles as TestOCINeverStricter does.
func FuzzOCI(f *testing.F) {
	f.Add(uint8(2), "read,write", "readlink", "", "ptrace", false)
	f.Add(uint8(0), "", "", "ptrace,mount", "kexec_load", false)
	f.Add(uint8(3), "read", "", "socket", "", true)
	names := syscalls.X86_64.Names()
	f.Fuzz(func(t *testing.T, def uint8, allow, logged, errs, kills string, trial bool) {
		p := Filter{Default: policy.Action(def % 4), Syscalls: map[string]policy.Action{}}
		for a, list := range map[policy.Action]string{policy.Allow: allow, policy.Log: logged, policy.Error: errs, policy.Kill: kills} {
			for _, w := range strings.Split(list, ",") {
				if w != "" {
					p.Syscalls[names[int(fnv(w))%len(names)]] = a
				}
			}
		}
		o := OCIOptions{Arches: x86Arches, Trial: trial}
		s, _, err := OCI(p, o)
		if err != nil {
			t.Fatalf("%v\nprofile %v", err, p)
		}
		checkOCI(t, p, o, s)
	})
}
