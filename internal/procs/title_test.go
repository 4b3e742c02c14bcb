package procs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// pad imitates PostgreSQL's title: the title followed by the rest of the
// original argument area filled with NULs.
func pad(title string, area int) []byte {
	b := make([]byte, area)
	copy(b, title)
	return b
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		args  []string
		title string
	}{
		{
			name:  "postmaster: original argv",
			data:  []byte("/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/fixture-b\x00"),
			args:  []string{"/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/fixture-b"},
			title: "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/fixture-b",
		},
		{
			name:  "Debian postmaster with config_file",
			data:  []byte("/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/fixture-b\x00-c\x00config_file=/etc/postgresql/15/main/postgresql.conf\x00"),
			args:  []string{"/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql/15/fixture-b", "-c", "config_file=/etc/postgresql/15/main/postgresql.conf"},
			title: "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/fixture-b -c config_file=/etc/postgresql/15/main/postgresql.conf",
		},
		{
			name:  "title padded with NULs",
			data:  pad("postgres: checkpointer ", 54),
			args:  []string{"postgres: checkpointer"},
			title: "postgres: checkpointer",
		},
		{
			name:  "title filling the whole area, no NUL",
			data:  []byte("postgres: walsender postgres [local] streaming 0/1943F00"),
			args:  []string{"postgres: walsender postgres [local] streaming 0/1943F00"},
			title: "postgres: walsender postgres [local] streaming 0/1943F00",
		},
		{
			name:  "title in argv[0] padded with spaces",
			data:  []byte("postgres: joe mydb [local] idle                    "),
			args:  []string{"postgres: joe mydb [local] idle"},
			title: "postgres: joe mydb [local] idle",
		},
		{
			name:  "title in argv[0], remnants of the old arguments after it",
			data:  []byte("postgres: joe mydb [local] idle\x00-D\x00/srv/pg\x00"),
			args:  []string{"postgres: joe mydb [local] idle"},
			title: "postgres: joe mydb [local] idle",
		},
		{
			name:  "title padded with spaces then NULs",
			data:  []byte("postgres: autovacuum launcher      \x00\x00\x00"),
			args:  []string{"postgres: autovacuum launcher"},
			title: "postgres: autovacuum launcher",
		},
		{name: "kernel thread", data: nil, args: nil, title: ""},
		{name: "only NULs", data: []byte("\x00\x00\x00"), args: nil, title: ""},
		{
			name:  "empty argument kept",
			data:  []byte("prog\x00\x00x\x00"),
			args:  []string{"prog", "", "x"},
			title: "prog  x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := ParseCmdline(tt.data)
			if !reflect.DeepEqual(args, tt.args) {
				t.Errorf("ParseCmdline(%q) = %q, want %q", tt.data, args, tt.args)
			}
			if got := TitleOf(args); got != tt.title {
				t.Errorf("TitleOf(%q) = %q, want %q", args, got, tt.title)
			}
		})
	}
}

