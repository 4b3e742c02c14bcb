package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// startable is a global allow-list with what PostgreSQL 15 needs (the demo's
// list plus the rare paths), for configurations with an error default.
const startable = "accept,accept4,access,brk,chdir,chmod,clock_gettime,clock_nanosleep,close,close_range,connect," +
	"dup,dup2,dup3,epoll_create1,epoll_ctl,epoll_pwait,epoll_wait,exit,exit_group,faccessat,faccessat2," +
	"fadvise64,fallocate,fchdir,fcntl,fdatasync,fstat,fstatfs,fsync,ftruncate,futex,getcwd,getdents64," +
	"getegid,geteuid,getgid,getpeername,getpid,getppid,getrandom,getrlimit,getrusage,getsockname,getsockopt," +
	"gettid,gettimeofday,getuid,ioctl,kill,link,lseek,lstat,madvise,memfd_create,mkdir,mkdirat,mmap," +
	"mprotect,mremap,munmap,nanosleep,newfstatat,openat,pipe2,poll,ppoll,prctl,pread64,preadv,prlimit64," +
	"pselect6,pwrite64,pwritev,read,readv,recvfrom,recvmsg,rename,renameat,restart_syscall,rmdir,rseq," +
	"rt_sigaction,rt_sigprocmask,rt_sigreturn,rt_sigsuspend,sched_getaffinity,sched_yield,seccomp,select,sendmsg," +
	"sendto,set_robust_list,setitimer,setsid,setsockopt,shmat,shmctl,shmdt,shmget,shutdown,sigaltstack," +
	"signalfd4,socket,stat,statfs,statx,symlink,sync_file_range,sysinfo,tgkill,times,truncate,umask," +
	"uname,unlink,unlinkat,wait4,write,writev,clone,clone3,set_tid_address,execve,waitid,pipe,getdents,renameat2," +
	"readlink,readlinkat,fchmodat,fchmodat2,eventfd,open,eventfd2,futex_waitv,epoll_pwait2,openat2,sendfile,copy_file_range,signalfd,fchmod"

