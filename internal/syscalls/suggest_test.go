package syscalls

import "testing"

func TestSuggest(t *testing.T) {
	tests := []struct {
		arch Arch
		word string
		want string
	}{
		{X86_64, "chrot", "chroot"},
		{X86_64, "getpriorty", "getpriority"},
		{X86_64, "opnat", "openat"},
		{X86_64, "pwirtev", "pwritev"}, // swapped letters
		{X86_64, "newfstatat", ""},     // a name: nothing to suggest
		{X86_64, "xyzzy", ""},          // nothing close
		{X86_64, "", ""},               // nothing at all
		{X86_64, "io_uring_setpu", "io_uring_setup"},
		{AArch64, "opena", "openat"},
	}
	for _, tt := range tests {
		if got := Suggest(tt.arch, tt.word); got != tt.want {
			t.Errorf("Suggest(%s, %q) = %q, want %q", tt.arch, tt.word, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		s, t string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"abc", "abc", 0}, {"abc", "acb", 1},
		{"kitten", "sitting", 3}, {"chrot", "chroot", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.s, tt.t, 100); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.s, tt.t, got, tt.want)
		}
		if got := editDistance(tt.s, tt.t, 1); tt.want >= 1 && got < 1 {
			t.Errorf("editDistance(%q, %q, bound 1) = %d", tt.s, tt.t, got)
		}
	}
}
