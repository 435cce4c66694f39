// Package stats summarises the repeated, interleaved measurements of the
// side-by-side benchmarks: medians with their range, and ratios taken run
// by run, which cancel the drift a shared machine shows between runs.
package stats

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Summary is the median and range of a set of measurements.
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns the summary of vals, which it does not modify; ok is
// false when vals is empty.
func Summarize(vals []float64) (s Summary, ok bool) {
	if len(vals) == 0 {
		return Summary{}, false
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	n := len(sorted)
	s = Summary{Min: sorted[0], Max: sorted[n-1], N: n, Median: sorted[n/2]}
	if n%2 == 0 {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s, true
}

// Format prints the summary as "median (min–max)", each with verb, such
// as "%.0f".
func (s Summary) Format(verb string) string {
	return s.FormatWith(func(v float64) string { return fmt.Sprintf(verb, v) })
}

// FormatWith is Format with each value printed by format.
func (s Summary) FormatWith(format func(float64) string) string {
	return format(s.Median) + " (" + format(s.Min) + "–" + format(s.Max) + ")"
}

// Ratios divides a[i] by b[i] for every run i in which both were measured
// (a value of 0 or less means not measured).
func Ratios(a, b []float64) []float64 {
	var r []float64
	for i := range min(len(a), len(b)) {
		if a[i] > 0 && b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return r
}

// Measured returns the values of vals greater than 0, leaving vals as it
// is: a value of 0 or less means that run measured nothing (a server that
// failed, or a CPU time below the clock's tick).
func Measured(vals []float64) []float64 {
	return slices.DeleteFunc(slices.Clone(vals), func(v float64) bool { return v <= 0 })
}

// Shortfall says how many of runs a summary rests on when it is fewer than
// all, as ", 8 of 9 runs", for appending to a table cell; otherwise "".
func (s Summary) Shortfall(runs int) string {
	if s.N < runs {
		return fmt.Sprintf(", %d of %d runs", s.N, runs)
	}
	return ""
}

// Thousands formats v, not negative, rounded, its digits in groups of three:
// 123456.4 → "123,456".
func Thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
