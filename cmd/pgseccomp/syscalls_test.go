package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// fixture is a real log from internal/audit/testdata (see its README):
// records of getppid (log), getpgrp (error), getsid (trace), getpriority
// (trap) and setpgid (kill) on x86_64, and getpid on i386 and x32.
func fixture(name string) string {
	return filepath.Join("..", "..", "internal", "audit", "testdata", name)
}

const nativeLine = "getpgrp,getppid,getpriority,getsid,setpgid\n"

func needAMD64(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the fixtures are x86_64 records; the default output is the native ABI's")
	}
}

func TestSyscallsHelp(t *testing.T) {
	for _, args := range [][]string{{"syscalls", "--help"}, {"help", "syscalls"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"Usage: pgseccomp syscalls", "Examples:", "pgseccomp syscalls /var/log/audit/audit.log --comm postgres", "--since", "--json", "Exit status:"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: help lacks %q", args, want)
			}
		}
	}
}

// Every format of the same kind of records gives the talk's one line.
func TestSyscallsEveryFormat(t *testing.T) {
	needAMD64(t)
	files, _ := filepath.Glob(fixture("*.log"))
	if len(files) < 10 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, f := range files {
		// The journal's text can be written by anyone: its records are
		// listed only on request.
		journal := strings.HasPrefix(filepath.Base(f), "journal-")
		if journal {
			code, out, errOut := runCLI(t, "syscalls", f)
			if code != 0 || out != "\n" || !strings.Contains(errOut, "records in lines anybody can write") {
				t.Errorf("%s: exit %d, stdout %q\n%s", filepath.Base(f), code, out, errOut)
			}
		}
		args := []string{"syscalls", f}
		if journal {
			args = []string{"syscalls", "--include-untrusted", f}
		}
		code, out, errOut := runCLI(t, args...)
		if code != 0 || out != nativeLine || journal != strings.Contains(errOut, "warning: --include-untrusted: the list includes") {
			t.Errorf("%s: exit %d, stdout %q\n%s", filepath.Base(f), code, out, errOut)
		}
		for _, want := range []string{"for i386 not printed (getpid); add --arch i386", "for x32 not printed (getpid)", "seccomp records"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", filepath.Base(f), want, errOut)
			}
		}
	}
	// All at once, formats mixed.
	code, out, errOut := runCLI(t, append([]string{"syscalls"}, files...)...)
	if code != 0 || out != nativeLine || !strings.Contains(errOut, "from 14 inputs") || !strings.Contains(errOut, "warning: left out 370 records in lines anybody can write (160 journal, 210 journal-audit)") {
		t.Errorf("all fixtures: exit %d, stdout %q\n%s", code, out, errOut)
	}
}

func TestSyscallsSummaryLine(t *testing.T) {
	code, _, errOut := runCLI(t, "syscalls", fixture("dmesg.log"))
	want := "pgseccomp syscalls: read 51 lines from " + fixture("dmesg.log") + ": 42 seccomp records, 42 selected; 2 unrelated, 7 malformed, 0 untrusted\n"
	if code != 0 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant the line\n%s", code, errOut, want)
	}
	if !strings.Contains(errOut, "malformed: "+fixture("dmesg.log")+":24: record cut short before its code= field (truncated line?)") {
		t.Errorf("stderr does not name the first cut line:\n%s", errOut)
	}
	if n := strings.Count(errOut, "malformed: "); n != 5 {
		t.Errorf("%d malformed examples, want the first 5:\n%s", n, errOut)
	}
}

func TestSyscallsArch(t *testing.T) {
	needAMD64(t)
	for _, tt := range []struct {
		args       []string
		out        string
		errWant    string
		errNotWant string
	}{
		{[]string{"--arch", "i386"}, "getpid\n", "records for x86_64 not printed", ""},
		{[]string{"--arch", "x32"}, "getpid\n", "", ""},
		{[]string{"--arch", "x86_64,i386", "--arch", "x32"}, nativeLine + "getpid\ngetpid\n",
			"stdout line 1: x86_64 (5 syscalls); line 2: i386 (1 syscall); line 3: x32 (1 syscall)", "not printed"},
		{[]string{"--arch", "all"}, nativeLine + "getpid\ngetpid\n", "line 3: x32", "not printed"},
		{[]string{"--arch", "aarch64"}, "\n", "records for x86_64 not printed", ""},
		{[]string{"--arch", "amd64"}, nativeLine, "", ""},
	} {
		args := append(append([]string{"syscalls"}, tt.args...), fixture("audit-raw.log"))
		code, out, errOut := runCLI(t, args...)
		if code != 0 || out != tt.out || !strings.Contains(errOut, tt.errWant) || tt.errNotWant != "" && strings.Contains(errOut, tt.errNotWant) {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", tt.args, code, out, errOut)
		}
	}
}

