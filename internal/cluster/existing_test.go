package cluster

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// debianLayout makes ROOT/etc/15/main (postgresql.conf naming the data
// directory, conf.d) and ROOT/lib/15/main (the data directory), as
// pg_createcluster lays them out, and points ConfRoot at ROOT/etc.
func debianLayout(t *testing.T) (confDir, dataDir string) {
	t.Helper()
	root := t.TempDir()
	confDir = filepath.Join(root, "etc", "15", "main")
	dataDir = filepath.Join(root, "lib", "15", "main")
	for _, d := range []string{filepath.Join(confDir, "conf.d"), dataDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(confDir, "postgresql.conf"), "data_directory = '"+dataDir+"'\n"+
		"hba_file = '"+filepath.Join(confDir, "pg_hba.conf")+"'\nport = 5433\ninclude_dir = 'conf.d'\n")
	write(filepath.Join(confDir, "conf.d", "a.conf"), "unix_socket_directories = '/tmp/s1, /tmp/s2'\n")
	write(filepath.Join(dataDir, "PG_VERSION"), "15\n")
	write(filepath.Join(dataDir, "postgresql.auto.conf"), "port = 5434\n")
	t.Setenv("PG_CLUSTER_CONF_ROOT", filepath.Join(root, "etc"))
	return confDir, dataDir
}

func TestFindExisting(t *testing.T) {
	confDir, dataDir := debianLayout(t)
	plain := t.TempDir() // initdb's layout: everything in the data directory
	for name, s := range map[string]string{"postgresql.conf": "ident_file = 'id.conf'\n", "PG_VERSION": "15\n"} {
		if err := os.WriteFile(filepath.Join(plain, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, cluster, pgdata             string
		confDir, dataDir, hba, ident, ver string
		port                              int
		restart, socket                   string
	}{
		{name: "cluster name", cluster: "15/main", confDir: confDir, dataDir: dataDir, hba: filepath.Join(confDir, "pg_hba.conf"),
			ident: filepath.Join(confDir, "pg_ident.conf"), ver: "15", port: 5434, restart: "pg_ctlcluster 15 main restart", socket: "/tmp/s1"},
		{name: "systemd unit spelling", cluster: "15-main", confDir: confDir, dataDir: dataDir, ver: "15", port: 5434},
		{name: "configuration directory", pgdata: confDir, confDir: confDir, dataDir: dataDir, ver: "15", port: 5434},
		{name: "data directory", pgdata: dataDir, confDir: confDir, dataDir: dataDir, ver: "15", port: 5434},
		{name: "initdb layout", pgdata: plain, confDir: plain, dataDir: plain, hba: filepath.Join(plain, "pg_hba.conf"),
			ident: filepath.Join(plain, "id.conf"), port: 5432, restart: "pg_ctl -D " + shellQuote(plain) + " restart", socket: "/var/run/postgresql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := FindExisting(tc.cluster, tc.pgdata)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("ConfigDir", e.ConfigDir, tc.confDir)
			check("DataDir", e.DataDir, tc.dataDir)
			check("HBAFile", e.HBAFile, tc.hba)
			check("IdentFile", e.IdentFile, tc.ident)
			check("Version", e.Version, tc.ver)
			check("SocketDir", e.SocketDir(), tc.socket)
			if tc.restart != "" && !strings.HasSuffix(e.RestartCommand(), tc.restart) {
				t.Errorf("RestartCommand = %q, want it to end in %q", e.RestartCommand(), tc.restart)
			}
			if e.Port != tc.port {
				t.Errorf("Port = %d, want %d (postgresql.auto.conf wins)", e.Port, tc.port)
			}
		})
	}
}

func TestFindExistingRefuses(t *testing.T) {
	confDir, _ := debianLayout(t)
	empty := t.TempDir()
	for _, tc := range []struct{ name, cluster, pgdata, want string }{
		{"both", "15/main", confDir, "give one of them"},
		{"neither", "", "", "no cluster given"},
		{"unknown cluster", "15/nosuch", "", "15/nosuch/postgresql.conf does not exist"},
		{"bad name", "main", "", `--cluster "main": give VERSION/NAME`},
		{"traversal", "15/..", "", "give VERSION/NAME"},
		{"not a cluster", "", empty, "neither postgresql.conf nor PG_VERSION"},
		{"missing", "", filepath.Join(empty, "x"), "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FindExisting(tc.cluster, tc.pgdata)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FindExisting(%q, %q) = %v, want an error containing %q", tc.cluster, tc.pgdata, err, tc.want)
			}
		})
	}
}

