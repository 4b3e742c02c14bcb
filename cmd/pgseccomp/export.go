package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/export"
	"github.com/pgseccomp/pgseccomp/internal/source"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

const exportUsage = `Usage: pgseccomp export --format oci|kubernetes [--config FILE | --pgdata DIR | --profile FILE]
                        [--arch ARCH,...] [--log] [--output FILE|-]

Write a seccomp profile that confines a whole PostgreSQL container from
outside: the container's entrypoint, initdb, the postmaster and every child.
It is the global layer of pgseccomp's configuration (the filter every server
process has; session and client layers can only restrict further, so an outer
filter must allow all that the global layer allows). The container runtime
loads it; pgseccomp's own filters still stack inside PostgreSQL.

Formats:
  --format oci         an OCI seccomp profile (JSON), as runc and crun load it
                       from config.json's linux.seccomp, and as Docker and
                       Kubernetes read a profile file:
                         docker run --security-opt seccomp=pgseccomp.json ...
                       Kubernetes: copy it to every node as
                         /var/lib/kubelet/seccomp/profiles/pgseccomp.json
                       and set in the pod's securityContext:
                         seccompProfile: {type: Localhost,
                                          localhostProfile: profiles/pgseccomp.json}
  --format kubernetes  a security-profiles-operator SeccompProfile manifest
                       (YAML, apiVersion security-profiles-operator.x-k8s.io/
                       v1beta1), which the operator installs on every node

Mapping: allow -> SCMP_ACT_ALLOW, log -> SCMP_ACT_LOG, error -> SCMP_ACT_ERRNO
with errno 13 (EACCES, defaultErrnoRet/errnoRet), kill ->
SCMP_ACT_KILL_PROCESS; the SECCOMP_FILTER_FLAG_LOG flag audits errors as
pgseccomp does. With error or kill as the global default the profile is an
allow-list, and the syscalls a container runtime makes after loading it
(execve, and runc's own: close, openat, write, futex, ...) are allowed too.
JSON has no comments: what the profile does differently from pgseccomp is
printed to stderr as notes (the kubernetes format has them in its header).

Which configuration:
  --config FILE    the postgresql.conf to read (includes and
                   postgresql.auto.conf are followed as the server does)
` + clusterFlagsHelp + `  --profile FILE   a pgseccomp profile ('pgseccomp record' writes them), its
                   global layer; --config FILE reads one too
  (neither)        $PGDATA, as --pgdata

Profile:
  --arch LIST      architectures to list, comma-separated, the one PostgreSQL
                   runs as first (default: like Docker's profile, this
                   machine's, or a pgseccomp profile's, and its compatible
                   ones: x86_64,i386,x32 here); every name must exist on the
                   first
  --log            trial profile: error and kill become SCMP_ACT_LOG, so
                   nothing is denied and the kernel logs what would be
  --name NAME      kubernetes: metadata.name (default pgseccomp-postgresql)
  --namespace NS   kubernetes: metadata.namespace (default: kubectl's current)
  --output FILE    write to FILE (its directory is created), "-" for stdout
                   (the default)

Exit status:
  0  profile written
  1  pgseccomp would reject the configuration (the server would not start);
     stderr names each setting, file:line and the offending word
  2  bad flags, or a configuration that cannot be read

Examples:
  # Docker: profile from the cluster's configuration
  pgseccomp export --format oci --pgdata "$PGDATA" --output pgseccomp.json
  docker run --security-opt seccomp=pgseccomp.json postgres:15

  # Kubernetes without the operator: a Localhost profile on every node
  pgseccomp export --format oci --config postgresql.conf \
    --output /var/lib/kubelet/seccomp/profiles/pgseccomp.json

  # Kubernetes with the security-profiles-operator
  pgseccomp export --format kubernetes --config postgresql.conf \
    --namespace databases | kubectl apply -f -

  # arm64 nodes, 64-bit only
  pgseccomp export --format oci --config postgresql.conf --arch aarch64

  # try it first: log instead of deny
  pgseccomp export --format oci --pgdata "$PGDATA" --log --output trial.json

  # from a recorded profile, for its architecture
  pgseccomp export --format oci --profile pg15.json --output pgseccomp.json
`

