package pgconf

import (
	"fmt"
	"net"
	"strings"
)

// HBALine is one record of pg_hba.conf: the connection type and the
// authentication method, with where it is. Databases, users, addresses
// and options are not kept: what pgseccomp checks depends only on how a
// client connects and authenticates.
type HBALine struct {
	Line   int
	Type   string // local, host, hostssl, hostnossl, hostgssenc, hostnogssenc
	Method string // trust, peer, scram-sha-256, md5, ...
}

// hbaTypes are the connection types of pg_hba.conf.
var hbaTypes = map[string]bool{"local": true, "host": true, "hostssl": true, "hostnossl": true, "hostgssenc": true, "hostnogssenc": true}

// ReadHBA reads the pg_hba.conf at path, with ReadFile's rules (a regular
// file of at most MaxFileSize bytes).
func ReadHBA(path string) ([]HBALine, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the server's pg_hba.conf %s: %w", path, err)
	}
	return ParseHBA(data, path)
}

// ParseHBA reads the records of a pg_hba.conf as PostgreSQL 15 tokenizes
// them: fields separated by blanks, "#" to the end of the line outside
// double quotes, a backslash at the end of a line continuing the record.
// A record that is not one PostgreSQL accepts (an unknown type, too few
// fields) is an *Error naming file and line, and the records read so far
// are returned with it.
func ParseHBA(data []byte, file string) ([]HBALine, error) {
	var out []HBALine
	var errs Errors
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		text := strings.TrimRight(lines[i], "\r")
		for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
			i++
			text = text[:len(text)-1] + " " + strings.TrimRight(lines[i], "\r")
		}
		fields := hbaFields(text)
		if len(fields) == 0 {
			continue
		}
		typ := fields[0]
		if strings.HasPrefix(typ, "include") {
			errs = append(errs, &Error{File: file, Line: start, Msg: fmt.Sprintf("%q: pg_hba.conf includes are not read (PostgreSQL 15 has none)", typ)})
			continue
		}
		if !hbaTypes[typ] {
			errs = append(errs, &Error{File: file, Line: start, Msg: fmt.Sprintf("invalid connection type %q", typ)})
			continue
		}
		method := 3 // local DATABASE USER METHOD
		if typ != "local" {
			method = 4 // host DATABASE USER ADDRESS METHOD
			if len(fields) > 3 && !strings.Contains(fields[3], "/") && net.ParseIP(fields[3]) != nil {
				method = 5 // host DATABASE USER IP-ADDRESS IP-MASK METHOD
			}
		}
		if len(fields) <= method {
			errs = append(errs, &Error{File: file, Line: start, Msg: "end-of-line before authentication method"})
			continue
		}
		out = append(out, HBALine{Line: start, Type: typ, Method: fields[method]})
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

// hbaFields splits a record into its fields: blanks separate them, double
// quotes keep blanks, commas and "#" inside a field, and "#" outside
// quotes starts a comment. Quotes are kept out of the fields.
func hbaFields(text string) []string {
	var fields []string
	var b strings.Builder
	inQuote, inField := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"':
			inQuote, inField = !inQuote, true
		case inQuote:
			b.WriteByte(c)
		case c == '#':
			i = len(text)
		case c == ' ' || c == '\t' || c == '\r':
			if inField {
				fields = append(fields, b.String())
				b.Reset()
				inField = false
			}
		default:
			b.WriteByte(c)
			inField = true
		}
	}
	if inField {
		fields = append(fields, b.String())
	}
	return fields
}
