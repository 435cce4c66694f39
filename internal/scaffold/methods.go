package scaffold

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// methodSet holds the methods that a package declares, by the name of
// their receiver's type.
type methodSet map[string]map[string]bool

func (m methodSet) has(typ, method string) bool { return m[typ][method] }

// add records the methods that f declares. A method on T counts the same as
// one on *T: either is in *T's method set, which is what the generated
// hooks interface asks for. Methods of generic types are skipped, since a
// protocol type is never generic.
func (m methodSet) add(f *ast.File) {
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		typ, ok := receiverType(fn.Recv.List[0].Type)
		if !ok {
			continue
		}
		if m[typ] == nil {
			m[typ] = make(map[string]bool)
		}
		m[typ][fn.Name.Name] = true
	}
}

// receiverType returns the type name of a receiver T, *T or (*T).
func receiverType(x ast.Expr) (string, bool) {
	for {
		switch t := x.(type) {
		case *ast.ParenExpr:
			x = t.X
		case *ast.StarExpr:
			x = t.X
		case *ast.Ident:
			return t.Name, true
		default: // T[P], or a syntax error
			return "", false
		}
	}
}

// packageMethods returns the methods declared by the Go files in dir other
// than skip (the hook file, which the caller parses, and the generated
// file, which is about to be replaced). Like the go command, it ignores
// test files and names starting with "." or "_"; it also ignores files
// marked generated (another spec's output), but reads every other file
// whatever its build constraints, so a method kept in a file for another
// platform counts.
func packageMethods(fset *token.FileSet, dir string, skip ...string) (methodSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := make(methodSet)
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || slices.Contains(skip, name) {
			continue
		}
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		switch {
		case f != nil && ast.IsGenerated(f):
		case err != nil:
			errs = append(errs, unparsable(err))
		default:
			m.add(f)
		}
	}
	return m, errors.Join(errs...)
}
