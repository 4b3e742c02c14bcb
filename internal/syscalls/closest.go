// C twin: extension/syscall_list.c (closest_syscall_name).

package syscalls

import "strings"

// Closest returns the syscall name of ABI a closest to word by edit
// distance (Levenshtein, over bytes, word lower-cased in ASCII), the first
// in byte order on a tie, and false when none is within max(2, len(word)/3)
// edits and fewer edits than word has bytes, or word is longer than 64
// bytes. It is the "did you mean" of a misspelt name, and decides exactly
// as the extension's closest_syscall_name() (extension/syscall_list.c), so
// that both say the same.
func (a Arch) Closest(word string) (string, bool) {
	const maxName = 64 // the extension's MAX_SYSCALL_NAME
	if len(word) > maxName {
		return "", false
	}
	lower := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r - 'A' + 'a'
		}
		return r
	}, word)
	limit := max(2, len(word)/3)
	best, bestName := limit+1, ""
	for _, name := range a.Names() {
		d := editDistance(lower, name)
		if d < best || (d == best && name < bestName) {
			best, bestName = d, name
		}
	}
	if best > limit || best >= len(word) {
		return "", false
	}
	return bestName, true
}

// editDistance is the Levenshtein distance between a and b, over bytes.
func editDistance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diagonal := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			above := row[j]
			best := diagonal
			if a[i-1] != b[j-1] {
				best++
			}
			best = min(best, above+1, row[j-1]+1)
			row[j] = best
			diagonal = above
		}
	}
	return row[len(b)]
}
