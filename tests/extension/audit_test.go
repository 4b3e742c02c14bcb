package extension

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogActionAudited: a syscall in a log list runs, and the kernel writes
// an audit record (type 1326) with its number and the backend's pid.
func TestLogActionAudited(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_log": readlink})
	dir := filepath.Join(c.BaseDir, "logtblspc")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chownToCluster(t, c.OSUser, dir)
	conn := connect(t, c, "")
	mustExec(t, conn, "CREATE EXTENSION pgseccomp")
	mustExec(t, conn, "CREATE TABLESPACE regress_logged LOCATION '"+dir+"'")
	rows := filterRows(t, conn, "syscall = '"+readlink+"' AND context = 'session'")
	if len(rows) != 1 || rows[0].Action != "session->log" {
		t.Fatalf("rows %+v, want %s session->log", rows, readlink)
	}
	nr := rows[0].SyscallNum
	pid := conn.PgConn().PID()

	kmsg, err := os.OpenFile("/dev/kmsg", os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open /dev/kmsg to read the kernel's audit records: %v", err)
	}
	defer kmsg.Close()
	if _, err := kmsg.Seek(0, 2); err != nil {
		t.Fatal(err)
	}

	// The kernel log path is rate-limited: repeat until a record shows.
	want := []string{"type=1326", fmt.Sprintf(" pid=%d ", pid), fmt.Sprintf(" syscall=%d ", nr), "code=0x7ffc0000"}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got := queryString(t, conn, "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'regress_logged'")
		if got != dir {
			t.Fatalf("pg_tablespace_location = %q, want %q: a logged syscall must run", got, dir)
		}
		for wait := time.Now().Add(time.Second); time.Now().Before(wait); {
			n, err := kmsg.Read(buf)
			if errors.Is(err, syscall.EAGAIN) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if errors.Is(err, syscall.EPIPE) {
				continue // records were overwritten while we read; go on
			}
			if err != nil {
				t.Fatalf("read /dev/kmsg: %v", err)
			}
			record := string(buf[:n])
			if containsAll(record, want) {
				t.Logf("audit record: %s", strings.TrimSpace(record))
				return
			}
		}
	}
	t.Fatalf("no audit record with %q in 30 s", want)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
