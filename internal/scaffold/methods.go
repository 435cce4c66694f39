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

// methodDecl is a method that the package declares, with the file that
// declares it (whose imports name the packages of its signature).
type methodDecl struct {
	fn   *ast.FuncDecl
	file *ast.File
}

// methodSet holds the methods that a package declares, by the name of
// their receiver's type and then by name.
type methodSet map[string]map[string][]methodDecl

func (m methodSet) has(typ, method string) bool { return len(m[typ][method]) > 0 }

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
			m[typ] = make(map[string][]methodDecl)
		}
		m[typ][fn.Name.Name] = append(m[typ][fn.Name.Name], methodDecl{fn, f})
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

// pkgInfo is what protogen reads of the package in the output folder: the
// methods it declares, the types it declares (to compare a hook method's
// signature with the hook's), and the names it uses after a dot (to tell
// whether a method is called).
type pkgInfo struct {
	fset    *token.FileSet
	methods methodSet
	types   map[string]typeDecl // package-level type declarations, by name
	// selectors counts the uses of each name after a dot, and the method
	// names that interfaces declare, in every file of the package that is
	// not generated, tests included; partial when a test file does not
	// parse.
	selectors map[string]int
	partial   bool
	// decls are the package-level names that the files read declare
	// (types, functions, constants and variables; not methods), and where,
	// test files and generated ones included; with the hook file's once
	// Plan adds it.
	decls map[string][]declAt
}

// declAt is where a package-level name is declared.
type declAt struct {
	pos  token.Pos
	file *ast.File
	test bool // in a _test.go file
}

// typeDecl is a package-level type declaration: a defined type, or an
// alias of Type.
type typeDecl struct {
	alias bool
	typ   ast.Expr
	file  *ast.File
}

func newPkgInfo(fset *token.FileSet) *pkgInfo {
	return &pkgInfo{fset: fset, methods: make(methodSet), types: make(map[string]typeDecl), selectors: make(map[string]int),
		decls: make(map[string][]declAt)}
}

// add records what f declares and uses.
func (pi *pkgInfo) add(f *ast.File, test bool) {
	pi.countSelectors(f, pi.selectors)
	pi.addDecls(f, test)
	if test {
		return
	}
	pi.methods.add(f)
	pi.addTypes(f)
}

// addDecls records the package-level names that f declares.
func (pi *pkgInfo) addDecls(f *ast.File, test bool) {
	declare := func(id *ast.Ident) {
		if id.Name != "_" && id.Name != "init" {
			pi.decls[id.Name] = append(pi.decls[id.Name], declAt{id.Pos(), f, test})
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declare(d.Name)
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					declare(sp.Name)
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						declare(id)
					}
				}
			}
		}
	}
}

// addTypes records the types that f declares.
func (pi *pkgInfo) addTypes(f *ast.File) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			pi.types[ts.Name.Name] = typeDecl{alias: ts.Assign.IsValid(), typ: ts.Type, file: f}
		}
	}
}

// countSelectors adds to counts each name that n uses after a dot, and
// each method name that an interface type in n declares.
func (pi *pkgInfo) countSelectors(n ast.Node, counts map[string]int) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			counts[n.Sel.Name]++
		case *ast.InterfaceType:
			for _, m := range n.Methods.List {
				for _, name := range m.Names {
					counts[name.Name]++
				}
			}
		}
		return true
	})
}

// called reports whether code of the package other than decls, the
// declarations of the method name, names it after a dot (a call, a method
// value) or in an interface: whether it may be used, as far as a reading
// without types can tell.
func (pi *pkgInfo) called(name string, decls []methodDecl) bool {
	own := make(map[string]int)
	for _, d := range decls {
		pi.countSelectors(d.fn, own)
	}
	return pi.partial || pi.selectors[name] > own[name]
}

// readPackage reads the Go files in dir other than skip (the hook file,
// which the caller parses, and the generated file, which is about to be
// replaced). Like the go command, it ignores names starting with "." or
// "_"; it also ignores files marked generated (another spec's output,
// whose calls are of its own hooks), but reads every other file whatever
// its build constraints, so a method kept in a file for another platform
// counts. Test files count only for the names they use.
func readPackage(fset *token.FileSet, dir string, skip ...string) (*pkgInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	pi := newPkgInfo(fset)
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || slices.Contains(skip, name) {
			continue
		}
		test := strings.HasSuffix(name, "_test.go")
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		switch {
		case f != nil && ast.IsGenerated(f):
			pi.addDecls(f, test)
			if !test {
				pi.addTypes(f) // another spec's output: its types are the package's too
			}
		case err != nil && test:
			pi.partial = true // what it uses is unknown; the build ignores it
		case err != nil:
			errs = append(errs, unparsable(err))
		default:
			pi.add(f, test)
		}
	}
	return pi, errors.Join(errs...)
}
