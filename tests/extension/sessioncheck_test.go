package extension

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/procs"
)

// Helpers that compare what seccomp_filter() says about a session with
// what the kernel does to it and what /proc shows.

// seccompFilters is the Seccomp_filters count of pid's least-confined thread.
func seccompFilters(t *testing.T, pid int) int {
	t.Helper()
	s, err := procs.Reader{}.Status(pid)
	if err != nil {
		t.Fatal(err)
	}
	return s.SeccompFilters
}

// discoverProcess finds pid among the processes procs.Discover assigns to
// the cluster of postmaster.
func discoverProcess(t *testing.T, postmaster, pid int) procs.Process {
	t.Helper()
	clusters, _, err := procs.Reader{}.Discover()
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range clusters {
		if cl.PostmasterPID != postmaster {
			continue
		}
		for _, p := range cl.Processes {
			if p.PID == pid {
				return p
			}
		}
	}
	t.Fatalf("procs.Discover does not list pid %d in the cluster of postmaster %d", pid, postmaster)
	return procs.Process{}
}

// effectiveAction is the filter_action seccomp_filter() gives syscall in
// context: its own row, else the context's <default> row; "" if neither.
func effectiveAction(rows []policy.Row, syscall, context string) string {
	def := ""
	for _, r := range rows {
		switch {
		case r.Context != context:
		case r.Syscall == syscall:
			return r.FilterAction()
		case r.Syscall == "<default>":
			def = r.FilterAction()
		}
	}
	return def
}

// probe makes a session call syscalls through SQL.
type probe struct {
	name     string
	syscalls []string // what the SQL makes the backend call; denying any one fails it
	run      func(conn *pgx.Conn) error
	// denied is what the error says when one of them fails with EACCES.
	denied string
}

// readlinkProbe reads a tablespace's location (the talk's example 1).
func readlinkProbe(tablespace string) probe {
	return probe{
		name:     "readlink",
		syscalls: []string{readlinkSyscall()},
		run: func(conn *pgx.Conn) error {
			var location string
			return conn.QueryRow(context.Background(), tablespaceLocation(tablespace)).Scan(&location)
		},
		denied: "Permission denied",
	}
}

// cloneProbe runs a program (the talk's examples 3 and 4): the backend
// forks with clone3 (glibc's posix_spawn) or clone. It needs COPY TO PROGRAM
// rights (superuser or pg_execute_server_program).
var cloneProbe = probe{
	name:     "clone",
	syscalls: strings.Split(cloneSyscalls, ","),
	run: func(conn *pgx.Conn) error {
		_, err := conn.Exec(context.Background(), "COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'")
		return err
	},
	denied: "could not execute command",
}

// checkProbe runs p in conn's session and checks that the outcome is what
// rows (that session's seccomp_filter()) say: it fails iff a syscall it
// needs is in an error list. It returns whether p was denied.
func checkProbe(t *testing.T, conn *pgx.Conn, rows []policy.Row, p probe) bool {
	t.Helper()
	denied := false
	for _, s := range p.syscalls {
		action := effectiveAction(rows, s, "session")
		switch {
		case strings.HasSuffix(action, "->error"):
			denied = true
		case strings.HasSuffix(action, "->allow"), strings.HasSuffix(action, "->log"):
		default:
			t.Fatalf("seccomp_filter() gives %s the action %q; this check handles allow, log and error", s, action)
		}
	}
	err := p.run(conn)
	switch {
	case denied && (err == nil || !strings.Contains(err.Error(), p.denied)):
		t.Errorf("%s: seccomp_filter() says %v are denied, yet the SQL returned %v (want %q)", p.name, p.syscalls, err, p.denied)
	case !denied && err != nil:
		t.Errorf("%s: seccomp_filter() says %v are allowed, yet the SQL failed: %v", p.name, p.syscalls, err)
	}
	return denied
}
