package extension

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// The postmaster compiles each session layer once, and a backend only
// installs the ready program. These tests cover what that design adds: the
// install is timed and logged, the speculative store bypass knob reaches
// the kernel, and a global filter that would keep the postmaster from
// compiling stops the server at once instead of at the first reload.

var installedLine = regexp.MustCompile(`installed the session filter for role "([^"]*)" in ([0-9.]+) us`)

func TestSessionProgramInstall(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{
		"pgseccomp.session_syscall_error":          readlink,
		"pgseccomp.session_roles":                  "regress_prog",
		"session_syscall_allow.regress_prog":       readlink,
		"pgseccomp.allow_speculative_store_bypass": "on",
		"log_min_messages":                         "debug1",
	})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	createRole(t, admin, "regress_prog")
	createTablespace(t, c, admin, "regress_prog_ts")
	location := tablespaceLocation("regress_prog_ts")

	for _, tc := range []struct {
		role    string
		blocked bool
	}{
		{"", true},
		{"regress_prog", false},
	} {
		_, offset, err := c.LogSince(0)
		if err != nil {
			t.Fatal(err)
		}
		conn := connect(t, c, tc.role)
		_, err = conn.Exec(context.Background(), location)
		if blocked := err != nil && strings.Contains(err.Error(), "Permission denied"); blocked != tc.blocked {
			t.Fatalf("role %q: %s: error %v, want blocked=%v", tc.role, location, err, tc.blocked)
		}

		// Two filters, global and session, with the SSB flag accepted.
		var pid int
		if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		st, err := procs.Reader{}.Status(pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.SeccompMode != 2 || st.SeccompFilters != 2 || !st.NoNewPrivs {
			t.Fatalf("role %q: backend %d has seccomp mode %d, %d filters, NNP %v; want 2, 2, true",
				tc.role, pid, st.SeccompMode, st.SeccompFilters, st.NoNewPrivs)
		}

		logged, _, err := c.LogSince(offset)
		if err != nil {
			t.Fatal(err)
		}
		m := installedLine.FindStringSubmatch(logged)
		wantRole := tc.role
		if wantRole == "" {
			wantRole = "postgres"
		}
		if m == nil || m[1] != wantRole {
			t.Fatalf("role %q: no DEBUG1 line %q for the role in the log:\n%s", tc.role, installedLine, logged)
		}
		t.Logf("role %s: session filter installed in %s us (speculation store bypass: %s)", wantRole, m[2], st.SpeculationStoreBypass)
	}
}

// TestGlobalFilterMustAllowCompiling: the postmaster compiles the session
// filters under its own filter, at start as on every reload; a global
// filter that denies what compiling takes stops the server, naming it.
func TestGlobalFilterMustAllowCompiling(t *testing.T) {
	c := clustertest.NewStopped(t, cluster.Options{Settings: confSettings(map[string]string{
		"pgseccomp.global_syscall_error": "pipe2",
	})})
	err := c.Start(context.Background())
	if err == nil {
		t.Fatal("the server started with a global filter that denies pipe2")
	}
	for _, want := range []string{
		"could not compile the pgseccomp session filters",
		"pipe2 failed: Permission denied",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("start error does not contain %q:\n%v", want, err)
		}
	}
}
