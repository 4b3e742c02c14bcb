package export

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// systemdCases are the drop-ins the golden files hold.
var systemdCases = []struct {
	name string
	p    Filter
	o    SystemdOptions
}{
	{"allow-default", profileOf(policy.Allow, map[policy.Action][]string{
		policy.Log: {"readlink"}, policy.Error: {"ptrace", "mount", "umount2"}, policy.Kill: {"kexec_load"},
	}), SystemdOptions{}},
	{"allow-default-kill-only", profileOf(policy.Allow, map[policy.Action][]string{
		policy.Kill: {"ptrace", "kexec_load"},
	}), SystemdOptions{}},
	{"allow-default-nothing", profileOf(policy.Allow, nil), SystemdOptions{}},
	{"log-default", profileOf(policy.Log, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Error: {"ptrace"},
	}), SystemdOptions{}},
	{"log-default-no-allow", profileOf(policy.Log, nil), SystemdOptions{}},
	{"error-default", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Log: {"readlink"}, policy.Kill: {"ptrace", "setresuid"},
	}), SystemdOptions{Helpers: PgCtlclusterSyscalls, HelpersName: "pg_ctlcluster", Command: "pgseccomp systemd --config testdata/postgresql.conf"}},
	{"error-default-no-helpers", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Kill: {"ptrace"},
	}), SystemdOptions{Unit: "mypg.service"}},
	{"error-default-eperm", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: pgAllow,
	}), SystemdOptions{Errno: Errno{"EPERM", 1}}},
	{"error-default-trial", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Log: {"readlink"}, policy.Kill: {"ptrace"},
	}), SystemdOptions{Trial: true, Helpers: PgCtlclusterSyscalls, HelpersName: "pg_ctlcluster"}},
	{"kill-default", profileOf(policy.Kill, map[policy.Action][]string{
		policy.Allow: pgAllow, policy.Error: {"readlink", "socket"},
	}), SystemdOptions{Unit: "postgresql@15-main.service", Helpers: PgCtlclusterSyscalls, HelpersName: "pg_ctlcluster"}},
	{"allow-default-trial", profileOf(policy.Allow, map[policy.Action][]string{
		policy.Log: {"readlink"}, policy.Error: {"ptrace"},
	}), SystemdOptions{Trial: true}},
	{"error-default-aarch64", profileOf(policy.Error, map[policy.Action][]string{
		policy.Allow: {"read", "write", "openat", "close", "faccessat", "ppoll"},
	}), SystemdOptions{Arch: syscalls.AArch64, Helpers: PgCtlclusterSyscalls, HelpersName: "pg_ctlcluster"}},
}

func TestSystemdGolden(t *testing.T) {
	for _, tc := range systemdCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Systemd(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("systemd", tc.name+".conf"), out)
		})
	}
}

// TestSystemdNeverStricter reads each drop-in back with a model of how
// systemd builds its filters and checks every syscall of the architecture:
// the drop-in never acts more strictly than the profile, and acts exactly as
// the profile except where the header says why not.
func TestSystemdNeverStricter(t *testing.T) {
	for _, tc := range systemdCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Systemd(tc.p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			checkDropIn(t, tc.p, tc.o, out)
		})
	}
}

// checkDropIn is the property TestSystemdNeverStricter and the fuzzer check.
func checkDropIn(t *testing.T, p Filter, o SystemdOptions, out []byte) {
	t.Helper()
	arch := o.Arch
	if !arch.Valid() {
		arch = syscalls.Native()
	}
	d := parseDropIn(t, out)
	if d.other["SystemCallArchitectures"] != "native" || d.other["NoNewPrivileges"] != "yes" {
		t.Errorf("missing SystemCallArchitectures=native or NoNewPrivileges=yes: %v", d.other)
	}
	header := string(out[:bytes.Index(out, []byte("[Service]"))])
	needed := map[string]bool{}
	for _, n := range union(SystemdAfterFilter, o.Helpers) {
		needed[n] = true
	}
	for _, name := range arch.Names() {
		want, ok := p.Syscalls[name]
		if !ok {
			want = p.Default
		}
		got := d.action(name)
		if o.Trial {
			if got > policy.Log {
				t.Errorf("%s: trial drop-in gives %v", name, got)
			}
			enforcing := want
			if needed[name] && enforcing >= policy.Error {
				enforcing = policy.Allow
			}
			if (enforcing > policy.Allow) != (got == policy.Log) && name != neverCalled {
				t.Errorf("%s: trial drop-in gives %v; the enforcing one would %v it", name, got, enforcing)
			}
			continue
		}
		if got > want {
			t.Errorf("%s: drop-in gives %v, stricter than the profile's %v", name, got, want)
			continue
		}
		if got == want || (name == neverCalled && want == policy.Log) {
			continue
		}
		// Looser: only for a reason the header gives.
		switch {
		case needed[name] && got == policy.Allow:
		case systemdDefaultSet(t)[name] && got == policy.Allow && strings.Contains(header, "@default"):
		case p.Default == policy.Error && want == policy.Kill && got == policy.Error && strings.Contains(header, "kill becomes "):
		case p.Default == policy.Kill && want == policy.Error && got == policy.Allow && strings.Contains(header, "error becomes allow"):
		default:
			t.Errorf("%s: drop-in gives %v, the profile %v, and the header does not say why", name, got, want)
		}
	}
}

