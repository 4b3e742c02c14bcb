package extension

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
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

	// SECCOMP_RET_LOG, and SECCOMP_RET_ERRNO (the kernel prints the action only)
	for _, tt := range []struct {
		action, code string
		settings     map[string]string
	}{
		{"log", "code=0x7ffc0000 ", map[string]string{"pgseccomp.session_syscall_log": readlink}},
		{"error", "code=0x50000 ", map[string]string{"pgseccomp.session_syscall_error": readlink}},
	} {
		t.Run(tt.action, func(t *testing.T) {
			reload(t, c, tt.settings)
			conn := connect(t, c, "")
			rows := filterRows(t, conn, "syscall = '"+readlink+"' AND context = 'session'")
			if len(rows) != 1 || rows[0].Action != "session->"+tt.action {
				t.Fatalf("rows %+v, want %s session->%s", rows, readlink, tt.action)
			}
			want := []string{"type=1326", fmt.Sprintf(" pid=%d ", conn.PgConn().PID()),
				fmt.Sprintf(" syscall=%d ", rows[0].SyscallNum), tt.code}
			record := awaitAuditRecord(t, want, func() {
				var got string
				err := conn.QueryRow(t.Context(), location).Scan(&got)
				switch {
				case tt.action == "log" && (err != nil || got != dir):
					t.Fatalf("pg_tablespace_location = %q, %v; a logged syscall must run", got, err)
				case tt.action == "error" && (err == nil || !strings.Contains(err.Error(), "Permission denied")):
					t.Fatalf("pg_tablespace_location = %q, %v; want Permission denied", got, err)
				}
			})
			t.Logf("audit record: %s", record)
		})
	}
}

// awaitAuditRecord calls trigger until the kernel log shows an audit record
// containing every part of want, and returns it. The kernel log path is
// rate-limited, so one call may not be enough.
func awaitAuditRecord(t *testing.T, want []string, trigger func()) string {
	t.Helper()
	// Raw non-blocking reads: an os.File would wait in the poller.
	kmsg, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/kmsg to read the kernel's audit records: %v", err)
	}
	defer syscall.Close(kmsg)
	if _, err := syscall.Seek(kmsg, 0, 2); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8192)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		trigger()
		for wait := time.Now().Add(time.Second); time.Now().Before(wait); {
			n, err := syscall.Read(kmsg, buf)
			switch {
			case errors.Is(err, syscall.EAGAIN):
				time.Sleep(20 * time.Millisecond)
				continue
			case errors.Is(err, syscall.EPIPE):
				continue // records were overwritten while we read; go on
			case err != nil:
				t.Fatalf("read /dev/kmsg: %v", err)
			}
			if record := strings.TrimSpace(string(buf[:n])); containsAll(record+" ", want) {
				return record
			}
		}
	}
	t.Fatalf("no audit record with %q in 30 s", want)
	return ""
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
