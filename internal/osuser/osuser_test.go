package osuser

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the cases switch users: run as root (make test does)")
	}
	for _, tt := range []struct {
		name, want, wantErr string
	}{
		{"", "postgres", ""},
		{"postgres", "postgres", ""},
		{"root", "", `OS user "root": it has uid 0`},
		{"no-such-user-pgseccomp", "", `look up OS user "no-such-user-pgseccomp" to run it as`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Lookup(tt.name, "run it as", "set --os-user")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Lookup(%q) = %+v, %v; want an error with %q", tt.name, a, err, tt.wantErr)
				}
				return
			}
			if err != nil || a.Name != tt.want || !a.Switch || a.UID == 0 {
				t.Fatalf("Lookup(%q) = %+v, %v; want %s, switching", tt.name, a, err, tt.want)
			}
		})
	}
}

// TestTraverseAndRunAs: a directory the account cannot search is named with
// the remedy; a command run as the account reports the account's uid.
func TestTraverseAndRunAs(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switches users: run as root (make test does)")
	}
	a, err := Lookup("", "run it as", "set --os-user")
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("", "osuser-test-") // t.TempDir's parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	closed := filepath.Join(base, "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(closed, "inside")
	if err := a.MkdirOwned(inside); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckTraverse(inside, "choose another"); err == nil || !strings.Contains(err.Error(), closed+" is mode") || !strings.Contains(err.Error(), "choose another") {
		t.Fatalf("CheckTraverse(%s) = %v, want it to name %s and the remedy", inside, err, closed)
	}
	if err := os.Chmod(closed, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckTraverse(inside, "choose another"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("id", "-u")
	cmd.Dir = inside
	a.RunAs(cmd, inside)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.FormatUint(uint64(a.UID), 10) {
		t.Fatalf("id -u as %s = %s, want %d", a.Name, got, a.UID)
	}
}
