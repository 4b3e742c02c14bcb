package syscalls

import "testing"

func TestClosest(t *testing.T) {
	for _, tt := range []struct {
		word, want string
		ok         bool
	}{
		{"getpriorty", "getpriority", true},
		{"reed", "read", true},
		{"READ", "read", true},         // case folds, distance 0
		{"swapof", "swapoff", true},    // a tie with swapon: byte order
		{"readlinc", "readlink", true}, // one substitution
		{"frobnicate", "", false},      // nothing within 3 edits
		{"xy", "", false},
		{"B", "", false}, // bpf is 2 edits away, as many as "B" has bytes
		{"rea", "read", true},
		{string(make([]byte, 65)), "", false}, // longer than any name
	} {
		got, ok := X86_64.Closest(tt.word)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", tt.word, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "read", 4}, {"read", "", 4}, {"read", "read", 0},
		{"reed", "read", 1}, {"kitten", "sitting", 3}, {"swapof", "swapon", 1},
		{"clone", "clone3", 1}, {"ab", "ba", 2},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
