package scaffold

import "bytes"

// appendText returns src followed by stubs, which starts with the blank
// line that precedes each stub. A file that does not end in a newline gets
// one, and one that already ends in a blank line keeps it instead of
// gaining another, so that a gofmt-clean file stays gofmt-clean.
func appendText(src, stubs []byte) []byte {
	out := bytes.Clone(src)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if bytes.HasSuffix(out, []byte("\n\n")) {
		stubs = bytes.TrimPrefix(stubs, []byte("\n"))
	}
	return append(out, stubs...)
}