func FuzzParseClusterName(f *testing.F) {
	for _, s := range []string{"15/main", "15-main", "16/x-y", "/", "15/", "a/b", "15/../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ver, name, err := ParseClusterName(s)
		if err != nil {
			return
		}
		if ver == "" || name == "" || strings.Contains(name, "/") || name == ".." || name == "." {
			t.Fatalf("ParseClusterName(%q) = %q, %q: not a version and a name", s, ver, name)
		}
	})
}

func TestLoopbackFor(t *testing.T) {
	for in, want := range map[string]string{
		"": "", " ": "", "localhost": "localhost", "*": "127.0.0.1", "0.0.0.0": "127.0.0.1",
		"10.0.0.5, ::1": "127.0.0.1", "db.example.org": "localhost", "127.0.0.1,db": "localhost",
	} {
		if got := loopbackFor(in); got != want {
			t.Errorf("loopbackFor(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestManagerCommands: how a cluster is started, stopped and restarted,
// as postgresql-common's conventions say, on a machine with or without
// systemd (simulated by pointing the probes at the test's directories:
// this part needs no systemd). A postgresql-common cluster under systemd
// is driven through its postgresql@VERSION-NAME unit, except for shutdown
// modes systemd does not have (pg_ctlcluster -m); without systemd, or
// without the unit template, through pg_ctlcluster; a cluster
// postgresql-common does not know, through pg_ctl as its owner.
func TestManagerCommands(t *testing.T) {
	oldRun, oldUnits := systemdRunDir, unitDirs
	t.Cleanup(func() { systemdRunDir, unitDirs = oldRun, oldUnits })
	dir := t.TempDir()
	booted, units, noUnits := filepath.Join(dir, "run-systemd"), filepath.Join(dir, "units"), filepath.Join(dir, "empty")
	for _, d := range []string{booted, units, noUnits} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(units, "postgresql@.service"), []byte("[Unit]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	debian := &Existing{Version: "15", Name: "main", Owner: "postgres", ConfigDir: "/etc/postgresql/15/main"}
	dashed := &Existing{Version: "16", Name: "my-app", Owner: "postgres", ConfigDir: "/etc/postgresql/16/my-app"}
	plain := &Existing{Owner: "postgres", ConfigDir: "/srv/pg data"}
	tests := []struct {
		name           string
		e              *Existing
		runDir, unitIn string
		manager        string
		restart        string   // RestartCommand
		restartArgs    []string // ControlCommand(restart, "")
		immediateArgs  []string // ControlCommand(stop, immediate)
	}{
		{"systemd with postgresql-common's unit", debian, booted, units, "systemd",
			"systemctl restart postgresql@15-main",
			[]string{"systemctl", "restart", "postgresql@15-main"},
			[]string{"pg_ctlcluster", "15", "main", "stop", "-m", "immediate"}},
		{"a cluster name with a dash", dashed, booted, units, "systemd",
			"systemctl restart postgresql@16-my-app",
			[]string{"systemctl", "restart", "postgresql@16-my-app"},
			[]string{"pg_ctlcluster", "16", "my-app", "stop", "-m", "immediate"}},
		{"systemd without the unit template", debian, booted, noUnits, "pg_ctlcluster",
			"pg_ctlcluster 15 main restart",
			[]string{"pg_ctlcluster", "15", "main", "restart"},
			[]string{"pg_ctlcluster", "15", "main", "stop", "-m", "immediate"}},
		{"no systemd (a container, this test machine)", debian, filepath.Join(dir, "absent"), units, "pg_ctlcluster",
			"pg_ctlcluster 15 main restart",
			[]string{"pg_ctlcluster", "15", "main", "restart"},
			[]string{"pg_ctlcluster", "15", "main", "stop", "-m", "immediate"}},
		{"not postgresql-common's", plain, booted, units, "pg_ctl",
			"sudo -u postgres pg_ctl -D '/srv/pg data' restart",
			nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			systemdRunDir, unitDirs = tt.runDir, []string{filepath.Join(dir, "absent"), tt.unitIn}
			if got := tt.e.Manager(); got != tt.manager {
				t.Errorf("Manager() = %q, want %q", got, tt.manager)
			}
			if got := tt.e.RestartCommand(); got != tt.restart {
				t.Errorf("RestartCommand() = %q, want %q", got, tt.restart)
			}
			ctx := context.Background()
			check := func(what string, got, want []string) {
				if want == nil { // pg_ctl as the owner, wherever pg_ctl is
					if len(got) < 4 || got[0] != "runuser" || !slices.Contains(got, tt.e.ConfigDir) || !slices.Contains(got, "-w") {
						t.Errorf("%s: %q, want runuser -u %s -- .../pg_ctl -D %q -w ...", what, got, tt.e.Owner, tt.e.ConfigDir)
					}
					return
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: %q, want %q", what, got, want)
				}
			}
			check("restart", tt.e.ControlCommand(ctx, "restart", "").Args, tt.restartArgs)
			check("stop -m immediate", tt.e.ControlCommand(ctx, "stop", "immediate").Args, tt.immediateArgs)
		})
	}
}

// TestMirrorLogins: a cluster recorded in place gets, after the driver's
// lines and before its own, one line per connection type and password
// method of its pg_hba.conf for the login role; the offset of its own
// lines moves by as many; a pg_hba.conf without password lines adds none.
func TestMirrorLogins(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, hba string
		want      []string
	}{
		{"Debian's lines and an application's hostssl line",
			"local all postgres peer\nhostssl app app 10.0.0.0/8 scram-sha-256 clientcert=verify-ca\nlocal all all peer\n" +
				"host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\nhost all old 127.0.0.1 255.255.255.255 md5\nlocal replication all peer\n",
			[]string{"hostssl all wl 127.0.0.1/32 scram-sha-256", "host all wl 127.0.0.1/32 scram-sha-256", "host all wl 127.0.0.1/32 md5"}},
		{"a local password line", "local all all password\n", []string{"local all wl password"}},
		{"no password method", "local all all peer\nhost all all 0.0.0.0/0 ldap ldapserver=x\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Existing{HBAFile: filepath.Join(dir, "pg_hba.conf")}
			if err := os.WriteFile(e.HBAFile, []byte(tt.hba), 0o600); err != nil {
				t.Fatal(err)
			}
			head, offset, err := driverHBA(e, "the cluster")
			if err != nil {
				t.Fatal(err)
			}
			out, newOffset, err := mirrorLogins(head, offset, e, "wl")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(out), "\n")
			var mirrored []string
			for _, l := range lines[:newOffset] {
				if strings.Contains(l, " wl ") && !strings.HasPrefix(l, "#") {
					mirrored = append(mirrored, l)
				}
			}
			if !slices.Equal(mirrored, tt.want) {
				t.Errorf("mirror lines %q, want %q", mirrored, tt.want)
			}
			if got := strings.Join(lines[newOffset:], "\n"); got != tt.hba {
				t.Errorf("after line %d: %q, want the cluster's own lines %q", newOffset, got, tt.hba)
			}
			if !strings.Contains(lines[1], "local all "+CopyRole+" trust") {
				t.Errorf("the driver's line is not first: %q", lines[:3])
			}
		})
	}
}
