package extension

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// The four examples of the talk "SECCOMP your PostgreSQL", with their
// outcomes as the talk shows them.

// TestTalkExample1Readlink: readlink in the session error list makes
// pg_tablespace_location() fail with "Permission denied"; allowed, it works.
func TestTalkExample1Readlink(t *testing.T) {
	readlink := readlinkSyscall()
	c := newCluster(t, map[string]string{"pgseccomp.session_syscall_allow": readlink})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	tablespaceDir := createTablespace(t, c, admin, "regress_tblspace")
	location := tablespaceLocation("regress_tblspace")

	rows := filterRows(t, admin, "syscall = '"+readlink+"' AND context = 'session'")
	if len(rows) != 1 || rows[0].FilterAction() != "session->allow" {
		t.Fatalf("allowed: rows %+v, want one %s row session->allow", rows, readlink)
	}
	if got := queryString(t, admin, location); got != tablespaceDir {
		t.Fatalf("allowed: pg_tablespace_location = %q, want %q", got, tablespaceDir)
	}

	// move readlink from session allow to session error; reload; new session
	reload(t, c, map[string]string{"pgseccomp.session_syscall_error": readlink})
	denied := connect(t, c, "")
	rows = filterRows(t, denied, "filter_action LIKE '%error' AND context = 'session'")
	if len(rows) != 1 || rows[0].Syscall != readlink || rows[0].FilterAction() != "session->error" {
		t.Fatalf("denied: rows %+v, want only %s session->error", rows, readlink)
	}
	_, err := denied.Exec(context.Background(), location)
	if err == nil || !strings.Contains(err.Error(), "could not read symbolic link") ||
		!strings.Contains(err.Error(), "Permission denied") {
		t.Fatalf("denied: pg_tablespace_location error = %v, want could not read symbolic link ... Permission denied", err)
	}
	t.Logf("example 1 printed: %v", err)

	// the session opened before the reload keeps its filter
	if got := queryString(t, admin, location); got != tablespaceDir {
		t.Fatalf("old session after reload: pg_tablespace_location = %q, want %q", got, tablespaceDir)
	}
}

// TestTalkExample2GlobalWins: with a global default of log and nanosleep in
// no global list, allowing nanosleep in the session changes nothing.  Both
// defaults are log, as in the talk's step 1, so the only row the global
// layer decides in the session is nanosleep's.
func TestTalkExample2GlobalWins(t *testing.T) {
	globalAllow := slices.DeleteFunc(slices.Clone(demo.HandDerivedSessionAllowList),
		func(s string) bool { return s == "nanosleep" })
	if runtime.GOARCH != "amd64" {
		t.Skip("the hand-derived allow-list names x86_64 syscalls")
	}
	c := newCluster(t, map[string]string{
		"pgseccomp.global_syscall_default":  "log",
		"pgseccomp.global_syscall_allow":    strings.Join(globalAllow, ","),
		"pgseccomp.session_syscall_default": "log",
		"pgseccomp.session_syscall_allow":   "nanosleep",
	})
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	rows := filterRows(t, admin, "filter_action LIKE 'global%' AND context = 'session'")
	want := []policy.Row{{Syscall: "nanosleep", Number: 35, Origin: policy.Global, Action: policy.Log, Context: "session"}}
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %+v, want %+v", rows, want)
	}
	t.Logf("example 2 printed: %+v", rows)
}

// plperlCat is the talk's function: it runs cat(1) through IPC::Run3.
const plperlCat = `CREATE OR REPLACE FUNCTION cat(location text) RETURNS text AS $$
    use IPC::Run3; my @cmd = ("cat", $_[0]);
    run3 \@cmd, undef, \my $cout , \my $cerr;
    if ($?!=0){return($cerr)} else {return($cout)};
$$ LANGUAGE plperlu`

// cloneSyscalls are the syscalls glibc may use to start a child process.
var cloneSyscalls = "clone,clone3"

// TestTalkExamples3And4Clone: clone denied in the session error list breaks
// a function that runs a program; a role exempted through session_roles can
// run it; a client filter denies it again for one session only.
func TestTalkExamples3And4Clone(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the hand-derived allow-list names x86_64 syscalls")
	}
	c := newCluster(t, map[string]string{
		"pgseccomp.session_syscall_default": "log",
		"pgseccomp.session_syscall_allow":   demo.HandDerivedSessionAllowSetting(),
	})
	hba, err := os.ReadFile(filepath.Join(c.DataDir, "pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	mustExec(t, admin, "CREATE EXTENSION plperlu")
	mustExec(t, admin, plperlCat)
	createRole(t, admin, "joe")
	if got := queryString(t, admin, "SELECT cat('pg_hba.conf')"); got != string(hba) {
		t.Fatalf("before: cat('pg_hba.conf') = %q, want the file", got)
	}

	// example 3: clone in the session error list; joe exempted
	settings := map[string]string{
		"pgseccomp.session_syscall_default": "log",
		"pgseccomp.session_syscall_allow":   demo.HandDerivedSessionAllowSetting(),
		"pgseccomp.session_syscall_error":   cloneSyscalls,
		"pgseccomp.session_roles":           "joe",
		"session_syscall_error.joe":         "",
	}
	reload(t, c, settings)
	denied := connect(t, c, "")
	_, err = denied.Exec(context.Background(), "SELECT cat('pg_hba.conf')")
	if err == nil || !strings.Contains(err.Error(), "Permission denied") {
		t.Fatalf("example 3: cat() with clone denied: error = %v, want Permission denied", err)
	}
	t.Logf("example 3 printed: %v", err)

	joe := connect(t, c, "joe")
	if got := queryString(t, joe, "SELECT cat('pg_hba.conf')"); got != string(hba) {
		t.Fatalf("example 3: cat() as exempted joe = %q, want the file", got)
	}

	// example 4: joe denies clone to his own session
	mustExec(t, admin, "GRANT EXECUTE ON FUNCTION set_client_filter(text,text,text,text,text) TO joe")
	if got := queryString(t, joe, "SELECT set_client_filter('error', null, null, 'clone', null)"); got != "OK" {
		t.Fatalf("example 4: set_client_filter returned %q", got)
	}
	_, err = joe.Exec(context.Background(), "SELECT cat('pg_hba.conf')")
	if err == nil || !strings.Contains(err.Error(), "Permission denied") {
		t.Fatalf("example 4: cat() after set_client_filter: error = %v, want Permission denied", err)
	}
	t.Logf("example 4 printed: %v", err)

	// ... in that session only
	joe2 := connect(t, c, "joe")
	if got := queryString(t, joe2, "SELECT cat('pg_hba.conf')"); got != string(hba) {
		t.Fatalf("example 4: cat() in joe's other session = %q, want the file", got)
	}
}
