package extension

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// regressSettings reads extension/regress.conf, the configuration
// extension/sql/*.sql expects (the file make installcheck starts its
// temporary server with), as plain values.
func regressSettings(t *testing.T) map[string]string {
	t.Helper()
	const path = "../../extension/regress.conf"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, errs := pgconf.Parse(data, path)
	if errs != nil {
		t.Fatal(errs)
	}
	settings := map[string]string{}
	for _, e := range entries {
		settings[e.Name] = e.Value
	}
	return settings
}

// TestRegress runs the extension's pg_regress suite (extension/sql and
// extension/expected) against a server started with regressSettings.
func TestRegress(t *testing.T) {
	c := newCluster(t, regressSettings(t))

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
		"REGRESS_SERVER=--host="+c.SocketDir+" --port="+strconv.Itoa(c.Port)+" --user="+c.OSUser)
	cmd.Env = c.Env()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		diffs, _ := os.ReadFile(filepath.Join(extDir, "regression.diffs"))
		t.Fatalf("pg_regress failed: %v\n%s", err, diffs)
	}
}
