package extension

import (
	"regexp"
	"strings"
	"testing"
)

// foldWarning matches the WARNING about one folded name in session_roles.
var foldWarning = regexp.MustCompile(`WARNING:  role name "([^"]*)" in pgseccomp\.session_roles folds to "([^"]*)"`)

// foldWarnings returns "written->folded" for each fold warning in log.
func foldWarnings(log string) []string {
	var got []string
	for _, m := range foldWarning.FindAllStringSubmatch(log, -1) {
		got = append(got, m[1]+"->"+m[2])
	}
	return got
}

// TestFoldedRoleNamesWarned: an unquoted name in pgseccomp.session_roles
// that is not all lower case folds, as SQL identifiers and setting names
// do; the server warns at start and at each reload, naming the name as
// written and what it became. Lower-case and double-quoted names are not
// warned about.
func TestFoldedRoleNamesWarned(t *testing.T) {
	long := strings.Repeat("r", 70)
	c := newCluster(t, map[string]string{"pgseccomp.session_roles": `Joe, ann, "Bob"`})
	if got, want := strings.Join(foldWarnings(c.LogTail(200)), " "), "Joe->joe"; got != want {
		t.Errorf("at start the server warned about %q, want %q:\n%s", got, want, c.LogTail(200))
	}

	logged := reload(t, c, map[string]string{"pgseccomp.session_roles": `"Bob",ALICE, ` + long})
	if got, want := strings.Join(foldWarnings(logged), " "), "ALICE->alice "+long+"->"+long[:63]; got != want {
		t.Errorf("at reload the server warned about %q, want %q:\n%s", got, want, logged)
	}
	if !strings.Contains(logged, `HINT:  Write "alice" if that role is meant, or double-quote the name`) {
		t.Errorf("the warning has no hint:\n%s", logged)
	}
}
