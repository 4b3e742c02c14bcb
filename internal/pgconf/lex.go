package pgconf

// The lexer is guc-file.l's, rule for rule: at each position the longest
// match wins, and on a tie the rule listed first.

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokID
	tokString
	tokInteger
	tokReal
	tokEquals
	tokUnquoted
	tokQualifiedID
	tokEOL
	tokError
)

type token struct {
	kind tokenKind
	text string
}

type lexer struct {
	data []byte
	pos  int
	line int // guc-file.l's ConfigFileLineno: 1 + newlines consumed
}

func isLetter(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c >= 0x80
}

func isLetterOrDigit(c byte) bool { return isLetter(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isUnitLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// next returns the next token, skipping whitespace and comments.
func (l *lexer) next() token {
	for {
		if l.pos >= len(l.data) {
			return token{kind: tokEOF}
		}
		c := l.data[l.pos]
		switch {
		case c == '\n':
			l.pos++
			l.line++
			return token{kind: tokEOL, text: "\n"}
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
			continue
		case c == '#':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' {
				l.pos++
			}
			continue
		}
		break
	}
	rest := l.data[l.pos:]
	// Rules in guc-file.l's order: the longest match wins, the first on a
	// tie; no match is the catch-all "." rule, one byte of GUC_ERROR.
	kind, n := tokError, 0
	for _, r := range []struct {
		kind tokenKind
		n    int
	}{
		{tokID, matchID(rest)},
		{tokQualifiedID, matchQualifiedID(rest)},
		{tokString, matchString(rest)},
		{tokUnquoted, matchUnquoted(rest)},
		{tokInteger, matchInteger(rest)},
		{tokReal, matchReal(rest)},
		{tokEquals, matchByte(rest, '=')},
	} {
		if r.n > n {
			kind, n = r.kind, r.n
		}
	}
	if n == 0 {
		kind, n = tokError, 1
	}
	text := string(rest[:n])
	l.pos += n
	return token{kind: kind, text: text}
}

func matchByte(b []byte, c byte) int {
	if len(b) > 0 && b[0] == c {
		return 1
	}
	return 0
}

// ID: {LETTER}{LETTER_OR_DIGIT}*
func matchID(b []byte) int {
	if len(b) == 0 || !isLetter(b[0]) {
		return 0
	}
	n := 1
	for n < len(b) && isLetterOrDigit(b[n]) {
		n++
	}
	return n
}

// QUALIFIED_ID: {ID}"."{ID}
func matchQualifiedID(b []byte) int {
	n := matchID(b)
	if n == 0 || n >= len(b) || b[n] != '.' {
		return 0
	}
	m := matchID(b[n+1:])
	if m == 0 {
		return 0
	}
	return n + 1 + m
}

// UNQUOTED_STRING: {LETTER}({LETTER_OR_DIGIT}|[-._:/])*
func matchUnquoted(b []byte) int {
	if len(b) == 0 || !isLetter(b[0]) {
		return 0
	}
	n := 1
	for n < len(b) && (isLetterOrDigit(b[n]) || b[n] == '-' || b[n] == '.' || b[n] == '_' || b[n] == ':' || b[n] == '/') {
		n++
	}
	return n
}

// STRING: \'([^'\\\n]|\\.|\'\')*\' — the longest match: a doubled quote may
// end the string or continue it.
func matchString(b []byte) int {
	if len(b) == 0 || b[0] != '\'' {
		return 0
	}
	longest := 0
	for i := 1; i < len(b); {
		switch b[i] {
		case '\n':
			return longest
		case '\\':
			if i+1 >= len(b) || b[i+1] == '\n' {
				return longest
			}
			i += 2
		case '\'':
			longest = i + 1
			if i+1 < len(b) && b[i+1] == '\'' {
				i += 2
				continue
			}
			return longest
		default:
			i++
		}
	}
	return longest
}

func matchSign(b []byte) int {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		return 1
	}
	return 0
}

// INTEGER: {SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*
func matchInteger(b []byte) int {
	s := matchSign(b)
	units := func(n int) int {
		for n < len(b) && isUnitLetter(b[n]) {
			n++
		}
		return n
	}
	best := 0
	n := s
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n > s {
		best = units(n)
	}
	if len(b) >= s+3 && b[s] == '0' && b[s+1] == 'x' && isHexDigit(b[s+2]) {
		n = s + 2
		for n < len(b) && isHexDigit(b[n]) {
			n++
		}
		best = max(best, units(n))
	}
	return best
}

// REAL: {SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}?, EXPONENT: [Ee]{SIGN}?{DIGIT}+
func matchReal(b []byte) int {
	n := matchSign(b)
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n >= len(b) || b[n] != '.' {
		return 0
	}
	n++
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n < len(b) && (b[n] == 'e' || b[n] == 'E') {
		m := n + 1 + matchSign(b[n+1:])
		d := m
		for d < len(b) && isDigit(b[d]) {
			d++
		}
		if d > m {
			n = d
		}
	}
	return n
}
