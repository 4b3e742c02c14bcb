package policy

import (
	"fmt"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// Problem is one reason the extension would reject a configuration (or a
// set_client_filter() call): at server start it refuses to start, on reload
// it keeps the previous session filters.
type Problem struct {
	Setting string // the setting or argument, as written; "" for a conflict between two
	Value   string // its value
	Where   string // "file:line" where it is set; "" when not known
	Detail  string // what is wrong, naming the offending word (the extension's text)
	Word    string // the offending syscall name of a list, when that is what is wrong
	Pos     int    // Word's place in the list (1 is the first word)
}

// Error reads "where: setting = 'value': detail".
func (p Problem) Error() string {
	var b strings.Builder
	if p.Where != "" {
		b.WriteString(p.Where)
		b.WriteString(": ")
	}
	if p.Setting != "" {
		fmt.Fprintf(&b, "%s = %s: ", p.Setting, QuoteValue(p.Value))
	}
	b.WriteString(p.Detail)
	return b.String()
}

// Problems are all the problems found in a configuration; it is the error
// type ParseSettings, Build and ClientLayer return.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

// err returns ps as an error, or nil when there are none.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// QuoteValue quotes s as postgresql.conf does: in single quotes, with quotes
// doubled and backslashes and newlines escaped.
func QuoteValue(s string) string { return pgconf.Quote(s) }
