// Package diff computes line-based unified diffs, as diff -u prints them,
// for protogen -check.
package diff

import (
	"fmt"
	"strings"
)

// context is the number of unchanged lines shown around each change.
const context = 3

// Unified returns the unified diff that turns old into new, with the given
// file names in its header, or "" when they are equal.
func Unified(oldName, newName string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := editScript(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for _, h := range hunks(ops) {
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", span(h.aStart, h.aLen), span(h.bStart, h.bLen))
		for _, op := range h.ops {
			switch op.kind {
			case keep:
				out.WriteString(" " + a[op.a])
			case del:
				out.WriteString("-" + a[op.a])
			case ins:
				out.WriteString("+" + b[op.b])
			}
			if line := lastLine(op, a, b); !strings.HasSuffix(line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return out.String()
}

func lastLine(op edit, a, b []string) string {
	if op.kind == ins {
		return b[op.b]
	}
	return a[op.a]
}

// span prints a hunk range as diff -u does: "start,len", with "start" alone
// for one line and the line before for none.
func span(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits s after each newline, keeping the newlines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type opKind int

const (
	keep opKind = iota
	del
	ins
)

// edit is one step of an edit script: keep a[a] (= b[b]), delete a[a], or
// insert b[b].
type edit struct {
	kind opKind
	a, b int
}

// maxEdits bounds the search for a shortest edit script; beyond it the
// diff replaces every line, which is correct if not minimal, and keeps the
// search's memory (quadratic in the number of edits) small.
const maxEdits = 4000

// editScript returns a shortest edit script from a to b, by Myers' O(ND)
// algorithm.
func editScript(a, b []string) []edit {
	n, m := len(a), len(b)
	// frontier[d][k+d] is the furthest x on diagonal k after d edits.
	var frontier [][]int
	prev := []int{0}
	for d := 0; d <= n+m && d <= maxEdits; d++ {
		cur := make([]int, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			switch {
			case d == 0:
				x = 0
			case k == -d || k != d && prev[k-1+d-1] < prev[k+1+d-1]:
				x = prev[k+1+d-1] // down: an insertion
			default:
				x = prev[k-1+d-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			cur[k+d] = x
			if x >= n && y >= m {
				return backtrack(append(frontier, cur), n, m)
			}
		}
		frontier = append(frontier, cur)
		prev = cur
	}
	ops := make([]edit, 0, n+m)
	for i := range n {
		ops = append(ops, edit{del, i, 0})
	}
	for j := range m {
		ops = append(ops, edit{ins, n, j})
	}
	return ops
}

// backtrack recovers the edit script from the frontiers of the search.
func backtrack(frontier [][]int, n, m int) []edit {
	var rev []edit
	x, y := n, m
	for d := len(frontier) - 1; d > 0; d-- {
		prev := frontier[d-1]
		k := x - y
		var prevK int
		if k == -d || k != d && prev[k-1+d-1] < prev[k+1+d-1] {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := prev[prevK+d-1]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, edit{keep, x, y})
		}
		if x == prevX {
			y--
			rev = append(rev, edit{ins, x, y})
		} else {
			x--
			rev = append(rev, edit{del, x, y})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{keep, x, y})
	}
	ops := make([]edit, len(rev))
	for i, op := range rev {
		ops[len(rev)-1-i] = op
	}
	return ops
}

type hunk struct {
	aStart, aLen, bStart, bLen int
	ops                        []edit
}

// hunks groups an edit script into hunks with context lines around each
// run of changes.
func hunks(ops []edit) []hunk {
	var out []hunk
	for i := 0; i < len(ops); {
		if ops[i].kind == keep {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != keep {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == keep {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		h := hunk{ops: ops[start:end]}
		h.aStart, h.bStart = ops[start].a, ops[start].b
		for _, op := range h.ops {
			switch op.kind {
			case keep:
				h.aLen++
				h.bLen++
			case del:
				h.aLen++
			case ins:
				h.bLen++
			}
		}
		out = append(out, h)
		i = end
	}
	return out
}
