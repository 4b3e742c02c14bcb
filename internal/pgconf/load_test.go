package pgconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadDebianLayout reads a Debian-style configuration: the file in /etc
// with data_directory pointing at the data, include_dir conf.d, a missing
// include_if_exists, and postgresql.auto.conf read last.
func TestLoadDebianLayout(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/debian")); err != nil {
		t.Fatal(err)
	}
	// A directory whose name ends in .conf is skipped, not read.
	if err := os.Mkdir(filepath.Join(dir, "etc/conf.d/subdir.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Load(filepath.Join(dir, "etc/postgresql.conf"))
	if err != nil {
		t.Fatal(err)
	}
	etc := filepath.Join(dir, "etc")
	wantFiles := []string{
		filepath.Join(etc, "postgresql.conf"),
		filepath.Join(etc, "conf.d/10-pgseccomp.conf"),
		filepath.Join(etc, "conf.d/20-tuning.conf"),
		filepath.Join(dir, "data/postgresql.auto.conf"),
	}
	if strings.Join(f.Files, "\n") != strings.Join(wantFiles, "\n") {
		t.Errorf("files read:\n%s\nwant\n%s", strings.Join(f.Files, "\n"), strings.Join(wantFiles, "\n"))
	}
	if f.DataDir != filepath.Join(dir, "data") {
		t.Errorf("data directory %q", f.DataDir)
	}
	checks := []struct{ name, value, where string }{
		{"work_mem", "8MB", filepath.Join(dir, "data/postgresql.auto.conf") + ":3"},
		{"WORK_MEM", "8MB", filepath.Join(dir, "data/postgresql.auto.conf") + ":3"},
		{"shared_preload_libraries", "pg_stat_statements,pgseccomp", filepath.Join(etc, "conf.d/10-pgseccomp.conf") + ":2"},
		{"pgseccomp.session_syscall_error", "clone,clone3,fork", filepath.Join(etc, "conf.d/20-tuning.conf") + ":2"},
		{"session_syscall_error.joe", "", filepath.Join(etc, "conf.d/10-pgseccomp.conf") + ":7"},
		{"log_line_prefix", "%m [%p] %q%u@%d ", filepath.Join(etc, "postgresql.conf") + ":19"},
	}
	for _, c := range checks {
		s, ok := f.Lookup(c.name)
		if !ok || s.Value != c.value || s.Where() != c.where {
			t.Errorf("%s: got %q at %s (%v), want %q at %s", c.name, s.Value, s.Where(), ok, c.value, c.where)
		}
	}
	if over := f.Overridden("work_mem"); len(over) != 1 || over[0].Value != "4MB" {
		t.Errorf("overridden work_mem: %+v", over)
	}
	if v := f.Values(); v["work_mem"] != "8MB" || v["include_dir"] != "" || len(v) != 17 {
		t.Errorf("values: %d %q", len(v), v)
	}
	if len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "missing.conf") {
		t.Errorf("notes: %q", f.Notes)
	}
}

