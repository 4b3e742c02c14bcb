package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// ContainerRuntimeSyscalls are the syscalls a container runtime makes in the
// container's first process after it has loaded the seccomp profile, so an
// allow-list must name them. runc (libcontainer/standard_init_linux.go, with
// noNewPrivileges as Kubernetes' allowPrivilegeEscalation: false sets it)
// loads the filter, then closes its pipes and fds, reopens and writes the
// exec fifo and calls execve, while its Go runtime's other threads keep
// running (futex, epoll_pwait, nanosleep, signals); crun, in C, calls only
// execve after loading.
var ContainerRuntimeSyscalls = []string{
	"close", "close_range", "epoll_pwait", "execve", "exit_group", "fcntl",
	"fstat", "futex", "getdents64", "getpid", "gettid", "madvise", "mmap",
	"munmap", "nanosleep", "newfstatat", "openat", "rt_sigprocmask",
	"rt_sigreturn", "sched_yield", "sigaltstack", "tgkill", "write",
}

// ociArchNames are the OCI names (libseccomp's SCMP_ARCH_*) of the ABIs.
var ociArchNames = map[syscalls.Arch]specs.Arch{
	syscalls.X86_64:  specs.ArchX86_64,
	syscalls.I386:    specs.ArchX86,
	syscalls.X32:     specs.ArchX32,
	syscalls.AArch64: specs.ArchAARCH64,
	syscalls.ARM:     specs.ArchARM,
	syscalls.PPC64LE: specs.ArchPPC64LE,
	syscalls.PPC64:   specs.ArchPPC64,
	syscalls.S390X:   specs.ArchS390X,
	syscalls.S390:    specs.ArchS390,
	syscalls.RISCV64: specs.ArchRISCV64,
}

// OCIArch returns the OCI name of ABI a, e.g. SCMP_ARCH_X86_64.
func OCIArch(a syscalls.Arch) (specs.Arch, error) {
	name, ok := ociArchNames[a]
	if !ok {
		return "", fmt.Errorf("architecture %v has no OCI seccomp name", a)
	}
	return name, nil
}

// DefaultOCIArches are the ABIs a profile for a machine of ABI native lists
// when none is asked for: like Docker's default profile, the native one and
// those its kernel also runs (x86_64: i386 and x32; aarch64: arm; s390x:
// s390).
func DefaultOCIArches(native syscalls.Arch) []syscalls.Arch {
	switch native {
	case syscalls.X86_64:
		return []syscalls.Arch{syscalls.X86_64, syscalls.I386, syscalls.X32}
	case syscalls.AArch64:
		return []syscalls.Arch{syscalls.AArch64, syscalls.ARM}
	case syscalls.S390X:
		return []syscalls.Arch{syscalls.S390X, syscalls.S390}
	}
	return []syscalls.Arch{native}
}

// OCIOptions are the choices of an OCI profile beyond the Filter.
type OCIOptions struct {
	// Arches the profile lists; the first is the one PostgreSQL runs as, on
	// which every name must exist. Empty: DefaultOCIArches of the native ABI.
	Arches []syscalls.Arch
	// Trial makes every action that denies (error, kill) log instead.
	Trial bool
}

// ociAction maps a pgseccomp action to the OCI action, and the errno its
// syscalls return (nil when it returns none).
func ociAction(a policy.Action, trial bool) (specs.LinuxSeccompAction, *uint) {
	if trial && (a == policy.Error || a == policy.Kill) {
		a = policy.Log
	}
	switch a {
	case policy.Allow:
		return specs.ActAllow, nil
	case policy.Log:
		return specs.ActLog, nil
	case policy.Error:
		errno := uint(EACCES.Number)
		return specs.ActErrno, &errno
	default:
		return specs.ActKillProcess, nil
	}
}

// OCI returns profile p as an OCI seccomp profile (config.json's
// linux.seccomp, and the file format of Docker's --security-opt seccomp=
// and Kubernetes' Localhost profiles), with notes on what it does
// differently from pgseccomp and why.
func OCI(p Filter, o OCIOptions) (*specs.LinuxSeccomp, []string, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	arches := o.Arches
	if len(arches) == 0 {
		native, err := policy.NativeArch()
		if err != nil {
			return nil, nil, err
		}
		arches = DefaultOCIArches(native)
	}
	primary := arches[0]
	if err := checkNames(primary, p.sortedNames(), "profile "+p.describe()); err != nil {
		return nil, nil, err
	}

	var notes []string
	s := &specs.LinuxSeccomp{}
	seen := map[syscalls.Arch]bool{}
	for _, a := range arches {
		name, err := OCIArch(a)
		if err != nil {
			return nil, nil, err
		}
		if seen[a] {
			return nil, nil, fmt.Errorf("architecture %v is listed twice", a)
		}
		seen[a] = true
		s.Architectures = append(s.Architectures, name)
	}
	s.DefaultAction, s.DefaultErrnoRet = ociAction(p.Default, o.Trial)
	// Errors are logged, as pgseccomp's own filters log theirs.
	s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}

	var runtime []string
	for _, name := range ContainerRuntimeSyscalls {
		if syscalls.Has(primary, name) {
			runtime = append(runtime, name)
		}
	}
	p, changed := p.allowing(runtime)
	if len(changed) > 0 {
		notes = append(notes, fmt.Sprintf("allowed although the profile denies them, because the container runtime calls them after loading the profile: %s", strings.Join(changed, " ")))
	}
	names := map[policy.Action][]string{}
	for _, a := range policy.Actions {
		names[a] = p.Names(a)
	}
	if o.Trial {
		notes = append(notes, "trial profile: error and kill are logged (SCMP_ACT_LOG) instead; nothing is denied")
	}
	for _, a := range policy.Actions {
		if len(names[a]) == 0 {
			continue
		}
		action, errno := ociAction(a, o.Trial)
		if action == s.DefaultAction && errnoEqual(errno, s.DefaultErrnoRet) {
			continue // the default does it already
		}
		// One group per action, merged with an earlier one of the same OCI
		// action (trial: log, error and kill all log).
		merged := false
		for i := range s.Syscalls {
			if s.Syscalls[i].Action == action && errnoEqual(s.Syscalls[i].ErrnoRet, errno) {
				s.Syscalls[i].Names = union(s.Syscalls[i].Names, names[a])
				merged = true
			}
		}
		if !merged {
			s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: names[a], Action: action, ErrnoRet: errno})
		}
	}

	for _, a := range arches[1:] {
		var missing []string
		for _, name := range p.sortedNames() {
			if !syscalls.Has(a, name) {
				missing = append(missing, name)
			}
		}
		switch {
		case len(missing) == 1:
			notes = append(notes, fmt.Sprintf("%s does not exist on %s: programs of that ABI get the default action for their equivalent; PostgreSQL runs as %s", missing[0], a, primary))
		case len(missing) > 1:
			shown := missing[:min(len(missing), 6)]
			more := ""
			if len(missing) > len(shown) {
				more = ", ..."
			}
			notes = append(notes, fmt.Sprintf("%d names do not exist on %s (%s%s): programs of that ABI get the default action for their equivalents; PostgreSQL runs as %s", len(missing), a, strings.Join(shown, ", "), more, primary))
		}
	}
	return s, notes, nil
}

func errnoEqual(a, b *uint) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// OCIJSON is OCI as indented JSON, ending in a newline.
func OCIJSON(p Filter, o OCIOptions) ([]byte, []string, error) {
	s, notes, err := OCI(p, o)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), notes, nil
}
