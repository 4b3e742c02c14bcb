package policy

import (
	"errors"
	"fmt"
	"strings"
)

// clientArgNames are the names ParseClientFilter accepts in its named form,
// in set_client_filter's argument order.
var clientArgNames = [1 + NumActions]string{"default", "allow", "log", "error", "kill"}

// ParseClientFilter reads set_client_filter's five
// arguments as SQL ('...' or NULL, comma-separated, optionally wrapped in
// "set_client_filter(...)"), or "name=value" pairs separated by ";".
func ParseClientFilter(s string) (ClientArgs, error) {
	t := strings.TrimSpace(s)
	if l := strings.ToLower(t); strings.HasPrefix(l, "select ") {
		t = strings.TrimSpace(t[len("select "):])
	}
	if l := strings.ToLower(t); strings.HasPrefix(l, "set_client_filter") {
		t = strings.TrimSpace(t[len("set_client_filter"):])
		if !strings.HasPrefix(t, "(") || !strings.HasSuffix(strings.TrimSuffix(t, ";"), ")") {
			return ClientArgs{}, errors.New("set_client_filter needs its arguments in parentheses")
		}
		t = strings.TrimSuffix(t, ";")
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	if strings.HasPrefix(t, "'") || strings.HasPrefix(strings.ToUpper(t), "NULL") {
		args, err := parseSQLArgs(t)
		if err != nil {
			return ClientArgs{}, err
		}
		return ClientArgsFromSQL(args), nil
	}
	var args [1 + NumActions]*string
	for _, part := range strings.Split(t, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok {
			return ClientArgs{}, fmt.Errorf("%q is not name=value; write e.g. \"default=error; error=clone\", or the five SQL arguments \"'error', NULL, NULL, 'clone', NULL\"", strings.TrimSpace(part))
		}
		i := -1
		for j, n := range clientArgNames {
			if name == n || name == n+"_list" || (j == 0 && name == "default_action") {
				i = j
			}
		}
		if i < 0 {
			return ClientArgs{}, fmt.Errorf("unknown argument %q: use default, allow, log, error or kill", name)
		}
		if args[i] != nil {
			return ClientArgs{}, fmt.Errorf("argument %q given twice", name)
		}
		v := strings.TrimSpace(value)
		args[i] = &v
	}
	return ClientArgsFromSQL(args), nil
}

// parseSQLArgs reads five comma-separated SQL arguments, each NULL or a
// single-quoted literal (a doubled quote is a quote inside it).
func parseSQLArgs(s string) ([1 + NumActions]*string, error) {
	var args [1 + NumActions]*string
	n := 0
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if n == len(args) {
			return args, fmt.Errorf("set_client_filter takes %d arguments (default_action, allow_list, log_list, error_list, kill_list), not more", len(args))
		}
		switch {
		case strings.HasPrefix(strings.ToUpper(s[i:]), "NULL"):
			i += 4
		case i < len(s) && s[i] == '\'':
			v, next, ok := readQuoted(s, i)
			if !ok {
				return args, errors.New("a quoted argument is not closed")
			}
			i = next
			args[n] = &v
		default:
			return args, fmt.Errorf("argument %d must be NULL or a '...' literal, at %q", n+1, s[i:])
		}
		n++
		skipSpace()
		if i == len(s) {
			break
		}
		if s[i] != ',' {
			return args, fmt.Errorf("expected \",\" between arguments, at %q", s[i:])
		}
		i++
	}
	if n != len(args) {
		return args, fmt.Errorf("set_client_filter takes %d arguments (default_action, allow_list, log_list, error_list, kill_list), %d given", len(args), n)
	}
	return args, nil
}

// ClientFilterSQL writes client arguments as SQL, or "" for none.
func ClientFilterSQL(c *ClientArgs) string {
	if c == nil {
		return ""
	}
	parts := []string{sqlLiteral(c.Default)}
	for _, l := range c.Lists {
		parts = append(parts, sqlLiteral(l))
	}
	return strings.Join(parts, ", ")
}

func sqlLiteral(s *string) string {
	if s == nil {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(*s, "'", "''") + "'"
}

// readQuoted reads the token quoted with s[i] (' for an SQL literal, " for
// an identifier), in which a doubled quote stands for one, as PostgreSQL
// reads both. It returns the value and the index after the closing quote;
// ok is false when the quote is not closed.
func readQuoted(s string, i int) (value string, next int, ok bool) {
	q := s[i]
	var b strings.Builder
	i++
	for {
		j := strings.IndexByte(s[i:], q)
		if j < 0 {
			return "", i, false
		}
		b.WriteString(s[i : i+j])
		i += j + 1
		if i < len(s) && s[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		return b.String(), i, true
	}
}