func runExport(args []string) int {
	var (
		config                   configFlags
		format, archList, output string
		name, namespace          string
		trial                    bool
	)
	fs := newFlagSet("export")
	config.register(fs)
	fs.StringVar(&format, "format", "", "oci or kubernetes")
	fs.StringVar(&archList, "arch", "", "architectures, comma-separated")
	fs.BoolVar(&trial, "log", false, "log instead of deny")
	fs.StringVar(&name, "name", export.DefaultK8sName, "kubernetes: metadata.name")
	fs.StringVar(&namespace, "namespace", "", "kubernetes: metadata.namespace")
	fs.StringVar(&output, "output", "-", "output file, - for stdout")
	if code, ok := parseFlags(fs, args, exportUsage); !ok {
		return code
	}
	set := flagsSet(fs)
	switch {
	case fs.NArg() > 0:
		return usageError("export", "unexpected argument %q; export takes only flags (see 'pgseccomp export --help')", fs.Arg(0))
	case format == "":
		return usageError("export", "--format is missing: give --format oci (JSON for runc, crun, Docker, Kubernetes Localhost) or --format kubernetes (a security-profiles-operator manifest)")
	case format != "oci" && format != "kubernetes":
		return usageError("export", "--format %q: use oci or kubernetes", format)
	case format == "oci" && (set["name"] || set["namespace"]):
		return usageError("export", "--name and --namespace are for --format kubernetes; an OCI profile has no name (its file name is its name)")
	}
	in, err := config.load()
	if err != nil {
		return usageError("export", "%v", err)
	}
	native, err := source.Arch("", in)
	if err != nil {
		return usageError("export", "%v", err)
	}
	arches, err := export.ParseArchList(archList, native)
	if err != nil {
		return usageError("export", "--arch %q: %v", archList, err)
	}
	profile, code := globalProfile("export", in, config, arches[0])
	if code != 0 {
		return code
	}

	opts := export.OCIOptions{Arches: arches, Trial: trial}
	var out []byte
	switch format {
	case "oci":
		var notes []string
		out, notes, err = export.OCIJSON(profile, opts)
		for _, n := range notes {
			fmt.Fprintf(stderr, "pgseccomp export: note: %s\n", n)
		}
	case "kubernetes":
		out, err = export.Kubernetes(profile, export.K8sOptions{
			OCIOptions: opts, Name: name, Namespace: namespace,
			Command: commandLine("export", args),
		})
	}
	if err != nil {
		return usageError("export", "%v", err)
	}
	return writeOutput("export", output, out)
}

// globalProfile is the input side of systemd and export: the global layer
// of the configuration (or pgseccomp profile) the flags name, built on arch,
// as an export.Filter. A non-zero code means it has reported why and the
// command must return it.
func globalProfile(cmd string, in *source.Input, config configFlags, arch syscalls.Arch) (export.Filter, int) {
	lc := source.Check(in, arch)
	for _, w := range lc.Settings.Warnings {
		fmt.Fprintf(stderr, "pgseccomp %s: warning: %v\n", cmd, w)
	}
	if len(lc.Problems) > 0 || lc.Policy == nil || lc.Policy.Global == nil {
		fmt.Fprintf(stderr, "pgseccomp %s: pgseccomp would reject this %s (the server would not start), so there is no global layer to export:\n", cmd, in.Kind())
		for _, p := range lc.Problems {
			fmt.Fprintf(stderr, "  %v\n", p)
		}
		fmt.Fprintf(stderr, "Correct these settings and run again; 'pgseccomp lint' says more.\n")
		return export.Filter{}, 1
	}
	if !lc.Settings.Active() {
		fmt.Fprintf(stderr, "pgseccomp %s: warning: pgseccomp is not active in %s (it needs shared_preload_libraries = 'pgseccomp' and pgseccomp.enabled = on): the exported filter will be the only one, and where it is looser than the global layer nothing enforces the exact action\n", cmd, in.Path)
	}
	return export.FromLayer(lc.Policy.Global, arch, "global layer of "+configShown(config)), 0
}

// configShown names the configuration as the user gave it (so that a
// header written from a relative path stays the same on every machine).
func configShown(c configFlags) string {
	switch {
	case c.profile != "":
		return "profile " + c.profile
	case c.file != "":
		return c.file
	case c.cluster.given():
		if e, err := c.cluster.find(); err == nil {
			return e.ConfigFile
		}
		return c.cluster.name + c.cluster.pgdata
	default:
		return filepath.Join(os.Getenv("PGDATA"), "postgresql.conf")
	}
}

// commandLine is how the command was run, for generated files' headers.
func commandLine(cmd string, args []string) string {
	words := []string{"pgseccomp", cmd}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}
