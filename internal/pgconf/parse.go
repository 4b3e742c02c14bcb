package pgconf

import (
	"fmt"
	"strings"
)

// maxSyntaxErrors is where PostgreSQL stops reading a file that is
// thoroughly broken.
const maxSyntaxErrors = 100

// Entry is one "name = value" line of a file, include directives included.
type Entry struct {
	Name  string // as written
	Value string // quotes and escapes removed
	Line  int
}

// Error is a problem in a configuration file, at a line ("" and 0 when it
// concerns no line, such as a main file that cannot be opened).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors are all the problems found while reading a configuration.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Parse reads the lines of one configuration file as ParseConfigFp does,
// without following include directives (they are entries like any other).
// file names the file in errors. A line with a syntax error is skipped and
// reported; after 100 errors the rest of the file is not read.
func Parse(data []byte, file string) ([]Entry, Errors) {
	l := &lexer{data: data, line: 1}
	var entries []Entry
	var errs Errors
	for {
		tok := l.next()
		if tok.kind == tokEOF {
			break
		}
		if tok.kind == tokEOL {
			continue // an empty or comment line
		}
		entry, tok, ok := parseLine(l, tok)
		if ok {
			entries = append(entries, entry)
			if tok.kind == tokEOF {
				break
			}
			continue
		}
		switch tok.kind {
		case tokEOL:
			errs = append(errs, &Error{File: file, Line: l.line - 1, Msg: "syntax error near end of line"})
		case tokEOF: // PostgreSQL says "line 0" when the file ends without a newline
			errs = append(errs, &Error{File: file, Line: l.line, Msg: "syntax error near end of line"})
		default:
			errs = append(errs, &Error{File: file, Line: l.line, Msg: fmt.Sprintf("syntax error near token %q", tok.text)})
		}
		if len(errs) >= maxSyntaxErrors {
			errs = append(errs, &Error{File: file, Line: l.line, Msg: "too many syntax errors found, abandoning the file"})
			break
		}
		// resync to the next end of line
		for tok.kind != tokEOL && tok.kind != tokEOF {
			tok = l.next()
		}
		if tok.kind == tokEOF {
			break
		}
	}
	return entries, errs
}

// parseLine reads the rest of a line starting with tok. It returns the
// entry, or ok false with the token where the syntax error is; the returned
// token is the line's end (EOL or EOF) on success.
func parseLine(l *lexer, tok token) (entry Entry, last token, ok bool) {
	if tok.kind != tokID && tok.kind != tokQualifiedID {
		return Entry{}, tok, false
	}
	entry.Name = tok.text
	tok = l.next()
	if tok.kind == tokEquals {
		tok = l.next()
	}
	switch tok.kind {
	case tokID, tokInteger, tokReal, tokUnquoted:
		entry.Value = tok.text
	case tokString:
		entry.Value = deescape(tok.text)
	default:
		return Entry{}, tok, false
	}
	tok = l.next()
	switch tok.kind {
	case tokEOL:
	case tokEOF:
		l.line++ // guc-file.l counts EOF like a newline
	default:
		return Entry{}, tok, false
	}
	entry.Line = l.line - 1
	return entry, tok, true
}

// Quote writes s as a postgresql.conf value that Parse reads back as s: in
// single quotes, with quotes doubled and backslashes and newlines escaped.
// (A NUL byte cannot be written: it ends the value.)
func Quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Unquote returns the string a postgresql.conf value stands for: a quoted
// value (one Quote wrote, or any other) without its quotes and escapes, any
// other value (a number, a unit, a name) as it is.
func Unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return deescape(v)
	}
	return v
}

// deescape is guc-file.l's DeescapeQuotedString: strip the quotes, turn a doubled quote
// into ' and \b \f \n \r \t and \ooo (octal) into their bytes, \x into x.
// Like the C code it works on a NUL-terminated string, so a NUL byte ends
// the value.
func deescape(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	s = s[1:] // the leading quote; the trailing one is dropped at the end
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v, k := 0, 0
				for ; k < 3 && i+k < len(s) && s[i+k] >= '0' && s[i+k] <= '7'; k++ {
					v = v<<3 + int(s[i+k]-'0')
				}
				i += k - 1
				b = append(b, byte(v))
			default:
				b = append(b, s[i])
			}
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
			b = append(b, '\'')
		default:
			b = append(b, c)
		}
	}
	if len(b) > 0 {
		b = b[:len(b)-1] // the trailing quote (or, after a NUL, the last byte)
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
