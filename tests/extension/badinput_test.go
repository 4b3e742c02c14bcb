package extension

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
)

// TestStartRefused: with pgseccomp enabled, a setting it cannot apply stops
// the server from starting, and the server's own message names the
// setting, the file and line, and a short value, never a long list. The
// details (the word, its position, what is wrong) are the shared
// rejection vectors' (TestRejections), which the Go model checks too.
func TestStartRefused(t *testing.T) {
	c := clustertest.NewStopped(t, cluster.Options{})
	conf := inConf(c)
	tests := []struct {
		name     string
		settings map[string]string
		want     []string
	}{
		{"unknown syscall in a global list",
			map[string]string{"pgseccomp.global_syscall_error": "ptrace,reed"},
			[]string{`invalid value for parameter "pgseccomp.global_syscall_error"` + conf}},
		{"malformed global list",
			map[string]string{"pgseccomp.global_syscall_allow": "read,,write"},
			[]string{`"pgseccomp.global_syscall_allow"` + conf}},
		{"space-separated list",
			map[string]string{"pgseccomp.global_syscall_log": "acct swapon"},
			[]string{`"pgseccomp.global_syscall_log"` + conf}},
		{"'*' in a global list",
			map[string]string{"pgseccomp.global_syscall_error": "*"},
			[]string{`"pgseccomp.global_syscall_error"` + conf}},
		{"syscall in two global lists",
			map[string]string{"pgseccomp.global_syscall_allow": "read,acct", "pgseccomp.global_syscall_error": "acct"},
			[]string{"invalid pgseccomp global settings"}},
		{"unknown global default action",
			map[string]string{"pgseccomp.global_syscall_default": "deny"},
			[]string{`invalid value for parameter "pgseccomp.global_syscall_default"` + conf, `: "deny"`}},
		{"unknown session default action",
			map[string]string{"pgseccomp.session_syscall_default": "errno"},
			[]string{`invalid value for parameter "pgseccomp.session_syscall_default": "errno"`}},
		{"the parallel workers' parameter in the configuration",
			map[string]string{"pgseccomp.parallel_worker_filters": "0"},
			[]string{`invalid value for parameter "pgseccomp.parallel_worker_filters"` + conf, "pgseccomp sets this parameter itself"}},
		// PostgreSQL rejects an enum value with spaces and falls back to
		// allow; the extension must refuse it rather than start open.
		{"default action with spaces",
			map[string]string{"pgseccomp.global_syscall_default": " error"},
			[]string{`invalid value for parameter "pgseccomp.global_syscall_default"` + conf, `: " error"`}},
		{"per-role default with spaces",
			map[string]string{"pgseccomp.session_roles": "joe", "session_syscall_default.joe": "error "},
			[]string{`Invalid value for session_syscall_default.joe: "error "`}},
		{"unknown syscall in a session list",
			map[string]string{"pgseccomp.session_syscall_log": "swapof"},
			[]string{`"pgseccomp.session_syscall_log"` + conf}},
		{"syscall in two session lists",
			map[string]string{"pgseccomp.session_syscall_allow": "chroot", "pgseccomp.session_syscall_error": "chroot"},
			[]string{"invalid pgseccomp session settings"}},
		{"unknown syscall in a per-role list",
			map[string]string{"pgseccomp.session_roles": "joe", "session_syscall_error.joe": "clone,klone"},
			[]string{`Invalid value for session_syscall_error.joe` + conf}},
		{"unknown per-role default",
			map[string]string{"pgseccomp.session_roles": "joe", "session_syscall_default.joe": "deny"},
			[]string{`Invalid value for session_syscall_default.joe: "deny"`}},
		{"role that cannot have per-role settings",
			map[string]string{"pgseccomp.session_roles": `joe,"web-app"`},
			[]string{`"pgseccomp.session_roles"` + conf}},
		{"misspelt pgseccomp setting",
			map[string]string{"pgseccomp.global_syscall_eror": "ptrace"},
			[]string{`unrecognized configuration parameter "pgseccomp.global_syscall_eror"`}},
		{"unreadable enabled switch",
			map[string]string{"pgseccomp.enabled": "maybe"},
			[]string{`invalid value for parameter "pgseccomp.enabled"` + conf, `: "maybe"`}},
		{"one misspelt word in a long list",
			map[string]string{"pgseccomp.global_syscall_allow": longList},
			[]string{`invalid value for parameter "pgseccomp.global_syscall_allow"` + conf, longListDetail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.SetSettings(confSettings(tt.settings)); err != nil {
				t.Fatal(err)
			}
			err := c.Start(context.Background())
			if err == nil {
				c.Stop(context.Background())
				t.Fatalf("server started with %v", tt.settings)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("start error does not contain %q:\n%v", w, err)
				}
			}
			if quotesList(err.Error()) {
				t.Errorf("the log quotes the whole list:\n%v", err)
			}
		})
	}
}