// dropIn is a drop-in's [Service] filter settings as systemd reads them.
type dropIn struct {
	allowList bool              // SystemCallFilter= is an allow-list
	filter    map[string]string // name -> ":" suffix ("", errno name, "kill")
	errno     string            // SystemCallErrorNumber=
	logAllow  bool              // SystemCallLog= lists what is logged (not "~")
	logged    map[string]bool   // SystemCallLog= names
	other     map[string]string
}

// parseDropIn reads the directives as systemd's load-fragment.c does: the
// first SystemCallFilter= assignment decides allow- or deny-list, later
// ones add to it; the same for SystemCallLog=.
func parseDropIn(t *testing.T, text []byte) dropIn {
	t.Helper()
	d := dropIn{filter: map[string]string{}, logged: map[string]bool{}, other: map[string]string{}}
	var filterSeen, logSeen bool
	sc := bufio.NewScanner(bytes.NewReader(text))
	section := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "["):
			section = line
			continue
		}
		if section != "[Service]" {
			t.Fatalf("line %q outside [Service]", line)
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || value == "" {
			t.Fatalf("bad line %q (an empty assignment would reset the list)", line)
		}
		invert := strings.HasPrefix(value, "~")
		value = strings.TrimPrefix(value, "~")
		switch key {
		case "SystemCallFilter":
			if !filterSeen {
				filterSeen, d.allowList = true, !invert
			} else if invert == d.allowList {
				t.Fatalf("line %q removes from the list instead of adding", line)
			}
			for _, w := range strings.Fields(value) {
				name, suffix, _ := strings.Cut(w, ":")
				d.filter[name] = suffix
			}
		case "SystemCallLog":
			if !logSeen {
				logSeen, d.logAllow = true, !invert
			} else if invert == d.logAllow {
				t.Fatalf("line %q removes from the log list instead of adding", line)
			}
			for _, w := range strings.Fields(value) {
				d.logged[w] = true
			}
		case "SystemCallErrorNumber":
			d.errno = value
		default:
			if _, dup := d.other[key]; dup {
				t.Fatalf("%s set twice", key)
			}
			d.other[key] = value
		}
	}
	if !filterSeen {
		d.filter = nil
	}
	if !logSeen {
		d.logged = nil
	}
	return d
}

// action is what the filters systemd loads for d do with syscall name, in
// pgseccomp's terms (the kernel takes the strictest of the two).
func (d dropIn) action(name string) policy.Action {
	denied := func(suffix string) policy.Action {
		switch {
		case suffix == "kill":
			return policy.Kill
		case suffix != "":
			return policy.Error
		case d.errno == "" || d.errno == "kill":
			return policy.Kill
		}
		return policy.Error
	}
	a := policy.Allow
	if d.filter != nil {
		suffix, listed := d.filter[name]
		switch {
		case d.allowList && !listed && !systemdDefaultSetCached[name]:
			a = denied("")
		case !d.allowList && listed:
			a = denied(suffix)
		}
	}
	if d.logged != nil && d.logged[name] == d.logAllow && a < policy.Log {
		a = policy.Log
	}
	return a
}

var (
	systemdDefaultOnce      sync.Once
	systemdDefaultSetCached map[string]bool
)