func TestParseTitle(t *testing.T) {
	tests := []struct {
		title string
		want  Title
	}{
		// PostgreSQL 15, as captured from this machine.
		{"/usr/lib/postgresql/15/bin/postgres -D /tmp/pgsx/data", Title{Kind: KindPostmaster}},
		{"/usr/local/bin/postmaster -D /srv/pg", Title{Kind: KindPostmaster}},
		{"postgres -D /srv/pg", Title{Kind: KindPostmaster}},
		{"postgres: checkpointer ", Title{Kind: KindCheckpointer}},
		{"postgres: background writer ", Title{Kind: KindBackgroundWriter}},
		{"postgres: walwriter ", Title{Kind: KindWalWriter}},
		{"postgres: autovacuum launcher ", Title{Kind: KindAutovacuumLauncher}},
		{"postgres: archiver ", Title{Kind: KindArchiver}},
		{"postgres: archiver last was 000000010000000000000003", Title{Kind: KindArchiver, Detail: "last was 000000010000000000000003"}},
		{"postgres: archiver failed on 000000010000000000000003", Title{Kind: KindArchiver, Detail: "failed on 000000010000000000000003"}},
		{"postgres: logical replication launcher ", Title{Kind: KindLogicalLauncher}},
		{"postgres: logical replication worker for subscription 16394", Title{Kind: KindLogicalWorker, Detail: "logical replication worker for subscription 16394"}},
		{"postgres: logical replication apply worker for subscription 16394", Title{Kind: KindLogicalWorker, Detail: "logical replication apply worker for subscription 16394"}},
		{"postgres: postgres mydb [local] SELECT", Title{Kind: KindClientBackend, Role: "postgres", Database: "mydb", Host: "[local]", Detail: "SELECT"}},
		{"postgres: joe mydb [local] idle", Title{Kind: KindClientBackend, Role: "joe", Database: "mydb", Host: "[local]", Detail: "idle"}},
		{"postgres: joe mydb 127.0.0.1(53422) SELECT", Title{Kind: KindClientBackend, Role: "joe", Database: "mydb", Host: "127.0.0.1(53422)", Detail: "SELECT"}},
		{"postgres: joe mydb ::1(53422) idle in transaction (aborted)", Title{Kind: KindClientBackend, Role: "joe", Database: "mydb", Host: "::1(53422)", Detail: "idle in transaction (aborted)"}},
		{"postgres: joe mydb client.example.com(5432) UPDATE waiting", Title{Kind: KindClientBackend, Role: "joe", Database: "mydb", Host: "client.example.com(5432)", Detail: "UPDATE waiting"}},
		{"postgres: joe mydb [local] ", Title{Kind: KindClientBackend, Role: "joe", Database: "mydb", Host: "[local]"}},
		{"postgres: joe my db [local] idle", Title{Kind: KindClientBackend, Role: "joe", Database: "my db", Host: "[local]", Detail: "idle"}},
		{"postgres: checkpointer mydb [local] idle", Title{Kind: KindClientBackend, Role: "checkpointer", Database: "mydb", Host: "[local]", Detail: "idle"}},
		{"postgres: walsender repl [local] streaming 0/3000148", Title{Kind: KindWalSender, Role: "repl", Host: "[local]", Detail: "streaming 0/3000148"}},
		{"postgres: walsender repl mydb 10.0.0.7(40000) START_REPLICATION", Title{Kind: KindWalSender, Role: "repl", Database: "mydb", Host: "10.0.0.7(40000)", Detail: "START_REPLICATION"}},
		{"postgres: parallel worker for PID 1234 ", Title{Kind: KindParallelWorker, LeaderPID: 1234}},
		{"postgres: parallel worker for PID x", Title{Kind: KindParallelWorker}},
		{"postgres: autovacuum worker mydb", Title{Kind: KindAutovacuumWorker, Database: "mydb"}},
		{"postgres: autovacuum worker ", Title{Kind: KindAutovacuumWorker}},
		{"postgres: startup recovering 000000010000000000000003", Title{Kind: KindStartup, Detail: "recovering 000000010000000000000003"}},
		{"postgres: walreceiver streaming 0/3000148", Title{Kind: KindWalReceiver, Detail: "streaming 0/3000148"}},
		{"postgres: logger ", Title{Kind: KindLogger}},
		{"postgres: walsummarizer ", Title{Kind: KindWalSummarizer}},
		{"postgres: io worker 2", Title{Kind: KindIOWorker, Detail: "2"}},
		{"postgres: pg_cron launcher ", Title{Kind: KindBackgroundWorker, Detail: "pg_cron launcher"}},
		{"postgres: TimescaleDB Background Worker Scheduler", Title{Kind: KindBackgroundWorker, Detail: "TimescaleDB Background Worker Scheduler"}},
		// cluster_name prefix.
		{"postgres: main: checkpointer ", Title{Kind: KindCheckpointer, ClusterName: "main"}},
		{"postgres: 15/main: joe mydb [local] idle", Title{Kind: KindClientBackend, ClusterName: "15/main", Role: "joe", Database: "mydb", Host: "[local]", Detail: "idle"}},
		{"postgres: main: walsender repl [local] streaming 0/20000A0", Title{Kind: KindWalSender, ClusterName: "main", Role: "repl", Host: "[local]", Detail: "streaming 0/20000A0"}},
		{"postgres: main: parallel worker for PID 5755 ", Title{Kind: KindParallelWorker, ClusterName: "main", LeaderPID: 5755}},
		{"postgres: my cluster: autovacuum worker mydb", Title{Kind: KindAutovacuumWorker, ClusterName: "my cluster", Database: "mydb"}},
		// Older servers.
		{"postgres: stats collector ", Title{Kind: KindStatsCollector}},
		{"postgres: 12/main: bgworker: logical replication launcher   ", Title{Kind: KindLogicalLauncher, ClusterName: "12/main"}},
		{"postgres: bgworker: logical replication launcher", Title{Kind: KindLogicalLauncher}},
		{"postgres: checkpointer process   ", Title{Kind: KindCheckpointer}},
		{"postgres: writer process   ", Title{Kind: KindBackgroundWriter}},
		{"postgres: wal writer process   ", Title{Kind: KindWalWriter}},
		{"postgres: stats collector process   ", Title{Kind: KindStatsCollector}},
		{"postgres: archiver process   last was 000000010000000000000001", Title{Kind: KindArchiver, Detail: "last was 000000010000000000000001"}},
		{"postgres: wal sender process repl [local] streaming 0/3000148", Title{Kind: KindWalSender, Role: "repl", Host: "[local]", Detail: "streaming 0/3000148"}},
		// Not PostgreSQL, or not recognizable.
		{"", Title{Kind: KindUnknown}},
		{"postgres:", Title{Kind: KindUnknown}},
		{"postgres: ", Title{Kind: KindUnknown}},
		{"postgres: main: ", Title{Kind: KindUnknown, ClusterName: "main"}},
		{"bash /dev/fd/3", Title{Kind: KindUnknown}},
		{"/usr/bin/postgres-exporter --web.listen-address=:9187", Title{Kind: KindUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			if got := ParseTitle(tt.title); got != tt.want {
				t.Errorf("ParseTitle(%q) =\n %+v\nwant\n %+v", tt.title, got, tt.want)
			}
		})
	}
}

