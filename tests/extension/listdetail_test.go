package extension

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// TestListDetailsMatchModel: for a bad word in a list the extension and the
// tool's model (policy.ParseList) give the same detail, word for word: the
// word, its position, and a "did you mean" from libseccomp's names, never
// the whole list. set_client_filter() shows the extension's detail.
func TestListDetailsMatchModel(t *testing.T) {
	arch, err := policy.NativeArch()
	if err != nil {
		t.Skip(err)
	}
	c := newCluster(t, nil)
	admin := connect(t, c, "")
	mustExec(t, admin, "CREATE EXTENSION pgseccomp")
	for _, value := range []string{
		"read,reed",
		"READ",
		"B",
		"clone,klone,frobnicate",
		"read,,write",
		",read",
		"swapoff,*",
		"mount umount2",
		"read," + strings.Repeat("x", 70),
		"getpriorty",
		"socketcall",
		longList,
	} {
		_, modelErr := policy.ParseList(value, true, arch)
		if modelErr == nil {
			t.Fatalf("the model accepts %q", value)
		}
		_, err := admin.Exec(context.Background(), "SELECT set_client_filter(NULL, $1, NULL, NULL, NULL)", value)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Fatalf("set_client_filter(%q): %v, want an error", value, err)
		}
		if pgErr.Detail != modelErr.Error() {
			t.Errorf("for %.40q the extension says\n\t%s\nthe model\n\t%s", value, pgErr.Detail, modelErr)
		}
		if len(value) > 40 && (strings.Contains(pgErr.Message, value) || strings.Contains(pgErr.Detail, value)) {
			t.Errorf("the error quotes the whole list: %s: %s", pgErr.Message, pgErr.Detail)
		}
		t.Logf("%.40q: %s", value, pgErr.Detail)
	}
}
