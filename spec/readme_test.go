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

// The README's spec reference says, by name, which key each hook needs
// (the table of members knows: hookInfo.needs), and that framing needs
// frame_received.
func TestREADMEHookNeeds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "### Spec reference (version 1)\n")
	section, _, _ = strings.Cut(section, "\n### ")
	keys := map[feature][]string{framed: {"framing"}, withMachine: {"machine"}, withTimeouts: {"read_timeout", "idle_timeout"}, withMessages: {"receives"}}
	for k, info := range hookInfos {
		need := keys[info.needs]
		if info.needs == always || info.implicit {
			continue // an implicit hook, one per message, has a row of its own
		}
		if len(need) == 0 {
			t.Fatalf("hook %s needs a feature this test does not know", info.specName)
		}
		var row string
		for _, line := range strings.Split(section, "\n") {
			if strings.HasPrefix(line, "| `"+info.specName+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("the README's table of hooks has no row for %s", HookKind(k).SpecName())
			continue
		}
		cells := strings.Split(row, " | ")
		if len(cells) < 2 {
			t.Errorf("the row of hook %s has no cells: %s", info.specName, row)
			continue
		}
		for _, key := range need {
			if !strings.Contains(cells[1], "`"+key+"`") {
				t.Errorf("the README's row of hook %s does not say it needs %s (its needs cell: %s)", info.specName, key, cells[1])
			}
		}
	}
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `protocols[].framing` |") && !strings.Contains(line, "`frame_received`") {
			t.Errorf("the README's framing row does not say that framing needs the frame_received hook:\n%s", line)
		}
	}
}
