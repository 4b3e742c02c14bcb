package extension

import (
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/syscalls"
)

// auditSessionLine is the LOG line of a postmaster that started an audit
// session of its own.
var auditSessionLine = regexp.MustCompile(`pgseccomp: the server runs in audit session (\d+)\b`)

// TestServerInItsOwnAuditSession: started with its login uid unset, the
// postmaster starts an audit session of its own and logs its id once;
// the audit record of a backend's denied syscall carries that ses= and
// the server's uid as auid=. With pgseccomp.audit_session = off it does
// not.
func TestServerInItsOwnAuditSession(t *testing.T) {
	raw, err := os.ReadFile("/proc/self/loginuid")
	if err != nil {
		t.Skipf("this kernel has no audit login uid (%v): nothing to test", err)
	}
	if strings.TrimSpace(string(raw)) != "4294967295" {
		t.Skipf("this test runs with its login uid set (%s), so the server it starts inherits it and cannot start an audit session of its own; run it from a service or a shell without a login session", strings.TrimSpace(string(raw)))
	}
	ownSession, _ := os.ReadFile("/proc/self/sessionid")

	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_error": readlink})
	logged := c.LogTail(200)
	m := auditSessionLine.FindAllStringSubmatch(logged, -1)
	if len(m) != 1 {
		t.Fatalf("the server log has %d lines matching %q, want 1:\n%s", len(m), auditSessionLine, logged)
	}
	ses := m[0][1]
	if ses == strings.TrimSpace(string(ownSession)) {
		t.Fatalf("the server's audit session %s is the test's own", ses)
	}
	account, err := user.Lookup(c.OSUser)
	if err != nil {
		t.Fatal(err)
	}

	admin := connect(t, c, "")
	createTablespace(t, c, admin, "regress_ses")
	conn := connect(t, c, "")
	nr, ok := syscalls.Native().Number(readlink)
	if !ok {
		t.Fatalf("libseccomp does not know %s", readlink)
	}
	record := awaitAuditRecord(t, int(conn.PgConn().PID()), nr, 0x50000, func() {
		if _, err := conn.Exec(t.Context(), tablespaceLocation("regress_ses")); err == nil {
			t.Fatalf("%s ran; the session denies it", readlink)
		}
	})
	if got := strconv.FormatUint(uint64(record.Session), 10); got != ses {
		t.Errorf("the record's ses=%s, want the server's audit session %s", got, ses)
	}
	if got := strconv.FormatUint(uint64(record.AUID), 10); got != account.Uid {
		t.Errorf("the record's auid=%s, want the server's uid %s", got, account.Uid)
	}
	t.Logf("audit session %s; record: pid %d ses %d auid %d", ses, record.PID, record.Session, record.AUID)

	reconfigure(t, c, map[string]string{"pgseccomp.audit_session": "off"})
	if m := auditSessionLine.FindAllStringSubmatch(c.LogTail(200), -1); len(m) != 1 {
		t.Errorf("with pgseccomp.audit_session = off the log has %d audit session lines since the first start, want only that one", len(m))
	}
}

// TestServerKeepsGivenAuditSession: a server started with its login uid
// already set (here by internal/cluster's audit session, as pgseccomp
// record starts its servers) cannot start a session of its own; it keeps
// the one it was given and says so, naming it.
func TestServerKeepsGivenAuditSession(t *testing.T) {
	if _, err := os.Stat("/proc/self/loginuid"); err != nil {
		t.Skipf("this kernel has no audit login uid (%v): nothing to test", err)
	}
	c := clustertest.New(t, cluster.Options{AuditSession: true, Settings: confSettings(nil)})
	id, ok := c.AuditSession()
	if !ok {
		t.Fatal("the cluster has no audit session")
	}
	logged := c.LogTail(200)
	if m := auditSessionLine.FindString(logged); m != "" {
		t.Errorf("the server says it started a session of its own: %s", m)
	}
	if want := fmt.Sprintf("pgseccomp: the server keeps audit session %d of login uid ", id); !strings.Contains(logged, want) {
		t.Errorf("the server log does not say %q:\n%s", want, logged)
	}
}