// TestFixtureTitles classifies the titles of the real processes captured in
// testdata/proc.
func TestFixtureTitles(t *testing.T) {
	want := map[string]Title{
		"4547": {Kind: KindCheckpointer},
		"4548": {Kind: KindBackgroundWriter},
		"4550": {Kind: KindWalWriter},
		"4551": {Kind: KindAutovacuumLauncher},
		"4552": {Kind: KindArchiver},
		"4553": {Kind: KindLogicalLauncher},
		"4607": {Kind: KindWalSender, Role: "postgres", Host: "[local]", Detail: "streaming 0/1984448"},
		"5736": {Kind: KindCheckpointer, ClusterName: "main"},
		"5737": {Kind: KindBackgroundWriter, ClusterName: "main"},
		"5739": {Kind: KindWalWriter, ClusterName: "main"},
		"5740": {Kind: KindAutovacuumLauncher, ClusterName: "main"},
		"5741": {Kind: KindArchiver, ClusterName: "main"},
		"5742": {Kind: KindLogicalLauncher, ClusterName: "main"},
		"5755": {Kind: KindClientBackend, ClusterName: "main", Role: "postgres", Database: "mydb", Host: "[local]", Detail: "SELECT"},
		"5756": {Kind: KindClientBackend, ClusterName: "main", Role: "postgres", Database: "mydb", Host: "127.0.0.1(43848)", Detail: "idle"},
		"5757": {Kind: KindWalSender, ClusterName: "main", Role: "postgres", Host: "[local]", Detail: "streaming 0/20000A0"},
		"5758": {Kind: KindParallelWorker, ClusterName: "main", LeaderPID: 5755},
		"4546": {Kind: KindPostmaster},
		"5735": {Kind: KindPostmaster},
	}
	for pid, w := range want {
		data, err := os.ReadFile(filepath.Join("testdata/proc", pid, "cmdline"))
		if err != nil {
			t.Fatal(err)
		}
		title := TitleOf(ParseCmdline(data))
		if got := ParseTitle(title); got != w {
			t.Errorf("pid %s: ParseTitle(%q) =\n %+v\nwant\n %+v", pid, title, got, w)
		}
	}
}

