package stats

import (
	"fmt"
	"slices"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name   string
		vals   []float64
		want   Summary
		wantOK bool
	}{
		{"empty", nil, Summary{}, false},
		{"one", []float64{3}, Summary{Median: 3, Min: 3, Max: 3, N: 1}, true},
		{"odd count, unsorted", []float64{5, 1, 3}, Summary{Median: 3, Min: 1, Max: 5, N: 3}, true},
		{"even count averages the middle two", []float64{4, 1, 2, 10}, Summary{Median: 3, Min: 1, Max: 10, N: 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.vals...)
			got, ok := Summarize(in)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.vals, got, tt.want)
			}
			if !slices.Equal(tt.vals, in) {
				t.Errorf("Summarize modified its input: %v, was %v", in, tt.vals)
			}
		})
	}
}

func TestRatios(t *testing.T) {
	got := Ratios([]float64{10, 0, 30, 8, 5}, []float64{5, 4, 0, 8})
	want := []float64{2, 1} // runs 1 and 2 each miss a value; run 4 has no b
	if !slices.Equal(got, want) {
		t.Errorf("Ratios = %v, want %v", got, want)
	}
}

func TestFormat(t *testing.T) {
	s := Summary{Median: 1.234, Min: 0.9, Max: 1.5, N: 3}
	if got, want := s.Format("%.2f"), "1.23 (0.90–1.50)"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	percent := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
	if got, want := s.FormatWith(percent), "123% (90%–150%)"; got != want {
		t.Errorf("FormatWith = %q, want %q", got, want)
	}
}

func TestMeasured(t *testing.T) {
	in := []float64{3, 0, -1, 2}
	got := Measured(in)
	if want := []float64{3, 2}; !slices.Equal(got, want) {
		t.Errorf("Measured(%v) = %v, want %v", in, got, want)
	}
	if want := []float64{3, 0, -1, 2}; !slices.Equal(in, want) {
		t.Errorf("Measured modified its input: %v, was %v", in, want)
	}
}

func TestShortfall(t *testing.T) {
	tests := []struct {
		n, runs int
		want    string
	}{
		{9, 9, ""},
		{8, 9, ", 8 of 9 runs"},
		{0, 5, ", 0 of 5 runs"},
	}
	for _, tt := range tests {
		if got := (Summary{N: tt.n}).Shortfall(tt.runs); got != tt.want {
			t.Errorf("Summary{N: %d}.Shortfall(%d) = %q, want %q", tt.n, tt.runs, got, tt.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {999.4, "999"}, {999.5, "1,000"}, {123456, "123,456"}, {1234567.2, "1,234,567"},
	} {
		if got := Thousands(c.in); got != c.want {
			t.Errorf("Thousands(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
