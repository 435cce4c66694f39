package spec

import "strings"

// suggest returns the candidate closest to s, if it is close enough to be
// a likely typo, or "".
func suggest(s string, candidates []string) string {
	limit := 3 // edits allowed: fewer for short words, where anything is close
	switch n := len(s); {
	case n <= 3:
		limit = 1
	case n <= 7:
		limit = 2
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == s {
			continue // the word itself, refused for another reason
		}
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" && len(s) >= 3 {
		// A shortened key ("high" for high_water) is far in edits but
		// plain to a reader.
		for _, c := range candidates {
			if strings.HasPrefix(c, s) {
				return c
			}
		}
	}
	return best
}

// didYouMean formats a suggestion for an error message.
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return "; did you mean " + c + "?"
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, with an
// adjacent transposition counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
