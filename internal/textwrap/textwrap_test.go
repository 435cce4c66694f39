package textwrap

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
)

func TestLines(t *testing.T) {
	tests := []struct {
		text  string
		width int
		want  []string
	}{
		{"one two three", 7, []string{"one two", "three"}},
		{"a\n\nb", 10, []string{"a", "", "b"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
		{"  spaced   out  ", 80, []string{"spaced out"}},
		{"", 10, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Lines(tt.text, tt.width)); diff != "" {
			t.Errorf("Lines(%q, %d) (-want +got):\n%s", tt.text, tt.width, diff)
		}
	}
}
