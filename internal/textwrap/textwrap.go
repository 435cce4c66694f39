// Package textwrap fills comment text to a width, so that generated comments
// read like hand-written ones.
package textwrap

import "strings"

// Width is the width generated comments are filled to, not counting the
// "// " marker.
const Width = 76

// Lines fills each paragraph of text (paragraphs are separated by blank
// lines) to width and returns the lines, with an empty line between
// paragraphs. A word longer than width gets a line of its own.
func Lines(text string, width int) []string {
	var lines []string
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			lines = append(lines, "")
		}
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) > width:
				lines = append(lines, line)
				line = word
			default:
				line += " " + word
			}
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