// systemdDefaultSet is systemd's @default group, which it adds to every
// allow-list; empty when systemd-analyze is not installed (the model is
// then stricter than systemd, never looser).
func systemdDefaultSet(*testing.T) map[string]bool {
	systemdDefaultOnce.Do(func() {
		systemdDefaultSetCached = map[string]bool{}
		out, err := exec.Command("systemd-analyze", "syscall-filter", "@default").Output()
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(out), "\n") {
			w := strings.TrimSpace(line)
			if w != "" && !strings.HasPrefix(w, "#") && !strings.HasPrefix(w, "@") {
				systemdDefaultSetCached[w] = true
			}
		}
	})
	return systemdDefaultSetCached
}

func init() {
	// action() reads the cache directly; fill it before any test runs.
	systemdDefaultSet(nil)
}

// systemdKnownNames are every syscall name systemd-analyze syscall-filter
// lists, in groups or as unlisted ones the kernel supports.
func systemdKnownNames(t *testing.T) map[string]bool {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd); skipping the check against systemd's own syscall names")
	}
	out, err := exec.Command(path, "syscall-filter").Output()
	if err != nil {
		t.Skipf("systemd-analyze syscall-filter does not run here: %v", err)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		w := strings.TrimSpace(line)
		if w != "" && !strings.HasPrefix(w, "#") && !strings.HasPrefix(w, "@") {
			known[w] = true
		}
	}
	if !known["read"] || !known["execve"] {
		t.Fatalf("systemd-analyze syscall-filter printed no syscall names:\n%s", out)
	}
	return known
}

// TestSystemdNamesKnownToSystemd checks each native drop-in's names
// against systemd's own list: a name systemd does not know it ignores with
// only a warning, leaving that syscall denied.
func TestSystemdNamesKnownToSystemd(t *testing.T) {
	known := systemdKnownNames(t)
	for _, tc := range systemdCases {
		if tc.o.Arch.Valid() && tc.o.Arch != syscalls.Native() {
			continue
		}
		out, err := Systemd(tc.p, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		d := parseDropIn(t, out)
		var unknown []string
		for name := range d.filter {
			if !known[name] {
				unknown = append(unknown, name)
			}
		}
		for name := range d.logged {
			if !known[name] {
				unknown = append(unknown, name)
			}
		}
		sort.Strings(unknown)
		if len(unknown) > 0 {
			t.Errorf("%s: names systemd does not know: %v", tc.name, unknown)
		}
	}
}

// TestSystemdVerify has systemd-analyze verify load each drop-in onto
// Debian's real postgresql@.service: systemd must accept every line without
// a warning.
func TestSystemdVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd); skipping systemd-analyze verify")
	}
	const debianUnit = "/lib/systemd/system/postgresql@.service"
	unit, err := os.ReadFile(debianUnit)
	if err != nil {
		t.Skipf("%s is missing (Debian package postgresql-common); skipping systemd-analyze verify", debianUnit)
	}
	for _, tc := range systemdCases {
		if tc.o.Arch.Valid() && tc.o.Arch != syscalls.Native() {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Unit = DefaultUnit
			out, err := Systemd(tc.p, o)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "postgresql@.service"), unit, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, "postgresql@.service.d"), 0o755); err != nil {
				t.Fatal(err)
			}
			dropIn := filepath.Join(dir, "postgresql@.service.d", "pgseccomp.conf")
			if err := os.WriteFile(dropIn, out, 0o644); err != nil {
				t.Fatal(err)
			}
			// A trailing ":" keeps systemd's own directories after ours.
			cmd := exec.Command(analyze, "verify", "--man=no", "postgresql@15-main.service")
			cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":", "SYSTEMD_LOG_LEVEL=warning")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			runErr := cmd.Run()
			if strings.Contains(stderr.String(), dropIn) {
				t.Errorf("systemd-analyze verify objects to the drop-in:\n%s\n%s", stderr.String(), out)
			}
			if runErr != nil && !strings.Contains(stderr.String(), dropIn) {
				// Failures elsewhere (no running manager) are not ours to judge.
				t.Logf("systemd-analyze verify: %v: %s", runErr, stderr.String())
			}
		})
	}
	// The check can fail: a name systemd does not know is reported with the
	// drop-in's path and line.
	t.Run("detects unknown names", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "postgresql@.service"), unit, 0o644)
		os.MkdirAll(filepath.Join(dir, "postgresql@.service.d"), 0o755)
		bad := filepath.Join(dir, "postgresql@.service.d", "pgseccomp.conf")
		os.WriteFile(bad, []byte("[Service]\nSystemCallFilter=read no_such_syscall\n"), 0o644)
		cmd := exec.Command(analyze, "verify", "--man=no", "postgresql@15-main.service")
		cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), bad+":2") || !strings.Contains(string(out), "no_such_syscall") {
			t.Errorf("systemd-analyze verify did not report the unknown name:\n%s", out)
		}
	})
}

