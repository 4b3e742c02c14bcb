package extension

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// regressSettings is the configuration extension/sql/*.sql expects.
var regressSettings = map[string]string{
	"pgseccomp.global_syscall_log":                "acct",
	"pgseccomp.global_syscall_error":              "kexec_load",
	"pgseccomp.global_syscall_kill":               "reboot",
	"pgseccomp.session_syscall_error":             "swapon,chroot",
	"pgseccomp.session_syscall_log":               "swapoff",
	"pgseccomp.session_roles":                     "regress_pgseccomp_joe",
	"session_syscall_error.regress_pgseccomp_joe": "swapon",
}

// TestRegress runs the extension's pg_regress suite (extension/sql and
// extension/expected) against a server started with regressSettings.
func TestRegress(t *testing.T) {
	c := newCluster(t, regressSettings)

	extDir, err := filepath.Abs("../../extension")
	if err != nil {
		t.Fatal(err)
	}
	pgConfig := os.Getenv("PG_CONFIG")
	if pgConfig == "" {
		pgConfig = "pg_config"
	}
	cmd := exec.Command("make", "-C", extDir, "installcheck",
		"PG_CONFIG="+pgConfig,
		"EXTRA_REGRESS_OPTS=--host="+c.SocketDir+" --port="+strconv.Itoa(c.Port)+" --user="+c.OSUser)
	cmd.Env = c.Env()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		diffs, _ := os.ReadFile(filepath.Join(extDir, "regression.diffs"))
		t.Fatalf("pg_regress failed: %v\n%s", err, diffs)
	}
}
