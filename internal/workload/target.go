// Package workload is pgseccomp record's built-in workload: a DBA's
// ordinary life with a PostgreSQL server, run against a server whose
// syscalls are being recorded, so that the recorded profile covers more
// than the happy path (docs/SPEC.md §7).
package workload

import (
	"context"
	"os/exec"
	"strings"
)

// Target is the server a workload runs against. The recorder provides it:
// the server must be stopped and started through it (never with pg_ctl
// directly), because the recorder tags the server it starts so that it can
// tell that server's audit records from everything else on the machine.
type Target interface {
	// Env is the environment for client programs: PGHOST, PGPORT, PGUSER
	// (a superuser), PGDATABASE, PATH with the server's bin directory first.
	Env() []string
	// ConnString is a libpq key/value connection string for database db as
	// the superuser, over the Unix socket.
	ConnString(db string) string
	// Command runs a program (looked up in the server's bin directory
	// first) as the OS user that owns the server, with Env().
	Command(ctx context.Context, name string, args ...string) *exec.Cmd
	// DataDir is the server's data directory; ScratchDir is a directory
	// the OS user can write and the workload may fill and empty (outside
	// the data directory; removed by the recorder afterwards).
	DataDir() string
	ScratchDir() string
	// Throwaway reports whether the server was made for this recording,
	// so that destructive steps (crash, PANIC, corrupting a copy) may run.
	Throwaway() bool
	// Stop stops the server: mode is "fast" or "immediate" (a crash:
	// the next start runs crash recovery).
	Stop(ctx context.Context, mode string) error
	// Start starts the server and waits until it accepts connections.
	// StartExpectingFailure starts it when the caller expects the server
	// not to come up (e.g. a PANIC in the startup process) and returns the
	// server log written meanwhile.
	Start(ctx context.Context) error
	StartExpectingFailure(ctx context.Context) (log string, err error)
	// Logf reports progress (one line, no newline).
	Logf(format string, args ...any)
}

// Marker is implemented by a Target that ties what the server does to the
// events a step is made of (pgseccomp record's per-path map, profile
// Provenance.Paths): a step calls Mark with an event's name when the event
// begins and with "" when it is over.
type Marker interface {
	Mark(event string)
}

// LoginEvent names the event of a login by one pg_hba.conf line's type
// and method: "login hostssl scram-sha-256".
func LoginEvent(hbaType, method string) string {
	return "login " + hbaType + " " + method
}

// BackendAbortEvent is the event of a backend's abort() and the crash
// restart that follows it: a PANIC's, which every server may meet.
const BackendAbortEvent = "backend abort()"

// BaseBackupEvent is the event of every base backup a step takes, in
// whatever format: one path for all of them, so that a recording whose
// server-life base backup is not one of the built-in workload's still
// finds what a base backup does in the shipped profile.
const BaseBackupEvent = "base backup"

// ServerSideBaseBackupEvent is the event of a base backup that the server
// compresses (--compress=server-...) or writes itself (--target=server:):
// what the backup client asks for, not what the server's configuration
// says, so a path of its own (zstd's worker threads, files written by the
// walsender), which a recording of a cluster takes only if its own
// workloads take such a backup.
const ServerSideBaseBackupEvent = "base backup compressed or written by the server"

// BaseBackupEventOf is the event of a base backup taken with
// pg_basebackup's arguments args.
func BaseBackupEventOf(args []string) string {
	for _, a := range args {
		if strings.HasPrefix(a, "--compress=server-") || strings.HasPrefix(a, "--target=server") {
			return ServerSideBaseBackupEvent
		}
	}
	return BaseBackupEvent
}

// mark tells the target, if it wants to know, that event begins ("" when
// it is over).
func (r *runner) mark(event string) {
	if m, ok := r.t.(Marker); ok {
		m.Mark(event)
	}
}