func TestIsPostgresProgram(t *testing.T) {
	for p, want := range map[string]bool{
		"/usr/lib/postgresql/15/bin/postgres":           true,
		"/usr/lib/postgresql/15/bin/postgres (deleted)": true,
		"postmaster":                 true,
		"postgres":                   true,
		"/usr/bin/postgres-exporter": false,
		"psql":                       false,
		"":                           false,
	} {
		if got := IsPostgresProgram(p); got != want {
			t.Errorf("IsPostgresProgram(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzParseTitle(f *testing.F) {
	files, _ := filepath.Glob("testdata/proc/*/cmdline")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"postgres: joe mydb 127.0.0.1(53422) SELECT",
		"postgres: main: walsender repl mydb [local] streaming 0/3000148",
		"postgres: parallel worker for PID 1234 ",
		"postgres: autovacuum worker mydb",
		"postgres: a: b: c(1) d(2)",
		"postgres: walsender [local]",
		"postgres: x (1)",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := ParseCmdline(data)
		for _, a := range args {
			if strings.Contains(a, "\x00") {
				t.Fatalf("ParseCmdline(%q): argument %q holds a NUL", data, a)
			}
		}
		if len(args) > 0 && args[len(args)-1] == "" && len(args) == 1 {
			t.Fatalf("ParseCmdline(%q) = %q: lone empty argument", data, args)
		}
		title := TitleOf(args)
		for _, in := range []string{title, string(data)} {
			got := ParseTitle(in)
			checkTitle(t, in, got)
		}
	})
}

// checkTitle asserts the invariants every ParseTitle result keeps.
func checkTitle(t *testing.T, in string, got Title) {
	t.Helper()
	if got.Kind == "" {
		t.Fatalf("ParseTitle(%q): empty Kind", in)
	}
	if got.LeaderPID < 0 || (got.LeaderPID > 0 && got.Kind != KindParallelWorker) {
		t.Errorf("ParseTitle(%q): LeaderPID %d for kind %s", in, got.LeaderPID, got.Kind)
	}
	// Everything reported comes from the title.
	for _, field := range []string{got.ClusterName, got.Role, got.Host} {
		if !strings.Contains(in, field) {
			t.Errorf("ParseTitle(%q) = %+v: %q is not in the title", in, got, field)
		}
	}
	for _, word := range strings.Fields(got.Database + " " + got.Detail) {
		if !strings.Contains(in, word) {
			t.Errorf("ParseTitle(%q) = %+v: %q is not in the title", in, got, word)
		}
	}
	switch got.Kind {
	case KindClientBackend:
		if got.Role == "" || got.Database == "" || !isHost(got.Host) {
			t.Errorf("ParseTitle(%q) = %+v: client backend without role, database and host", in, got)
		}
	case KindWalSender:
		if got.Role == "" || !isHost(got.Host) {
			t.Errorf("ParseTitle(%q) = %+v: walsender without role and host", in, got)
		}
	default:
		if got.Host != "" || got.Role != "" {
			t.Errorf("ParseTitle(%q) = %+v: role or host for kind %s", in, got, got.Kind)
		}
	}
	if got.Kind != KindPostmaster && got.Kind != KindUnknown && !strings.HasPrefix(in, titlePrefix) {
		t.Errorf("ParseTitle(%q) = %+v: a PostgreSQL child kind without the %q prefix", in, got, titlePrefix)
	}
}
