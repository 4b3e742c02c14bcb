package syscalls

// Suggest returns the syscall name of ABI a closest to word, for a "did you
// mean" after an unknown name: the name at the smallest edit distance
// (insertions, deletions, substitutions, and swaps of two neighbouring
// letters, each costing 1), the first in sorted order on a tie. It returns
// "" when word is a name of a, or when nothing is close: more than a third
// of the word's length, or more than 3 edits, away.
func Suggest(a Arch, word string) string {
	if !a.Valid() || word == "" || Has(a, word) {
		return ""
	}
	limit := min(3, max(1, len(word)/3))
	best, bestDist := "", limit+1
	for _, name := range a.table().names {
		if d := editDistance(word, name, bestDist); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between s and t
// (Levenshtein with adjacent transpositions), or a value >= bound as soon
// as it cannot be below bound.
func editDistance(s, t string, bound int) int {
	if d := len(s) - len(t); d >= bound || -d >= bound {
		return bound
	}
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= bound {
			return bound
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
