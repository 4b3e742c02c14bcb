package serverlog

import (
	"fmt"
	"strconv"
	"strings"
)

// Prefix is a compiled log_line_prefix: what a stderr log line starts with.
type Prefix struct {
	text  string
	parts []prefixPart
	// quiet is the index in parts of %q: processes that are not sessions
	// stop the prefix there.
	quiet int
}

type prefixPart struct {
	literal string // a literal, or
	escape  byte   // an escape's letter
}

// CompilePrefix compiles a log_line_prefix setting. Padding (%-10u, %5p)
// is accepted and trimmed from values.
func CompilePrefix(s string) (*Prefix, error) {
	p := &Prefix{text: s, quiet: -1}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, prefixPart{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		i++
		for i < len(s) && (s[i] == '-' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i >= len(s) {
			return nil, fmt.Errorf("log_line_prefix %q ends inside an escape", s)
		}
		c := s[i]
		switch c {
		case '%':
			lit.WriteByte('%')
		case 'q':
			flush()
			p.quiet = len(p.parts)
		case 'a', 'u', 'd', 'r', 'h', 'b', 'p', 'P', 't', 'm', 'n', 'i', 'e', 'c', 'l', 's', 'v', 'x', 'Q':
			flush()
			if len(p.parts) > 0 && p.parts[len(p.parts)-1].literal == "" {
				// Two escapes in a row cannot be told apart; keep the
				// first, the second is read as part of it.
				continue
			}
			p.parts = append(p.parts, prefixPart{escape: c})
		default:
			// PostgreSQL prints nothing for an unknown escape.
		}
	}
	flush()
	return p, nil
}

// String returns the setting the prefix was compiled from.
func (p *Prefix) String() string { return p.text }

// Has reports whether the prefix has escape c (e.g. 'p' for the pid).
func (p *Prefix) Has(c byte) bool {
	for _, part := range p.parts {
		if part.literal == "" && part.escape == c {
			return true
		}
	}
	return false
}

// match reads the prefix at the start of line into e and returns the
// rest of the line, or false if the line does not start with the prefix.
func (p *Prefix) match(line string, e *Entry) (string, bool) {
	if rest, ok := p.matchParts(p.parts, line, e); ok {
		return rest, true
	}
	if p.quiet >= 0 {
		*e = Entry{}
		return p.matchParts(p.parts[:p.quiet], line, e)
	}
	return "", false
}

func (p *Prefix) matchParts(parts []prefixPart, line string, e *Entry) (string, bool) {
	for i, part := range parts {
		if part.literal != "" {
			rest, ok := strings.CutPrefix(line, part.literal)
			if !ok {
				return "", false
			}
			line = rest
			continue
		}
		var value string
		switch part.escape {
		case 't', 'm':
			// "2026-12-06 05:50:01[.123] UTC": a date, a time, a zone
			// abbreviation or offset.
			n := timeLen(line)
			value, line = line[:n], line[n:]
		default:
			end := len(line)
			if i+1 < len(parts) {
				end = strings.Index(line, parts[i+1].literal)
				if end < 0 {
					return "", false
				}
			} else if sp := strings.IndexByte(line, ' '); sp >= 0 {
				end = sp
			}
			value, line = line[:end], line[end:]
		}
		value = strings.TrimSpace(value)
		switch part.escape {
		case 't', 'm':
			e.Time = ParseTime(value)
		case 'p':
			e.PID, _ = strconv.Atoi(value)
		case 'u':
			e.User = value
		case 'd':
			e.Database = value
		case 'a':
			e.Application = value
		case 'h':
			e.Host = value
		case 'r':
			e.Host, _, _ = strings.Cut(value, "(")
		case 'b':
			e.BackendType = value
		case 'P':
			e.LeaderPID, _ = strconv.Atoi(value)
		}
	}
	return line, true
}

// attached are the severities of lines that belong to the message before
// them (elog.c's send_message_to_server_log writes them as lines of their
// own in the stderr format).
var attached = map[string]bool{"DETAIL": true, "HINT": true, "QUERY": true, "CONTEXT": true, "LOCATION": true, "STATEMENT": true}

// severities PostgreSQL writes.
var severities = map[string]bool{"DEBUG": true, "DEBUG1": true, "DEBUG2": true, "DEBUG3": true, "DEBUG4": true, "DEBUG5": true,
	"LOG": true, "INFO": true, "NOTICE": true, "WARNING": true, "ERROR": true, "FATAL": true, "PANIC": true}

// parseStderrLine reads one stderr line: its prefix, severity and text.
func (p *Prefix) parseStderrLine(line string) (e Entry, severity, text string, ok bool) {
	rest, ok := p.match(line, &e)
	if !ok {
		return Entry{}, "", "", false
	}
	severity, text, ok = strings.Cut(rest, ":  ")
	if !ok || !(severities[severity] || attached[severity]) {
		return Entry{}, "", "", false
	}
	return e, severity, text, true
}

// timeLen returns the length of the %t or %m timestamp line starts with.
func timeLen(line string) int {
	sp := 0
	for j := 0; j < len(line); j++ {
		c := line[j]
		if c == ' ' {
			sp++
			continue
		}
		if sp == 2 && !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-') {
			return j
		}
		if sp > 2 {
			return j - 1
		}
	}
	return len(line)
}
