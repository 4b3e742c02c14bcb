package serverlog

import (
	"bytes"
	"errors"
	"strings"
)

// maxPending bounds what a Stream keeps of an entry that has not ended:
// a line (or CSV record) longer than this is cut, the rest skipped.
const maxPending = 1 << 20

// Stream turns the bytes of a log, as they are appended to it, into
// entries. It keeps at most one incomplete entry.
type Stream struct {
	format Format
	prefix *Prefix // stderr only

	buf      []byte // bytes not yet read into entries
	skipping bool   // dropping the rest of an overlong line

	// stderr: the entry being built, and whether there is one
	cur          Entry
	hasCur       bool
	lastAttached string // the severity of the current entry's last attached line
	Skipped      int64  // lines or records that did not parse
}

// NewStream returns a Stream for a log of format; a stderr log needs the
// server's log_line_prefix.
func NewStream(format Format, prefix *Prefix) (*Stream, error) {
	if format == Stderr && prefix == nil {
		return nil, errors.New("a stderr log is read with its log_line_prefix")
	}
	return &Stream{format: format, prefix: prefix}, nil
}

// Write feeds data appended to the log; emit gets each entry it
// completes. For stderr, an entry is complete when the next one starts,
// or at Flush.
func (s *Stream) Write(data []byte, emit func(Entry)) {
	s.buf = append(s.buf, data...)
	for {
		var n int
		switch s.format {
		case CSV:
			n = CSVRecordEnd(s.buf)
		default:
			n = bytes.IndexByte(s.buf, '\n') + 1
		}
		if n <= 0 {
			if len(s.buf) > maxPending {
				s.buf, s.skipping = s.buf[:0], true
				s.Skipped++
			}
			break
		}
		rec := s.buf[:n]
		if s.skipping {
			s.skipping = false
		} else {
			s.entry(rec, emit)
		}
		s.buf = s.buf[n:]
	}
	if len(s.buf) == 0 {
		s.buf = s.buf[:0:0]
	}
}

// Flush emits the stderr entry being built, if any: call it when the log
// has had nothing new for a while, or at its end.
func (s *Stream) Flush(emit func(Entry)) {
	if s.hasCur {
		s.hasCur = false
		emit(s.cur)
	}
}

func (s *Stream) entry(rec []byte, emit func(Entry)) {
	rec = bytes.TrimRight(rec, "\r\n")
	if len(rec) == 0 {
		return
	}
	switch s.format {
	case JSON:
		e, err := ParseJSON(rec)
		if err != nil {
			s.Skipped++
			return
		}
		emit(e)
	case CSV:
		e, err := ParseCSV(rec)
		if err != nil {
			s.Skipped++
			return
		}
		emit(e)
	default:
		s.stderrLine(string(rec), emit)
	}
}

func (s *Stream) stderrLine(line string, emit func(Entry)) {
	if strings.HasPrefix(line, "\t") {
		if s.hasCur {
			s.appendText(s.lastAttached, "\n"+line[1:])
		}
		return
	}
	e, severity, text, ok := s.prefix.parseStderrLine(line)
	if !ok {
		s.Skipped++
		return
	}
	if attached[severity] && s.hasCur && s.cur.PID == e.PID {
		s.lastAttached = severity
		s.appendText(severity, text)
		return
	}
	s.Flush(emit)
	e.Severity, e.Message = severity, text
	s.cur, s.hasCur, s.lastAttached = e, true, ""
}

// appendText adds text to the part of the current entry that severity
// names: "" the message, DETAIL the detail, STATEMENT the statement; the
// other attached lines are not kept.
func (s *Stream) appendText(severity, text string) {
	var part *string
	switch severity {
	case "":
		part = &s.cur.Message
	case "DETAIL":
		part = &s.cur.Detail
	case "STATEMENT":
		part = &s.cur.Statement
	default:
		return
	}
	if len(*part)+len(text) <= maxPending {
		*part += text
	}
}