func TestSyscallsFilters(t *testing.T) {
	needAMD64(t)
	// Records of the three exerciser copies and the helper, in auditd's log.
	log := fixture("audit-raw.log")
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// The PID of the first record: the first helper process, which then
	// executed the exerciser (same PID).
	pid := strings.Fields(strings.SplitN(string(data), " pid=", 3)[2])[0]
	for _, tt := range []struct {
		args []string
		out  string
	}{
		{[]string{"--action", "kill"}, "setpgid\n"},
		{[]string{"--action", "error,trace"}, "getpgrp,getsid\n"},
		{[]string{"--action", "errno", "--action", "0x7ffc0000"}, "getpgrp,getppid\n"},
		{[]string{"--comm", "audit.test"}, "getpgrp,getppid,getsid\n"},
		{[]string{"--comm", "exer cise", "--action", "trap"}, "getpriority\n"},
		{[]string{"--exe", "exerciser"}, nativeLine},
		{[]string{"--exe", "/nonexistent/exerciser"}, "\n"},
		{[]string{"--pid", pid}, nativeLine},
		{[]string{"--pid", pid, "--comm", "audit.test"}, "getpgrp,getsid\n"}, // its getppid went to the kernel log
		{[]string{"--pid", "1," + pid, "--action", "kill"}, "setpgid\n"},
		{[]string{"--pid", "1"}, "\n"},
		{[]string{"--since", "@1795820197"}, "\n"},
		{[]string{"--since", "1795820196.3"}, nativeLine},
	} {
		args := append(append([]string{"syscalls"}, tt.args...), log)
		code, out, errOut := runCLI(t, args...)
		if code != 0 || out != tt.out {
			t.Errorf("%q: exit %d, stdout %q, want %q\n%s", tt.args, code, out, tt.out, errOut)
		}
	}
}

// --since counts back from now; journald's audit lines without a year
// cannot be placed, and the tool says how many it left out.
func TestSyscallsSince(t *testing.T) {
	needAMD64(t)
	defer func(now func() time.Time) { timeNow = now }(timeNow)
	// The fixtures' records are from 2026-11-27 22:55 to 22:57 UTC.
	timeNow = func() time.Time { return time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC) }

	for _, tt := range []struct {
		since, file, out string
	}{
		{"1m", "journal-short-iso.log", "\n"},
		{"10m", "journal-short-iso.log", nativeLine},
		{"2026-11-27T22:58:00Z", "journal-short-unix.log", "\n"},
		{"2026-11-27T22:50:00Z", "journal-short-unix.log", nativeLine},
		{"10m", "dmesg.log", nativeLine}, // dmesg's own prefix is seconds since boot; the records' stamps are dates
	} {
		code, out, errOut := runCLI(t, "syscalls", "--include-untrusted", "--since", tt.since, fixture(tt.file))
		if code != 0 || out != tt.out || strings.Contains(errOut, "without a date") {
			t.Errorf("--since %s %s: exit %d, stdout %q, want %q\n%s", tt.since, tt.file, code, out, tt.out, errOut)
		}
	}
	data, err := os.ReadFile(fixture("journal-short.log"))
	if err != nil {
		t.Fatal(err)
	}
	undated := strings.Count(string(data), "]: SECCOMP ")
	code, out, errOut := runCLI(t, "syscalls", "--include-untrusted", "--since", "10m", fixture("journal-short.log"))
	// The kernel transport's lines carry their stamp; the audit transport's do not.
	if code != 0 || out != nativeLine || !strings.Contains(errOut, fmt.Sprintf("--since left out %d records without a date", undated)) {
		t.Errorf("short: exit %d, stdout %q\n%s", code, out, errOut)
	}
}

