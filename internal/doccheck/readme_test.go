package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README reads, top to bottom, as what a new user needs, in that
// order; the benchmark report lives in docs/performance.md, with a
// summary and a link left in the README; and its commands work on every
// system and stop what they start.
func TestREADMEIsAGuide(t *testing.T) {
	read := func(path string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	readme := read("README.md")
	lines := strings.Split(readme, "\n")
	at := -1
	for _, heading := range []string{"## Try it", "## Start your own", "## The spec", "### Spec reference (version 1)",
		"## The runtime", "## CI", "## Troubleshooting", "## How it compares", "## Performance"} {
		i := -1
		for n, line := range lines {
			if line == heading {
				i = n
				break
			}
		}
		switch {
		case i < 0:
			t.Errorf("the README has no %q", heading)
		case i < at:
			t.Errorf("the README's %q comes before the section it should follow", heading)
		default:
			at = i
		}
	}

	benchRow := regexp.MustCompile("^\\| (ping-pong|pipelined|idle|slow consumer|`ping_mbulk`|`set`|`get`) ")
	for n, line := range lines {
		if benchRow.MatchString(line) {
			t.Errorf("README.md:%d: a row of benchmark figures, which belongs in docs/performance.md: %s", n+1, line)
			break
		}
	}
	if !strings.Contains(readme, "](docs/performance.md)") {
		t.Errorf("the README does not link docs/performance.md")
	}
	perf := read("docs/performance.md")
	for _, want := range []string{"| ping-pong 64 × 1 KiB | messages/s |", "| `ping_mbulk` -P 1 | requests/s |", "go run ./cmd/compare", "go run ./cmd/redisbench"} {
		if !strings.Contains(perf, want) {
			t.Errorf("docs/performance.md does not hold %q", want)
		}
	}

	for n, line := range lines {
		switch {
		case strings.Contains(line, "nc -q"), strings.Contains(line, "nc -N"):
			t.Errorf("README.md:%d: only some netcats have -q or -N: %s", n+1, line)
		case strings.Contains(line, "generated_example/..."):
			t.Errorf("README.md:%d: ./generated_example/... holds more than one command: %s", n+1, line)
		case regexp.MustCompile(`^go run .*&\s*$`).MatchString(line):
			t.Errorf("README.md:%d: killing a go run in the background by its PID leaves the program it built running: %s", n+1, line)
		}
	}
}
