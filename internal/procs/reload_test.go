package procs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const appliedState = `# pgseccomp: the session plan in force and the last rejected reload
pid=4242
generation=3
plan_since=1796536134.158000
rejected_at=0.000000
rejected_setting=
rejected_detail=
`

const rejectedState = `pid=4242
generation=3
plan_since=1796536134.158000
rejected_at=1796536200.500000
rejected_setting=pgseccomp.session_syscall_error
rejected_detail=Unknown syscall "getpriorty".
future_key=ignored
`

func TestParseReloadState(t *testing.T) {
	since := time.Unix(1796536134, 158000000).UTC()
	tests := []struct {
		name    string
		in      string
		want    ReloadState
		wantErr string
	}{
		{"applied", appliedState, ReloadState{PID: 4242, Generation: 3, PlanSince: since}, ""},
		{"rejected", rejectedState, ReloadState{PID: 4242, Generation: 3, PlanSince: since,
			RejectedAt: time.Unix(1796536200, 500000000).UTC(), RejectedSetting: "pgseccomp.session_syscall_error",
			RejectedDetail: `Unknown syscall "getpriorty".`}, ""},
		{"missing generation", "pid=1\nplan_since=1\n", ReloadState{}, "no generation= line"},
		{"not key=value", "pid=1\ngarbage\n", ReloadState{}, `line 2: "garbage" is not key=value`},
		{"bad pid", "pid=-3\n", ReloadState{}, `line 1: pid="-3": not a process ID`},
		{"bad time", "pid=1\ngeneration=1\nplan_since=yesterday\n", ReloadState{}, `line 3: plan_since="yesterday": not a number of seconds`},
		{"empty", "", ReloadState{}, "no pid= line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReloadState([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if got.Rejected() != (tt.want.RejectedDetail != "") {
				t.Errorf("Rejected() = %v", got.Rejected())
			}
		})
	}
}

func TestReadReloadState(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadReloadState(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no file: error %v, want fs.ErrNotExist", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "pg_stat_tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ReloadStateFile)
	if err := os.WriteFile(path, []byte(strings.Repeat("#", maxReloadStateSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadReloadState(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: error %v", err)
	}
	if err := os.WriteFile(path, []byte(rejectedState), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadReloadState(dir); err != nil || !s.Rejected() {
		t.Errorf("got %+v, %v; want a rejected reload", s, err)
	}
}

func FuzzParseReloadState(f *testing.F) {
	f.Add([]byte(appliedState))
	f.Add([]byte(rejectedState))
	f.Add([]byte("pid=1\ngeneration=18446744073709551615\nplan_since=1e300\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseReloadState(data)
		if err != nil {
			return
		}
		if s.PID <= 0 {
			t.Errorf("accepted pid %d", s.PID)
		}
		if !s.RejectedAt.IsZero() && s.RejectedAt.Unix() < 0 {
			t.Errorf("accepted a negative time %v", s.RejectedAt)
		}
	})
}
