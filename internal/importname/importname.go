// Package importname decides the names by which a Go file that protogen
// writes refers to the packages it imports: the generated file, a new hook
// file, and the stubs appended to an existing one all name their imports
// with a [Namer], so that one rule names them all. The spec model holds
// only import paths; the printers name them, as protobuf-go's
// GeneratedFile.QualifiedGoIdent does: a path's name is the package name it
// most likely declares (see [Guess]), unless that name hides a predeclared
// identifier, an identifier the file reserves or another import, in which
// case a number is added (rooms2).
package importname

import (
	"go/token"
	"go/types"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// Import is an import path and the name a file refers to it by.
type Import struct {
	Path string // the import path
	Name string // the name the file uses for it
	// Alias is set when the import must be written with Name as an
	// explicit name: Name is not the last element of Path, which is all a
	// reader (or gofmt) can tell the package's name from.
	Alias bool
}

// Namer names the imports of one Go file. The zero value is not usable;
// call [New]. A Namer is not safe for concurrent use.
type Namer struct {
	byPath map[string]string // import path → its name in the file
	taken  map[string]bool   // names that no import named from now on may take
	avoid  func(string) bool // more names to stay clear of; nil for none
	named  []Import          // the imports Name chose, in order
}

// New returns a Namer for a file in which no import may take a predeclared
// identifier (any, error, string...) as its name.
func New() *Namer {
	n := &Namer{byPath: make(map[string]string), taken: make(map[string]bool)}
	for _, name := range types.Universe.Names() {
		n.taken[name] = true
	}
	return n
}

// Reserve keeps names from the imports named from now on: the identifiers
// that the file declares, or uses unqualified, and that an import name
// would hide.
func (n *Namer) Reserve(names ...string) {
	for _, name := range names {
		n.taken[name] = true
	}
}

// Avoid keeps every name for which avoid returns true from the imports
// named from now on, as Reserve does for a list: a printer that gives some
// names a meaning of its own (jennifer, which renames an import called
// err) passes its test here.
func (n *Namer) Avoid(avoid func(name string) bool) { n.avoid = avoid }

// Adopt records that the file already imports path under name, so that
// Name returns name for path and no other import takes it.
func (n *Namer) Adopt(path, name string) {
	if _, ok := n.byPath[path]; !ok {
		n.byPath[path] = name
	}
	n.taken[name] = true
}

// Name returns the name by which the file refers to the package at path,
// choosing one the first time it is asked: [Guess] of the path, or, when
// that name is taken, the guess followed by the first number from 2 that
// makes it free.
func (n *Namer) Name(path string) string {
	if name, ok := n.byPath[path]; ok {
		return name
	}
	guess := Guess(path)
	name := guess
	for i := 2; n.unavailable(name); i++ {
		name = guess + strconv.Itoa(i)
	}
	n.taken[name] = true
	n.byPath[path] = name
	n.named = append(n.named, Import{Path: path, Name: name, Alias: name != lastElem(path)})
	return name
}

func (n *Namer) unavailable(name string) bool {
	return n.taken[name] || n.avoid != nil && n.avoid(name)
}

// Imports returns the imports that Name has named, in the order it named
// them; adopted imports are not among them.
func (n *Namer) Imports() []Import { return n.named }

// Guess returns the package name that the package at an import path most
// likely declares, following the go command's conventions: the last
// element, skipping a major-version element (…/v2) and dropping a gopkg.in
// ".v3" suffix, a "go-" prefix and a "-go" suffix, with what is left made
// into a lower-case identifier ("pkg" goes in front of one that would
// start with a digit or be a keyword).
func Guess(importPath string) string {
	elems := strings.Split(importPath, "/")
	last := elems[len(elems)-1]
	if isMajorVersion(last) && len(elems) > 1 {
		last = elems[len(elems)-2]
	}
	if i := strings.LastIndex(last, ".v"); i > 0 && isMajorVersion(last[i+1:]) {
		last = last[:i]
	}
	last = strings.TrimPrefix(strings.TrimSuffix(last, "-go"), "go-")
	var b strings.Builder
	for _, r := range last {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	name := b.String()
	if name == "" || !unicode.IsLetter(rune(name[0])) || token.IsKeyword(name) {
		name = "pkg" + name
	}
	return name
}

// lastElem returns the last element of an import path.
func lastElem(importPath string) string { return path.Base(importPath) }

func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	_, err := strconv.Atoi(s[1:])
	return err == nil
}
