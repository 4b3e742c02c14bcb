package extension

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestProgramsInheritSessionFilter: a program a backend runs (COPY ... TO
// PROGRAM, as untrusted PL code can too) and that program's own children
// run under every filter of the backend: the same number of filters, and a
// syscall the session denies is denied to them. For a role whose list
// allows it, the same program works. SECURITY.md relies on this.
func TestProgramsInheritSessionFilter(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{
		"pgseccomp.session_roles":   "joe",
		"session_syscall_error.joe": readlink,
	})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE ROLE joe LOGIN")
	mustExec(t, admin, "GRANT pg_execute_server_program TO joe")
	postmaster, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	global := seccompFilters(t, postmaster)

	for _, tt := range []struct {
		role   string
		denied bool
	}{{"joe", true}, {"", false}} {
		name := tt.role
		if name == "" {
			name = c.OSUser
		}
		t.Run(name, func(t *testing.T) {
			conn := connect(t, c, tt.role)
			for _, depth := range []string{"child", "grandchild"} {
				out := filepath.Join(c.BaseDir, name+"-"+depth)
				// The program reads what COPY sends (one that exits before
				// the backend has written fails the COPY with "Broken pipe"),
				// records its filter count, then reads a symlink.
				script := "cat >/dev/null && grep Seccomp_filters: /proc/self/status > " + out + " && readlink /proc/self/exe >> " + out
				if depth == "grandchild" {
					script = "sh -c '" + script + "'"
				}
				_, err := conn.Exec(context.Background(), "COPY (SELECT 1) TO PROGRAM $$"+script+"$$")
				switch {
				case tt.denied && (err == nil || !strings.Contains(err.Error(), "failed")):
					t.Errorf("%s of %s's backend: readlink ran (%v); the session denies it", depth, name, err)
				case !tt.denied && err != nil:
					t.Errorf("%s of %s's backend: %v", depth, name, err)
				}
				data, rerr := os.ReadFile(out)
				if rerr != nil {
					t.Fatalf("the %s wrote nothing: %v (COPY: %v)", depth, rerr, err)
				}
				fields := strings.Fields(string(data))
				if len(fields) < 2 || fields[0] != "Seccomp_filters:" {
					t.Fatalf("the %s wrote %q", depth, data)
				}
				if ranReadlink := len(fields) > 2; ranReadlink == tt.denied {
					t.Errorf("the %s of %s's backend: readlink printed %q; denied by the session: %v", depth, name, fields[2:], tt.denied)
				}
				if n, _ := strconv.Atoi(fields[1]); n != global+1 {
					t.Errorf("the %s of %s's backend has %d seccomp filters, want %d (global and session)", depth, name, n, global+1)
				}
				t.Logf("%s of %s's backend: %q; COPY: %v", depth, name, strings.TrimSpace(string(data)), err)
			}
		})
	}
}
