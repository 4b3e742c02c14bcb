package audit

import (
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"90m", now.Add(-90 * time.Minute)},
		{"12h", now.Add(-12 * time.Hour)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
		{"0s", now},
		{"2026-11-27T21:00:00Z", time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)},
		{"2026-11-27T21:00:00+01:00", time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)},
		{"2026-11-27 21:30", time.Date(2026, 11, 27, 21, 30, 0, 0, time.Local)},
		{"2026-11-27 21:30:15", time.Date(2026, 11, 27, 21, 30, 15, 0, time.Local)},
		{"2026-11-27", time.Date(2026, 11, 27, 0, 0, 0, 0, time.Local)},
		{"@1795820182", time.Unix(1795820182, 0)},
		{"@1795820182.744", time.Unix(1795820182, 744e6)},
		{"1795820182.744", time.Unix(1795820182, 744e6)},
	} {
		got, err := ParseSince(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-1h", "100000d2562047h", "7", "d", "1.5d", "2026-13-01", "@", "@-5", "@1.2.3", "1795820182.1234567891"} {
		if got, err := ParseSince(bad, now); err == nil {
			t.Errorf("ParseSince(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"90m", "7d", "1d12h", "2026-11-27 21:30", "2026-11-27T21:00:00Z", "@1795820182.744", "1795820182", "yesterday", "", "-1h", "99999999d"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err != nil {
			if !strings.Contains(err.Error(), "is neither a duration") {
				t.Fatalf("ParseSince(%q): %v", s, err)
			}
			return
		}
		// A duration counts back, never forward.
		if d, ok := parseAgo(strings.TrimSpace(s)); ok && (d < 0 || got.After(now)) {
			t.Fatalf("ParseSince(%q) = %v, after now", s, got)
		}
	})
}
