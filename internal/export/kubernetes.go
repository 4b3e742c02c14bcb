package export

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"
)

// The security-profiles-operator's SeccompProfile resource.
const (
	SPOAPIVersion = "security-profiles-operator.x-k8s.io/v1beta1"
	SPOKind       = "SeccompProfile"
	// SPOProfileRoot is where the operator writes profiles on each node,
	// as <namespace>/<name>.json; pods name them relative to the kubelet's
	// seccomp directory, /var/lib/kubelet/seccomp.
	SPOProfileRoot = "/var/lib/kubelet/seccomp/operator"
	// DefaultK8sName is the resource's name when none is given.
	DefaultK8sName = "pgseccomp-postgresql"
)

// SeccompProfile is the operator's resource as this package writes it: the
// fields of its v1beta1 API that an OCI profile fills.
type SeccompProfile struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   SeccompProfileMeta `json:"metadata"`
	Spec       SeccompProfileSpec `json:"spec"`
}

// SeccompProfileMeta is the resource's metadata.
type SeccompProfileMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// SeccompProfileSpec is spec: an OCI profile without defaultErrnoRet,
// which the operator's API does not have.
type SeccompProfileSpec struct {
	DefaultAction specs.LinuxSeccompAction `json:"defaultAction"`
	Architectures []specs.Arch             `json:"architectures,omitempty"`
	Flags         []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	Syscalls      []SeccompProfileSyscall  `json:"syscalls,omitempty"`
}

// SeccompProfileSyscall is one group of syscalls with one action.
type SeccompProfileSyscall struct {
	Names    []string                 `json:"names"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
}

// K8sOptions are the choices of a SeccompProfile manifest.
type K8sOptions struct {
	OCIOptions
	Name      string // metadata.name; DefaultK8sName when empty
	Namespace string // metadata.namespace; empty: kubectl's current one
	Command   string // the command line that wrote it, for the header
}

var (
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Kubernetes writes profile p as a security-profiles-operator SeccompProfile
// manifest in YAML, with a header saying how to use it and what differs
// from pgseccomp.
func Kubernetes(p Filter, o K8sOptions) ([]byte, error) {
	if o.Name == "" {
		o.Name = DefaultK8sName
	}
	if len(o.Name) > 253 || !dns1123Subdomain.MatchString(o.Name) {
		return nil, fmt.Errorf("--name %q is not a Kubernetes resource name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit", o.Name)
	}
	if o.Namespace != "" && (len(o.Namespace) > 63 || !dns1123Label.MatchString(o.Namespace)) {
		return nil, fmt.Errorf("--namespace %q is not a Kubernetes namespace: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit", o.Namespace)
	}
	s, notes, err := OCI(p, o.OCIOptions)
	if err != nil {
		return nil, err
	}
	if s.DefaultAction == specs.ActErrno {
		notes = append(notes, "the operator's SeccompProfile has no defaultErrnoRet, so syscalls denied by the default action fail with EPERM (the runtime's default), not EACCES; listed error syscalls do return EACCES")
	}
	manifest := SeccompProfile{
		APIVersion: SPOAPIVersion,
		Kind:       SPOKind,
		Metadata:   SeccompProfileMeta{Name: o.Name, Namespace: o.Namespace},
		Spec: SeccompProfileSpec{
			DefaultAction: s.DefaultAction,
			Architectures: s.Architectures,
			Flags:         s.Flags,
		},
	}
	for _, sc := range s.Syscalls {
		manifest.Spec.Syscalls = append(manifest.Spec.Syscalls, SeccompProfileSyscall{Names: sc.Names, Action: sc.Action, ErrnoRet: sc.ErrnoRet})
	}
	body, err := yaml.Marshal(manifest)
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	c := func(format string, args ...any) {
		b.WriteString(strings.TrimRight("# "+fmt.Sprintf(format, args...), " ") + "\n")
	}
	ns := o.Namespace
	if ns == "" {
		ns = "NAMESPACE"
	}
	c("pgseccomp: seccomp profile for a PostgreSQL container, as a")
	c("security-profiles-operator SeccompProfile.")
	if p.Source != "" {
		c("From the %s", p.Source)
	}
	c("(%s).", p.Summary())
	if o.Command != "" {
		c("Written by: %s", o.Command)
	}
	c("")
	c("Apply with kubectl apply -f FILE. The operator writes the profile to every")
	c("node as %s/%s/%s.json;", SPOProfileRoot, ns, o.Name)
	c("use it in the PostgreSQL pod:")
	c("  securityContext:")
	c("    seccompProfile:")
	c("      type: Localhost")
	c("      localhostProfile: operator/%s/%s.json", ns, o.Name)
	c("")
	c("It confines every process of the container (the entrypoint, initdb, the")
	c("postmaster and all its children); pgseccomp's own filters still stack")
	c("inside PostgreSQL and can only restrict further.")
	c("pgseccomp -> profile: allow SCMP_ACT_ALLOW, log SCMP_ACT_LOG, error")
	c("SCMP_ACT_ERRNO with errnoRet 13 (EACCES), kill SCMP_ACT_KILL_PROCESS;")
	c("flag SECCOMP_FILTER_FLAG_LOG audits errors as pgseccomp does.")
	if len(notes) > 0 {
		c("")
		c("Not exactly as in pgseccomp:")
		for _, n := range notes {
			writeWrapped(c, "  - ", "    ", n+".")
		}
	}
	b.Write(body)
	return b.Bytes(), nil
}
