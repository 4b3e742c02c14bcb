package pgconf_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// tricky is a configuration file of real-world and corner-case lines.
const tricky = "# corner cases of guc-file.l\n" +
	"t.plain = 5432\n" +
	"t.noeq 'x y'\n" +
	"t.eq='a''b'\n" +
	"T.Case = on\n" +
	`t.esc = 'tab\there\\back\101\'q\0after'` + "\n" +
	"t.real = 1.5e3\n" +
	"t.hex = 0x1F\n" +
	"t.unit = 128MB\n" +
	"t.neg = -1\n" +
	"t.dot = .\n" +
	"t.unquoted = posix-v2.x:y/z\n" +
	"t.hash = 'a # b' # comment\n" +
	"t.empty = ''\n" +
	"\tt.indented\t=\t'tabs'   \n" +
	"t.crlf = 1\r\n" +
	"\n" +
	"include 'sub/inc.conf'\n" +
	"include_dir 'dir'\n" +
	"include_if_exists 'missing.conf'\n" +
	"t.plain = 'again'\n" +
	"t.last = 'no newline at the end'"

// TestMatchesPostgreSQL reads configuration files with Load and with
// PostgreSQL itself (the pg_file_settings view parses the files anew on
// every query): every setting line, its value, file and line must agree.
func TestMatchesPostgreSQL(t *testing.T) {
	c := clustertest.New(t, cluster.Options{})
	ctx := context.Background()
	conn, err := c.Connect(ctx, "", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	dir := filepath.Join(c.DataDir, "pgconf-test")
	pgconf.WriteTestFile(t, dir, "tricky.conf", tricky)
	pgconf.WriteTestFile(t, dir, "sub/inc.conf", "t.inc = 'relative to sub/'\n")
	pgconf.WriteTestFile(t, dir, "dir/b.conf", "t.dir = b\n")
	pgconf.WriteTestFile(t, dir, "dir/B.conf", "t.dir = 'B (read first: byte order)'\n")
	pgconf.WriteTestFile(t, dir, "dir/.hidden.conf", "t.hidden = 1\n")
	pgconf.WriteTestFile(t, dir, "dir/x.conf.bak", "t.bak = 1\n")
	if err := c.SetSettings(map[string]string{"include": cluster.QuoteValue(filepath.Join(dir, "tricky.conf"))}); err != nil {
		t.Fatal(err)
	}
	if err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return c.Chown(path)
	}); err != nil {
		t.Fatal(err)
	}

	f, err := pgconf.Load(filepath.Join(c.DataDir, "postgresql.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, s := range f.Lines {
		ours = append(ours, fmt.Sprintf("%s:%d %s = %q", s.File, s.Line, s.Name, s.Value))
	}
	joined := strings.Join(ours, "\n")
	for _, want := range []string{`t.esc = "tab\there\\backA'q"`, `t.dir = "B (read first: byte order)"`, `t.last = "no newline at the end"`, `t.inc = "relative to sub/"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("Load did not read %s:\n%s", want, joined)
		}
	}
	theirs := fileSettings(t, conn)
	if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Errorf("Load read:\n%s\n\nPostgreSQL read:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
	}

	// A syntax error: PostgreSQL names the same file and line.
	pgconf.WriteTestFile(t, dir, "sub/inc.conf", "t.ok = 1\n\nt.bad = 'unterminated\n")
	_, err = pgconf.Load(filepath.Join(c.DataDir, "postgresql.conf"))
	want := filepath.Join(dir, "sub/inc.conf") + ":3: syntax error"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load: %v, want %q", err, want)
	}
	var file string
	var line int
	var msg string
	if err := conn.QueryRow(ctx, "SELECT sourcefile, sourceline, error FROM pg_file_settings WHERE error IS NOT NULL").Scan(&file, &line, &msg); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s:%d: %s", file, line, msg); !strings.HasPrefix(got, want) {
		t.Errorf("PostgreSQL says %q, want %q", got, want)
	}
}

func fileSettings(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(),
		"SELECT sourcefile, sourceline, name, setting, error FROM pg_file_settings ORDER BY seqno")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var file, name, setting, errMsg *string
		var line int
		if err := rows.Scan(&file, &line, &name, &setting, &errMsg); err != nil {
			t.Fatal(err)
		}
		if errMsg != nil && name == nil {
			t.Fatalf("PostgreSQL reports %s:%d: %s", deref(file), line, *errMsg)
		}
		out = append(out, fmt.Sprintf("%s:%d %s = %q", deref(file), line, deref(name), deref(setting)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}
