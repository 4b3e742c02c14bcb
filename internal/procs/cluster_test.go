package procs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fixture is testdata/proc: two PostgreSQL 15 clusters captured from /proc
// on this machine, plus a shell (3463) and a kernel thread (2).
//
//	cluster A: postmaster 4546, data directory /tmp/pgsx/data, no cluster_name,
//	           pgseccomp not loaded, everything unconfined
//	cluster B: postmaster 5735, data directory /var/lib/postgresql/15/fixture-b,
//	           cluster_name main, pgseccomp.so mapped, every process under a
//	           filter with no_new_privs (status files edited)
var fixture = Reader{Root: "testdata/proc"}

// copyFixture copies testdata/proc to a temporary directory that a test may
// change.
func copyFixture(t *testing.T) Reader {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proc")
	if err := os.CopyFS(dir, os.DirFS("testdata/proc")); err != nil {
		t.Fatal(err)
	}
	return Reader{Root: dir}
}

// addProcess adds a process to a fixture tree.
func addProcess(t *testing.T, r Reader, pid, ppid int, comm, exe, cmdline, statusFile string) {
	t.Helper()
	dir := filepath.Join(r.Root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(filepath.Join("testdata", statusFile))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"stat":    strconv.Itoa(pid) + " (" + comm + ") S " + strconv.Itoa(ppid) + " 1 1 0 -1 0",
		"cmdline": cmdline,
		"status":  string(status),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if exe != "" {
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			t.Fatal(err)
		}
	}
}

func pidsOf(ps []Process) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}

func kindsOf(ps []Process) map[int]Kind {
	out := map[int]Kind{}
	for _, p := range ps {
		out[p.PID] = p.Kind
	}
	return out
}

func TestDiscoverFixture(t *testing.T) {
	clusters, warnings, err := fixture.Discover()
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if len(clusters) != 2 {
		t.Fatalf("Discover() found %d clusters, want 2: %+v", len(clusters), clusters)
	}
	a, b := clusters[0], clusters[1]

	if a.PostmasterPID != 4546 || a.DataDir != "/tmp/pgsx/data" || a.Name != "" || a.PgseccompLoaded || a.LoadedErr != nil {
		t.Errorf("cluster A = postmaster %d, data %q, name %q, loaded %v (%v)", a.PostmasterPID, a.DataDir, a.Name, a.PgseccompLoaded, a.LoadedErr)
	}
	if got, want := pidsOf(a.Processes), []int{4546, 4547, 4548, 4550, 4551, 4552, 4553, 4607}; !reflect.DeepEqual(got, want) {
		t.Errorf("cluster A processes = %v, want %v", got, want)
	}
	if n := len(a.Unconfined()); n != len(a.Processes) {
		t.Errorf("cluster A: %d unconfined, want all %d", n, len(a.Processes))
	}

	if b.PostmasterPID != 5735 || b.DataDir != "/var/lib/postgresql/15/fixture-b" || b.Name != "main" || !b.PgseccompLoaded || b.LoadedErr != nil {
		t.Errorf("cluster B = postmaster %d, data %q, name %q, loaded %v (%v)", b.PostmasterPID, b.DataDir, b.Name, b.PgseccompLoaded, b.LoadedErr)
	}
	wantKinds := map[int]Kind{
		5735: KindPostmaster, 5736: KindCheckpointer, 5737: KindBackgroundWriter, 5739: KindWalWriter,
		5740: KindAutovacuumLauncher, 5741: KindArchiver, 5742: KindLogicalLauncher, 5755: KindClientBackend,
		5756: KindClientBackend, 5757: KindWalSender, 5758: KindParallelWorker,
	}
	if got := kindsOf(b.Processes); !reflect.DeepEqual(got, wantKinds) {
		t.Errorf("cluster B kinds = %v, want %v", got, wantKinds)
	}
	if b.Processes[0].PID != 5735 {
		t.Errorf("cluster B starts with %d, want the postmaster", b.Processes[0].PID)
	}
	if u := b.Unconfined(); len(u) != 0 {
		t.Errorf("cluster B unconfined = %v, want none", pidsOf(u))
	}
	be := b.Processes[pidIndex(b.Processes, 5756)]
	if be.Role != "postgres" || be.Database != "mydb" || be.Status.SeccompFilters != 2 || be.Cmdline != "postgres: main: postgres mydb 127.0.0.1(43848) idle" {
		t.Errorf("backend 5756 = %+v", be)
	}
}

