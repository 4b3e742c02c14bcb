package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"

	"github.com/pgseccomp/pgseccomp/internal/export"
)

var updateExportGolden = flag.Bool("update-export", false, "rewrite testdata/export/*.golden")

const exportConf = "testdata/export/postgresql.conf"

// exportGolden compares got with testdata/export/name, or rewrites it with
// -update-export.
func exportGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "export", name)
	if *updateExportGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update-export creates it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test -update-export rewrites it):\n%s", path, got)
	}
}

func TestExportHelp(t *testing.T) {
	for _, cmd := range []string{"export", "systemd"} {
		for _, args := range [][]string{{cmd, "--help"}, {"help", cmd}} {
			code, out, errOut := runCLI(t, args...)
			if code != 0 || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			for _, want := range []string{"Usage: pgseccomp " + cmd, "Examples:", "Exit status:", "--config", "--pgdata", "--output", "--log"} {
				if !strings.Contains(out, want) {
					t.Errorf("%q: help lacks %q", args, want)
				}
			}
		}
	}
	_, out, _ := runCLI(t, "systemd", "--help")
	if !strings.Contains(out, "/etc/systemd/system/postgresql@.service.d/pgseccomp.conf") {
		t.Errorf("systemd help does not say where the drop-in goes")
	}
	_, out, _ = runCLI(t, "export", "--help")
	for _, want := range []string{"/var/lib/kubelet/seccomp/profiles/", "localhostProfile", "security-profiles-operator"} {
		if !strings.Contains(out, want) {
			t.Errorf("export help lacks %q", want)
		}
	}
}

func TestExportUsageErrors(t *testing.T) {
	t.Setenv("PGDATA", "")
	for _, tc := range []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"export", "--config", exportConf}, []string{"--format is missing", "oci", "kubernetes"}},
		{[]string{"export", "--format", "docker", "--config", exportConf}, []string{`--format "docker"`, "use oci or kubernetes"}},
		{[]string{"export", "--format", "oci", "--name", "x", "--config", exportConf}, []string{"--name and --namespace are for --format kubernetes"}},
		{[]string{"export", "--format", "oci", "--arch", "x86_64,sparc", "--config", exportConf}, []string{`--arch "x86_64,sparc"`, "sparc"}},
		{[]string{"export", "--format", "oci", "--arch", "x86_64,amd64", "--config", exportConf}, []string{"listed twice"}},
		{[]string{"export", "--format", "oci"}, []string{"no configuration given", "--config FILE, --cluster VERSION/NAME or --pgdata DIR"}},
		{[]string{"export", "--format", "oci", "--config", "testdata/export/missing.conf"}, []string{"missing.conf"}},
		{[]string{"export", "--format", "oci", "--config", "testdata/export/broken.conf"}, []string{"broken.conf:1"}},
		{[]string{"export", "--format", "kubernetes", "--name", "Bad_Name", "--config", exportConf}, []string{`--name "Bad_Name"`}},
		{[]string{"export", "--format", "oci", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"export", "--frobnicate"}, []string{"frobnicate", "pgseccomp export --help"}},
		{[]string{"systemd", "--config", exportConf, "--errno", "EACCESS"}, []string{`--errno: unknown errno "EACCESS"`}},
		{[]string{"systemd", "--config", exportConf, "--unit", "postgresql"}, []string{`--unit: "postgresql" is not a systemd service name`}},
		{[]string{"systemd", "--config", exportConf, "--helpers", "debian"}, []string{`--helpers "debian"`, "pg_ctlcluster", "none"}},
		{[]string{"systemd", "--config", exportConf, "--arch", "vax"}, []string{"--arch", "vax"}},
		{[]string{"systemd", "--pgdata", "testdata/export/nonexistent"}, []string{"testdata/export/nonexistent: no such file or directory"}},
		{[]string{"systemd", "now"}, []string{`unexpected argument "now"`}},
		{[]string{"systemd", "--config", exportConf, "--output", "/proc/version/x.conf"}, []string{"--output /proc/version/x.conf"}},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want exit 2 and no output", tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr %q lacks %q", tc.args, errOut, w)
			}
		}
	}
}

