package doccheck

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestExportedNamesDocumented fails on a public package without a package
// comment, and on an exported name without a doc comment: a function, a
// type, a method of an exported type, a constant or variable (a group's
// comment covers its names), a field of an exported struct or a method of
// an exported interface (a line comment will do). Public packages are
// those outside internal/ and testdata/ of this module; package main is
// checked for its package comment only, which is its manual.
func TestExportedNamesDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if path != root && (name == "internal" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
			return filepath.SkipDir // another module
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		fset := token.NewFileSet()
		matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		var files []*ast.File
		for _, m := range matches {
			if strings.HasSuffix(m, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, m, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		if len(files) == 0 {
			continue
		}
		rel, _ := filepath.Rel(root, dir)
		pkg, err := doc.NewFromFiles(fset, files, "example.com/"+filepath.ToSlash(rel))
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, problem := range undocumented(fset, pkg) {
			t.Errorf("%s: %s", rel, problem)
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages", checked)
	}
}

// undocumented lists what pkg leaves undocumented.
func undocumented(fset *token.FileSet, pkg *doc.Package) []string {
	var out []string
	at := func(n ast.Node) string {
		p := fset.Position(n.Pos())
		return filepath.Base(p.Filename) + ":" + strconv.Itoa(p.Line)
	}
	if strings.TrimSpace(pkg.Doc) == "" {
		out = append(out, "package "+pkg.Name+" has no package comment")
	}
	if pkg.Name == "main" {
		return out
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if v.Doc != "" {
				continue
			}
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Doc != nil || vs.Comment != nil {
					continue
				}
				for _, n := range vs.Names {
					if n.IsExported() {
						out = append(out, at(n)+": "+n.Name+" has no doc comment")
					}
				}
			}
		}
	}
	funcs := func(fs []*doc.Func, recv string) {
		for _, f := range fs {
			if f.Doc == "" && ast.IsExported(f.Name) {
				out = append(out, at(f.Decl)+": "+recv+f.Name+" has no doc comment")
			}
		}
	}
	values(pkg.Consts)
	values(pkg.Vars)
	funcs(pkg.Funcs, "")
	for _, typ := range pkg.Types {
		if typ.Doc == "" {
			out = append(out, at(typ.Decl)+": type "+typ.Name+" has no doc comment")
		}
		values(typ.Consts)
		values(typ.Vars)
		funcs(typ.Funcs, "")
		funcs(typ.Methods, typ.Name+".")
		for _, spec := range typ.Decl.Specs {
			ts := spec.(*ast.TypeSpec)
			var list *ast.FieldList
			switch tt := ts.Type.(type) {
			case *ast.StructType:
				list = tt.Fields
			case *ast.InterfaceType:
				list = tt.Methods
			default:
				continue
			}
			for _, f := range list.List {
				if f.Doc != nil || f.Comment != nil {
					continue
				}
				names := f.Names
				if len(names) == 0 { // embedded
					continue
				}
				for _, n := range names {
					if n.IsExported() {
						out = append(out, at(n)+": "+typ.Name+"."+n.Name+" has no doc comment")
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
