package audit

import (
	"bytes"
	"time"
)

// prefixTime returns the date a journal or syslog line's prefix gives, for
// records that carry no audit(TIME:SERIAL) stamp of their own (journald's
// audit transport). Only prefixes with a full date count: journalctl -o
// short-iso, short-iso-precise and short-unix, and RFC 3339 syslog
// timestamps. The default "Jul 24 09:10:45" has no year (and is localized),
// so it gives the zero time.
func prefixTime(prefix []byte) time.Time {
	tok := prefix
	if i := bytes.IndexByte(prefix, ' '); i >= 0 {
		tok = prefix[:i]
	}
	if len(tok) < 10 {
		return time.Time{}
	}
	// short-unix: "1595581845.049000"
	if sec, n := parseDec(tok); n >= 9 && n < len(tok) && tok[n] == '.' {
		frac, m := parseDec(tok[n+1:])
		if m == 0 || n+1+m != len(tok) || m > 9 {
			return time.Time{}
		}
		for i := m; i < 9; i++ {
			frac *= 10
		}
		return time.Unix(int64(sec), int64(frac))
	}
	// short-iso: "2020-07-24T09:10:45+0200" (older journalctl), "+02:00" (newer),
	// with microseconds for short-iso-precise; Go reads the fraction itself.
	if tok[4] != '-' || bytes.IndexByte(tok, 'T') != 10 {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, string(tok)); err == nil {
			return t
		}
	}
	return time.Time{}
}