func TestSyscallsJSON(t *testing.T) {
	needAMD64(t)
	code, out, errOut := runCLI(t, "syscalls", "--json", fixture("dmesg.log"), fixture("audit-enriched.log"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var got struct {
		Syscalls []struct {
			Name      string           `json:"name"`
			Number    int64            `json:"number"`
			Arch      string           `json:"arch"`
			Known     bool             `json:"known"`
			Count     int64            `json:"count"`
			FirstSeen *time.Time       `json:"first_seen"`
			LastSeen  *time.Time       `json:"last_seen"`
			PIDs      []int            `json:"pids"`
			Actions   map[string]int64 `json:"actions"`
			Comms     []string         `json:"comms"`
			Exes      []string         `json:"exes"`
		} `json:"syscalls"`
		Totals struct {
			Lines, Records, Matched, FilteredOut, Unrelated, Malformed int64
			MalformedExamples                                          []struct {
				File  string `json:"file"`
				Line  int64  `json:"line"`
				Error string `json:"error"`
			} `json:"malformed_examples"`
			Formats map[string]int64 `json:"formats"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var names []string
	for _, s := range got.Syscalls {
		names = append(names, s.Arch+":"+s.Name)
		if !s.Known || s.Count == 0 || s.FirstSeen == nil || s.LastSeen.Before(*s.FirstSeen) || len(s.PIDs) == 0 ||
			len(s.Actions) != 1 || len(s.Comms) == 0 || len(s.Exes) == 0 {
			t.Errorf("entry %+v", s)
		}
		if s.Arch == "x32" && s.Number != 0x40000027 || s.Arch == "i386" && s.Number != 20 {
			t.Errorf("%s getpid numbered %d", s.Arch, s.Number)
		}
		if s.Name == "setpgid" && s.Actions["kill_process"] != s.Count || s.Name == "getpgrp" && s.Actions["error"] != s.Count {
			t.Errorf("%s actions %v", s.Name, s.Actions)
		}
	}
	want := []string{"x86_64:getpgrp", "x86_64:getppid", "x86_64:getpriority", "x86_64:getsid", "x86_64:setpgid", "i386:getpid", "x32:getpid"}
	if !slices.Equal(names, want) {
		t.Errorf("syscalls %v, want %v (every ABI, ordered)", names, want)
	}
	tot := got.Totals
	if tot.Lines != 51+32 || tot.Records != 42+30 || tot.Matched != tot.Records || tot.Unrelated != 4 || tot.Malformed != 7 ||
		tot.Formats["dmesg"] != 42 || tot.Formats["auditd"] != 30 {
		t.Errorf("totals %+v", tot)
	}
	if len(tot.MalformedExamples) != 5 || tot.MalformedExamples[0].File != fixture("dmesg.log") || tot.MalformedExamples[0].Line != 24 ||
		!strings.Contains(tot.MalformedExamples[0].Error, "cut short") {
		t.Errorf("malformed examples %+v", tot.MalformedExamples)
	}
	// --arch narrows the JSON too.
	_, out, _ = runCLI(t, "syscalls", "--json", "--arch", "i386", fixture("dmesg.log"))
	if !strings.Contains(out, `"name": "getpid"`) || strings.Contains(out, `"x86_64"`) || strings.Contains(out, `"x32"`) {
		t.Errorf("--json --arch i386:\n%s", out)
	}
}

func TestSyscallsStdin(t *testing.T) {
	needAMD64(t)
	data, err := os.ReadFile(fixture("kmsg.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func(r io.Reader) { stdin = r }(stdin)
	for _, args := range [][]string{{"syscalls"}, {"syscalls", "-"}, {"syscalls", "--comm", "exerciser", "-"}} {
		stdin = strings.NewReader(string(data))
		code, out, errOut := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "getppid") || !strings.Contains(errOut, "from standard input") {
			t.Errorf("%q: exit %d, stdout %q\n%s", args, code, out, errOut)
		}
	}
	// Standard input between files, named in malformed-line examples.
	stdin = strings.NewReader(string(data))
	code, out, errOut := runCLI(t, "syscalls", "--json", fixture("audit-raw.log"), "-")
	if code != 0 || !strings.Contains(out, `"file": "<stdin>"`) || !strings.Contains(errOut, "from 2 inputs") {
		t.Errorf("file and stdin: exit %d\n%s\n%s", code, out, errOut)
	}
}

// A number libseccomp does not know is printed, never dropped, and warned
// about; an arch it cannot resolve is counted.
func TestSyscallsUnknown(t *testing.T) {
	needAMD64(t)
	log := filepath.Join(t.TempDir(), "audit.log")
	lines := []string{
		`type=SECCOMP msg=audit(1795820182.744:1): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=999 compat=0 ip=0x1 code=0x7ffc0000`,
		`type=SECCOMP msg=audit(1795820182.744:2): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=89 compat=0 ip=0x1 code=0x7ffc0000`,
		`type=SECCOMP msg=audit(1795820182.744:3): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=9 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=8 syscall=4001 compat=0 ip=0x1 code=0x7ffc0000`,
	}
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "syscalls", log)
	if code != 0 || out != "readlink,syscall_999\n" {
		t.Errorf("exit %d, stdout %q\n%s", code, out, errOut)
	}
	for _, want := range []string{"knows no syscall 999 on x86_64 (1 record); it is printed as syscall_999", "1 record for mips not printed (syscall_4001); pgseccomp cannot name this ABI's syscalls"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, out, _ = runCLI(t, "syscalls", "--json", log)
	if !strings.Contains(out, `"name": "syscall_999"`) || !strings.Contains(out, `"known": false`) || !strings.Contains(out, `"arch": "mips"`) {
		t.Errorf("JSON:\n%s", out)
	}
}

func TestSyscallsNoRecords(t *testing.T) {
	log := filepath.Join(t.TempDir(), "syslog")
	if err := os.WriteFile(log, []byte("Nov 27 22:56:37 vm systemd[1]: Started PostgreSQL.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "syscalls", log)
	if code != 0 || out != "\n" || !strings.Contains(errOut, "no seccomp records found") || !strings.Contains(errOut, "1 unrelated") {
		t.Errorf("exit %d, stdout %q\n%s", code, out, errOut)
	}
}

func TestSyscallsBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{filepath.Join(dir, "nosuch.log")}, []string{"cannot read " + filepath.Join(dir, "nosuch.log"), "no such file", "/var/log/audit/audit.log"}},
		{[]string{dir}, []string{"cannot read " + dir, "is a directory"}},
		{[]string{fixture("dmesg.log"), filepath.Join(dir, "nosuch.log")}, []string{"nosuch.log"}},
		{[]string{"-", "-"}, []string{"standard input (-) is named 2 times"}},
		{[]string{"--pid", "abc"}, []string{`invalid value "abc" for flag -pid`, `"abc" is not a process ID`}},
		{[]string{"--pid", "0"}, []string{`"0" is not a process ID`}},
		{[]string{"--pid", "1,,2"}, []string{"empty entry"}},
		{[]string{"--action", "deny"}, []string{`unknown action "deny"`}},
		{[]string{"--arch", "mips"}, []string{`unknown architecture "mips"`, "x86_64"}},
		{[]string{"--since", "yesterday"}, []string{`"yesterday" is neither a duration`}},
		{[]string{"--since", "-2h"}, []string{`"-2h" is neither`}},
		{[]string{"--frobnicate"}, []string{"frobnicate", "pgseccomp syscalls --help"}},
	} {
		code, out, errOut := runCLI(t, append([]string{"syscalls"}, tt.args...)...)
		if code != 2 || out != "" {
			t.Errorf("%q: exit %d, stdout %q", tt.args, code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tt.args, w, errOut)
			}
		}
	}
}

// A record forged by a database user (RAISE LOG) or any local user
// (logger) in each kind of log anybody can write: ptrace, logged.
var forgedLines = []struct{ name, line string }{
	{"PostgreSQL stderr", `2026-11-27 22:56:30.123 UTC [4242] LOG:  type=1326 audit(1795820190.744:1): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x7ffc0000`},
	{"PostgreSQL csvlog", `2026-11-27 22:56:30.123 UTC,"mallory","app",4242,"[local]",6752c8a0.1092,3,"SELECT",2026-11-27 22:56:00 UTC,3/4,0,LOG,00000,"audit: type=1326 audit(1795820190.744:2): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm=""postgres"" exe=""/usr/lib/postgresql/15/bin/postgres"" sig=0 arch=c000003e syscall=165 compat=0 ip=0x1 code=0x7ffc0000 ",,,,,,,,,"psql","client backend",,0`},
	{"PostgreSQL jsonlog", `{"timestamp":"2026-11-27 22:56:30.123 UTC","user":"mallory","pid":4242,"error_severity":"LOG","message":"type=1326 audit(1795820190.744:3): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm=postgres exe=/usr/lib/postgresql/15/bin/postgres sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x7ffc0000 ","backend_type":"client backend"}`},
	{"syslog", `Nov 27 22:56:30 db1 kernel: audit: type=1326 audit(1795820190.744:4): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x7ffc0000`},
	{"journal short", `Nov 27 22:56:30 db1 audit[4242]: SECCOMP auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x7ffc0000`},
	{"journal json, syslog transport", `{"_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"audit: type=1326 audit(1795820190.744:5): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm=\"postgres\" exe=\"/x\" sig=0 arch=c000003e syscall=101 compat=0 ip=0x1 code=0x7ffc0000"}`},
}

// Forged records are counted, named and left out of the list; a real
// record next to them is listed.
func TestSyscallsForged(t *testing.T) {
	needAMD64(t)
	real := `{"__REALTIME_TIMESTAMP":"1795820190744000","_TRANSPORT":"kernel","MESSAGE":"audit: type=1326 audit(1795820190.744:9): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4243 comm=\"postgres\" exe=\"/x\" sig=0 arch=c000003e syscall=110 compat=0 ip=0x1 code=0x7ffc0000"}`
	dir := t.TempDir()
	for _, tt := range forgedLines {
		path := filepath.Join(dir, "log")
		if err := os.WriteFile(path, []byte(real+"\n"+tt.line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, "syscalls", path)
		if code != 0 || out != "getppid\n" || !strings.Contains(errOut, "warning: left out 1 record in lines anybody can write") ||
			!strings.Contains(errOut, "untrusted: "+path+":2: record in a line anybody can write (") || !strings.Contains(errOut, "1 selected; 0 unrelated, 0 malformed, 1 untrusted") {
			t.Errorf("%s: exit %d, stdout %q\n%s", tt.name, code, out, errOut)
		}
		code, out, errOut = runCLI(t, "syscalls", "--include-untrusted", path)
		if code != 0 || !strings.Contains(errOut, "warning: --include-untrusted: the list includes 1 record") {
			t.Errorf("%s --include-untrusted: exit %d, stdout %q\n%s", tt.name, code, out, errOut)
		}
		code, out, errOut = runCLI(t, "syscalls", "--json", path)
		var got struct {
			Syscalls []struct{ Name string } `json:"syscalls"`
			Totals   struct {
				Untrusted         int64            `json:"untrusted"`
				UntrustedIncluded bool             `json:"untrusted_included"`
				UntrustedFormats  map[string]int64 `json:"untrusted_formats"`
				UntrustedExamples []struct {
					Line  int64  `json:"line"`
					Error string `json:"error"`
				} `json:"untrusted_examples"`
			} `json:"totals"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
			t.Fatalf("%s --json: exit %d, %v\n%s", tt.name, code, err, errOut)
		}
		if len(got.Syscalls) != 1 || got.Syscalls[0].Name != "getppid" || got.Totals.Untrusted != 1 || got.Totals.UntrustedIncluded ||
			len(got.Totals.UntrustedFormats) != 1 || len(got.Totals.UntrustedExamples) != 1 || got.Totals.UntrustedExamples[0].Line != 2 {
			t.Errorf("%s --json: %+v", tt.name, got)
		}
	}
}

// A syscall number libseccomp does not know but the kernel's table does is
// named, with a note.
func TestSyscallsNewerThanLibrary(t *testing.T) {
	needAMD64(t)
	if len(syscalls.NewerThanLibrary(syscalls.X86_64, []string{"mseal"})) == 0 {
		t.Skipf("libseccomp %s knows mseal", syscalls.LibraryVersion())
	}
	path := filepath.Join(t.TempDir(), "dmesg")
	line := `[ 4484.032415] audit: type=1326 audit(1795820182.744:14848): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=462 compat=0 ip=0x1 code=0x7ffc0000`
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "syscalls", path)
	if code != 0 || out != "mseal\n" || !strings.Contains(errOut, "does not know mseal on x86_64; they are named from the kernel's syscall tables") {
		t.Errorf("exit %d, stdout %q\n%s", code, out, errOut)
	}
}
