package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/source"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

const (
	base   = "shared_preload_libraries = 'pgseccomp'\npgseccomp.enabled = on\nlog_connections = on\n"
	noRing = "io_uring_setup,io_uring_enter,io_uring_register"
)

// startable is a global allow-list with everything PostgreSQL 15 needs,
// for configurations with an error default: the demo's list, every need
// of every configuration, every twin.
func startable(except ...string) string {
	list := slices.Concat(demo.HandDerivedGlobalAllowList(), policy.GlobalNeeds(policy.ListenTCP, policy.SSL, policy.Peer, policy.Password),
		[]string{"set_tid_address", "execve", "fchmod"})
	for _, g := range policy.Twins {
		for _, gen := range g.Generations {
			list = append(list, gen...)
		}
	}
	slices.Sort(list)
	list = slices.Compact(list)
	list = slices.DeleteFunc(list, func(n string) bool {
		return slices.Contains(except, n) || !syscalls.Has(syscalls.X86_64, n)
	})
	return strings.Join(list, ",")
}

// errorDefault is a global layer with an error default that allows
// startable(except...).
func errorDefault(except ...string) string {
	return base + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = '" + startable(except...) + "'\n"
}

// run lints the files (postgresql.conf and, unless given, a pg_hba.conf of
// trust lines) in a temporary data directory, as the command does.
func run(t *testing.T, files map[string]string, archs []string, roles []string) []Finding {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["pg_hba.conf"]; !ok {
		files["pg_hba.conf"] = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return lintDir(t, dir, archs, roles)
}

// lintDir lints the configuration of the data directory dir as the
// command does.
func lintDir(t *testing.T, dir string, archs []string, roles []string) []Finding {
	t.Helper()
	conf, err := pgconf.LoadOptions(filepath.Join(dir, "postgresql.conf"), pgconf.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(archs) == 0 {
		archs = []string{"x86_64"}
	}
	var as []policy.Arch
	for _, name := range archs {
		arch, err := policy.ParseArch(name)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, arch)
	}
	in := For(source.ForConf(conf), as...)
	in.Roles = roles
	return Run(in)
}

// TestLint is the table of configurations and the findings each must
// give, with their severity: errors for what stops the server, refuses
// connections by a configured method, or keeps a crashed cluster down.
func TestLint(t *testing.T) {
	type want struct{ check, severity, text string }
	tests := []struct {
		name   string
		conf   string
		hba    string
		archs  []string
		roles  []string // pg_roles, as --dsn reads it
		failed bool
		want   []want
		absent []string // checks that must not be found
	}{
		{name: "clean", conf: base + "pgseccomp.session_syscall_error = 'acct,chroot," + noRing + "'\n",
			want: []want{{"global-only", Notice, "the session layer denies acct, chroot, io_uring_enter, io_uring_register, io_uring_setup, which"}}},
		{name: "clean with error default", conf: errorDefault(), want: nil},
		{name: "not preloaded", conf: "pgseccomp.enabled = on\n", failed: true,
			want: []want{{"not-active", Warning, "not in shared_preload_libraries"}}},
		{name: "not enabled", conf: "shared_preload_libraries = 'pg_stat_statements,pgseccomp'\n", failed: true,
			want: []want{{"not-active", Warning, "pgseccomp.enabled is off"}}},
		{name: "misspelt word: position and suggestion, not the list", conf: base + "pgseccomp.session_syscall_error = 'acct,chrot,ptrace'\n", failed: true,
			want: []want{{"invalid", Error, `postgresql.conf:4: pgseccomp.session_syscall_error: Unknown syscall "chrot" (word 2 of the list). Did you mean "chroot"?`}}},
		{name: "unknown on another architecture", conf: base + "pgseccomp.session_syscall_error = 'open," + noRing + "'\n", archs: []string{"x86_64", "aarch64"}, failed: true,
			want: []want{{"invalid", Error, `pgseccomp.session_syscall_error: Syscall "open" (word 1 of the list) does not exist on this architecture (aarch64). Did you mean "openat"? [aarch64]`}}},
		{name: "misspelt word in a long list", conf: base + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = '" + startable() + ",getpriorty'\n", failed: true,
			want: []want{{"invalid", Error, fmt.Sprintf(`postgresql.conf:5: pgseccomp.global_syscall_allow: Unknown syscall "getpriorty" (word %d of the list). Did you mean "getpriority"?`, strings.Count(startable(), ",")+2)}}},
		{name: "a conflict in a long list is not quoted whole", conf: base + "pgseccomp.global_syscall_allow = '" + startable() + "'\npgseccomp.global_syscall_error = 'ptrace,read'\n", failed: true,
			want: []want{{"invalid", Error, `Syscall "read" is named in both pgseccomp.global_syscall_allow`}}},
		{name: "default with spaces", conf: base + "pgseccomp.session_syscall_default = ' error'\n", failed: true,
			want: []want{{"invalid", Error, "pgseccomp.session_syscall_default = ' error'"}}},
		{name: "every connection refused", conf: base + "pgseccomp.global_syscall_kill = 'seccomp," + noRing + "'\n", failed: true,
			want: []want{{"refused", Error, "the global layer denies seccomp"}, {"kill", Warning, "the global layer kills on"}}},
		{name: "pre-glibc-2.33 global list", conf: base + "pgseccomp.global_syscall_default = error\npgseccomp.global_syscall_allow = 'read,write,stat,getdents,pipe,select,seccomp'\n", failed: true,
			want: []want{
				{"startup", Error, "the global layer denies newfstatat, getdents64, pipe2, signalfd4"},
				{"startup-select", Error, "the global layer denies pselect6"},
				{"wal-segment", Error, "the global layer denies pwritev"},
				{"abort", Error, "the global layer denies rt_sigaction, rt_sigprocmask, gettid, getpid, tgkill"},
				{"postmaster", Error, "the global layer denies bind, listen, clone"},
				{"twin", Notice, "the global layer allows stat but denies statx"},
			}},
		{name: "pre-glibc-2.33 role list", conf: base + "pgseccomp.session_roles = 'joe'\nsession_syscall_default.joe = error\nsession_syscall_allow.joe = 'read,stat'\n", failed: true,
			want: []want{{"startup", Error, `the session layer of role "joe" denies newfstatat`}, {"usleep", Warning, `the session layer of role "joe" denies pselect6`}}},
		{name: "pselect6 denied to sessions slows them", conf: base + "pgseccomp.session_syscall_error = 'pselect6," + noRing + "'\n", failed: true,
			want: []want{{"usleep", Warning, "the session layer denies pselect6"}}, absent: []string{"startup"}},
		{name: "a WAL segment denied to sessions keeps the cluster down", conf: base + "pgseccomp.session_syscall_error = 'pwritev," + noRing + "'\n", failed: true,
			want: []want{{"wal-segment", Error, "the session layer denies pwritev"}}},
		{name: "abort denied to a role", conf: base + "pgseccomp.session_roles = 'joe'\nsession_syscall_error.joe = 'tgkill," + noRing + "'\n", failed: true,
			want: []want{{"abort", Error, `postgresql.conf:5: the session layer of role "joe" denies tgkill`}}},
		{name: "work any backend does by chance", conf: base + "pgseccomp.session_roles = 'joe'\nsession_syscall_error.joe = 'rt_sigreturn,rename,pread64," + noRing + "'\n", failed: true,
			want: []want{
				{"signal-return", Error, `the session layer of role "joe" denies rt_sigreturn`},
				{"relcache-init", Error, `the session layer of role "joe" denies rename`},
				{"buffer-io", Error, `the session layer of role "joe" denies pread64`},
			}},
		{name: "a profile recorded without TCP, peer and a PANIC, on a Debian cluster",
			conf: errorDefault("setsockopt", "getsockopt", "pwritev", "gettid", "tgkill") + "pgseccomp.session_syscall_default = error\npgseccomp.session_syscall_allow = '" + startable("pselect6") + "'\nssl = on\n",
			hba:  "local all postgres peer\nlocal all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n", failed: true,
			want: []want{
				{"listen-tcp", Error, "the global layer denies setsockopt, which listen_addresses = 'localhost' (the default) needs"},
				{"peer", Error, "the global layer denies getsockopt, which peer in "},
				{"wal-segment", Error, "the global layer denies pwritev"},
				{"abort", Error, "the global layer denies gettid, tgkill"},
				{"usleep", Warning, "the session layer denies pselect6"},
			}},
		{name: "read-ahead advice denied to sessions loses it", conf: base + "pgseccomp.session_syscall_error = 'fadvise64," + noRing + "'\n", failed: true,
			want: []want{{"prefetch", Warning, "the session layer denies fadvise64"}}},
		{name: "restart_syscall", conf: errorDefault("restart_syscall"), failed: true,
			want: []want{{"sleep-resume", Warning, "the global layer denies restart_syscall"}}},
		{name: "clone without clone3", conf: errorDefault("clone3"), failed: true,
			want: []want{{"twin", Warning, "the global layer allows clone but denies clone3"}}, absent: []string{"postmaster"}},
		{name: "no clone", conf: errorDefault("clone"), failed: true,
			want: []want{{"postmaster", Error, "the global layer denies clone"}}},
		{name: "newer twin denied", conf: base + "pgseccomp.session_syscall_error = 'faccessat2," + noRing + "'\n", failed: true,
			want: []want{{"twin", Warning, "the session layer allows access, faccessat but denies faccessat2"}}},
		{name: "redundant older twin", conf: errorDefault("getdents"),
			want: []want{{"twin", Notice, "the global layer allows getdents64 but denies getdents"}}},
		{name: "only an optional twin denied", conf: base + "pgseccomp.session_syscall_error = 'openat2," + noRing + "'\n",
			want: []want{{"twin", Notice, "the session layer allows open, openat but denies openat2"}}},
		{name: "a value PostgreSQL ignores", conf: errorDefault() + "pgseccomp.allow_speculative_store_bypass = 'maybe'\n", failed: true,
			want: []want{{"ignored", Error, "postgresql.conf:6: pgseccomp.allow_speculative_store_bypass = 'maybe' is ignored"}}},
		{name: "a long kill list", conf: base + "pgseccomp.session_syscall_kill = 'ptrace,mount,umount2,swapon,swapoff,reboot,kexec_load,init_module,delete_module,acct," + noRing + "'\n", failed: true,
			want: []want{{"kill", Warning, "the session kill list names ptrace, mount, umount2, swapon, swapoff, reboot, kexec_load, init_module and 5 more"}}},
		{name: "session kill", conf: base + "pgseccomp.session_syscall_kill = 'ptrace," + noRing + "'\n", failed: true,
			want: []want{{"kill", Warning, "the session kill list names ptrace"}}},
		{name: "role kill default", conf: base + "pgseccomp.session_roles = 'joe'\nsession_syscall_default.joe = kill\nsession_syscall_allow.joe = '" + startable() + "'\n", failed: true,
			want: []want{{"kill", Warning, `the default action of role "joe" is kill`}}},
		{name: "talk example 2: no effect", conf: base + "pgseccomp.global_syscall_default = log\npgseccomp.session_syscall_allow = 'nanosleep'\n", failed: true,
			want: []want{{"overridden", Warning, "pgseccomp.session_syscall_allow names nanosleep, but the global layer gives it log (pgseccomp.global_syscall_default): the entry has no effect"}}},
		{name: "overridden by a global list, for a role", conf: base + "pgseccomp.global_syscall_error = 'acct," + noRing + "'\npgseccomp.session_roles = 'joe'\nsession_syscall_log.joe = 'acct'\n", failed: true,
			want: []want{{"overridden", Warning, "session_syscall_log.joe names acct, but the global layer gives it error (pgseccomp.global_syscall_error): the entry has no effect"}}},
		{name: "partly overridden", conf: base + "pgseccomp.global_syscall_default = log\npgseccomp.session_syscall_default = error\npgseccomp.session_syscall_allow = '" + startable() + "'\n",
			want: []want{{"overridden", Notice, "but the global layer gives them log (pgseccomp.global_syscall_default): sessions get that, not allow"}}},
		{name: "set_client_filter cannot load", conf: base + "pgseccomp.session_syscall_error = 'seccomp," + noRing + "'\n",
			want: []want{{"client-filter", Notice, "the session layer denies seccomp"}}},
		{name: "io_uring allowed by default beside a denial", conf: base + "pgseccomp.global_syscall_error = 'ptrace'\n", failed: true,
			want: []want{{"io-uring", Error, "the global layer allows io_uring_setup, io_uring_enter, io_uring_register while it denies other syscalls"}}},
		{name: "io_uring allowed by default to a role", conf: base + "pgseccomp.session_roles = 'joe'\nsession_syscall_error.joe = 'mkdirat'\n", failed: true,
			want: []want{{"io-uring", Error, `the session layer of role "joe" allows io_uring_setup`}}},
		{name: "io_uring named in an allow list", conf: errorDefault() + "pgseccomp.global_syscall_allow = '" + startable() + "," + noRing + "'\n", failed: true,
			want: []want{{"io-uring", Warning, "the global layer names io_uring_setup, io_uring_enter, io_uring_register in an allow list"}}, absent: []string{"io-method"}},
		{name: "io_method = io_uring", conf: errorDefault() + "io_method = io_uring\n", failed: true,
			want: []want{{"io-method", Error, "postgresql.conf:6: io_method = io_uring, but the global layer does not name io_uring_setup"}}},
		{name: "io_method = io_uring asked for", conf: errorDefault() + "pgseccomp.global_syscall_allow = '" + startable() + "," + noRing + "'\nio_method = io_uring\n", failed: true,
			absent: []string{"io-method"}, want: []want{{"io-uring", Warning, "names io_uring_setup"}}},
		{name: "io_method = worker", conf: errorDefault() + "io_method = worker\n", absent: []string{"io-method"}},
		{name: "TCP sockets denied", conf: errorDefault("setsockopt") + "listen_addresses = '*'\n", failed: true,
			want: []want{{"listen-tcp", Error, "the global layer denies setsockopt, which listen_addresses = '*' ("}}},
		{name: "TCP by default", conf: errorDefault("setsockopt"), failed: true,
			want: []want{{"listen-tcp", Error, "listen_addresses = 'localhost' (the default) needs"}}},
		{name: "no TCP", conf: errorDefault("setsockopt") + "listen_addresses = ''\n", absent: []string{"listen-tcp"}},
		{name: "peer denied", conf: errorDefault("getsockopt"), hba: "local all postgres peer\n", failed: true,
			want: []want{{"peer", Error, "the global layer denies getsockopt, which peer in "}}},
		{name: "no peer line", conf: errorDefault("getsockopt"), absent: []string{"peer"}},
		{name: "SCRAM and SSL need getrandom", conf: errorDefault("getrandom") + "ssl = on\n", hba: "hostssl all all 0.0.0.0/0 scram-sha-256\n", failed: true,
			want: []want{{"ssl", Error, "which ssl = 'on' ("}, {"password", Error, "which scram-sha-256 in "}}},
		{name: "getrandom without SCRAM, md5 or SSL", conf: errorDefault("getrandom"), absent: []string{"ssl", "password"}},
		{name: "a method lint does not know", conf: errorDefault(), hba: "host all all 10.0.0.0/8 gss\n",
			want: []want{{"methods", Notice, "lint does not know what gss authentication needs"}}},
		{name: "pg_hba.conf not readable", conf: errorDefault() + "hba_file = '/nonexistent/pg_hba.conf'\n",
			want: []want{{"methods", Notice, "the authentication methods were not checked"}}},
		{name: "a role's denials do not hold in autovacuum", conf: base + "pgseccomp.global_syscall_error = '" + noRing + "'\npgseccomp.session_roles = 'joe'\nsession_syscall_error.joe = 'readlink'\n", failed: true,
			want: []want{{"global-only", Warning, `postgresql.conf:6: the session layer of role "joe" denies readlink, which the global layer allows`}}},
		{name: "attribution: log_connections off", conf: strings.Replace(errorDefault(), "log_connections = on\n", "", 1),
			want: []want{{"attribution", Notice, "log_connections = 'off'"}}},
		{name: "attribution: no pid", conf: errorDefault() + "log_line_prefix = '%m '\n",
			want: []want{{"attribution", Notice, "log_line_prefix = '%m ' lacks %m or %p"}}},
		{name: "attribution: jsonlog without the collector", conf: errorDefault() + "log_destination = 'jsonlog'\n",
			want: []want{{"attribution", Notice, "log_destination = 'jsonlog', but logging_collector = 'off'"}}},
		{name: "attribution: failed statements not logged", conf: errorDefault() + "log_min_error_statement = fatal\n",
			want: []want{{"attribution", Notice, "log_min_error_statement = 'fatal'"}}},
		{name: "attribution: jsonlog", conf: errorDefault() + "log_line_prefix = '%m '\nlog_destination = 'jsonlog'\nlogging_collector = on\n", absent: []string{"attribution"}},
		{name: "a name that folds", conf: errorDefault() + "pgseccomp.session_roles = 'Joe'\n",
			want: []want{{"session-roles", Notice, `pgseccomp.session_roles names Joe, which folds to "joe"`}}},
		{name: "a name that folds to another role", conf: errorDefault() + "pgseccomp.session_roles = 'Joe'\n", roles: []string{"postgres", "Joe"}, failed: true,
			want: []want{{"session-roles", Warning, `pgseccomp.session_roles names Joe, which folds to "joe", not the server's role "Joe"`}}},
		{name: "a quoted name in another case", conf: errorDefault() + "pgseccomp.session_roles = '\"JOE\"'\n", roles: []string{"postgres", "joe"}, failed: true,
			want: []want{{"session-roles", Warning, `pgseccomp.session_roles names "JOE", but the server's role is "joe"`}}},
		{name: "both cases exist, the lower one listed", conf: errorDefault() + "pgseccomp.session_roles = 'joe'\n", roles: []string{"joe", "Joe"}, absent: []string{"session-roles"}},
		{name: "a role that does not exist", conf: errorDefault() + "pgseccomp.session_roles = 'jeo'\n", roles: []string{"postgres", "joe"}, failed: true,
			want: []want{{"session-roles", Warning, `names "jeo", but the server has no such role`}}},
		{name: "roles that exist", conf: errorDefault() + "pgseccomp.session_roles = 'joe, \"Ann\"'\n", roles: []string{"postgres", "joe", "Ann"}, absent: []string{"session-roles"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"postgresql.conf": tt.conf}
			if tt.hba != "" {
				files["pg_hba.conf"] = tt.hba
			}
			findings := run(t, files, tt.archs, tt.roles)
			var text []string
			for _, f := range findings {
				line := f.Where + ": " + f.Severity + ": " + f.Message
				if f.Arch != "" {
					line += " [" + f.Arch + "]"
				}
				text = append(text, line+" ("+f.Check+")")
				if f.Why == "" || f.Fix == "" || f.Message == "" || f.Severity == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			all := strings.Join(text, "\n")
			if Failed(findings) != tt.failed {
				t.Errorf("failed = %v, want %v:\n%s", Failed(findings), tt.failed, all)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(findings, func(f Finding) bool {
					return f.Check == w.check && f.Severity == w.severity && strings.Contains(f.Where+": "+f.Message+" ["+f.Arch+"]", w.text)
				}) {
					t.Errorf("no %s %s finding with %q:\n%s", w.severity, w.check, w.text, all)
				}
			}
			for _, c := range tt.absent {
				if slices.ContainsFunc(findings, func(f Finding) bool { return f.Check == c }) {
					t.Errorf("a %s finding:\n%s", c, all)
				}
			}
			if tt.want == nil && tt.absent == nil && len(findings) > 0 {
				t.Errorf("want no findings:\n%s", all)
			}
			// Never the whole list: a message quotes at most the word.
			for _, f := range findings {
				if f.Check == "invalid" && (strings.Contains(f.Message, "'acct,chrot") || len(f.Message) > 300) {
					t.Errorf("the whole list in %q", f.Message)
				}
			}
		})
	}
}

// TestTargetFindings: a profile's lint says what it is for (a notice) and
// warns once for each way the target differs; a configuration gets
// neither.
func TestTargetFindings(t *testing.T) {
	for _, c := range []struct {
		name           string
		in             Input
		notes, warning int
	}{
		{"configuration", Input{}, 0, 0},
		{"profile on its system", Input{ProfileFor: "PostgreSQL 18 on Debian GNU/Linux forky/sid, x86_64"}, 1, 0},
		{"profile elsewhere", Input{ProfileFor: "PostgreSQL 15 on Debian GNU/Linux 12 (bookworm), x86_64",
			Mismatch: []string{"the profile is for PostgreSQL 15 and the server is PostgreSQL 18", "recorded on Debian 12"}}, 1, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var notes, warnings int
			for _, fd := range Run(c.in) {
				if fd.Check != "target" {
					continue
				}
				switch fd.Severity {
				case Notice:
					notes++
					if !strings.Contains(fd.Message, c.in.ProfileFor) {
						t.Errorf("notice %q does not say what the profile is for", fd.Message)
					}
				case Warning:
					warnings++
				}
			}
			if notes != c.notes || warnings != c.warning {
				t.Errorf("%d notices, %d warnings; want %d, %d", notes, warnings, c.notes, c.warning)
			}
			if Failed(Run(c.in)) != (c.warning > 0) {
				t.Errorf("Failed = %v with %d mismatches", !(c.warning > 0), c.warning)
			}
		})
	}
}
