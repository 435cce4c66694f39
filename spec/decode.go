package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes that following aliases may add to a spec, so
// that an alias bomb is an error and not a hang.
const maxNodes = 100_000

// decoder walks the YAML node tree of a spec, keeping every problem it
// finds with its position.
type decoder struct {
	file   string
	errs   ErrorList
	budget int  // nodes left to visit
	spent  bool // the budget ran out; reported once
	// msgs holds the messages part's names, for the protocols that refer
	// to its sets.
	msgs *messageScope
	// dropped holds the names of the message fields left out for an error
	// of their own, so that a reference to one by name is not reported
	// again as a field that does not exist.
	dropped map[string]bool
	// merged holds the mappings that hold a merge key (<<), reported:
	// what the merge would have given is unknown, so a key they lack is
	// not reported as missing too (missingf).
	merged map[*yaml.Node]bool
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func (d *decoder) errorAt(p Pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errorAt(posOf(n), format, args...)
}

// missingf reports a key that mapping n lacks, unless n holds a merge key
// (reported), which may have been meant to give it.
func (d *decoder) missingf(n *yaml.Node, format string, args ...any) {
	if !d.merged[n] {
		d.errorf(n, format, args...)
	}
}

// visit follows an alias and charges the node budget. It returns nil once
// the budget is spent.
func (d *decoder) visit(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			d.errorf(n, "alias chain too long")
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if d.budget--; d.budget < 0 {
		if !d.spent {
			d.spent = true
			d.errorf(n, "spec too large: its aliases expand to more than %d extra nodes", maxNodes)
		}
		return nil
	}
	return n
}

// isNull reports an explicitly empty value ("key:", "key: null", "key: ~").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// kindName names what a node holds, for "expected X, found Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "nothing"
		}
		return "the value " + n.Value
	}
	return "a document"
}

// extensionKeys in a list of known keys admits any key that starts with
// "x-".
const extensionKeys = "x-*"

// mapping calls fn for each key of the mapping n that is in known, in
// document order, and reports unknown keys (with a suggestion), duplicate
// keys, merge keys and keys that are not strings. It reports whether n is a
// mapping.
func (d *decoder) mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, found %s", what, kindName(n))
		return false
	}
	seen := make(map[string]Pos)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.visit(n.Content[i])
		v := d.visit(n.Content[i+1])
		if k == nil || v == nil {
			return true
		}
		if k.Tag == "!!merge" {
			d.errorf(k, "%s: merge keys (<<) are not supported; repeat the keys", what)
			if d.merged == nil {
				d.merged = make(map[*yaml.Node]bool)
			}
			d.merged[n] = true
			continue
		}
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" {
			d.errorf(k, "%s: keys must be strings, found %s", what, kindName(k))
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			d.errorf(k, "duplicate key %q in %s (first at %v)", key, what, first)
			continue
		}
		seen[key] = posOf(k)
		switch {
		case slices.Contains(known, key):
			fn(key, k, v)
		case slices.Contains(known, extensionKeys) && strings.HasPrefix(key, "x-"):
			// An extension: ignored, and a home for YAML anchors.
		default:
			names := slices.DeleteFunc(slices.Clone(known), func(k string) bool { return k == extensionKeys })
			d.errorf(k, "unknown key %q in %s%s", key, what, didYouMean(key, names))
		}
	}
	return true
}

// sequence calls fn for each item of the list n. A null value is an empty
// list. It reports whether n is a list.
func (d *decoder) sequence(n *yaml.Node, what string, fn func(item *yaml.Node)) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list, found %s", what, kindName(n))
		return false
	}
	for _, item := range n.Content {
		if item = d.visit(item); item == nil {
			return true
		}
		fn(item)
	}
	return true
}

// str returns a string scalar.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf(n, "%s: expected a string, found %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// doc returns a doc string, which becomes Go comments: carriage returns
// are dropped, and characters a Go source file cannot hold are refused.
func (d *decoder) doc(n *yaml.Node) string {
	text, ok := d.str(n, "doc")
	if !ok {
		return ""
	}
	text = strings.ReplaceAll(text, "\r", "")
	if i := strings.IndexFunc(text, func(r rune) bool { return r == 0 || r == '\uFEFF' }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(text[i:])
		d.errorf(n, "doc: the character %U cannot appear in Go source", r)
		return ""
	}
	return text
}

// integer returns an integer scalar.
func (d *decoder) integer(n *yaml.Node, what string) (int, bool) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		d.errorf(n, "%s: expected an integer, found %s", what, kindName(n))
		return 0, false
	}
	return v, true
}

// integerAtLeast returns an integer scalar of at least least.
func (d *decoder) integerAtLeast(n *yaml.Node, what string, least int) (int, bool) {
	v, ok := d.integer(n, what)
	switch {
	case !ok:
		return 0, false
	case v < least && least == 0:
		d.errorf(n, "%s must be 0 or more", what)
		return 0, false
	case v < least:
		d.errorf(n, "%s must be at least %d", what, least)
		return 0, false
	}
	return v, true
}

// boolean returns a boolean scalar.
func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		d.errorf(n, "%s: expected true or false, found %s", what, kindName(n))
		return false, false
	}
	return v, true
}

// size returns a size in bytes, written as an integer or as "64KiB".
func (d *decoder) size(n *yaml.Node, what string) (int, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!str") {
		v, err := parseSize(n.Value)
		if err == nil {
			return v, true
		}
		d.errorf(n, "%s: %v", what, err)
		return 0, false
	}
	d.errorf(n, "%s: expected a size such as 65536 or 64KiB, found %s", what, kindName(n))
	return 0, false
}

// positiveSize returns a size of at least one byte.
func (d *decoder) positiveSize(n *yaml.Node, what string) (int, bool) {
	v, ok := d.size(n, what)
	if ok && v <= 0 {
		d.errorf(n, "%s must be at least 1 byte", what)
		return 0, false
	}
	return v, ok
}

// duration returns a positive Go duration, written as "30s" or "1m30s".
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		d.errorf(n, "%s: %s has no unit: write a Go duration such as %ss", what, n.Value, n.Value)
		return 0, false
	}
	s, ok := d.str(n, what)
	if !ok {
		return 0, false
	}
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		d.errorf(n, "%s: %q is not a Go duration such as 30s, 1m30s or 500ms", what, s)
		return 0, false
	case v <= 0:
		d.errorf(n, "%s: %s must be positive (leave the key out for no timeout)", what, s)
		return 0, false
	}
	return v, true
}
