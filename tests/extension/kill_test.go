package extension

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/abiprobe"
)

// TestKillKillsProcess: a syscall in a kill list kills the backend with
// SIGSYS, the postmaster restarts the cluster, and new sessions work.
func TestKillKillsProcess(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_kill": readlink})
	admin := connect(t, c, "")
	createTablespace(t, c, admin, "regress_kill")
	mustExec(t, admin, "CREATE TABLE survivor AS SELECT 42 AS answer")

	victim := connect(t, c, "")
	pid := victim.PgConn().PID()
	_, err := victim.Exec(context.Background(), tablespaceLocation("regress_kill"))
	if err == nil {
		t.Fatal("the killed syscall returned")
	}
	want := "terminated by signal 31: Bad system call"
	var logged string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if logged = c.LogTail(40); strings.Contains(logged, want) &&
			strings.Contains(logged, "database system is ready to accept connections") {
			break
		}
	}
	if !strings.Contains(logged, want) {
		t.Fatalf("the server log does not say the backend was killed (%q):\n%s", want, logged)
	}
	t.Logf("backend %d: %v", pid, err)

	var conn = connectRetry(t, c)
	if got := queryString(t, conn, "SELECT answer::text FROM survivor"); got != "42" {
		t.Fatalf("after crash recovery: answer = %q", got)
	}
}

// TestForeignArchitectureKilled: a syscall made through another ABI (i386's
// int $0x80, or x32) kills the process, whatever the lists say. The program
// runs through COPY ... TO PROGRAM, so it has the backend's filters.
func TestForeignArchitectureKilled(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the foreign ABIs tested are x86_64's")
	}
	c := newCluster(t, nil)
	for _, tt := range []struct{ name, asm string }{
		// getpid: 20 on i386; 39 | __X32_SYSCALL_BIT on x32
		{"i386", `__asm__ volatile ("int $0x80" : : "a"(20) : "memory");`},
		{"x32", `long nr = 39 | 0x40000000L; __asm__ volatile ("syscall" : "+a"(nr) : : "rcx", "r11", "memory");`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "i386" {
				runs, reason, err := abiprobe.I386()
				if err != nil {
					t.Fatal(err)
				}
				if !runs {
					t.Skip(reason)
				}
			}
			src := filepath.Join(c.BaseDir, tt.name+".c")
			bin := filepath.Join(c.BaseDir, tt.name)
			code := "int main(void) { " + tt.asm + " return 0; }\n"
			if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("gcc", "-O0", "-o", bin, src).CombinedOutput(); err != nil {
				t.Fatalf("gcc: %v\n%s", err, out)
			}
			// unconfined, the program exits normally
			if out, err := exec.Command(bin).CombinedOutput(); err != nil {
				t.Fatalf("%s outside PostgreSQL: %v\n%s", tt.name, err, out)
			}
			conn := connect(t, c, "")
			_, err := conn.Exec(context.Background(), "COPY (SELECT 1) TO PROGRAM 'exec "+bin+"'")
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || !strings.Contains(pgErr.Detail, "terminated by signal 31: Bad system call") {
				t.Fatalf("COPY TO PROGRAM %s: %v (detail %q), want the program killed by SIGSYS (Bad system call)", tt.name, err, detailOf(pgErr))
			}
			t.Logf("%s: %s: %s", tt.name, pgErr.Message, pgErr.Detail)
		})
	}
}

func detailOf(e *pgconn.PgError) string {
	if e == nil {
		return ""
	}
	return e.Detail
}
