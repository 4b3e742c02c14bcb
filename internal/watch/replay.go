package watch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/audit"
	"github.com/pgseccomp/pgseccomp/internal/serverlog"
)

// Replay reads past records (auditd's log, the journal, any format
// internal/audit reads) written at or after since, and writes the events
// the live watch would have written, attributed with the server log as
// far as it goes back: a record is the cluster's when the server log
// names its pid (or, when the postmaster runs in an audit session of its
// own, by its ses=). Both are read in time order, so memory stays
// bounded.
func (w *Watcher) Replay(ctx context.Context, records io.Reader, name string, since time.Time) error {
	w.replaying = true
	w.members.Poll(time.Now()) // the postmaster's own audit session, if any
	_, session := w.members.Postmaster()
	logs, err := w.replayLogs()
	if err != nil {
		w.note(Note{Note: "server_log", Text: fmt.Sprintf("%v: records are placed by audit session only", err)})
	}
	sc := audit.NewScanner(records, name)
	filter := audit.Filter{Since: since}
	var start time.Time
	flushTo := func(end time.Time) {
		logs.advance(end.Add(w.cfg.Hold+2*time.Second), w.sessions.Add)
		w.flush(w.rotate(end))
	}
	for sc.Scan() {
		if ctx.Err() != nil {
			break
		}
		rec := sc.Record()
		if !filter.Match(rec) {
			continue
		}
		if start.IsZero() {
			start = rec.Time
		}
		if rec.Time.Sub(start) >= w.cfg.Interval {
			flushTo(rec.Time)
			start = rec.Time
		}
		logs.advance(rec.Time.Add(2*time.Second), w.sessions.Add)
		placement := Undecided
		if session != audit.Unset && rec.Session == session {
			placement = Ours
		}
		w.count(rec, placement, Member{PID: rec.PID}, rec.Time)
	}
	flushTo(time.Now())
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	st := sc.Stats()
	if st.Malformed > 0 {
		w.note(Note{Note: "malformed", Count: uint64(st.Malformed), Text: fmt.Sprintf("%d malformed seccomp records in %s (first: %v)", st.Malformed, name, st.Examples[0])})
	}
	if st.Untrusted > 0 {
		w.note(Note{Note: "untrusted", Count: uint64(st.Untrusted), Text: fmt.Sprintf("%d records in %s left out: they are in lines anybody can write (syslog, the journal's text, a program's log), so they may be forged; replay auditd's log, the kernel log or the journal as JSON (journalctl -o json) (first: %v)", st.Untrusted, name, st.UntrustedExamples[0])})
	}
	return nil
}

// replayLogs opens the server's log files, oldest first: --server-log
// alone, else every file of the current log's format in its directory.
func (w *Watcher) replayLogs() (*logReader, error) {
	t := &tail{src: w.cfg.Log, dataDir: w.cfg.DataDir}
	path, format, err := t.current()
	if err != nil {
		return &logReader{}, err
	}
	files := []string{path}
	if w.cfg.Log.Path == "" {
		ext := filepath.Ext(path)
		all, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*"+ext))
		files = files[:0]
		for _, f := range all {
			if strings.HasSuffix(f, ext) && serverlog.FormatOf(f) == format {
				files = append(files, f)
			}
		}
		sort.Slice(files, func(i, j int) bool { return modTime(files[i]).Before(modTime(files[j])) })
	}
	var prefix *serverlog.Prefix
	if format == serverlog.Stderr {
		if prefix, err = serverlog.CompilePrefix(w.cfg.Log.Prefix); err != nil {
			return &logReader{}, err
		}
	}
	stream, err := serverlog.NewStream(format, prefix)
	if err != nil {
		return &logReader{}, err
	}
	return &logReader{files: files, stream: stream}, nil
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// logReader reads log files in order, entry by entry, up to a time.
type logReader struct {
	files  []string
	file   *os.File
	stream *serverlog.Stream
	queue  []serverlog.Entry
	buf    []byte
}

// advance gives emit every entry written up to until.
func (l *logReader) advance(until time.Time, emit func(serverlog.Entry)) {
	if l.stream == nil {
		return
	}
	for {
		for len(l.queue) > 0 {
			if e := l.queue[0]; !e.Time.IsZero() && e.Time.After(until) {
				return
			}
			emit(l.queue[0])
			l.queue = l.queue[1:]
		}
		if !l.fill() {
			return
		}
	}
}

// fill reads the next chunk of the logs into the queue; false at the end.
func (l *logReader) fill() bool {
	add := func(e serverlog.Entry) { l.queue = append(l.queue, e) }
	for {
		if l.file == nil {
			if len(l.files) == 0 {
				l.stream.Flush(add)
				return len(l.queue) > 0
			}
			f, err := os.Open(l.files[0])
			l.files = l.files[1:]
			if err != nil {
				continue
			}
			l.file = f
		}
		if l.buf == nil {
			l.buf = make([]byte, 1<<16)
		}
		n, err := l.file.Read(l.buf)
		if n > 0 {
			l.stream.Write(l.buf[:n], add)
		}
		if err != nil || n == 0 {
			l.file.Close()
			l.file = nil
			l.stream.Flush(add)
		}
		if len(l.queue) > 0 {
			return true
		}
	}
}
