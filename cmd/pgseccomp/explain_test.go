package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/explain"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// writeConf writes postgresql.conf (and other files) into a new directory
// and returns the directory.
func writeConf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const preloaded = "shared_preload_libraries = 'pgseccomp'\npgseccomp.enabled = on\n"

func TestExplain(t *testing.T) {
	tests := []struct {
		name   string
		conf   string
		args   []string
		code   int
		out    []string // substrings of stdout
		errOut []string // substrings of stderr
		notOut []string
	}{
		{
			name: "talk example 2",
			conf: preloaded + "pgseccomp.global_syscall_default = log\npgseccomp.session_syscall_allow = 'nanosleep'\n",
			out: []string{"Global filter", " <default> |         -1 | global->log   | global\n(1 row)",
				"A session of any role not in pgseccomp.session_roles:", " nanosleep |         35 | global->log   | session", "(2 rows)"},
		},
		{
			name:   "a listed role and an unlisted one",
			conf:   preloaded + "pgseccomp.session_syscall_error = 'acct'\npgseccomp.session_roles = 'joe'\nsession_syscall_error.joe = ''\n",
			args:   []string{"--role", "joe", "--role", "ann", "--context", "session"},
			out:    []string{`A session of role "joe" (in pgseccomp.session_roles):`, `A session of role "ann" (not in pgseccomp.session_roles`, "acct      |        163 | session->error | session"},
			notOut: []string{"Global filter"},
		},
		{
			// the postmaster compiles the session filters under the
			// global one; the extension refuses to start without these
			name:   "global layer denies what compiling takes",
			conf:   preloaded + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = 'read,write,close,seccomp'\n",
			code:   1,
			errOut: []string{"The global layer denies pipe2, which the postmaster needs to compile the session filters", "The global layer denies fcntl"},
		},
		{
			name: "all roles",
			conf: preloaded + "pgseccomp.session_roles = 'joe, ann'\n",
			args: []string{"--all-roles", "--context", "session"},
			out:  []string{`role "joe"`, `role "ann"`, "any role not in"},
		},
		{
			name: "client filter in SQL form",
			conf: preloaded + "pgseccomp.session_syscall_allow = 'acct'\n",
			args: []string{"--client-filter", "SELECT set_client_filter(NULL, NULL, NULL, 'acct', NULL);", "--context", "session"},
			out:  []string{"after SELECT set_client_filter(NULL, NULL, NULL, 'acct', NULL)", "acct      |        163 | client->error | session"},
		},
		{
			name: "why column",
			conf: preloaded + "pgseccomp.global_syscall_error = 'acct'\n",
			args: []string{"--why", "--context", "global"},
			out:  []string{"why\n-----", "pgseccomp.global_syscall_error", "pgseccomp.global_syscall_default"},
		},
		{
			name: "another architecture",
			conf: preloaded + "pgseccomp.global_syscall_error = 'openat'\n",
			args: []string{"--arch", "aarch64", "--context", "global"},
			out:  []string{"aarch64", " openat    |         56 | global->error | global"},
		},
		{
			name:   "not preloaded",
			conf:   "pgseccomp.global_syscall_error = 'acct'\n",
			errOut: []string{"not in shared_preload_libraries", "pgseccomp.enabled is off"},
			out:    []string{"acct"},
		},
		{
			name:   "invalid settings name file and line",
			conf:   preloaded + "\npgseccomp.global_syscall_allow = 'read,raed'\npgseccomp.session_roles = 'joe'\nsession_syscall_allow.ann = ''\n",
			code:   1,
			errOut: []string{"would reject", "postgresql.conf:4: pgseccomp.global_syscall_allow = 'read,raed': Unknown syscall \"raed\" (word 2 of the list). Did you mean \"read\"?", `postgresql.conf:6: session_syscall_allow.ann = '': "session_syscall_allow.ann" is set, but role "ann" is not listed`},
		},
		{
			name:   "every connection refused",
			conf:   preloaded + "pgseccomp.global_syscall_error = 'seccomp'\n",
			code:   1,
			out:    []string{"no rows: every connection is refused"},
			errOut: []string{"every connection is refused"},
		},
		{
			name:   "client filter that cannot load",
			conf:   preloaded + "pgseccomp.session_syscall_error = 'seccomp'\n",
			args:   []string{"--client-filter", "default=log"},
			code:   1,
			errOut: []string{"could not load the client filter"},
		},
		{
			name:   "conflicting client lists",
			conf:   preloaded,
			args:   []string{"--client-filter", "allow=acct; error=acct"},
			code:   1,
			errOut: []string{`Syscall "acct" is named in both argument allow_list and argument error_list.`},
		},
		{name: "bad context", conf: preloaded, args: []string{"--context", "all"}, code: 2, errOut: []string{`--context "all"`}},
		{name: "role with global context", conf: preloaded, args: []string{"--context", "global", "--role", "x"}, code: 2},
		{name: "bad arch", conf: preloaded, args: []string{"--arch", "vax"}, code: 2, errOut: []string{"vax"}},
		{name: "bad client filter", conf: preloaded, args: []string{"--client-filter", "'error', NULL"}, code: 2, errOut: []string{"5 arguments"}},
		{name: "syntax error", conf: "port = \n", code: 2, errOut: []string{"postgresql.conf:1: syntax error near end of line"}},
		{
			name:   "a role name over 63 bytes",
			conf:   preloaded + "pgseccomp.session_roles = '" + strings.Repeat("r", 70) + "'\nsession_syscall_error." + strings.Repeat("r", 63) + " = 'acct'\n",
			args:   []string{"--role", strings.Repeat("r", 70), "--context", "session"},
			out:    []string{`A session of role "` + strings.Repeat("r", 63) + `" (in pgseccomp.session_roles):`, "acct      |        163 | session->error | session"},
			errOut: []string{"is 70 bytes; PostgreSQL truncates names to 63 bytes"},
		},
		{
			name:   "session_roles folds an unquoted name",
			conf:   preloaded + "pgseccomp.session_roles = 'Joe'\nSESSION_SYSCALL_ERROR.Joe = 'acct'\n",
			args:   []string{"--role", "Joe", "--role", "joe", "--context", "session"},
			out:    []string{`A session of role "Joe" (not in pgseccomp.session_roles`, `A session of role "joe" (in pgseccomp.session_roles):`, "acct      |        163 | session->error | session"},
			errOut: []string{`role "Joe" is not in pgseccomp.session_roles, which lists "joe"`, `write it in double quotes ("Joe")`},
		},
		{name: "include /dev/zero", conf: preloaded + "include '/dev/zero'\n", code: 2,
			errOut: []string{`postgresql.conf:3: could not read configuration file "/dev/zero": not a regular file (a character device)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConf(t, map[string]string{"postgresql.conf": tt.conf})
			args := append([]string{"explain", "--pgdata", dir}, tt.args...)
			code, out, errOut := runCLI(t, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notOut {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			for _, w := range tt.errOut {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestExplainJSON(t *testing.T) {
	dir := writeConf(t, map[string]string{"postgresql.conf": preloaded + "pgseccomp.session_syscall_error = 'acct'\n"})
	code, out, errOut := runCLI(t, "explain", "--config", filepath.Join(dir, "postgresql.conf"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Active   bool
		Global   []map[string]any
		Sessions []struct {
			Role string
			Rows []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Active || len(r.Global) != 1 || len(r.Sessions) != 1 || len(r.Sessions[0].Rows) != 2 {
		t.Fatalf("report %+v", r)
	}
	row := r.Sessions[0].Rows[1]
	if row["syscall"] != "acct" || row["filter_action"] != "session->error" || row["action"] != "error" || row["why"] != "pgseccomp.session_syscall_error" {
		t.Errorf("row %v", row)
	}
}

// TestExplainBPF: --bpf compiles each layer shown, and a longer allow-list
// makes a longer program.
func TestExplainBPF(t *testing.T) {
	dir := writeConf(t, map[string]string{"postgresql.conf": preloaded +
		"pgseccomp.session_syscall_default = error\n" +
		"pgseccomp.session_syscall_allow = 'read,write,openat,close,futex,epoll_wait,sendto,recvfrom,lseek,mmap,munmap,brk,seccomp'\n" +
		"pgseccomp.session_roles = 'joe'\n" +
		"session_syscall_allow.joe = 'read,write,seccomp'\n"})
	code, out, errOut := runCLI(t, "explain", "--pgdata", dir, "--all-roles", "--bpf", "--json",
		"--client-filter", "default=error; allow=seccomp,read,write")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var report struct {
		Programs []explain.ProgramReport `json:"programs"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	got := map[string]explain.ProgramReport{}
	for _, p := range report.Programs {
		if p.Instructions < 4 || p.Bytes != 8*p.Instructions || p.LongestPath < 3 || p.LongestPath > p.Instructions {
			t.Errorf("implausible program %+v", p)
		}
		got[p.Layer+"/"+p.Role] = p
	}
	for _, key := range []string{"global/", "session/joe", "session/", "client/joe", "client/"} {
		if _, ok := got[key]; !ok {
			t.Errorf("no program for %s in %+v", key, report.Programs)
		}
	}
	if got["session/"].Instructions <= got["session/joe"].Instructions {
		t.Errorf("13 allowed syscalls compile to %d instructions, 3 to %d; want more for more",
			got["session/"].Instructions, got["session/joe"].Instructions)
	}
}

// explain --config on a named pipe with no writer is refused at once.
func TestExplainConfigNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "postgresql.conf")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "explain", "--config", fifo)
	if code != 2 || !strings.Contains(errOut, fifo) || !strings.Contains(errOut, "not a regular file (a named pipe)") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

// A syscall newer than this tool's libseccomp, known from the kernel's
// table, is explained and linted with a note, not refused as a typo; a
// typo still is.
func TestExplainNewerSyscall(t *testing.T) {
	arch := syscalls.Native()
	newer := syscalls.NewerThanLibrary(arch, []string{"mseal", "file_setattr", "listmount"})
	if len(newer) == 0 {
		t.Skipf("libseccomp %s knows every syscall of the kernel table tried here", syscalls.LibraryVersion())
	}
	name := newer[0]
	dir := writeConf(t, map[string]string{"postgresql.conf": preloaded + "pgseccomp.session_syscall_error = '" + name + "'\n"})
	code, out, errOut := runCLI(t, "explain", "--pgdata", dir, "--context", "session")
	if code != 0 || !strings.Contains(out, name) ||
		!strings.Contains(errOut, "libseccomp "+syscalls.LibraryVersion()+", which this tool uses, does not know "+name+" (Linux "+syscalls.Linux(name)+")") {
		t.Errorf("explain: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "lint", "--pgdata", dir)
	if !strings.Contains(out+errOut, "notice: libseccomp "+syscalls.LibraryVersion()) || !strings.Contains(out+errOut, "(newer-syscall)") {
		t.Errorf("lint: exit %d\n%s\n%s", code, out, errOut)
	}
	dir = writeConf(t, map[string]string{"postgresql.conf": preloaded + "pgseccomp.session_syscall_error = 'msael'\n"})
	if code, _, errOut := runCLI(t, "explain", "--pgdata", dir); code != 1 || !strings.Contains(errOut, `Unknown syscall "msael"`) {
		t.Errorf("a typo: exit %d\n%s", code, errOut)
	}
}
