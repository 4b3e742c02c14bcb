package extension

import (
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
)

// TestActionsAudited: a syscall in a log list runs and the kernel writes an
// audit record (type 1326) with its number and the backend's pid; one in an
// error list fails and is recorded too (the filters set the log flag).
func TestActionsAudited(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_log": readlink})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	dir := createTablespace(t, c, admin, "regress_logged")
	location := tablespaceLocation("regress_logged")

	// SECCOMP_RET_LOG, and SECCOMP_RET_ERRNO (the kernel reports the action only)
	for _, tt := range []struct {
		action   string
		code     uint32
		settings map[string]string
	}{
		{"log", 0x7ffc0000, map[string]string{"pgseccomp.session_syscall_log": readlink}},
		{"error", 0x50000, map[string]string{"pgseccomp.session_syscall_error": readlink}},
	} {
		t.Run(tt.action, func(t *testing.T) {
			reload(t, c, tt.settings)
			conn := connect(t, c, "")
			rows := filterRows(t, conn, "syscall = '"+readlink+"' AND context = 'session'")
			if len(rows) != 1 || rows[0].FilterAction() != "session->"+tt.action {
				t.Fatalf("rows %+v, want %s session->%s", rows, readlink, tt.action)
			}
			record := awaitAuditRecord(t, int(conn.PgConn().PID()), rows[0].Number, tt.code, func() {
				var got string
				err := conn.QueryRow(t.Context(), location).Scan(&got)
				switch {
				case tt.action == "log" && (err != nil || got != dir):
					t.Fatalf("pg_tablespace_location = %q, %v; a logged syscall must run", got, err)
				case tt.action == "error" && (err == nil || !strings.Contains(err.Error(), "Permission denied")):
					t.Fatalf("pg_tablespace_location = %q, %v; want Permission denied", got, err)
				}
			})
			t.Logf("audit record: pid %d syscall %d code %#x comm %q", record.PID, record.Syscall, record.Code, record.Comm)
		})
	}
}

// awaitAuditRecord calls trigger until the kernel sends a seccomp audit
// record of process pid for syscall number nr with the action code, and
// returns it. Records are read from the audit multicast group (the
// project's one capture, internal/audit), which gets every record whether
// or not auditd runs; the kernel log would be rate-limited, and empty while
// auditd runs.
func awaitAuditRecord(t *testing.T, pid, nr int, code uint32, trigger func()) *audit.Record {
	t.Helper()
	capture, err := audit.OpenCapture()
	if err != nil {
		t.Fatal(err)
	}
	found := make(chan *audit.Record, 1)
	done := make(chan error, 1)
	go func() {
		done <- capture.Run(func(r *audit.Record) {
			if r.PID == pid && r.Syscall == int64(nr) && r.Code == code {
				select {
				case found <- r.Clone():
				default:
				}
			}
		}, nil)
	}()
	defer func() {
		capture.Stop()
		<-done
		capture.Close()
	}()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		trigger()
		select {
		case r := <-found:
			return r
		case <-time.After(time.Second):
		}
	}
	t.Fatalf("no audit record of pid %d for syscall %d with code %#x in 30 s", pid, nr, code)
	return nil
}
