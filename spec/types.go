package spec

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"regexp"
	"strconv"
	"strings"
)

// qualified matches, at the start of its input, an import path followed by
// a dot and an identifier: "time.Time", "example.com/chat/rooms.Room",
// "gopkg.in/yaml.v3.Node". The path is greedy, so the name is the part after
// the last dot.
var qualified = regexp.MustCompile(`^([A-Za-z0-9_][A-Za-z0-9_~\-]*(?:[./][A-Za-z0-9_~\-]+)*)\.([A-Za-z_][A-Za-z0-9_]*)`)

// placeholder is the package name that stands for the i-th import path
// while the expression is parsed as Go.
func placeholder(i int) string { return "_protogen_path" + strconv.Itoa(i) + "_" }

// ParseType parses a Go type expression in which a qualified identifier
// carries its full import path, as in "map[string]*example.com/chat/rooms.Room".
func ParseType(src string) (*Type, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty type")
	}
	var paths []string
	goSrc := replaceQualified(src, func(path, name string) string {
		paths = append(paths, path)
		return placeholder(len(paths)-1) + "." + name
	})
	expr, err := parser.ParseExpr(goSrc)
	if err != nil {
		return nil, fmt.Errorf("not a Go type: %s", cleanParseError(err, len(paths)))
	}
	if err := checkType(expr, paths); err != nil {
		return nil, err
	}
	return &Type{Src: src, Expr: expr}, nil
}

// replaceQualified rewrites every qualified identifier in src outside
// string literals with what repl returns for it.
func replaceQualified(src string, repl func(path, name string) string) string {
	return replaceQualifiedAt(src, func(_ int, path, name string) string { return repl(path, name) })
}

// replaceQualifiedAt is replaceQualified, telling repl where in src each
// qualified identifier starts.
func replaceQualifiedAt(src string, repl func(off int, path, name string) string) string {
	var b strings.Builder
	inWord := false // src[i-1] belongs to a word that cannot hold a path's start
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"' || c == '`':
			end := literalEnd(src, i)
			b.WriteString(src[i:end])
			i, inWord = end, false
			continue
		case strings.HasPrefix(src[i:], "//"), strings.HasPrefix(src[i:], "/*"):
			end := commentEnd(src, i)
			b.WriteString(src[i:end])
			i, inWord = end, false
			continue
		case isPathStart(c) && !inWord:
			if m := qualified.FindStringSubmatchIndex(src[i:]); m != nil {
				b.WriteString(repl(i, src[i+m[2]:i+m[3]], src[i+m[4]:i+m[5]]))
				i += m[1]
				continue
			}
		}
		// A path byte continues a word only after a word byte or a dot; a
		// '-' after an operator (as in chan<-T) starts nothing.
		inWord = isPathStart(c) || c == '.' || isPathByte(c) && inWord
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// isPathStart reports whether an import path may start with c.
func isPathStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isPathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '~' || c == '-' || c == '/'
}

// commentEnd returns the index just past the comment that starts at src[i].
func commentEnd(src string, i int) int {
	if strings.HasPrefix(src[i:], "//") {
		if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(src)
	}
	if j := strings.Index(src[i+2:], "*/"); j >= 0 {
		return i + 2 + j + 2
	}
	return len(src)
}

// literalEnd returns the index just past the string literal that starts at
// src[i], or len(src) if it is not closed.
func literalEnd(src string, i int) int {
	quote := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if quote == '"' {
				j++
			}
		case quote:
			return j + 1
		}
	}
	return len(src)
}

// cleanParseError strips go/parser's position (meaningless inside one
// field's type) and placeholders from a parse error.
func cleanParseError(err error, npaths int) string {
	msg := err.Error()
	if list, ok := err.(interface{ Unwrap() []error }); ok && len(list.Unwrap()) > 0 {
		msg = list.Unwrap()[0].Error()
	}
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "1:") {
		msg = rest
	}
	for i := range npaths {
		msg = strings.ReplaceAll(msg, placeholder(i), "package")
	}
	return msg
}

// checkType accepts only type expressions and puts the import paths in
// place of the placeholders.
func checkType(expr ast.Expr, paths []string) error {
	var err error
	fail := func(format string, args ...any) bool {
		if err == nil {
			err = fmt.Errorf(format, args...)
		}
		return false
	}
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case nil:
			return false
		case *ast.SelectorExpr:
			x, ok := n.X.(*ast.Ident)
			if !ok || !strings.HasPrefix(x.Name, "_protogen_path") {
				return fail("%s is not a qualified type name: write its import path, as in time.Time or example.com/pkg.Type", nodeString(n))
			}
			i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(x.Name, "_protogen_path"), "_"))
			if !ast.IsExported(n.Sel.Name) {
				return fail("%s.%s is not exported", paths[i], n.Sel.Name)
			}
			x.Name = paths[i]
			return false
		case *ast.Ident:
			if strings.HasPrefix(n.Name, "_protogen_path") {
				return fail("a package is not a type")
			}
			if token.IsKeyword(n.Name) {
				return fail("%s is a keyword", n.Name)
			}
			return false
		case *ast.ArrayType:
			if n.Len != nil {
				if _, ok := n.Len.(*ast.Ellipsis); ok {
					return fail("[...] arrays need a literal; give the length")
				}
				lit, ok := n.Len.(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					return fail("array length %s must be an integer literal", nodeString(n.Len))
				}
			}
			ast.Inspect(n.Elt, visit)
			return false
		case *ast.Field:
			// Names need no check; a struct tag is a string literal.
			ast.Inspect(n.Type, visit)
			return false
		case *ast.StarExpr, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.StructType,
			*ast.InterfaceType, *ast.ParenExpr, *ast.FieldList, *ast.Ellipsis,
			*ast.IndexExpr, *ast.IndexListExpr:
			return true // their children are checked in turn
		default:
			return fail("%s is not a type", nodeString(n))
		}
	}
	ast.Inspect(expr, visit)
	return err
}

// nodeString prints a node's Go source for an error message, with placeholders
// turned back into import paths.
func nodeString(n ast.Node) string {
	var b strings.Builder
	if err := printer.Fprint(&b, token.NewFileSet(), n); err != nil {
		return fmt.Sprintf("%T", n)
	}
	return b.String()
}

// Format prints t as Go source, writing each import path as the package
// name that name returns for it.
func (t *Type) Format(name func(path string) string) string {
	return replaceQualified(t.Src, func(path, ident string) string {
		return name(path) + "." + ident
	})
}

// LocalNames returns the unqualified identifiers that t uses as types
// (names declared in the package being generated, or predeclared ones),
// which no import name of a file that writes t may hide.
func (t *Type) LocalNames() []string {
	var names []string
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			return false
		case *ast.Field:
			ast.Inspect(n.Type, visit) // not the field or parameter names
			return false
		case *ast.Ident:
			names = append(names, n.Name)
		}
		return true
	}
	ast.Inspect(t.Expr, visit)
	return names
}

// ImportPaths returns the import paths that t refers to, in order of first
// appearance.
func (t *Type) ImportPaths() []string {
	var paths []string
	ast.Inspect(t.Expr, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				paths = append(paths, x.Name)
			}
			return false
		}
		return true
	})
	return paths
}
