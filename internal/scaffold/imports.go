package scaffold

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"path"
	"strconv"

	"github.com/protogen/protogen/internal/importname"
)

// fileNames returns the namer of the stubs appended to the hook file f:
// they refer to a package by the name f already imports it under, and
// import any other anew under a name that no import of f takes. A path
// that f imports without a name is reused only when its last element is
// the name the package most likely declares; otherwise the name is only a
// guess, and the stubs import the path again, under a name that is
// neither.
func fileNames(f *ast.File) *importname.Namer {
	n := importname.New()
	for _, is := range f.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		switch {
		case is.Name == nil:
			if guess := importname.Guess(p); guess == path.Base(p) {
				n.Adopt(p, guess)
			} else {
				n.Reserve(path.Base(p), guess)
			}
		case is.Name.Name != "_" && is.Name.Name != ".":
			n.Adopt(p, is.Name.Name)
		}
	}
	return n
}

// insertImports returns src with an import declaration for each of imports
// inserted on lines of their own: after the line that ends the file's last
// import declaration or, in a file without one, after the package clause
// and a blank line. Nothing of src changes or moves within its lines.
func insertImports(fset *token.FileSet, f *ast.File, src []byte, imports []importname.Import) []byte {
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
