package spec

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("a", 150) + "X" + strings.Repeat("b", 150)
	tests := []struct {
		name   string
		line   int
		col    int
		source string
		want   string // "" for no excerpt
	}{
		{"first column", 2, 1, "pakage: chat", "" +
			"    2 | pakage: chat\n" +
			"      | ^\n"},
		{"inside", 5, 13, "    hooks: [data_recieved]", "" +
			"    5 |     hooks: [data_recieved]\n" +
			"      |             ^\n"},
		{"tabs keep the caret aligned", 3, 9, "a: [\tb,\tc]", "" +
			"    3 | a: [\tb,\tc]\n" +
			"      |     \t  \t^\n"},
		{"non-ASCII counts characters", 1, 6, "a: é, ü", "" +
			"    1 | a: é, ü\n" +
			"      |      ^\n"},
		{"wide characters take two columns, combining marks none", 1, 10, "d: 温度 e\u0301 x", "" +
			"    1 | d: 温度 e\u0301 x\n" +
			"      | " + strings.Repeat(" ", 3+4+1+1+1) + "^\n"},
		{"last character", 1, 3, "a:b", "" +
			"    1 | a:b\n" +
			"      |   ^\n"},
		{"a wide line number", 123456, 1, "x", "" +
			" 123456 | x\n" +
			"        | ^\n"},
		{"unprintable characters", 1, 3, "a\x1b[31m", "" +
			"    1 | a\ufffd[31m\n" +
			"      |   ^\n"},
		{"a long line shows the part around the column", 7, 151, long, "" +
			"    7 | ..." + strings.Repeat("a", 40) + "X" + strings.Repeat("b", 59) + "...\n" +
			"      |    " + strings.Repeat(" ", 40) + "^\n"},
		{"a long line, column near its end", 7, 300, long, "" +
			"    7 | ..." + strings.Repeat("a", 0) + long[201:] + "\n" +
			"      |    " + strings.Repeat(" ", 98) + "^\n"},
		{"past the end of the line", 1, 4, "a:b", ""},
		{"far past the end", 1, 40, "a:b", ""},
		{"an empty line", 4, 1, "", ""},
		{"unknown line", 0, 0, "", ""},
		{"unknown line, known text", 0, 1, "abc", ""},
	}
	for _, tt := range tests {
		e := &Error{File: "s.yaml", Pos: Pos{tt.line, tt.col}, Msg: "m", Source: tt.source}
		if got := e.Excerpt(); got != tt.want {
			t.Errorf("%s: Excerpt() =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// Parse gives each error the text of its line, without a line ending, and
// Error stays one line per problem.
func TestParseErrorSource(t *testing.T) {
	src := "version: 1\r\npakage: chat\r\nprotocols:\r\n  - name: Chat\r\n    hooks: [data_recieved]\r\n"
	_, err := Parse("chat.yaml", []byte(src), Options{DefaultPackage: "chat"})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Parse = %v, want two errors", err)
	}
	if got, want := list[0].Source, "pakage: chat"; got != want {
		t.Errorf("first error's Source = %q, want %q", got, want)
	}
	if got, want := list[1].Source, "    hooks: [data_recieved]"; got != want {
		t.Errorf("second error's Source = %q, want %q", got, want)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "chat.yaml:5:13: unknown hook") {
		t.Errorf("Error() = %q, want two file:line:col lines", err.Error())
	}
}

// Lines are counted as yaml.v3 counts them, so that an excerpt shows the
// line that the position names.
func TestSplitLines(t *testing.T) {
	got := splitLines([]byte("a\r\nb\rc\nd\u0085e\u2028f\u2029g\n"))
	want := []string{"a", "b", "c", "d", "e", "f", "g", ""}
	if !slices.Equal(got, want) {
		t.Errorf("splitLines = %q, want %q", got, want)
	}
	src := "version: 1\rpackage: p\u2028protocols:\r\n  - name: P\n    hooks: [nope]\n"
	_, err := Parse("s.yaml", []byte(src), Options{})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Pos.Line != 5 || list[0].Source != "    hooks: [nope]" {
		t.Errorf("Parse = %#v, want one error on line 5, \"    hooks: [nope]\"", err)
	}
}
