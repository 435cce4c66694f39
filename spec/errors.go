package spec

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in a spec file. Line and Col count from 1; a zero Pos
// means the position is unknown.
type Pos struct {
	Line, Col int // from 1; 0 when unknown
}

// String returns the position as "LINE:COL".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is one problem in a spec, at a position.
type Error struct {
	File string // the spec's path, as given
	Pos  Pos    // where the problem is
	Msg  string // what the problem is, without the position
	// Source is the text of the spec's line Pos.Line, without its line
	// ending, when it is known; Excerpt shows it.
	Source string
}

// Error returns the problem as "file:LINE:COL: message".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Excerpt returns the problem's line of the spec with a caret under its
// column, the way compilers show an error after its "file:LINE:COL:"
// line:
//
//	chat.yaml:5:13: unknown hook "data_recieved"; did you mean data_received? (...)
//	    5 |     hooks: [data_recieved]
//	      |             ^
//
// The caret's line repeats the tabs that come before the column in the
// source line, so that the caret stays under it whatever a tab's width,
// and gives a wide character (温) two columns and a combining mark none. A
// character that a terminal would not print shows as U+FFFD, and a long
// line shows only the part around the column. Excerpt returns "" when the
// line is unknown or the column is not on a character of it.
func (e *Error) Excerpt() string {
	line := []rune(e.Source)
	col := e.Pos.Col - 1 // index of the caret's rune
	if e.Pos.Line < 1 || col < 0 || col >= len(line) {
		return ""
	}
	for i, r := range line {
		if r != '\t' && !unicode.IsPrint(r) {
			line[i] = unicode.ReplacementChar
		}
	}
	// Show at most excerptWidth characters, from a little before the caret.
	const excerptWidth, lead = 100, 40
	head, tail := "", ""
	if len(line) > excerptWidth {
		start := max(0, min(col-lead, len(line)-excerptWidth))
		if start > 0 {
			head = "..."
		}
		if start+excerptWidth < len(line) {
			tail = "..."
		}
		line = line[start : start+excerptWidth]
		col -= start
	}
	pad := []rune(strings.Repeat(" ", len(head)))
	for _, r := range line[:col] {
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, []rune(strings.Repeat(" ", cells(r)))...)
		}
	}
	num := strconv.Itoa(e.Pos.Line)
	width := max(len(num), 4)
	return fmt.Sprintf(" %*s | %s%s%s\n %*s | %s^\n", width, num, head, string(line), tail, width, "", string(pad))
}

// cells is how many terminal columns r takes: two for the wide characters
// of East Asian scripts (and emoji), none for a combining mark, one for
// the rest (Excerpt shows other characters that print nothing as U+FFFD).
func cells(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0x303E, r >= 0x3041 && r <= 0x33FF,
		r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xA000 && r <= 0xA4CF,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x1F680 && r <= 0x1F6FF, r >= 0x1F900 && r <= 0x1F9FF, r >= 0x1FA70 && r <= 0x1FAFF,
		r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}

// ErrorList is every problem found in a spec, sorted by position. Its Error
// method prints one problem per line; to show each problem's line of the
// spec too, print each Error followed by its Excerpt.
type ErrorList []*Error

// Error returns the problems as "file:LINE:COL: message" lines.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sort orders the list by file, line, column and message, and drops exact
// duplicates (an alias reached twice reports its problem once).
func (l *ErrorList) sort() {
	slices.SortStableFunc(*l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	*l = slices.CompactFunc(*l, func(a, b *Error) bool { return *a == *b })
}

// MergeErrors joins errs as [errors.Join] does, except that the problems
// of [ErrorList]s about one file, from different checks (a spec's own and
// CheckTypes'), become one list, sorted, where the file's first list was:
// a spec's problems print in the order of the file.
func MergeErrors(errs ...error) error {
	var out []error
	at := make(map[string]int) // file → index of its list in out
	var add func(err error)
	add = func(err error) {
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				add(inner)
			}
		case ErrorList:
			for _, pe := range e {
				i, ok := at[pe.File]
				if !ok {
					i = len(out)
					at[pe.File] = i
					out = append(out, ErrorList(nil))
				}
				out[i] = append(out[i].(ErrorList), pe)
			}
		default:
			out = append(out, err)
		}
	}
	for _, err := range errs {
		add(err)
	}
	for i, err := range out {
		if l, ok := err.(ErrorList); ok {
			l.sort()
			out[i] = l
		}
	}
	return errors.Join(out...)
}

// err returns the list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}

// withSource gives each error of err that is about file the text of its
// line, taken from data, the file's content.
func withSource(err error, file string, data []byte) error {
	list, ok := err.(ErrorList)
	if !ok {
		return err
	}
	var lines []string
	for _, e := range list {
		if e.File != file || e.Source != "" {
			continue
		}
		if lines == nil {
			lines = splitLines(data)
		}
		if e.Pos.Line >= 1 && e.Pos.Line <= len(lines) {
			e.Source = lines[e.Pos.Line-1]
		}
	}
	return list
}

// splitLines splits data into lines where yaml.v3 counts them: at "\r\n",
// and at each "\n", "\r", NEL, LS and PS, as YAML 1.1 does.
func splitLines(data []byte) []string {
	var lines []string
	text := string(data)
	for {
		i := strings.IndexAny(text, "\n\r\u0085\u2028\u2029")
		if i < 0 {
			return append(lines, text)
		}
		lines = append(lines, text[:i])
		_, size := utf8.DecodeRuneInString(text[i:])
		if strings.HasPrefix(text[i:], "\r\n") {
			size = 2
		}
		text = text[i+size:]
	}
}
