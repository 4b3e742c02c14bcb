package export

import (
	"bufio"
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

var k8sCases = []struct {
	name string
	p    Filter
	o    K8sOptions
}{
	{"error-default", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Log: {"readlink"}, policy.Kill: {"ptrace"},
	}), K8sOptions{OCIOptions: OCIOptions{Arches: x86Arches}, Namespace: "databases", Command: "pgseccomp export --format kubernetes --config testdata/postgresql.conf --namespace databases"}},
	{"allow-default", profileOf(policy.Allow, map[policy.Action][]string{
		policy.Error: {"ptrace", "mount"}, policy.Kill: {"kexec_load"},
	}), K8sOptions{OCIOptions: OCIOptions{Arches: []syscalls.Arch{syscalls.AArch64}}, Name: "pg.main"}},
}

func TestKubernetesGolden(t *testing.T) {
	for _, tc := range k8sCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Kubernetes(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("kubernetes", tc.name+".yaml"), out)
		})
	}
}

// TestKubernetesDecodes reads each manifest back strictly (no unknown or
// duplicate field) and checks it carries the OCI profile, that the header
// is only comments, and that the resource says what the operator expects.
func TestKubernetesDecodes(t *testing.T) {
	for _, tc := range k8sCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Kubernetes(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var m SeccompProfile
			if err := yaml.UnmarshalStrict(out, &m); err != nil {
				t.Fatalf("manifest does not decode: %v\n%s", err, out)
			}
			if m.APIVersion != "security-profiles-operator.x-k8s.io/v1beta1" || m.Kind != "SeccompProfile" {
				t.Errorf("apiVersion %q kind %q", m.APIVersion, m.Kind)
			}
			wantName := tc.o.Name
			if wantName == "" {
				wantName = DefaultK8sName
			}
			if m.Metadata.Name != wantName || m.Metadata.Namespace != tc.o.Namespace {
				t.Errorf("metadata %+v", m.Metadata)
			}
			oci, _, err := OCI(tc.p, tc.o.OCIOptions)
			if err != nil {
				t.Fatal(err)
			}
			if m.Spec.DefaultAction != oci.DefaultAction || !reflect.DeepEqual(m.Spec.Architectures, oci.Architectures) || !reflect.DeepEqual(m.Spec.Flags, oci.Flags) {
				t.Errorf("spec %+v differs from the OCI profile %+v", m.Spec, oci)
			}
			var groups []specs.LinuxSyscall
			for _, g := range m.Spec.Syscalls {
				groups = append(groups, specs.LinuxSyscall{Names: g.Names, Action: g.Action, ErrnoRet: g.ErrnoRet})
			}
			if !reflect.DeepEqual(groups, oci.Syscalls) {
				t.Errorf("syscalls %+v differ from the OCI profile's %+v", groups, oci.Syscalls)
			}
			// Everything before apiVersion is comments.
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "apiVersion:") {
					break
				}
				if !strings.HasPrefix(sc.Text(), "#") {
					t.Errorf("header line %q is not a comment", sc.Text())
				}
			}
			if oci.DefaultAction == specs.ActErrno && !strings.Contains(string(out), "EPERM") {
				t.Errorf("header does not say the default error returns EPERM under the operator")
			}
		})
	}
}

func TestKubernetesErrors(t *testing.T) {
	p := profileOf(policy.Allow, nil)
	for _, tc := range []struct {
		name    string
		o       K8sOptions
		wantErr string
	}{
		{"upper-case name", K8sOptions{Name: "PgSeccomp"}, `--name "PgSeccomp" is not a Kubernetes resource name`},
		{"name with slash", K8sOptions{Name: "a/b"}, `--name "a/b"`},
		{"namespace with dot", K8sOptions{Namespace: "a.b"}, `--namespace "a.b" is not a Kubernetes namespace`},
		{"long namespace", K8sOptions{Namespace: strings.Repeat("a", 64)}, "--namespace"},
		{"bad profile", K8sOptions{OCIOptions: OCIOptions{Arches: []syscalls.Arch{syscalls.AArch64}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pp := p
			if tc.wantErr == "" {
				pp = profileOf(policy.Allow, map[policy.Action][]string{policy.Error: {"open"}})
				tc.wantErr = `syscall "open" does not exist on aarch64`
			}
			_, err := Kubernetes(pp, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