func TestSystemdErrors(t *testing.T) {
	ok := profileOf(policy.Error, map[policy.Action][]string{policy.Allow: {"read"}})
	for _, tc := range []struct {
		name    string
		p       Filter
		o       SystemdOptions
		wantErr string
	}{
		{"unknown syscall", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: {"read", "no_such_call"}}), SystemdOptions{},
			`profile global layer of testdata/postgresql.conf: syscall "no_such_call" does not exist`},
		{"other arch", profileOf(policy.Error, map[policy.Action][]string{policy.Allow: {"socketcall"}}), SystemdOptions{Arch: syscalls.X86_64},
			`syscall "socketcall" does not exist on x86_64 (it exists on i386`},
		{"not a service", ok, SystemdOptions{Unit: "postgresql.socket"}, `"postgresql.socket" is not a systemd service name`},
		{"unit with slash", ok, SystemdOptions{Unit: "../x.service"}, `"../x.service" is not a systemd service name`},
		{"invalid profile", Filter{Default: policy.Action(9)}, SystemdOptions{}, "invalid default action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Systemd(tc.p, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckUnit(t *testing.T) {
	for unit, valid := range map[string]bool{
		"postgresql@.service": true, "postgresql@15-main.service": true, "postgresql.service": true,
		"my_pg-1.service": true, `postgresql@15\x2dmain.service`: true,
		"postgresql": false, "postgresql@.timer": false, "": false, "a b.service": false, "x/y.service": false,
		strings.Repeat("a", 250) + ".service": false,
	} {
		if err := CheckUnit(unit); (err == nil) != valid {
			t.Errorf("CheckUnit(%q) = %v, want valid %v", unit, err, valid)
		}
	}
}

func TestDropInPath(t *testing.T) {
	if got, want := DropInPath(DefaultUnit), "/etc/systemd/system/postgresql@.service.d/pgseccomp.conf"; got != want {
		t.Errorf("DropInPath = %q, want %q", got, want)
	}
}

// FuzzSystemd builds profiles from random lists and checks that every
// drop-in is one systemd reads back as never stricter than the profile.
func FuzzSystemd(f *testing.F) {
	f.Add(uint8(2), "read,write", "readlink", "", "ptrace", false)
	f.Add(uint8(0), "", "", "ptrace,mount", "kexec_load", false)
	f.Add(uint8(1), "read", "", "ptrace", "", true)
	f.Add(uint8(3), "read", "", "socket", "", false)
	names := syscalls.Native().Names()
	f.Fuzz(func(t *testing.T, def uint8, allow, logged, errs, kills string, trial bool) {
		p := Filter{Default: policy.Action(def % 4), Syscalls: map[string]policy.Action{}}
		for a, list := range map[policy.Action]string{policy.Allow: allow, policy.Log: logged, policy.Error: errs, policy.Kill: kills} {
			for _, w := range strings.Split(list, ",") {
				if w == "" {
					continue
				}
				// Map any word onto a real name, so every run tests a valid profile.
				p.Syscalls[names[int(fnv(w))%len(names)]] = a
			}
		}
		o := SystemdOptions{Trial: trial, Helpers: PgCtlclusterSyscalls, HelpersName: "pg_ctlcluster"}
		out, err := Systemd(p, o)
		if err != nil {
			t.Fatalf("%v\nprofile %v", err, p)
		}
		checkDropIn(t, p, o, out)
	})
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// Example output of one drop-in, for the reader of this file.
func ExampleSystemd() {
	p := Filter{Default: policy.Allow, Syscalls: map[string]policy.Action{"ptrace": policy.Error, "kexec_load": policy.Kill}}
	out, _ := Systemd(p, SystemdOptions{})
	fmt.Print(string(out[bytes.Index(out, []byte("[Service]")):]))
	// Output:
	// [Service]
	// SystemCallFilter=~ptrace
	// SystemCallFilter=~kexec_load:kill
	// SystemCallErrorNumber=EACCES
	// SystemCallArchitectures=native
	// NoNewPrivileges=yes
}