func TestLint(t *testing.T) {
	type want struct{ check, severity, text string }
	tests := []struct {
		name  string
		conf  string
		archs []string
		code  int
		want  []want
	}{
		{name: "clean", conf: preloaded + "pgseccomp.session_syscall_error = 'acct,chroot'\n", code: 0},
		{name: "clean with error default", conf: preloaded + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = '" + startable + "'\n", code: 0},
		{name: "not preloaded", conf: "pgseccomp.enabled = on\n", code: 1,
			want: []want{{"not-active", "warning", "not in shared_preload_libraries"}}},
		{name: "not enabled", conf: "shared_preload_libraries = 'pg_stat_statements,pgseccomp'\n", code: 1,
			want: []want{{"not-active", "warning", "pgseccomp.enabled is off"}}},
		{name: "invalid", conf: preloaded + "pgseccomp.session_syscall_error = 'acct,chrot'\n", code: 1,
			want: []want{{"invalid", "error", `postgresql.conf:3: error: pgseccomp.session_syscall_error = 'acct,chrot': Unknown syscall "chrot" (word 2 of the list). Did you mean "chroot"?`}}},
		{name: "unknown on another architecture", conf: preloaded + "pgseccomp.session_syscall_error = 'open'\n", archs: []string{"x86_64", "aarch64"}, code: 1,
			want: []want{{"invalid", "error", `Syscall "open" (word 1 of the list) does not exist on this architecture (aarch64). [aarch64]`}}},
		{name: "default with spaces", conf: preloaded + "pgseccomp.session_syscall_default = ' error'\n", code: 1,
			want: []want{{"invalid", "error", "pgseccomp.session_syscall_default = ' error'"}}},
		{name: "every connection refused", conf: preloaded + "pgseccomp.global_syscall_kill = 'seccomp'\n", code: 1,
			want: []want{{"refused", "error", "the global layer denies seccomp"}, {"kill", "warning", "the global layer kills on seccomp"}}},
		{name: "pre-glibc-2.33 global list", conf: preloaded + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = 'read,write,stat,getdents,pipe,select,seccomp'\n", code: 1,
			want: []want{
				{"startup", "error", "the global layer denies newfstatat, getdents64, pipe2, pselect6, signalfd4"},
				{"failure-paths", "warning", "the global layer denies pwritev, rt_sigaction, gettid, tgkill"},
				{"twin", "notice", "the global layer allows stat but denies statx"},
			}},
		{name: "pre-glibc-2.33 role list", conf: preloaded + "pgseccomp.session_roles = 'joe'\nsession_syscall_default.joe = error\nsession_syscall_allow.joe = 'read,stat'\n", code: 1,
			want: []want{{"startup", "error", `postgresql.conf:4: error: the session layer of role "joe" denies newfstatat`}}},
		{name: "clone without clone3", conf: preloaded + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = '" + strings.Replace(startable, ",clone3", "", 1) + "'\n", code: 1,
			want: []want{{"twin", "warning", "the global layer allows clone but denies clone3"}}},
		{name: "explicit error splits a pair", conf: preloaded + "pgseccomp.session_syscall_error = 'clone3'\n", code: 1,
			want: []want{{"twin", "warning", "the session layer allows clone but denies clone3"}}},
		{name: "only an optional twin denied", conf: preloaded + "pgseccomp.session_syscall_error = 'openat2'\n", code: 0,
			want: []want{{"twin", "notice", "the session layer allows open, openat but denies openat2"}}},
		{name: "session kill", conf: preloaded + "pgseccomp.session_syscall_kill = 'ptrace'\n", code: 1,
			want: []want{{"kill", "warning", "the session kill list names ptrace"}}},
		{name: "role kill default", conf: preloaded + "pgseccomp.session_roles = 'joe'\nsession_syscall_default.joe = kill\nsession_syscall_allow.joe = '" + startable + "'\n", code: 1,
			want: []want{{"kill", "warning", `the default action of role "joe" is kill`}}},
		{name: "talk example 2: no effect", conf: preloaded + "pgseccomp.global_syscall_default = log\npgseccomp.session_syscall_allow = 'nanosleep'\n", code: 1,
			want: []want{{"overridden", "warning", "pgseccomp.session_syscall_allow names nanosleep, but the global layer gives it log (pgseccomp.global_syscall_default): the entry has no effect"}}},
		{name: "overridden by a global list, for a role", conf: preloaded + "pgseccomp.global_syscall_error = 'acct'\npgseccomp.session_roles = 'joe'\nsession_syscall_log.joe = 'acct'\n", code: 1,
			want: []want{{"overridden", "warning", "session_syscall_log.joe names acct, but the global layer gives it error (pgseccomp.global_syscall_error): the entry has no effect"}}},
		{name: "partly overridden", conf: preloaded + "pgseccomp.global_syscall_default = log\npgseccomp.session_syscall_default = error\npgseccomp.session_syscall_allow = '" + startable + "'\n", code: 0,
			want: []want{{"overridden", "notice", "names accept, accept4, access, brk, chdir, chmod, clock_gettime, clock_nanosleep and 135 more, but the global layer gives them log (pgseccomp.global_syscall_default): sessions get that, not allow"}}},
		{name: "set_client_filter cannot load", conf: preloaded + "pgseccomp.session_syscall_error = 'seccomp'\n", code: 0,
			want: []want{{"client-filter", "notice", "the session layer denies seccomp"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeConf(t, map[string]string{"postgresql.conf": tt.conf})
			args := []string{"lint", "--pgdata", dir}
			for _, a := range tt.archs {
				args = append(args, "--arch", a)
			}
			code, out, errOut := runCLI(t, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %s\n%s", code, tt.code, errOut, out)
			}
			for _, w := range tt.want {
				found := false
				for _, line := range strings.Split(out, "\n") {
					if strings.Contains(line, ": "+w.severity+": ") && strings.HasSuffix(line, "("+w.check+")") && strings.Contains(line, w.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s %s finding with %q:\n%s", w.severity, w.check, w.text, out)
				}
			}
			if len(tt.want) == 0 && !strings.Contains(out, "no findings") {
				t.Errorf("want no findings:\n%s", out)
			}

			// The JSON has the same findings, each with why and fix.
			args = append(args, "--json")
			code2, out, _ := runCLI(t, args...)
			var findings []lintFinding
			if err := json.Unmarshal([]byte(out), &findings); err != nil || code2 != code {
				t.Fatalf("JSON (exit %d): %v\n%s", code2, err, out)
			}
			if len(tt.want) == 0 && len(findings) != 0 {
				t.Errorf("JSON findings: %+v", findings)
			}
			for _, f := range findings {
				if f.Why == "" || f.Fix == "" || f.Message == "" || f.Severity == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

func TestLintBadInput(t *testing.T) {
	dir := writeConf(t, map[string]string{"postgresql.conf": "include 'missing.conf'\n"})
	for _, args := range [][]string{
		{"lint", "--pgdata", dir},
		{"lint", "--config", dir + "/nope.conf"},
		{"lint", "--pgdata", dir, "--arch", "pdp11"},
		{"lint", "extra"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestExplainAndLintHelp(t *testing.T) {
	for _, name := range []string{"explain", "lint"} {
		code, out, errOut := runCLI(t, name, "--help")
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage: pgseccomp "+name) || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, stderr %q:\n%s", name, code, errOut, out)
		}
	}
}
