package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLine is the longest line the Scanner reads whole. Audit records are
// far shorter (the kernel cuts its log lines near 1 KiB); the rest of a
// longer line is skipped, and the line is parsed from its first maxLine
// bytes.
const maxLine = 1 << 20

// readSize is how much the Scanner asks its reader for at a time.
const readSize = 1 << 20

// MaxExamples is how many malformed lines [Stats] keeps as examples.
const MaxExamples = 5

// Stats counts what a [Scanner] or [Summary.Tally] has read.
type Stats struct {
	Lines     int64 // lines read
	Records   int64 // complete seccomp records from sources users cannot write
	Unrelated int64 // lines without a seccomp record
	Malformed int64 // seccomp records cut short or with a field that does not parse
	// Examples are the first MaxExamples malformed lines.
	Examples []LineError
	// Formats counts the complete records per Format.
	Formats [numFormats]int64
	// Untrusted counts the lines with a seccomp record, complete or not,
	// from a source that users can write (see [Format.Trusted]): a forged
	// record looks like a real one there. They are in neither Records nor
	// Malformed, and only a [Filter] with Untrusted set selects them.
	Untrusted int64
	// UntrustedFormats counts them per Format; UntrustedExamples are the
	// first MaxExamples of them.
	UntrustedFormats  [numFormats]int64
	UntrustedExamples []LineError
}

// untrustedError describes a line with a record from a source users can
// write, for [Stats.UntrustedExamples].
func untrustedError(r *Record, line []byte) error {
	where := r.Format.String()
	if r.Transport != "" {
		where += " _TRANSPORT=" + r.Transport
	}
	const max = 160
	text := string(trimEOL(line))
	if len(text) > max {
		text = text[:max] + "..."
	}
	return fmt.Errorf("record in a line anybody can write (%s): %q", where, text)
}

// Add adds the counts of o to s, keeping at most MaxExamples examples.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Records += o.Records
	s.Unrelated += o.Unrelated
	s.Malformed += o.Malformed
	s.Untrusted += o.Untrusted
	s.Examples = appendExamples(s.Examples, o.Examples)
	s.UntrustedExamples = appendExamples(s.UntrustedExamples, o.UntrustedExamples)
	for i := range s.Formats {
		s.Formats[i] += o.Formats[i]
		s.UntrustedFormats[i] += o.UntrustedFormats[i]
	}
}

// appendExamples appends examples to list, keeping at most MaxExamples.
func appendExamples(list, examples []LineError) []LineError {
	for _, e := range examples {
		if len(list) < MaxExamples {
			list = append(list, e)
		}
	}
	return list
}

// LineError is a malformed record and where it is.
type LineError struct {
	Name string // the input's name, as given to NewScanner
	Line int64  // 1-based line number
	Err  error
}

func (e LineError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
}

func (e LineError) Unwrap() error { return e.Err }

// Scanner reads seccomp records from a log, one line at a time, in memory
// that does not grow with the input. Lines without a record, malformed
// records and records from sources users can write are counted (see
// [Scanner.Stats]), never fatal, and never returned.
type Scanner struct {
	r     io.Reader
	name  string
	buf   []byte
	start int // unread data is buf[start:end]
	end   int
	eof   bool
	err   error
	line  int64
	long  []byte // the head of an overlong line
	rec   Record
	stats Stats
}

// NewScanner returns a Scanner reading r; name (a file name, or "" for
// none) labels its malformed-line examples.
func NewScanner(r io.Reader, name string) *Scanner {
	return &Scanner{r: r, name: name, buf: make([]byte, readSize+maxLine)}
}

// Scan advances to the next complete seccomp record and reports whether
// there is one; false at the end of the input or on a read error (see
// [Scanner.Err]).
func (s *Scanner) Scan() bool {
	for {
		line, ok := s.nextLine()
		if !ok {
			return false
		}
		s.line++
		found, err := ParseLine(line, &s.rec)
		switch {
		case !found:
			s.stats.Unrelated++
		case !s.rec.Trusted:
			s.stats.Untrusted++
			s.stats.UntrustedFormats[s.rec.Format]++
			if len(s.stats.UntrustedExamples) < MaxExamples {
				s.stats.UntrustedExamples = append(s.stats.UntrustedExamples, LineError{s.name, s.line, untrustedError(&s.rec, line)})
			}
		case err != nil:
			s.stats.Malformed++
			if len(s.stats.Examples) < MaxExamples {
				s.stats.Examples = append(s.stats.Examples, LineError{s.name, s.line, err})
			}
		default:
			s.stats.Records++
			s.stats.Formats[s.rec.Format]++
			return true
		}
	}
}

// Record returns the record Scan found. It and its byte slices are valid
// until the next call to Scan.
func (s *Scanner) Record() *Record { return &s.rec }

// Line returns the 1-based line number of the record Scan found.
func (s *Scanner) Line() int64 { return s.line }

// Stats returns the counts so far; Lines is complete once Scan has
// returned false.
func (s *Scanner) Stats() Stats {
	st := s.stats
	st.Lines = s.line
	st.Examples = append([]LineError(nil), s.stats.Examples...)
	st.UntrustedExamples = append([]LineError(nil), s.stats.UntrustedExamples...)
	return st
}

// Err returns the read error that stopped Scan, or nil at the end of the
// input.
func (s *Scanner) Err() error { return s.err }

// nextLine returns the next line without its newline. A line longer than
// maxLine is returned cut to maxLine bytes, and its rest is skipped.
func (s *Scanner) nextLine() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], '\n'); i >= 0 {
			line := s.buf[s.start : s.start+i]
			s.start += i + 1
			return line, true
		}
		if s.eof || s.err != nil {
			if s.start < s.end {
				line := s.buf[s.start:s.end]
				s.start = s.end
				return line, true
			}
			return nil, false
		}
		if s.end-s.start >= maxLine {
			s.long = append(s.long[:0], s.buf[s.start:s.start+maxLine]...)
			s.skipRest()
			return s.long, true
		}
		s.fill()
	}
}

// fill moves the unread data to the front of the buffer and reads more.
func (s *Scanner) fill() {
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[s.end:min(len(s.buf), s.end+readSize)])
		s.end += n
		if errors.Is(err, io.EOF) {
			s.eof = true
			return
		}
		if err != nil {
			s.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	s.err = io.ErrNoProgress
}

// skipRest drops the unread data up to and including the next newline.
func (s *Scanner) skipRest() {
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], '\n'); i >= 0 {
			s.start += i + 1
			return
		}
		s.start = s.end
		if s.eof || s.err != nil {
			return
		}
		s.fill()
	}
}
