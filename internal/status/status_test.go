package status

import (
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/procs"
)

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"evil\nrole\t", "evil?role?"},
		{"", "-"},
		{"joe", "joe"},
	}
	for _, tt := range tests {
		if got := cell(tt.in); got != tt.want {
			t.Errorf("cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClusterLabel(t *testing.T) {
	tests := []struct {
		c    procs.ServerProcesses
		want string
	}{
		{procs.ServerProcesses{PostmasterPID: 42, DataDir: "/srv/pg", Name: "main\n"}, "cluster /srv/pg (postmaster 42, cluster_name main?)"},
		{procs.ServerProcesses{PostmasterPID: 42}, "cluster (data directory unknown) (postmaster 42)"},
	}
	for _, tt := range tests {
		if got := ClusterLabel(tt.c); got != tt.want {
			t.Errorf("ClusterLabel(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}
