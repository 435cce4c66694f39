package spec

import (
	"errors"
	"strings"
	"testing"
)

// A YAML syntax error is reported at the line and column that is wrong,
// which yaml.v3 often does not give (its line is in the comment of each
// case), with what is wrong there.
func TestYAMLErrorPosition(t *testing.T) {
	const head = "version: 1\npackage: chat\nprotocols:\n  - name: Chat\n"
	tests := []struct {
		name string
		src  string
		pos  Pos
		msg  string
	}{{
		name: "a key one space short (yaml.v3: line 3)",
		src:  head + "    fields:\n      - {name: a, type: string}\n   hooks: [data_received]\n    flow: {high_water: 64KiB}\n",
		pos:  Pos{7, 4},
		msg:  "indentation: 3 spaces here, but the block above (line 4) uses 4",
	}, {
		name: "a key one space over, after a list (yaml.v3: line 3)",
		src:  head + "    fields:\n      - {name: a, type: string}\n     hooks: [data_received]\n",
		pos:  Pos{7, 6},
		msg:  "indentation: 5 spaces here, but the block above (line 4) uses 4",
	}, {
		name: "a key one space over, after a value (yaml.v3: line 5)",
		src:  head + "    doc: hello\n     hooks: [data_received]\n",
		pos:  Pos{6, 6},
		msg:  "indentation: 5 spaces here, but the block above (line 4) uses 4",
	}, {
		name: "a top-level key indented (yaml.v3: line 2)",
		src:  "version: 1\n package: chat\nprotocols:\n  - name: Chat\n",
		pos:  Pos{2, 2},
		msg:  "indentation: 1 space here, but the block above (line 1) uses 0",
	}, {
		name: "a list item one space short (yaml.v3: line 3)",
		src:  head + "    fields:\n      - {name: a, type: int}\n     - {name: b, type: int}\n",
		pos:  Pos{7, 6},
		msg:  "indentation: 5 spaces here, but the block above (line 6) uses 6",
	}, {
		name: "a list item one space over (yaml.v3: line 5)",
		src:  head + "    fields:\n      - {name: a, type: int}\n       - {name: b, type: int}\n",
		pos:  Pos{7, 8},
		msg:  "indentation: 7 spaces here, but the block above (line 6) uses 6",
	}, {
		name: "a protocol one space short (yaml.v3: line 5)",
		src:  head + "    hooks: [data_received]\n - name: Other\n",
		pos:  Pos{6, 2},
		msg:  "indentation: 1 space here, but the block above (line 4) uses 2",
	}, {
		name: "a key at the indentation of a list's items (yaml.v3: line 4, its own message)",
		src:  "version: 1\nprotocols:\n  - name: Chat\n  package: chat\n",
		pos:  Pos{4, 3},
		msg:  "indentation: 2 spaces here, where the list above (line 3) has its items (- ...); a key goes at 4 (the keys of line 3) or 0 (the keys of line 1)",
	}, {
		name: "a tab as indentation (yaml.v3: line 4)",
		src:  head + "\thooks: [data_received]\n",
		pos:  Pos{5, 1},
		msg:  "a tab in the indentation: YAML indents with spaces only",
	}, {
		name: "a tab among the spaces (yaml.v3: line 4)",
		src:  head + "  \t hooks: [data_received]\n",
		pos:  Pos{5, 3},
		msg:  "a tab in the indentation: YAML indents with spaces only",
	}, {
		name: "an unclosed double quote (yaml.v3: line 5)",
		src:  head + "    doc: \"hello\n    hooks: [data_received]\n",
		pos:  Pos{5, 10},
		msg:  `the string that starts here has no closing "`,
	}, {
		name: "an unclosed single quote (yaml.v3: line 5)",
		src:  head + "    doc: 'it''s\n    hooks: [data_received]\n",
		pos:  Pos{5, 10},
		msg:  "the string that starts here has no closing '",
	}, {
		name: "an unclosed quote in a flow mapping (yaml.v3: line 6)",
		src:  head + "    fields:\n      - {name: a, type: \"map[string]int}\n      - {name: b, type: int}\n    hooks: [data_received]\n",
		pos:  Pos{6, 25},
		msg:  `the string that starts here has no closing "`,
	}, {
		name: "an unclosed list (yaml.v3: line 4)",
		src:  head + "    hooks: [data_received\n    flow: {high_water: 1KiB}\n",
		pos:  Pos{5, 12},
		msg:  "the list that starts here has no closing ]",
	}, {
		name: "an unclosed mapping (yaml.v3: line 4)",
		src:  head + "    flow: {high_water: 1KiB\n    hooks: [data_received]\n",
		pos:  Pos{5, 11},
		msg:  "the mapping that starts here has no closing }",
	}, {
		name: "a missing colon: yaml.v3's message, at the line",
		src:  head + "    hooks [data_received]\n    flow: {high_water: 1KiB}\n",
		pos:  Pos{5, 5},
		msg:  "could not find expected ':'",
	}, {
		name: "a colon in a plain value: yaml.v3's message, at the line",
		src:  head + "    doc: a: b\n",
		pos:  Pos{5, 5},
		msg:  "mapping values are not allowed in this context",
	}, {
		name: "a quote inside a plain value is no quote; a block scalar and a multi-line list are fine",
		src: head + "    doc: it's \"fine\" # it's\n    fields:\n      - name: a\n        doc: |\n          text:\n          \"more\n" +
			"        type: [string,\n          int]\n   hooks: [data_received]\n",
		pos: Pos{13, 4},
		msg: "indentation: 3 spaces here, but the block above (line 4) uses 4",
	}, {
		name: "CRLF line ends",
		src:  strings.ReplaceAll(head+"    fields:\n      - {name: a, type: string}\n   hooks: [data_received]\n", "\n", "\r\n"),
		pos:  Pos{7, 4},
		msg:  "indentation: 3 spaces here, but the block above (line 4) uses 4",
	}}
	for _, tt := range tests {
		_, err := Parse("spec.yaml", []byte(tt.src), Options{})
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 {
			t.Errorf("%s: Parse = %v, want one error", tt.name, err)
			continue
		}
		if e := list[0]; e.Pos != tt.pos || e.Msg != "malformed YAML: "+tt.msg {
			t.Errorf("%s: got %v: %s\nwant %v: malformed YAML: %s", tt.name, e.Pos, e.Msg, tt.pos, tt.msg)
		}
	}
}
