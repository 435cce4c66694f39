package scaffold

import (
	"go/ast"
	"go/build"
	"go/types"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/protogen/protogen/internal/importname"
	"github.com/protogen/protogen/spec"
)

// A hook method with the wrong signature fails the build (the generated
// hooks interface asserts it), and -check should say so before the build
// does. Without type-checking the package (which may not build, and costs
// a go list), signatures are compared as written, resolving what a reading
// can: the file's imports, the package's own type declarations and
// aliases, the predeclared types. The comparison answers same, differ or
// unsure, and only differ is reported: a name that might be an alias of
// the hook's type is never called wrong.

// verdict is what comparing two types as written can tell.
type verdict int

const (
	same verdict = iota
	unsure
	differ
)

// and combines the verdicts of the parts of a type or a signature.
func (v verdict) and(w verdict) verdict { return max(v, w) }

// ownPackages are the runtime's packages, which generated code and hook
// signatures name: they declare no type aliases (TestRuntimeDeclaresNoAliases),
// so two of their names are two types.
var ownPackages = map[string]bool{spec.RuntimePath: true, spec.WirePath: true}

// sigChecker compares the signatures of a package's methods with the
// hooks'.
type sigChecker struct {
	pkg *pkgInfo
}

// check compares fn, declared in file, with the hook method m.
func (c sigChecker) check(fn *ast.FuncDecl, file *ast.File, m *spec.Member) verdict {
	ft := fn.Type
	if ft.TypeParams != nil {
		return differ
	}
	v := c.list(ft.Params, file, m.Params)
	return v.and(c.list(ft.Results, file, m.Results))
}

// list compares a parameter or result list with the hook's.
func (c sigChecker) list(fl *ast.FieldList, file *ast.File, want []spec.Param) verdict {
	var got []ast.Expr
	if fl != nil {
		for _, f := range fl.List {
			for range max(len(f.Names), 1) {
				got = append(got, f.Type)
			}
		}
	}
	if len(got) != len(want) {
		return differ
	}
	v := same
	for i := range got {
		if _, variadic := got[i].(*ast.Ellipsis); variadic {
			return differ // no hook is variadic
		}
		v = v.and(c.types(got[i], file, want[i].Type.Expr, 0))
	}
	return v
}

// named is a type name after resolution: a predeclared type, a type the
// package declares, or a type of an imported package.
type named struct {
	path, name string // path is "" for a predeclared type, "." for the package's own
}

// maxAliasDepth bounds the aliases followed in the package's own types.
const maxAliasDepth = 10

