package audit

import (
	"bytes"
	"fmt"
	"io"
)

// maxLine is the longest line read whole, by the Scanner and by Tally
// alike. Audit records are far shorter (the kernel cuts its log lines near
// 1 KiB); a longer line is parsed from its first maxLine bytes, and the
// rest is skipped.
const maxLine = 1 << 20

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
	k     chunker
	c     chunk
	data  []byte // the unread lines of c
	name  string
	line  int64
	rec   Record
	stats Stats
}

// NewScanner returns a Scanner reading r; name (a file name, or "" for
// none) labels its malformed-line examples.
func NewScanner(r io.Reader, name string) *Scanner {
	return &Scanner{k: chunker{r: r, stream: true}, c: chunk{buf: make([]byte, chunkSize)}, name: name}
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
func (s *Scanner) Err() error { return s.k.err }

// nextLine returns the next line without its newline, cut to maxLine
// bytes, as Tally reads it.
func (s *Scanner) nextLine() ([]byte, bool) {
	for len(s.data) == 0 {
		if !s.k.fill(&s.c) {
			return nil, false
		}
		s.data = s.c.data
	}
	line := s.data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, s.data = line[:i], line[i+1:]
	} else {
		s.data = nil
	}
	if len(line) > maxLine {
		line = line[:maxLine]
	}
	return line, true
}