func TestLoadDataDirOption(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "postgresql.conf", "work_mem = 1MB\n")
	write(t, dir, "postgresql.auto.conf", "work_mem = 2MB\n")
	other := t.TempDir()
	write(t, other, "postgresql.auto.conf", "work_mem = 3MB\n")
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{}, "2MB"},
		{Options{DataDir: other}, "3MB"},
		{Options{NoAutoConf: true}, "1MB"},
	} {
		f, err := LoadOptions(filepath.Join(dir, "postgresql.conf"), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := f.Lookup("work_mem"); s.Value != tt.want {
			t.Errorf("%+v: work_mem = %q, want %q", tt.opts, s.Value, tt.want)
		}
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadIncludes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "sub/a.conf", "include 'b.conf'\nx = a\n") // relative to sub/, read before a's x
	write(t, dir, "sub/b.conf", "x = b\ny = b\n")
	write(t, dir, "abs.conf", "z = abs\n") // included by absolute path
	// include_dir reads in byte order of names ("B" < "a"), not the locale's.
	write(t, dir, "d/a.conf", "order = lower\nd = 1\n")
	write(t, dir, "d/B.conf", "order = upper\n")
	write(t, dir, "d/.a.conf", "order = hidden\n")
	write(t, dir, "d/c.conf.bak", "order = backup\n")
	main := write(t, dir, "postgresql.conf", fmt.Sprintf("include 'sub/a.conf'\nINCLUDE = '%s'\ninclude_dir 'd'\n", filepath.Join(dir, "abs.conf")))
	f, err := LoadOptions(main, Options{NoAutoConf: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"x": "a", "y": "b", "z": "abs", "order": "lower", "d": "1"} {
		if s, _ := f.Lookup(name); s.Value != want {
			t.Errorf("%s = %q, want %q", name, s.Value, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"missing include", map[string]string{"postgresql.conf": "a = 1\ninclude 'nope.conf'\n"},
			[]string{"postgresql.conf:2: could not open configuration file", "nope.conf", "no such file"}},
		{"empty include", map[string]string{"postgresql.conf": "include ''\n"},
			[]string{"postgresql.conf:1: empty configuration file name"}},
		{"empty include_dir", map[string]string{"postgresql.conf": "include_dir ' '\n"},
			[]string{"postgresql.conf:1: empty configuration directory name"}},
		{"missing include_dir", map[string]string{"postgresql.conf": "include_dir 'conf.d'\n"},
			[]string{"postgresql.conf:1: could not open configuration directory"}},
		{"self include", map[string]string{"postgresql.conf": "include 'postgresql.conf'\n"},
			[]string{"postgresql.conf:1: configuration file recursion"}},
		{"include loop", map[string]string{"postgresql.conf": "include 'a.conf'\n", "a.conf": "include 'postgresql.conf'\n"},
			[]string{"maximum nesting depth exceeded"}},
		{"syntax error in an included file", map[string]string{"postgresql.conf": "include 'a.conf'\n", "a.conf": "\n\nport =\n"},
			[]string{"a.conf:3: syntax error near end of line"}},
		{"syntax error in auto.conf", map[string]string{"postgresql.conf": "a = 1\n", "postgresql.auto.conf": "b = 'x\n"},
			[]string{"postgresql.auto.conf:1: syntax error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				write(t, dir, name, content)
			}
			_, err := Load(filepath.Join(dir, "postgresql.conf"))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestIncludeDepth: ten nested includes are read, eleven are too deep, as
// in PostgreSQL.
func TestIncludeDepth(t *testing.T) {
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{10, true}, {11, false}} {
		dir := t.TempDir()
		for i := 0; i < tt.depth; i++ {
			write(t, dir, fmt.Sprintf("%d.conf", i), fmt.Sprintf("include '%d.conf'\n", i+1))
		}
		write(t, dir, fmt.Sprintf("%d.conf", tt.depth), "deepest = yes\n")
		f, err := LoadOptions(filepath.Join(dir, "0.conf"), Options{NoAutoConf: true})
		if tt.ok {
			if s, _ := f.Lookup("deepest"); err != nil || s.Value != "yes" {
				t.Errorf("depth %d: %v", tt.depth, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "maximum nesting depth") {
			t.Errorf("depth %d: got %v", tt.depth, err)
		}
	}
}

func TestLoadMissingMain(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "postgresql.conf"))
	if err == nil || !strings.Contains(err.Error(), "could not open configuration file") {
		t.Errorf("got %v", err)
	}
	_, err = Load(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("got %v", err)
	}
}

// specialDir makes a directory with a named pipe that nobody writes, a
// link to /dev/zero and a file one byte over MaxFileSize (sparse).
func specialDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.conf"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.conf")); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(dir, "big.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	big.Close()
	return dir
}

// TestLoadNotRegular: what is not a regular file, or is larger than
// MaxFileSize, is refused with its name and what it is, never waited for
// (a pipe without a writer) nor read without end (/dev/zero).
func TestLoadNotRegular(t *testing.T) {
	dir := specialDir(t)
	for _, tt := range []struct {
		name, main, conf string // main: the file given to Load; conf: its content when main is postgresql.conf
		want             []string
	}{
		{"main file a named pipe", "fifo.conf", "", []string{"fifo.conf", "not a regular file (a named pipe)"}},
		{"main file /dev/zero", "zero.conf", "", []string{"zero.conf", "not a regular file (a character device)"}},
		{"include a named pipe", "postgresql.conf", "include 'fifo.conf'\n", []string{"postgresql.conf:1: could not read configuration file", "fifo.conf", "a named pipe"}},
		{"include_if_exists a named pipe", "postgresql.conf", "a = 1\ninclude_if_exists 'fifo.conf'\n", []string{"postgresql.conf:2:", "not a regular file (a named pipe)"}},
		{"include /dev/zero", "postgresql.conf", "include '/dev/zero'\n", []string{"could not read configuration file \"/dev/zero\": not a regular file (a character device)"}},
		{"include_if_exists /dev/zero", "postgresql.conf", "include_if_exists '/dev/zero'\n", []string{"\"/dev/zero\": not a regular file"}},
		{"include a file over the bound", "postgresql.conf", "include 'big.conf'\n", []string{"big.conf", "larger than 16 MiB"}},
		{"include_dir with a named pipe", "postgresql.conf", "include_dir 'd'\n", []string{"d/fifo.conf", "a named pipe"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			main := filepath.Join(dir, tt.main)
			if tt.conf != "" {
				sub := t.TempDir()
				for _, n := range []string{"fifo.conf", "zero.conf", "big.conf"} {
					if err := os.Symlink(filepath.Join(dir, n), filepath.Join(sub, n)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Mkdir(filepath.Join(sub, "d"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(dir, "fifo.conf"), filepath.Join(sub, "d", "fifo.conf")); err != nil {
					t.Fatal(err)
				}
				main = write(t, sub, "postgresql.conf", tt.conf)
			}
			_, err := LoadOptions(main, Options{NoAutoConf: true})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// FuzzLoad: any configuration text, next to a named pipe, /dev/zero and
// an oversized file it may include, is read or refused, never hangs.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"include 'fifo.conf'\n", "include_if_exists 'zero.conf'\n", "include '/dev/zero'\n",
		"include 'big.conf'\n", "include_dir '.'\n", "a = 1\ninclude 'postgresql.conf'\n", "include_dir '/dev'\n"} {
		f.Add(s)
	}
	dir := specialDir(f)
	f.Fuzz(func(t *testing.T, conf string) {
		if strings.Contains(conf, "/proc") || strings.Contains(conf, "/sys") {
			return // files the kernel makes up as it is read
		}
		sub := t.TempDir()
		for _, n := range []string{"fifo.conf", "zero.conf", "big.conf"} {
			if err := os.Symlink(filepath.Join(dir, n), filepath.Join(sub, n)); err != nil {
				t.Fatal(err)
			}
		}
		main := write(t, sub, "postgresql.conf", conf)
		file, err := LoadOptions(main, Options{NoAutoConf: true})
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || err.Error() == "" {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		if file != nil {
			for _, name := range file.Files {
				if fi, err := os.Stat(name); err != nil || !fi.Mode().IsRegular() || fi.Size() > MaxFileSize {
					t.Fatalf("read %s, which is not a regular file of at most MaxFileSize bytes", name)
				}
			}
		}
	})
}