// types compares got, a type written in file, with want, a type of the
// hook table (whose qualified names hold import paths).
func (c sigChecker) types(got ast.Expr, file *ast.File, want ast.Expr, depth int) verdict {
	got, want = unparen(got), unparen(want)
	// Resolve got's names: follow the package's own aliases.
	var g named
	switch x := got.(type) {
	case *ast.Ident:
		if d, ok := c.pkg.types[x.Name]; ok {
			if d.alias {
				if depth >= maxAliasDepth {
					return unsure
				}
				return c.types(d.typ, d.file, want, depth+1)
			}
			g = named{".", x.Name}
		} else if predeclared(x.Name) {
			g = named{"", canonical(x.Name)}
		} else {
			return unsure // undefined: the build says so
		}
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		if !ok {
			return unsure
		}
		path, ok := importPath(file, pkg.Name)
		if !ok {
			return unsure
		}
		g = named{path, x.Sel.Name}
	}
	var w named
	switch x := want.(type) {
	case *ast.Ident:
		w = named{".", x.Name} // a type the generated code declares
		if predeclared(x.Name) {
			w = named{"", canonical(x.Name)}
		}
	case *ast.SelectorExpr:
		w = named{x.X.(*ast.Ident).Name, x.Sel.Name}
	}
	switch {
	case g != (named{}) && w != (named{}):
		return compareNames(g, w)
	case g != (named{}): // a name against a type literal
		if g.path == "" && g.name == "interface{}" {
			return c.types(&ast.InterfaceType{Methods: &ast.FieldList{}}, file, want, depth)
		}
		if g.path != "" && g.path != "." {
			return unsure // an imported name may alias the literal
		}
		return differ
	case w != (named{}): // a type literal against a name
		if w.path == "" && w.name == "interface{}" {
			return c.types(got, file, &ast.InterfaceType{Methods: &ast.FieldList{}}, depth)
		}
		return differ
	}
	// Two type literals.
	switch w := want.(type) {
	case *ast.StarExpr:
		if g, ok := got.(*ast.StarExpr); ok {
			return c.types(g.X, file, w.X, depth)
		}
	case *ast.ArrayType:
		if g, ok := got.(*ast.ArrayType); ok {
			v := c.types(g.Elt, file, w.Elt, depth)
			switch {
			case (g.Len == nil) != (w.Len == nil):
				return differ
			case g.Len != nil:
				gl, gok := g.Len.(*ast.BasicLit)
				wl, wok := w.Len.(*ast.BasicLit)
				if !gok || !wok {
					return v.and(unsure)
				}
				if gl.Value != wl.Value {
					return differ
				}
			}
			return v
		}
	case *ast.MapType:
		if g, ok := got.(*ast.MapType); ok {
			return c.types(g.Key, file, w.Key, depth).and(c.types(g.Value, file, w.Value, depth))
		}
	case *ast.ChanType:
		if g, ok := got.(*ast.ChanType); ok {
			if g.Dir != w.Dir {
				return differ
			}
			return c.types(g.Value, file, w.Value, depth)
		}
	case *ast.FuncType, *ast.StructType, *ast.InterfaceType:
		if sameNodeType(got, want) {
			if i, ok := want.(*ast.InterfaceType); ok && len(i.Methods.List) == 0 {
				if g := got.(*ast.InterfaceType); len(g.Methods.List) == 0 {
					return same
				}
			}
			return unsure // no hook has such a type; not worth comparing
		}
	default:
		return unsure
	}
	return differ // two literals of different kinds
}

// compareNames compares two resolved type names.
func compareNames(g, w named) verdict {
	switch {
	case g == w:
		return same
	case g.path == "" || g.path == ".":
		return differ // predeclared and own types are none but themselves
	case w.path == "." || w.path == "":
		// Only an imported alias could name the same type: of a predeclared
		// one, maybe; of the package's own, only through an import cycle.
		if w.path == "." {
			return differ
		}
		return unsure
	case g.path == w.path && ownPackages[g.path]:
		return differ
	case std(g.path) && !std(w.path):
		return differ // the standard library imports nothing else
	}
	return unsure
}

func sameNodeType(a, b ast.Expr) bool {
	switch a.(type) {
	case *ast.FuncType:
		_, ok := b.(*ast.FuncType)
		return ok
	case *ast.StructType:
		_, ok := b.(*ast.StructType)
		return ok
	case *ast.InterfaceType:
		_, ok := b.(*ast.InterfaceType)
		return ok
	}
	return false
}

func unparen(x ast.Expr) ast.Expr {
	for {
		p, ok := x.(*ast.ParenExpr)
		if !ok {
			return x
		}
		x = p.X
	}
}

// predeclared reports whether name is a predeclared type.
func predeclared(name string) bool {
	_, ok := types.Universe.Lookup(name).(*types.TypeName)
	return ok
}

// canonical names a predeclared type by the type it is: byte is uint8,
// rune is int32, any is interface{}.
func canonical(name string) string {
	switch name {
	case "byte":
		return "uint8"
	case "rune":
		return "int32"
	case "any":
		return "interface{}"
	}
	return name
}

// std reports whether path is a package of the standard library, which
// imports no other: its first element has no dot, and GOROOT holds it.
func std(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	if strings.Contains(first, ".") || build.Default.GOROOT == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(build.Default.GOROOT, "src", filepath.FromSlash(path)))
	return err == nil && st.IsDir()
}

// importPath returns the path that file imports under name: an explicit
// name, or one that the path's last element suggests (importname.Guess).
func importPath(file *ast.File, name string) (string, bool) {
	found := ""
	for _, is := range file.Imports {
		path, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		switch {
		case is.Name != nil && is.Name.Name == name:
			return path, true
		case is.Name == nil && importname.Guess(path) == name:
			if found != "" {
				return "", false // two candidates
			}
			found = path
		}
	}
	return found, found != ""
}