// A configuration pgseccomp would reject has no global layer to export:
// exit 1, naming the file, line, setting and word.
func TestExportRejectedConfig(t *testing.T) {
	for _, args := range [][]string{
		{"export", "--format", "oci", "--config", "testdata/export/misspelt.conf"},
		{"systemd", "--config", "testdata/export/misspelt.conf"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 1 || out != "" {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
		for _, w := range []string{"would reject", "misspelt.conf:4", "pgseccomp.global_syscall_allow", `"opnat"`} {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", args, w, errOut)
			}
		}
	}
}

func TestExportInactiveWarns(t *testing.T) {
	code, out, errOut := runCLI(t, "export", "--format", "oci", "--config", "testdata/export/disabled.conf")
	if code != 0 || !strings.Contains(errOut, "pgseccomp is not active") || !strings.Contains(out, `"ptrace"`) {
		t.Errorf("exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}

// TestExportGolden runs the commands on a Debian-layout configuration
// (data_directory, include_dir, postgresql.auto.conf) and compares with
// the golden files.
func TestExportGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"systemd.conf.golden", []string{"systemd", "--config", exportConf}},
		{"systemd-trial.conf.golden", []string{"systemd", "--config", exportConf, "--log"}},
		{"systemd-deny.conf.golden", []string{"systemd", "--config", "testdata/export/deny.conf", "--helpers", "none", "--errno", "EPERM"}},
		{"oci.json.golden", []string{"export", "--format", "oci", "--config", exportConf, "--arch", "x86_64,i386,x32"}},
		{"oci-deny-aarch64.json.golden", []string{"export", "--format", "oci", "--config", "testdata/export/deny.conf", "--arch", "arm64"}},
		{"kubernetes.yaml.golden", []string{"export", "--format", "kubernetes", "--config", exportConf, "--arch", "x86_64", "--namespace", "db"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			if strings.Contains(errOut, "warning") {
				t.Errorf("unexpected warning: %s", errOut)
			}
			exportGolden(t, tc.golden, out)
		})
	}
}

// The profile comes from the global layer as the configuration gives it:
// auto.conf's log list, conf.d's lists and default.
func TestExportReadsGlobalLayer(t *testing.T) {
	code, out, errOut := runCLI(t, "export", "--format", "oci", "--config", exportConf, "--arch", "x86_64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.DefaultAction != specs.ActErrno || s.DefaultErrnoRet == nil || *s.DefaultErrnoRet != 13 {
		t.Errorf("default %s %v, want SCMP_ACT_ERRNO 13", s.DefaultAction, s.DefaultErrnoRet)
	}
	actions := map[string]specs.LinuxSeccompAction{}
	for _, g := range s.Syscalls {
		for _, n := range g.Names {
			actions[n] = g.Action
		}
	}
	for name, want := range map[string]specs.LinuxSeccompAction{
		"readlink": specs.ActLog, "ptrace": specs.ActKillProcess, "pwritev": specs.ActAllow, "execve": specs.ActAllow,
	} {
		if actions[name] != want {
			t.Errorf("%s: %q, want %q", name, actions[name], want)
		}
	}
	// OCI JSON has no comments: what differs from pgseccomp is on stderr.
	if !strings.Contains(errOut, "note: allowed although the profile denies them") || !strings.Contains(errOut, "execve") {
		t.Errorf("stderr lacks the runtime note: %s", errOut)
	}
}

func TestExportOutputFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "postgresql@.service.d")
	path := filepath.Join(dir, "pgseccomp.conf")
	code, out, errOut := runCLI(t, "systemd", "--config", exportConf, "--output", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := runCLI(t, "systemd", "--config", exportConf)
	// The header names the command line, which differs by --output.
	strip := func(s string) string { return s[strings.Index(s, "[Service]"):] }
	if strip(string(data)) != strip(want) {
		t.Errorf("file differs from stdout output")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (systemd reads drop-ins as any user)", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left in %s: %v", dir, entries)
	}

	// Kubernetes to a file: valid YAML.
	kpath := filepath.Join(t.TempDir(), "sp.yaml")
	if code, _, errOut := runCLI(t, "export", "--format", "kubernetes", "--config", exportConf, "--output", kpath); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	kdata, _ := os.ReadFile(kpath)
	var m export.SeccompProfile
	if err := yaml.UnmarshalStrict(kdata, &m); err != nil || m.Kind != "SeccompProfile" {
		t.Errorf("kubernetes output: %v, %+v", err, m)
	}
}

func TestCommandLine(t *testing.T) {
	for args, want := range map[string]string{
		"--config|/etc/postgresql/15/main/postgresql.conf": "pgseccomp systemd --config /etc/postgresql/15/main/postgresql.conf",
		"--config|my conf.conf":                            "pgseccomp systemd --config 'my conf.conf'",
		"--unit|it's.service":                              `pgseccomp systemd --unit 'it'\''s.service'`,
	} {
		if got := commandLine("systemd", strings.Split(args, "|")); got != want {
			t.Errorf("commandLine(%q) = %q, want %q", args, got, want)
		}
	}
}
