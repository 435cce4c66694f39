package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a syntax error at the line where its parser noticed it,
// which is often the line of an enclosing block: a key indented one space
// too little on line 7 is "line 3: did not find expected key". This file
// finds the line that is really wrong, and says what is wrong with it:
//
//   - the longest prefix of the spec, cut between lines at block level,
//     that parses is found by bisection; the first line after it is the
//     culprit;
//   - a tab in its indentation, an indentation that no block open at that
//     point uses, or a quoted string or flow collection that it opens and
//     nothing closes is named as such, at its own column;
//   - otherwise yaml.v3's message is given at that line.

// yamlLineInfo is what a lexical scan of the spec knows about one line.
type yamlLineInfo struct {
	start int    // byte offset of the line in the spec
	text  string // the line, without its line break
	// atBlock: the line starts outside any quoted string, flow collection
	// and block scalar, so the spec may be cut before it.
	atBlock bool
}

// yamlOpen is a quoted string or flow collection that the scan found open
// at the end of the spec: where it starts, and the character that closes
// it.
type yamlOpen struct {
	line, col int // from 1; col counts characters
	closer    byte
}

// scanYAML splits data into lines and scans them for what yaml.v3 does
// not tell precisely: quoted strings, flow collections and block scalars
// (to know where the spec may be cut), and what is left open at the end.
func scanYAML(data []byte) (lines []yamlLineInfo, open []yamlOpen) {
	text := string(data)
	for off := 0; ; {
		i := strings.IndexAny(text[off:], "\n\r\u0085\u2028\u2029")
		if i < 0 {
			lines = append(lines, yamlLineInfo{start: off, text: text[off:]})
			break
		}
		lines = append(lines, yamlLineInfo{start: off, text: text[off : off+i]})
		_, size := utf8.DecodeRuneInString(text[off+i:])
		if strings.HasPrefix(text[off+i:], "\r\n") {
			size = 2
		}
		off += i + size
	}
	var quote *yamlOpen // the open quoted string, if any
	var flows []yamlOpen
	blockParent := -1 // the indentation of a block scalar's key, while in one
	blockIndent := -1 // the indentation of its content, once known
	for n := range lines {
		l := &lines[n]
		indent := len(l.text) - len(strings.TrimLeft(l.text, " "))
		if blockParent >= 0 {
			switch {
			case strings.TrimSpace(l.text) == "":
				continue
			case blockIndent < 0 && indent > blockParent:
				blockIndent = indent
				continue
			case blockIndent >= 0 && indent >= blockIndent:
				continue
			}
			blockParent, blockIndent = -1, -1
		}
		l.atBlock = quote == nil && len(flows) == 0
		tokenStart := true // a scalar, collection or block scalar may start here
		rest := l.text     // what is left of the line to scan
		col := 0           // the column of the character just read
		read := func() rune {
			r, size := utf8.DecodeRuneInString(rest)
			rest = rest[size:]
			col++
			return r
		}
		for rest != "" {
			c := read()
			if quote != nil {
				switch {
				case c == '\\' && quote.closer == '"' && rest != "":
					read() // an escaped character
				case c == '\'' && quote.closer == '\'' && strings.HasPrefix(rest, "'"):
					read() // '' is a quote inside the string
				case c == rune(quote.closer):
					quote = nil
					tokenStart = false
				}
				continue
			}
			spaceNext := rest == "" || rest[0] == ' ' || rest[0] == '\t'
			switch {
			case c == ' ' || c == '\t':
				continue
			case c == '#' && (col == 1 || strings.ContainsRune(" \t", prevRune(l.text, len(l.text)-len(rest)-1))):
				rest = "" // a comment
			case (c == '"' || c == '\'') && tokenStart:
				quote = &yamlOpen{n + 1, col, byte(c)}
			case (c == '[' || c == '{') && (tokenStart || len(flows) > 0):
				closer := byte(']')
				if c == '{' {
					closer = '}'
				}
				flows = append(flows, yamlOpen{n + 1, col, closer})
				tokenStart = true
			case (c == ']' || c == '}') && len(flows) > 0:
				flows = flows[:len(flows)-1]
				tokenStart = false
			case c == ',' && len(flows) > 0:
				tokenStart = true
			case (c == '-' || c == '?') && tokenStart && spaceNext:
				tokenStart = true
			case c == ':' && (spaceNext || len(flows) > 0):
				tokenStart = true
			case (c == '|' || c == '>') && tokenStart && len(flows) == 0:
				blockParent = indent
				rest = "" // the header; the content follows
			default:
				tokenStart = false
			}
		}
	}
	if quote != nil {
		open = append(open, *quote)
	}
	return lines, append(open, flows...)
}