func pidIndex(ps []Process, pid int) int {
	for i, p := range ps {
		if p.PID == pid {
			return i
		}
	}
	return -1
}

func TestClusterFixture(t *testing.T) {
	c, _, err := fixture.OfPostmaster(5735)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Processes) != 11 || !c.PgseccompLoaded {
		t.Errorf("OfPostmaster(5735): %d processes, loaded %v", len(c.Processes), c.PgseccompLoaded)
	}

	for _, tt := range []struct {
		pid  int
		want error
		msg  string
	}{
		{pid: 99999, want: fs.ErrNotExist, msg: "not running"},
		{pid: 5736, want: ErrNotPostmaster, msg: "child of PostgreSQL process 5735"},
		{pid: 3463, want: ErrNotPostmaster, msg: `"bash"`},
	} {
		_, _, err := fixture.OfPostmaster(tt.pid)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("OfPostmaster(%d) error = %v, want %v mentioning %s", tt.pid, err, tt.want, tt.msg)
		}
	}
}

func TestForPIDFixture(t *testing.T) {
	tests := []struct {
		pid        int
		kind       Kind
		postmaster int
		loaded     bool
		dataDir    string
	}{
		{5755, KindClientBackend, 5735, true, "/var/lib/postgresql/15/fixture-b"},
		{5735, KindPostmaster, 5735, true, "/var/lib/postgresql/15/fixture-b"},
		{4607, KindWalSender, 4546, false, "/tmp/pgsx/data"},
		{3463, KindOther, 0, false, ""},
		{2, KindOther, 0, false, ""},
	}
	for _, tt := range tests {
		c, warnings, err := fixture.ForPID(tt.pid)
		if err != nil || len(warnings) > 0 {
			t.Errorf("ForPID(%d): %v %v", tt.pid, err, warnings)
			continue
		}
		if len(c.Processes) != 1 || c.Processes[0].PID != tt.pid || c.Processes[0].Kind != tt.kind ||
			c.PostmasterPID != tt.postmaster || c.PgseccompLoaded != tt.loaded || c.DataDir != tt.dataDir {
			t.Errorf("ForPID(%d) = %+v", tt.pid, c)
		}
	}
	if _, _, err := fixture.ForPID(99999); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ForPID(99999) error = %v, want ErrNotExist", err)
	}
}

