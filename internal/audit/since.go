package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince parses a --since value: a duration back from now (with a d suffix for
// days) or a point in time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, ok := parseAgo(s); ok {
		return now.Add(-d), nil
	}
	if epoch, ok := strings.CutPrefix(s, "@"); ok {
		if t, ok := parseEpoch(epoch); ok {
			return t, nil
		}
	} else if t, ok := parseEpoch(s); ok && len(s) >= 9 {
		return t, nil // an audit stamp's seconds, copied from a record
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		loc := time.Local
		if layout == time.RFC3339Nano {
			loc = time.UTC
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (90m, 12h, 7d) nor a time (2026-11-27 22:00, 2026-11-27T22:00:00Z, @1795820182)", s)
}

// parseAgo parses a non-negative duration, also in days ("7d", "1d12h").
func parseAgo(s string) (time.Duration, bool) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100000 {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || days+d < days {
		return 0, false // bad, negative, or past 292 years
	}
	return days + d, true
}

func parseEpoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(sec, "+") {
		return time.Time{}, false
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			return time.Time{}, false
		}
		f, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err != nil || strings.HasPrefix(frac, "+") || strings.HasPrefix(frac, "-") {
			return time.Time{}, false
		}
		nsec = f
	}
	return time.Unix(n, nsec), true
}
