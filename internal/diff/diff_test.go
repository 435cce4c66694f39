package diff

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"change one line", "a\nb\nc\n", "a\nB\nc\n", "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"insert into empty", "", "a\n", "--- old\n+++ new\n@@ -0,0 +1 @@\n+a\n"},
		{"delete all", "a\nb\n", "", "--- old\n+++ new\n@@ -1,2 +0,0 @@\n-a\n-b\n"},
		{"no final newline", "a\n", "a", "--- old\n+++ new\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "x\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ny\n",
			"--- old\n+++ new\n@@ -1,4 +1,4 @@\n-1\n+x\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unified("old", "new", []byte(tt.old), []byte(tt.new)); got != tt.want {
				t.Errorf("Unified:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// Applying the diff with patch(1) must turn old into new, for random edits.
func TestUnifiedAppliesWithPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Skip("patch(1) is not installed: cannot check that diffs apply")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 50 {
		old := randomLines(rng, rng.IntN(40))
		new := mutate(rng, old)
		d := Unified("a/f", "b/f", []byte(old), []byte(new))
		if old == new {
			if d != "" {
				t.Fatalf("case %d: diff of equal inputs is not empty", i)
			}
			continue
		}
		dir := t.TempDir()
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(patch, "-s", f)
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("case %d: patch failed: %v\n%s\ndiff:\n%s", i, err, out, d)
		}
		got, _ := os.ReadFile(f)
		if string(got) != new {
			t.Fatalf("case %d: patched file differs\ndiff:\n%s", i, d)
		}
	}
}

func randomLines(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(string(rune('a' + rng.IntN(5))))
		b.WriteString("\n")
	}
	return b.String()
}

func mutate(rng *rand.Rand, s string) string {
	lines := strings.SplitAfter(s, "\n")
	var out []string
	for _, l := range lines {
		switch rng.IntN(6) {
		case 0: // drop
		case 1:
			out = append(out, "new\n", l)
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func BenchmarkUnifiedLarge(b *testing.B) {
	var sb strings.Builder
	for i := range 200_000 {
		sb.WriteString("line ")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString("\n")
	}
	old := sb.String()
	new := strings.Replace(old, "line xxx\n", "changed\n", 50)
	for b.Loop() {
		Unified("a", "b", []byte(old), []byte(new))
	}
}