// longList is a list of 200 syscall names, 1.5 kB, with word 7 misspelt.
var longList = func() string {
	words := []string{"read", "write", "openat", "close", "fstat", "lseek", "getpriorty"}
	for len(words) < 200 {
		words = append(words, "read", "write", "newfstatat", "pread64", "pwrite64", "getdents64", "epoll_wait", "sendto")
	}
	return strings.Join(words, ",")
}()

// quotesList reports whether a message of the log quotes longList.
// PostgreSQL's own "parameter ... changed to" line, for a value it applied
// (a per-role setting, which pgseccomp checks later), is not one of them.
func quotesList(log string) bool {
	for line := range strings.Lines(log) {
		if strings.Contains(line, longList) && !strings.Contains(line, `" changed to "`) {
			return true
		}
	}
	return false
}

const longListDetail = `Unknown syscall "getpriorty" (word 7 of the list). Did you mean "getpriority"?`

// inConf is how the log names the cluster's settings file: the settings of
// these tests are there (cluster.ManagedConfFile).
func inConf(c *cluster.Cluster) string {
	return ` in file "` + filepath.Join(c.DataDir, cluster.ManagedConfFile) + `" line `
}

// TestReloadKeepsOldFilters: an invalid reload leaves the session filters
// of new sessions as they were, and the log says which setting and why.
func TestReloadKeepsOldFilters(t *testing.T) {
	valid := map[string]string{
		"pgseccomp.session_syscall_error": "chroot",
		"pgseccomp.session_roles":         "joe",
		"session_syscall_error.joe":       "swapon",
	}
	c := newCluster(t, valid)
	conf := inConf(c)
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	createRole(t, admin, "joe")

	sessionErrors := func(role string) []string {
		conn := connect(t, c, role)
		defer conn.Close(context.Background())
		var names []string
		for _, r := range filterRows(t, conn, "context = 'session' AND filter_action = 'session->error'") {
			names = append(names, r.Syscall)
		}
		return names
	}
	check := func(t *testing.T) {
		t.Helper()
		if got := strings.Join(sessionErrors(""), ","); got != "chroot" {
			t.Errorf("session errors of a new session = %q, want chroot", got)
		}
		if got := strings.Join(sessionErrors("joe"), ","); got != "swapon" {
			t.Errorf("session errors of a new session of joe = %q, want swapon", got)
		}
	}
	check(t)

	// SPEC 6: a reload while a role with its own lists is connected once
	// crashed the server. joe stays connected through every reload below.
	joe := connect(t, c, "joe")
	joeRows := func() string {
		var names []string
		for _, r := range filterRows(t, joe, "context = 'session' AND filter_action = 'session->error'") {
			names = append(names, r.Syscall)
		}
		return strings.Join(names, ",")
	}
	t.Cleanup(func() {
		if got := joeRows(); got != "swapon" {
			t.Errorf("joe's session, connected through every reload: errors %q, want swapon", got)
		}
	})

	tests := []struct {
		name    string
		changed map[string]string
		want    []string
	}{
		{"unknown syscall in a session list",
			with(valid, "pgseccomp.session_syscall_error", "chroot,chrooot"),
			[]string{`invalid value for parameter "pgseccomp.session_syscall_error"` + conf, `Unknown syscall "chrooot" (word 2 of the list). Did you mean "chroot"?`}},
		{"one misspelt word in a long session list",
			with(valid, "pgseccomp.session_syscall_allow", longList),
			[]string{`invalid value for parameter "pgseccomp.session_syscall_allow"` + conf, longListDetail}},
		{"syscall in two session lists",
			with(valid, "pgseccomp.session_syscall_log", "chroot"),
			[]string{"pgseccomp session settings not applied", `Syscall "chroot" is named in both`}},
		{"unknown syscall in a per-role list",
			with(valid, "session_syscall_error.joe", "swapon,swapoof"),
			[]string{"pgseccomp session settings not applied", `Invalid value for session_syscall_error.joe` + conf, `Unknown syscall "swapoof" (word 2 of the list). Did you mean "swapoff"?`}},
		{"one misspelt word in a long per-role list",
			with(valid, "session_syscall_allow.joe", longList),
			[]string{"pgseccomp session settings not applied", `Invalid value for session_syscall_allow.joe` + conf, longListDetail}},
		{"per-role list for an unlisted role",
			with(valid, "session_syscall_error.bob", "clone"),
			[]string{"pgseccomp session settings not applied", `role "bob" is not listed in pgseccomp.session_roles`}},
		{"unknown session default",
			with(valid, "pgseccomp.session_syscall_default", "deny"),
			[]string{`invalid value for parameter "pgseccomp.session_syscall_default": "deny"`}},
		{"global list changed without restart",
			with(valid, "pgseccomp.global_syscall_error", "ptrace"),
			[]string{`parameter "pgseccomp.global_syscall_error" cannot be changed without restarting the server`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged := reload(t, c, tt.changed)
			for _, w := range tt.want {
				if !strings.Contains(logged, w) {
					t.Errorf("reload log does not contain %q:\n%s", w, logged)
				}
			}
			if quotesList(logged) {
				t.Errorf("the log quotes the whole list:\n%s", logged)
			}
			check(t)
			reload(t, c, valid)
			if got := joeRows(); got != "swapon" {
				t.Errorf("joe's open session after the reload: errors %q, want swapon", got)
			}
		})
	}
}