// TestVanishedProcesses checks that processes whose files disappear halfway
// through a scan are skipped without warnings.
func TestVanishedProcesses(t *testing.T) {
	r := copyFixture(t)
	// A backend that exited after its stat was read: status is gone.
	addProcess(t, r, 5800, 5735, "postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres: main: joe mydb [local] idle", "status/filter.txt")
	if err := os.Remove(filepath.Join(r.Root, "5800", "status")); err != nil {
		t.Fatal(err)
	}
	// A directory whose stat is already gone.
	if err := os.MkdirAll(filepath.Join(r.Root, "5801"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A process whose cmdline is gone.
	addProcess(t, r, 5802, 5735, "postgres", "", "", "status/filter.txt")
	if err := os.Remove(filepath.Join(r.Root, "5802", "cmdline")); err != nil {
		t.Fatal(err)
	}
	// The non-numeric entries of /proc.
	for _, name := range []string{"self", "sys", "uptime"} {
		if err := os.WriteFile(filepath.Join(r.Root, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clusters, warnings, err := r.Discover()
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Discover(): %v, warnings %v", err, warnings)
	}
	if len(clusters) != 2 || len(clusters[1].Processes) != 11 {
		t.Errorf("Discover() = %d clusters, want 2 with 11 processes in the second", len(clusters))
	}
	if _, _, err := r.ForPID(5800); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ForPID(vanished) error = %v, want ErrNotExist", err)
	}
	// The postmaster itself vanishes: its children are orphans.
	if err := os.Remove(filepath.Join(r.Root, "4546", "status")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.OfPostmaster(4546); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OfPostmaster(vanished postmaster) error = %v, want ErrNotExist", err)
	}
}

func TestSubprocessAndOrphans(t *testing.T) {
	r := copyFixture(t)
	// archive_command run by cluster B's archiver: sh, then cp. They carry
	// the archiver's filters; this cp does not (an escape).
	addProcess(t, r, 5900, 5741, "sh", "/usr/bin/dash", "sh\x00-c\x00cp pg_wal/0001 /archive/0001\x00", "status/filter.txt")
	addProcess(t, r, 5901, 5900, "cp", "/usr/bin/cp", "cp\x00pg_wal/0001\x00/archive/0001\x00", "status/self.txt")
	// A backend whose postmaster is gone (re-parented to init), and a
	// child that has not set its title yet.
	addProcess(t, r, 6000, 1, "postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres: joe mydb [local] idle\x00\x00\x00", "status/self.txt")
	addProcess(t, r, 5902, 5735, "postgres", "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/fixture-b\x00", "status/filter.txt")

	clusters, warnings, err := r.Discover()
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Discover(): %v, warnings %v", err, warnings)
	}
	if len(clusters) != 3 {
		t.Fatalf("Discover() found %d clusters, want 3", len(clusters))
	}
	b := clusters[1]
	kinds := kindsOf(b.Processes)
	if kinds[5900] != KindSubprocess || kinds[5901] != KindSubprocess || kinds[5902] != KindStarting {
		t.Errorf("cluster B kinds = %v", kinds)
	}
	if got := pidsOf(b.Unconfined()); !reflect.DeepEqual(got, []int{5901}) {
		t.Errorf("cluster B unconfined = %v, want [5901]", got)
	}
	orphans := clusters[2]
	if orphans.PostmasterPID != 0 || len(orphans.Processes) != 1 || orphans.Processes[0].Kind != KindClientBackend {
		t.Errorf("orphans = %+v", orphans)
	}

	c, _, err := r.ForPID(5901)
	if err != nil || c.PostmasterPID != 5735 || !c.PgseccompLoaded || c.Processes[0].Kind != KindSubprocess {
		t.Errorf("ForPID(5901) = %+v, %v", c, err)
	}
	c, _, err = r.ForPID(6000)
	if err != nil || c.PostmasterPID != 0 || c.Processes[0].Kind != KindClientBackend {
		t.Errorf("ForPID(6000) = %+v, %v", c, err)
	}
	if _, _, err := r.OfPostmaster(6000); !errors.Is(err, ErrNotPostmaster) || !strings.Contains(err.Error(), "client backend") {
		t.Errorf("OfPostmaster(orphan) error = %v, want ErrNotPostmaster naming a client backend", err)
	}
}

func TestUnreadableMaps(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	r := copyFixture(t)
	if err := os.Chmod(filepath.Join(r.Root, "5735", "maps"), 0); err != nil {
		t.Fatal(err)
	}
	c, _, err := r.OfPostmaster(5735)
	if err != nil || c.LoadedErr == nil || c.PgseccompLoaded {
		t.Errorf("OfPostmaster(5735) with unreadable maps: loaded %v, LoadedErr %v, err %v", c.PgseccompLoaded, c.LoadedErr, err)
	}
}

func TestMissingMapsAndCwd(t *testing.T) {
	r := copyFixture(t)
	for _, name := range []string{"maps", "cwd"} {
		if err := os.Remove(filepath.Join(r.Root, "5735", name)); err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := r.OfPostmaster(5735)
	if err != nil {
		t.Fatal(err)
	}
	if c.LoadedErr == nil || c.PgseccompLoaded {
		t.Errorf("loaded %v, LoadedErr %v; want unknown", c.PgseccompLoaded, c.LoadedErr)
	}
	if c.DataDir != "/var/lib/postgresql/15/fixture-b" {
		t.Errorf("DataDir from -D = %q", c.DataDir)
	}
}

func TestMapsHasLibrary(t *testing.T) {
	b, err := os.ReadFile("testdata/proc/5735/maps")
	if err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile("testdata/proc/4546/maps")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		maps string
		want bool
	}{
		{"cluster B (real maps plus pgseccomp.so)", string(b), true},
		{"cluster A (real maps)", string(a), false},
		{"deleted after load", "7f3a1c2e0000-7f3a1c2e4000 r--p 00000000 00:22 1311015    /usr/lib/postgresql/15/lib/pgseccomp.so (deleted)\n", true},
		{"path with spaces", "7f3a1c2e0000-7f3a1c2e4000 r--p 00000000 00:22 1311015    /opt/my pg/lib/pgseccomp.so\n", true},
		{"other library", "7f3a1c2e0000-7f3a1c2e4000 r--p 00000000 00:22 1311015    /usr/lib/postgresql/15/lib/notpgseccomp.so\n", false},
		{"anonymous mapping", "7f3a1c2e0000-7f3a1c2e4000 rw-p 00000000 00:00 0\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		if got := MapsHasLibrary([]byte(tt.maps), LibraryName); got != tt.want {
			t.Errorf("%s: MapsHasLibrary() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParsePostmasterPID(t *testing.T) {
	real, err := os.ReadFile("testdata/pgdata-a/postmaster.pid")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    string
		want    PIDFile
		wantErr bool
	}{
		{name: "real", data: string(real), want: PIDFile{PID: 4546, DataDir: "/tmp/pgsx/data"}},
		{name: "pid only", data: "1234\n", want: PIDFile{PID: 1234}},
		{name: "no newline", data: "1234", want: PIDFile{PID: 1234}},
		{name: "single-user backend", data: "-1234\n/srv/pg\n", want: PIDFile{PID: 1234, DataDir: "/srv/pg", Standalone: true}},
		{name: "empty (server starting)", data: "", wantErr: true},
		{name: "garbage", data: "hello\n", wantErr: true},
		{name: "zero", data: "0\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePostmasterPID([]byte(tt.data))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParsePostmasterPID(%q) = %+v, %v; want %+v, error %v", tt.data, got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := ReadPostmasterPID(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadPostmasterPID(empty dir) error = %v, want ErrNotExist", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPostmasterPID(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "postmaster.pid")) {
		t.Errorf("ReadPostmasterPID(bad file) error = %v, want one naming the file", err)
	}
}

func TestDataDirFromArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"postgres", "-D", "/srv/pg"}, "/srv/pg"},
		{[]string{"postgres", "-D/srv/pg"}, "/srv/pg"},
		{[]string{"postgres", "--data-directory=/srv/pg"}, "/srv/pg"},
		{[]string{"postgres", "-D", "/etc/pg", "-c", "data_directory=/srv/pg"}, "/srv/pg"},
		{[]string{"postgres", "-D", "/etc/pg", "-cdata_directory=/srv/pg"}, "/srv/pg"},
		{[]string{"postgres", "-c", "data_directory=/srv/pg", "-D", "/etc/pg"}, "/srv/pg"},
		{[]string{"postgres", "-p", "5433"}, ""},
		{[]string{"postgres", "-D"}, ""},
		{nil, ""},
	} {
		if got := dataDirFromArgs(tt.args); got != tt.want {
			t.Errorf("dataDirFromArgs(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
