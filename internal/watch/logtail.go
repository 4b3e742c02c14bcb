package watch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/serverlog"
)

// backlogBytes is how much of the log's current file is read at start, to
// learn the sessions that began before the watch.
const backlogBytes = 16 << 20

// LogSource says where the server log is.
type LogSource struct {
	// Path is the log file; "" follows DATADIR/current_logfiles (the
	// logging collector's jsonlog, else csvlog, else stderr file).
	Path string
	// Prefix is the server's log_line_prefix, needed for a stderr log.
	Prefix string
	// Fallback is the stderr log to read when there is no
	// current_logfiles (the logging collector is off), e.g. Debian's
	// /var/log/postgresql/postgresql-15-main.log; "" for none.
	Fallback string
}

// tail follows the server log across rotations.
type tail struct {
	src     LogSource
	dataDir string

	path   string
	file   *os.File
	stream *serverlog.Stream
	buf    []byte
}

// current returns the file to read and its format.
func (t *tail) current() (string, serverlog.Format, error) {
	if t.src.Path != "" {
		return t.src.Path, serverlog.FormatOf(t.src.Path), nil
	}
	f, err := os.Open(filepath.Join(t.dataDir, "current_logfiles"))
	if err != nil && t.src.Fallback != "" {
		if _, serr := os.Stat(t.src.Fallback); serr == nil {
			return t.src.Fallback, serverlog.Stderr, nil
		}
	}
	if err != nil {
		return "", 0, fmt.Errorf("find the server log: %w (the logging collector is off? give the log file with --server-log)", err)
	}
	defer f.Close()
	files := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kind, path, ok := strings.Cut(sc.Text(), " "); ok {
			if !filepath.IsAbs(path) {
				path = filepath.Join(t.dataDir, path)
			}
			files[kind] = path
		}
	}
	for _, kind := range []string{"jsonlog", "csvlog", "stderr"} {
		if p, ok := files[kind]; ok {
			return p, serverlog.FormatOf(p), nil
		}
	}
	return "", 0, errors.New("find the server log: current_logfiles names no log file")
}

// read feeds what was appended to the log since the last call to emit;
// it switches to the new file after a rotation. The first file is read
// from backlogBytes before its end.
func (t *tail) read(emit func(serverlog.Entry)) error {
	path, format, err := t.current()
	if err != nil {
		return err
	}
	if path != t.path || t.file == nil {
		first := t.path == ""
		if t.file != nil {
			t.drain(emit) // the rest of the old file
			t.stream.Flush(emit)
			t.file.Close()
			t.file = nil
		}
		var prefix *serverlog.Prefix
		if format == serverlog.Stderr {
			if prefix, err = serverlog.CompilePrefix(t.src.Prefix); err != nil {
				return err
			}
		}
		if t.stream, err = serverlog.NewStream(format, prefix); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("read the server log: %w", err)
		}
		t.file, t.path = f, path
		if first {
			if fi, err := f.Stat(); err == nil && fi.Size() > backlogBytes {
				f.Seek(fi.Size()-backlogBytes, io.SeekStart)
				t.skipPartial()
			}
		}
	}
	if t.drain(emit) == 0 {
		t.stream.Flush(emit)
	}
	return nil
}

// skipPartial skips to the start of the next line after a seek.
func (t *tail) skipPartial() {
	one := make([]byte, 1)
	for {
		if n, err := t.file.Read(one); n == 0 || err != nil || one[0] == '\n' {
			return
		}
	}
}

// drain reads to the end of the file and returns how many bytes it read.
func (t *tail) drain(emit func(serverlog.Entry)) int {
	if t.buf == nil {
		t.buf = make([]byte, 1<<16)
	}
	total := 0
	for {
		n, err := t.file.Read(t.buf)
		if n > 0 {
			t.stream.Write(t.buf[:n], emit)
			total += n
		}
		if err != nil || n == 0 {
			return total
		}
	}
}

func (t *tail) close() {
	if t.file != nil {
		t.file.Close()
	}
}