// TestConnectionRefused: a session whose filter cannot be loaded is refused,
// with a message that names the syscalls the global filter denies.
func TestConnectionRefused(t *testing.T) {
	c := newCluster(t, map[string]string{"pgseccomp.global_syscall_error": "seccomp"})
	conn, err := c.Connect(context.Background(), "", "postgres")
	if err == nil {
		conn.Close(context.Background())
		t.Fatal("a session started although its filter cannot be loaded")
	}
	if w := "pgseccomp: every connection will be refused"; !strings.Contains(c.LogTail(40), w) {
		t.Errorf("the server log does not warn at start: no %q", w)
	}
	for _, w := range []string{
		`could not load the pgseccomp session filter for role "postgres"`,
		"The global filter denies the seccomp syscall, which loading a filter needs",
	} {
		if !strings.Contains(err.Error()+c.LogTail(20), w) {
			t.Errorf("connection error does not contain %q:\n%v", w, err)
		}
	}
}

// TestNotPreloaded: CREATE EXTENSION outside shared_preload_libraries fails
// with a message that says what to do.
func TestNotPreloaded(t *testing.T) {
	c := clustertest.New(t, cluster.Options{})
	admin := connect(t, c, "")
	_, err := admin.Exec(context.Background(), "CREATE EXTENSION pgseccomp")
	if err == nil || !strings.Contains(err.Error(), "pgseccomp must be loaded via shared_preload_libraries") {
		t.Fatalf("CREATE EXTENSION without preload: %v", err)
	}
}

// TestDisabled: enabled = off loads nothing, the functions say so, and a
// connection logs nothing.
func TestDisabled(t *testing.T) {
	c := newCluster(t, map[string]string{"pgseccomp.enabled": "off"})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	_, offset, err := c.LogSince(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"SELECT count(*) FROM seccomp_filter()",
		"SELECT set_client_filter(NULL, NULL, NULL, NULL, NULL)",
	} {
		conn := connect(t, c, "")
		_, err := conn.Exec(context.Background(), sql)
		if err == nil || !strings.Contains(err.Error(), "pgseccomp is not enabled") {
			t.Errorf("%s with pgseccomp off: %v, want pgseccomp is not enabled", sql, err)
		}
		conn.Close(context.Background())
	}
	logged, _, err := c.LogSince(offset)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(logged, "\n") {
		if strings.Contains(line, "pgseccomp") && strings.Contains(line, " LOG: ") {
			t.Errorf("pgseccomp off, yet a connection logged: %s", line)
		}
	}
	pid, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	if mode := seccompMode(t, pid); mode != 0 {
		t.Errorf("pgseccomp off, yet the postmaster has Seccomp: %d", mode)
	}
}
