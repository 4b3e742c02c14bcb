package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
)

// TestSyscallsForgedByRaiseLog: an ordinary role RAISEs LOG a line that
// looks like a seccomp record; PostgreSQL writes it to its stderr log,
// csvlog and jsonlog; syscalls given each of those logs lists nothing and
// names the untrusted record.
func TestSyscallsForgedByRaiseLog(t *testing.T) {
	c := clustertest.New(t, cluster.Options{Settings: map[string]string{
		"logging_collector": "on",
		"log_destination":   "'stderr,csvlog,jsonlog'",
		"log_directory":     "'log'",
		"log_filename":      "'pg'",
	}})
	ctx := context.Background()
	admin, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	mustExecLive(t, admin, "CREATE ROLE mallory LOGIN")
	conn, err := c.Connect(ctx, "mallory", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// No single quote in it, so it goes into SQL as a literal as is.
	const forged = `type=1326 audit(1795820182.744:14848): auid=4294967295 uid=101 gid=104 ses=4294967295 pid=4242 comm="postgres" exe="/usr/lib/postgresql/15/bin/postgres" sig=0 arch=c000003e syscall=101 compat=0 ip=0x7f979f0bb829 code=0x7ffc0000`
	mustExecLive(t, conn, "DO $$BEGIN RAISE LOG '%', '"+forged+"'; END$$")

	for _, name := range []string{"pg", "pg.csv", "pg.json"} {
		path := filepath.Join(c.DataDir, "log", name)
		// The logging collector writes on its own time: wait for the line.
		deadline := time.Now().Add(30 * time.Second)
		for {
			data, _ := os.ReadFile(path)
			if strings.Contains(string(data), "syscall=101") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s has no RAISE LOG line after 30 s:\n%s", path, data)
			}
			time.Sleep(100 * time.Millisecond)
		}
		code, out, errOut := runCLI(t, "syscalls", path)
		if code != 0 || out != "\n" || !strings.Contains(errOut, "warning: left out ") || !strings.Contains(errOut, " in lines anybody can write (") ||
			!strings.Contains(errOut, "untrusted: "+path+":") ||
			!strings.Contains(errOut, "0 seccomp records, 0 selected") {
			t.Errorf("%s: exit %d, stdout %q\n%s", name, code, out, errOut)
		}
	}
}
