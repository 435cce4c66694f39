package scaffold

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"path"
	"strconv"
	"strings"

	"github.com/protogen/protogen/spec"
)

// importNames decides how the stubs appended to a hook file refer to the
// packages they use: by the name the file already imports a package under,
// or else by the spec's name for it, imported anew under a name that no
// import of the file takes.
type importNames struct {
	s       *spec.Spec
	byPath  map[string]string // import path → its name in the file
	taken   map[string]bool   // names that the file's imports declare
	added   []spec.Import     // imports to insert, in order of first use
	unknown []string          // paths the spec has no name for
}

func newImportNames(f *ast.File, s *spec.Spec) *importNames {
	n := &importNames{s: s, byPath: make(map[string]string), taken: make(map[string]bool)}
	for _, is := range f.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		imp, inSpec := n.specImport(p)
		switch {
		case is.Name == nil && (!inSpec || !imp.Alias):
			// The package's name is the path's last element, as the
			// generated code assumes for every import it writes bare.
			name := path.Base(p)
			n.taken[name] = true
			n.keep(p, name)
		case is.Name == nil:
			// The spec aliases this path, so the package's name is only
			// guessed: the stubs import the path again, under a name that
			// is neither guess.
			n.taken[path.Base(p)] = true
			n.taken[imp.Name] = true
		case is.Name.Name != "_" && is.Name.Name != ".":
			n.taken[is.Name.Name] = true
			n.keep(p, is.Name.Name)
		}
	}
	return n
}

// keep records the first name under which the file imports p.
func (n *importNames) keep(p, name string) {
	if _, ok := n.byPath[p]; !ok {
		n.byPath[p] = name
	}
}

func (n *importNames) specImport(p string) (spec.Import, bool) {
	for _, imp := range n.s.Imports {
		if imp.Path == p {
			return imp, true
		}
	}
	return spec.Import{}, false
}

// name returns the name by which the stubs refer to the package at path p,
// adding an import when the file has none for it.
func (n *importNames) name(p string) string {
	if name, ok := n.byPath[p]; ok {
		return name
	}
	imp, ok := n.specImport(p)
	if !ok {
		n.unknown = append(n.unknown, p)
		return "_"
	}
	name := imp.Name
	for i := 2; n.taken[name]; i++ {
		name = imp.Name + strconv.Itoa(i)
	}
	n.taken[name] = true
	n.byPath[p] = name
	n.added = append(n.added, spec.Import{Path: p, Name: name, Alias: imp.Alias || name != imp.Name})
	return name
}

// err reports the paths for which name had no answer.
func (n *importNames) err() error {
	if len(n.unknown) == 0 {
		return nil
	}
	return fmt.Errorf("no package name for %s among the spec's imports", strings.Join(n.unknown, ", "))
}

// insertImports returns src with an import declaration for each of imports
// inserted on lines of their own: after the line that ends the file's last
// import declaration or, in a file without one, after the package clause
// and a blank line. Nothing of src changes or moves within its lines.
func insertImports(fset *token.FileSet, f *ast.File, src []byte, imports []spec.Import) []byte {
	if len(imports) == 0 {
		return src
	}
	var decls bytes.Buffer
	for _, imp := range imports {
		if imp.Alias {
			fmt.Fprintf(&decls, "import %s %q\n", imp.Name, imp.Path)
		} else {
			fmt.Fprintf(&decls, "import %q\n", imp.Path)
		}
	}
	var last *ast.GenDecl
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			last = gd
		}
	}
	var at int
	var text []byte
	if last != nil {
		at = lineEnd(fset, f, src, last.End())
		text = decls.Bytes()
	} else {
		at = lineEnd(fset, f, src, f.Name.End())
		text = append([]byte("\n"), decls.Bytes()...)
		if at < len(src) && src[at] != '\n' {
			text = append(text, '\n') // keep a blank line before what follows
		}
	}
	if at == len(src) && !bytes.HasSuffix(src, []byte("\n")) {
		text = append([]byte("\n"), text...)
	}
	return bytes.Join([][]byte{src[:at], text, src[at:]}, nil)
}

// lineEnd returns the offset just past the newline that ends the line
// holding pos, or past the comments that start on that line (a /* */
// comment may end on a later one), or len(src) when no newline follows.
func lineEnd(fset *token.FileSet, f *ast.File, src []byte, pos token.Pos) int {
	off := fset.Position(pos).Offset
	line := fset.Position(pos).Line
comments:
	for _, g := range f.Comments {
		for _, c := range g.List {
			start := fset.Position(c.Pos())
			if c.Pos() < pos {
				continue
			}
			if start.Line > line {
				break comments
			}
			end := fset.Position(c.End())
			off, line = end.Offset, end.Line
		}
	}
	if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(src)
}
