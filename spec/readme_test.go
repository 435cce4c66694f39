package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's spec reference names every key the decoder reads, and
// every hook.
func TestREADMESpecReference(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "### Spec reference (version 1)\n")
	if !ok {
		t.Fatal("README.md has no spec reference section")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	named := make(map[string]bool) // words inside backquotes
	for _, code := range regexp.MustCompile("`[^`]+`").FindAllString(section, -1) {
		for _, word := range regexp.MustCompile(`[$A-Za-z_][A-Za-z_-]*\*?`).FindAllString(code, -1) {
			named[word] = true
		}
	}
	lists := [][]string{fileKeys, protocolKeys, fieldKeys, flowKeys, framingKinds, lineKeys,
		delimiterKeys, lengthKeys, fixedKeys, machineKeys, transitionKeys, hookSpecNames(),
		enumKeys, typeKeys, setKeys, messageKeys, messageFieldKeys}
	for _, keys := range lists {
		for _, key := range keys {
			if !named[key] {
				t.Errorf("the README's spec reference does not name %q", key)
			}
		}
	}
}