// prevRune returns the character of s that ends before byte offset i, or
// a space at the start of s.
func prevRune(s string, i int) rune {
	if i <= 0 {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// parsesYAML reports whether data is well-formed YAML, every document of
// it.
func parsesYAML(data []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		switch err := dec.Decode(&n); {
		case errors.Is(err, io.EOF):
			return true
		case err != nil:
			return false
		}
	}
}

// locateYAMLError finds where the syntax error that yaml.v3 reported in data
// as msg really is, and what to say about it. It returns false when it
// cannot tell better than yaml.v3.
func locateYAMLError(data []byte, msg string) (Pos, string, bool) {
	lines, open := scanYAML(data)
	var cuts []int // lines before which the spec may be cut
	for n, l := range lines {
		if l.atBlock {
			cuts = append(cuts, n)
		}
	}
	prefix := func(cut int) []byte { return data[:lines[cut].start] }
	// cuts[0] is line 0: the empty prefix parses. Find the last cut whose
	// prefix parses, given that the whole spec does not.
	lo, hi := 0, len(cuts) // cuts[lo] parses; cuts[hi] (or the whole spec) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if parsesYAML(prefix(cuts[mid])) {
			lo = mid
		} else {
			hi = mid
		}
	}
	end := len(lines)
	if hi < len(cuts) {
		end = cuts[hi]
	}
	culprit := -1 // the first line with content in cuts[lo] .. end
	for n := cuts[lo]; n < end; n++ {
		if t := strings.TrimLeft(lines[n].text, " \t"); t != "" && !strings.HasPrefix(t, "#") {
			culprit = n
			break
		}
	}
	if culprit < 0 {
		return Pos{}, "", false
	}
	text := lines[culprit].text
	indent := len(text) - len(strings.TrimLeft(text, " "))
	if ws := len(text) - len(strings.TrimLeft(text, " \t")); strings.Contains(text[:ws], "\t") {
		return Pos{culprit + 1, strings.IndexByte(text, '\t') + 1},
			"a tab in the indentation: YAML indents with spaces only", true
	}
	pos := Pos{culprit + 1, indent + 1}
	if hint := indentHint(prefix(cuts[lo]), text[indent:], indent); hint != "" {
		return pos, hint, true
	}
	for _, o := range open {
		if o.line-1 >= culprit && o.line-1 < end {
			what := "string"
			switch o.closer {
			case ']':
				what = "list"
			case '}':
				what = "mapping"
			}
			return Pos{o.line, o.col}, fmt.Sprintf("the %s that starts here has no closing %c", what, o.closer), true
		}
	}
	return pos, msg, true
}

// yamlBlock is a block collection open at the end of a prefix of the spec.
type yamlBlock struct {
	indent  int  // the indentation of its keys, or of the dashes of its items
	line    int  // where it starts
	mapping bool // a mapping, not a sequence
}

// indentHint says what is wrong with the indentation of a line (content,
// the line without its indentation, which is indent spaces) that follows
// prefix, or returns "" if the line is indented as a block open at that
// point is, or deeper under a key or dash that awaits its value.
func indentHint(prefix []byte, content string, indent int) (hint string) {
	defer func() {
		if recover() != nil { // yaml.v3 has panicked on hostile input before
			hint = ""
		}
	}()
	var doc yaml.Node
	if yaml.Unmarshal(prefix, &doc) != nil || len(doc.Content) == 0 {
		return ""
	}
	var blocks []yamlBlock
	deeper := -1 // the line may be indented deeper than this, as a new block
	for n := doc.Content[0]; n != nil && n.Style&yaml.FlowStyle == 0; {
		var last *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			blocks = append(blocks, yamlBlock{n.Column - 1, n.Line, true})
			if len(n.Content) >= 2 {
				last = n.Content[len(n.Content)-1]
				if isNull(last) && last.Value == "" {
					deeper = n.Content[len(n.Content)-2].Column - 1
				}
			}
		case yaml.SequenceNode:
			blocks = append(blocks, yamlBlock{n.Column - 1, n.Line, false})
			if len(n.Content) > 0 {
				last = n.Content[len(n.Content)-1]
				if isNull(last) && last.Value == "" {
					deeper = n.Column - 1
				}
			}
		}
		n = last
	}
	if len(blocks) == 0 || deeper >= 0 && indent > deeper {
		return ""
	}
	item := content == "-" || strings.HasPrefix(content, "- ")
	var list *yamlBlock // a list whose items are at this indentation
	for i, b := range blocks {
		switch {
		case b.indent != indent:
		case b.mapping != item:
			return "" // a key of a mapping, or an item of a list, at its place
		default:
			list = &blocks[i]
		}
	}
	// The block the line most likely belongs to: the nearest one of its
	// kind (a mapping for a key, a sequence for an item), the deeper one
	// of two as near.
	best := -1
	for i, b := range blocks {
		if b.mapping == item {
			continue
		}
		if best < 0 || abs(b.indent-indent) <= abs(blocks[best].indent-indent) {
			best = i
		}
	}
	if best < 0 {
		best = len(blocks) - 1
	}
	b := blocks[best]
	if list != nil && !item && b.mapping {
		// A key where a list has its items: name the mappings on either
		// side, whose keys it may have meant to be.
		var where []string
		for _, deeper := range []bool{true, false} {
			var near *yamlBlock
			for i, m := range blocks {
				if m.mapping && (m.indent > indent) == deeper && (near == nil || abs(m.indent-indent) < abs(near.indent-indent)) {
					near = &blocks[i]
				}
			}
			if near != nil {
				where = append(where, fmt.Sprintf("%d (the keys of line %d)", near.indent, near.line))
			}
		}
		return fmt.Sprintf("indentation: %s here, where the list above (line %d) has its items (- ...); a key goes at %s",
			spaces(indent), list.line, strings.Join(where, " or "))
	}
	return fmt.Sprintf("indentation: %s here, but the block above (line %d) uses %d", spaces(indent), b.line, b.indent)
}

func spaces(n int) string {
	if n == 1 {
		return "1 space"
	}
	return fmt.Sprintf("%d spaces", n)
}

func abs(n int) int { return max(n, -n) }
