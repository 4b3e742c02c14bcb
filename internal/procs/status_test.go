package procs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fixtures under testdata/status are /proc/self/status of this machine
// (Linux 6.18), copies of it edited to show other confinement states, and
// copies with the fields older kernels lack removed. testdata/proc holds two
// real PostgreSQL 15 clusters captured from /proc; the second one's status
// files were edited to show pgseccomp's filters.
func TestParseStatus(t *testing.T) {
	tests := []struct {
		name     string
		file     string // under testdata, or "" to use data
		data     string
		want     Status
		wantErr  string
		confined bool
	}{
		{
			name: "unconfined process (real)",
			file: "status/self.txt",
			want: Status{Name: "cat", SeccompMode: SeccompDisabled, SeccompFilters: 0, SpeculationStoreBypass: "vulnerable", SpeculationIndirectBranch: "always enabled", Threads: 1},
		},
		{
			name:     "filter mode with no_new_privs",
			file:     "status/filter.txt",
			want:     Status{Name: "cat", NoNewPrivs: true, SeccompMode: SeccompFilter, SeccompFilters: 3, SpeculationStoreBypass: "thread force mitigated", SpeculationIndirectBranch: "always enabled", Threads: 1},
			confined: true,
		},
		{
			name: "strict mode",
			file: "status/strict.txt",
			want: Status{Name: "cat", SeccompMode: SeccompStrict, SeccompFilters: 0, SpeculationStoreBypass: "thread mitigated", SpeculationIndirectBranch: "always enabled", Threads: 1},
		},
		{
			name: "kernel 4.x: no Seccomp_filters",
			file: "status/kernel4.txt",
			want: Status{Name: "cat", SeccompMode: SeccompDisabled, SeccompFilters: -1, SpeculationStoreBypass: "thread vulnerable", Threads: 1},
		},
		{
			name: "kernel without CONFIG_SECCOMP",
			file: "status/noseccomp.txt",
			want: Status{Name: "cat", SeccompMode: SeccompUnknown, SeccompFilters: -1, SpeculationIndirectBranch: "always enabled", Threads: 1},
		},
		{
			name: "PostgreSQL checkpointer, unconfined (real)",
			file: "proc/4547/status",
			want: Status{Name: "postgres", PID: 4547, PPID: 4546, SeccompMode: SeccompDisabled, SeccompFilters: 0, SpeculationStoreBypass: "vulnerable", SpeculationIndirectBranch: "always enabled", Threads: 1},
		},
		{
			name:     "PostgreSQL walsender under global and session filters",
			file:     "proc/5757/status",
			want:     Status{Name: "postgres", PID: 5757, PPID: 5735, NoNewPrivs: true, SeccompMode: SeccompFilter, SeccompFilters: 2, SpeculationStoreBypass: "thread force mitigated", SpeculationIndirectBranch: "always enabled", Threads: 1},
			confined: true,
		},
		{
			name: "filter mode without no_new_privs (the talk's After (1))",
			data: "NoNewPrivs:      0\nSeccomp:                2\nSpeculation_Store_Bypass:      thread force mitigated\n",
			want: Status{SeccompMode: SeccompFilter, SeccompFilters: -1, SpeculationStoreBypass: "thread force mitigated"},
		},
		{
			name: "empty",
			data: "",
			want: Status{SeccompMode: SeccompUnknown, SeccompFilters: -1},
		},
		{
			name: "no trailing newline, CRLF-free garbage lines ignored",
			data: "garbage\n\n:\nSeccomp:\t2\nNoNewPrivs:\t1",
			want: Status{SeccompMode: SeccompFilter, SeccompFilters: -1, NoNewPrivs: true},
			// Confined: mode 2 and no_new_privs.
			confined: true,
		},
		{
			name: "zombie",
			data: "Name:\tpostgres\nState:\tZ (zombie)\nPid:\t99\nSeccomp:\t2\n",
			want: Status{Name: "postgres", State: "Z (zombie)", PID: 99, SeccompMode: SeccompFilter, SeccompFilters: -1},
		},
		{name: "bad Seccomp", data: "Seccomp:\tfilter\n", wantErr: `Seccomp: "filter"`},
		{name: "negative filters", data: "Seccomp_filters:\t-1\n", wantErr: "Seccomp_filters"},
		{name: "NoNewPrivs out of range", data: "NoNewPrivs:\t2\n", wantErr: "NoNewPrivs"},
		{name: "bad Pid", data: "Pid:\t\n", wantErr: "Pid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.data)
			if tt.file != "" {
				var err error
				if data, err = os.ReadFile(filepath.Join("testdata", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ParseStatus(data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStatus() error = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStatus(): %v", err)
			}
			if tt.file != "" && tt.want.PID == 0 {
				// The self fixtures' PIDs and states are incidental.
				got.PID, got.PPID = 0, 0
			}
			if tt.file != "" {
				got.State = ""
			}
			if got != tt.want {
				t.Errorf("ParseStatus() =\n %+v\nwant\n %+v", got, tt.want)
			}
			if got.Confined() != tt.confined {
				t.Errorf("Confined() = %v, want %v", got.Confined(), tt.confined)
			}
		})
	}
}

func TestStatusZombie(t *testing.T) {
	if !(Status{State: "Z (zombie)"}).Zombie() || (Status{State: "S (sleeping)"}).Zombie() {
		t.Error("Zombie() does not follow State")
	}
}

func TestSeccompModeName(t *testing.T) {
	for mode, want := range map[int]string{-1: "?", 0: "0 disabled", 1: "1 strict", 2: "2 filter", 3: "3 unknown"} {
		if got := SeccompModeName(mode); got != want {
			t.Errorf("SeccompModeName(%d) = %q, want %q", mode, got, want)
		}
	}
}

func TestLessConfined(t *testing.T) {
	confined := Status{SeccompMode: 2, NoNewPrivs: true, SeccompFilters: 2}
	tests := []struct {
		a, b Status
		want bool
	}{
		{Status{SeccompMode: 0}, confined, true},
		{Status{SeccompMode: 2, NoNewPrivs: false, SeccompFilters: 2}, confined, true},
		{Status{SeccompMode: 2, NoNewPrivs: true, SeccompFilters: 1}, confined, true},
		{confined, confined, false},
		{confined, Status{SeccompMode: 0}, false},
		{Status{SeccompMode: 1}, Status{SeccompMode: 2}, true},
	}
	for _, tt := range tests {
		if got := lessConfined(tt.a, tt.b); got != tt.want {
			t.Errorf("lessConfined(%+v, %+v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    Stat
		wantErr bool
	}{
		{name: "postgres", data: "5758 (postgres) S 5735 5758 5758 0 -1 4194368 492 0 0 0", want: Stat{PID: 5758, Comm: "postgres", State: 'S', PPID: 5735}},
		{name: "kernel thread", data: "2 (kthreadd) S 0 0 0 0 -1", want: Stat{PID: 2, Comm: "kthreadd", State: 'S', PPID: 0}},
		{name: "comm with spaces and parens", data: "77 (a) b (c)) R 1 77 77", want: Stat{PID: 77, Comm: "a) b (c)", State: 'R', PPID: 1}},
		{name: "empty comm", data: "8 () Z 7 8", want: Stat{PID: 8, Comm: "", State: 'Z', PPID: 7}},
		{name: "no parens", data: "8 postgres S 7", wantErr: true},
		{name: "no ppid", data: "8 (postgres) S", wantErr: true},
		{name: "bad pid", data: "x (postgres) S 1", wantErr: true},
		{name: "bad ppid", data: "8 (postgres) S -3", wantErr: true},
		{name: "empty", data: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseStat(%q) error = %v, wantErr %v", tt.data, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseStat(%q) = %+v, want %+v", tt.data, got, tt.want)
			}
		})
	}
	// Every real stat fixture parses and agrees with its directory name.
	dirs, _ := filepath.Glob("testdata/proc/*/stat")
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := ParseStat(data)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if dir := filepath.Base(filepath.Dir(path)); strconv.Itoa(st.PID) != dir {
			t.Errorf("%s: PID %d, want %s", path, st.PID, dir)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, glob := range []string{"testdata/status/*.txt", "testdata/proc/*/status"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("Seccomp:\t2\nSeccomp_filters:\t1\nNoNewPrivs:\t1\n"))
	f.Add([]byte("Seccomp:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStatus(data)
		if err != nil {
			if s != (Status{}) {
				t.Errorf("ParseStatus returned %+v with error %v", s, err)
			}
			return
		}
		if s.SeccompMode < SeccompUnknown || s.SeccompFilters < -1 || s.PID < 0 || s.PPID < 0 || s.Threads < 0 {
			t.Errorf("ParseStatus(%q) = %+v: negative field", data, s)
		}
		if s.Confined() && (s.SeccompMode != SeccompFilter || !s.NoNewPrivs) {
			t.Errorf("Confined() for %+v", s)
		}
		if SeccompModeName(s.SeccompMode) == "" {
			t.Errorf("SeccompModeName(%d) is empty", s.SeccompMode)
		}
		if strings.ContainsAny(s.Name+s.SpeculationStoreBypass, "\n") {
			t.Errorf("field spans lines: %+v", s)
		}
	})
}
