// Package scaffold keeps a hook file in step with its spec. protogen
// creates the hook file once, with a stub for each hook; from then on the
// file is the user's, and a hook the spec gains would only surface as a
// build error. Plan finds the declared hooks whose methods the package does
// not define, wherever in the package the user keeps them, and computes the
// hook file with a stub for each appended. Every change is an insertion:
// no byte of the user's code moves or changes, unlike generators that
// regenerate such files and lose the user's comments and imports (gqlgen's
// resolvers). Plan also finds what it must not change: a hook method whose
// signature is not its hook's, which fails the build, and the method of a
// hook that the spec no longer declares, which nothing calls.
package scaffold

import (
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/protogen/protogen/spec"
	"github.com/protogen/protogen/templates"
)

// Missing is a declared hook whose method the package does not define.
type Missing struct {
	Spec     *spec.Spec
	Protocol *spec.Protocol
	Hook     *spec.Hook
}

// Wrong is a declared hook whose method the package defines with another
// signature than the hook's: the generated code's assertion that the type
// has its hook methods fails the build.
type Wrong struct {
	Spec     *spec.Spec
	Protocol *spec.Protocol
	Hook     *spec.Hook
	Pos      token.Position // the method's name
	Have     string         // its signature as written, such as "(frame string)"
}

// Stale is a method named as the hook method of a hook that the protocol
// does not declare (it was removed from the spec, say), which nothing in
// the package calls: the generated code no longer does.
type Stale struct {
	Spec     *spec.Spec
	Protocol *spec.Protocol
	Kind     spec.HookKind
	Pos      token.Position // the method's name
	// Gone lists the generated methods that the hook's stub calls
	// (HookKind.StubCalls) which the method uses and the protocol no
	// longer has: the timeout stub's abortOnTimeout, once the spec has no
	// timeout. The package will not build until the method goes.
	Gone []string
}

// Dangling is a method of a protocol type whose signature names a type
// that nothing declares: one the generated code declared before, such as
// the message of a hook whose message the spec no longer has (renamed or
// removed). The package will not build until the method is changed.
type Dangling struct {
	Spec     *spec.Spec
	Protocol *spec.Protocol
	Pos      token.Position // the method's name
	Method   string
	Type     string // the name nothing declares
}

// Redeclared is a package-level name that the code generated from a spec
// declares and a file of the package declares too: the package, or its
// tests, will not build until one of them goes.
type Redeclared struct {
	Spec *spec.Spec
	Pos  spec.Pos       // where the spec gives rise to the name
	Name string         // the name: A
	What string         // what the generated code declares by it: "message type"
	At   token.Position // the other declaration
	// Tests is set when only the package's tests fail: the other
	// declaration, or the generated one, is in a test file.
	Tests bool
	// GeneratedFrom names the spec whose generated file holds the other
	// declaration ("b.yaml"); "generated code" for a generated file of
	// another tool; empty for a file of the user's. Such a file may be
	// stale (a message that moved from b.yaml to this spec): regenerating
	// it may end the clash, so a run warns rather than fails.
	GeneratedFrom string
}

// Edit brings an existing hook file up to date: Old is its content as read,
// New the same with the imports and stubs that Missing needs inserted.
type Edit struct {
	Path     string
	Old, New []byte
	Missing  []Missing
}

// Result is what Plan finds.
type Result struct {
	// Edit adds the stubs of the hook methods the package lacks; nil when
	// it lacks none.
	Edit *Edit
	// Wrong and Stale are hook methods that protogen leaves to the user,
	// in spec order.
	Wrong []Wrong
	Stale []Stale
	// Dangling are the protocols' methods that name a type nothing
	// declares any more.
	Dangling []Dangling
	// Redeclared are the generated package-level names that the package
	// declares already, in spec order.
	Redeclared []Redeclared
}

// Plan returns the edit that adds to s's hook file a stub for each
// declared hook whose method the package in its folder does not define.
// When the hook file does not exist, the edit creates it (Old is nil) with
// a stub for each hook the rest of the package lacks, so that a user who
// moved the methods elsewhere and deleted the file gets no duplicates. The
// edit is nil when no method is missing. A file of the package that does
// not parse is an error when s has hooks: protogen cannot tell which
// methods it defines. Plan also reports the hook methods of the wrong
// signature, and those of hooks that s does not declare and that nothing
// calls, and the names its generated code declares that the package
// declares too, but in the files of s and rewritten (the outputs of the
// other specs of the run, which it rewrites).
func Plan(s *spec.Spec, rewritten ...string) (*Result, error) {
	fset := token.NewFileSet()
	dir := filepath.Dir(s.HooksFile)
	src, err := os.ReadFile(s.HooksFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		src = nil
	case err != nil:
		return nil, err
	}
	pkg := newPkgInfo(fset)
	if _, err := os.Stat(dir); err == nil {
		pkg, err = readPackage(fset, dir, filepath.Base(s.HooksFile), filepath.Base(s.OutFile))
		if err != nil && !s.HasHooks() {
			return new(Result), nil // nothing to add, and what is left over is unknown
		}
		if err != nil {
			return nil, err
		}
	}
	var hooks *ast.File
	if src != nil {
		hooks, err = parser.ParseFile(fset, s.HooksFile, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil && !s.HasHooks() {
			return new(Result), nil
		}
		if err != nil {
			return nil, unparsable(err)
		}
		pkg.add(hooks, false)
	}
	redeclared := redeclared(s, pkg, append([]string{s.OutFile, s.TestFile}, rewritten...))
	// The types that the code generated from s declares are the package's
	// own, though its generated file is not read (it is about to be
	// replaced). It declares no alias. (A file of the package declaring one
	// of the names too is a build error of its own; it is kept.)
	for _, name := range s.TypeNames() {
		if _, ok := pkg.types[name]; !ok {
			pkg.types[name] = typeDecl{}
		}
	}
	res := &Result{Wrong: wrong(s, pkg), Stale: stale(s, pkg), Dangling: dangling(s, pkg), Redeclared: redeclared}
	missing, stubs := lacking(s, pkg.methods)
	if len(missing) == 0 {
		return res, nil
	}
	if hooks == nil {
		text, err := templates.HooksWith(s, stubs)
		if err != nil {
			return nil, err
		}
		res.Edit = &Edit{Path: s.HooksFile, New: text, Missing: missing}
		return res, nil
	}
	names := fileNames(hooks)
	names.Reserve(s.PackageIdents()...)
	text, err := templates.Stubs(s, stubs, names.Name)
	if err != nil {
		return nil, err
	}
	updated := appendText(insertImports(fset, hooks, src, names.Imports()), text)
	if _, err := parser.ParseFile(token.NewFileSet(), s.HooksFile, updated, parser.SkipObjectResolution); err != nil {
		// Only a file laid out unlike gofmt's output gets here, such as an
		// import declaration sharing its line with other code.
		return nil, fmt.Errorf("%s: adding the stubs' imports would break the file; add a stub for each missing hook by hand (%v)", s.HooksFile, err)
	}
	res.Edit = &Edit{Path: s.HooksFile, Old: src, New: updated, Missing: missing}
	return res, nil
}

// unparsable explains a parse error, which names the file.
func unparsable(err error) error {
	return fmt.Errorf("%w (protogen reads the package to find the hook methods it lacks)", err)
}

// lacking lists the declared hooks of s whose methods are not in defined,
// with the stub to write for each.
func lacking(s *spec.Spec, defined methodSet) ([]Missing, []templates.Stub) {
	var missing []Missing
	var stubs []templates.Stub
	for _, p := range s.Protocols {
		for _, h := range p.Hooks {
			if !defined.has(p.Name, h.User.Name) {
				missing = append(missing, Missing{s, p, h})
				stubs = append(stubs, templates.Stub{Protocol: p, Hook: h})
			}
		}
	}
	return missing, stubs
}

// wrong lists the declared hooks of s whose methods in pkg certainly have
// another signature than the hook's.
func wrong(s *spec.Spec, pkg *pkgInfo) []Wrong {
	var out []Wrong
	c := sigChecker{pkg}
	for _, p := range s.Protocols {
		for _, h := range p.Hooks {
			for _, d := range pkg.methods[p.Name][h.User.Name] {
				if c.check(d.fn, d.file, h.User) == differ {
					out = append(out, Wrong{s, p, h, pkg.fset.Position(d.fn.Name.Pos()), signature(d.fn)})
				}
			}
		}
	}
	return out
}

// stale lists the methods in pkg named as the hook method of a hook that
// their protocol does not declare, and that nothing in the package calls.
func stale(s *spec.Spec, pkg *pkgInfo) []Stale {
	var out []Stale
	for _, p := range s.Protocols {
		for _, k := range spec.AllHooks() {
			decls := pkg.methods[p.Name][k.UserMethod()]
			if p.Hook(k) != nil || len(decls) == 0 || pkg.called(k.UserMethod(), decls) {
				continue
			}
			out = append(out, Stale{s, p, k, pkg.fset.Position(decls[0].fn.Name.Pos()), gone(p, k, pkg, decls)})
		}
	}
	return out
}

// dangling lists the methods of s's protocols, in the package's own files,
// whose parameters or results name an unqualified type that neither the
// package, nor the code generated from s, nor another spec's generated
// file declares, nor the language: the type of a message that the spec
// no longer has, say. Names inside type literals count; those the
// method's own type parameters declare cannot occur (a protocol type is
// not generic).
func dangling(s *spec.Spec, pkg *pkgInfo) []Dangling {
	declared := func(name string) bool {
		_, own := pkg.types[name]
		return own || predeclared(name)
	}
	var out []Dangling
	for _, p := range s.Protocols {
		names := slices.Sorted(maps.Keys(pkg.methods[p.Name]))
		for _, name := range names {
			for _, d := range pkg.methods[p.Name][name] {
				if dotImport(d.file) {
					continue // its names may come from the imported package
				}
				if missing := undeclared(d.fn.Type, declared); missing != "" {
					out = append(out, Dangling{s, p, pkg.fset.Position(d.fn.Name.Pos()), name, missing})
				}
			}
		}
	}
	return out
}

// redeclared returns the package-level names that the code generated from
// s declares and that pkg, the rest of the package, declares too: a file
// of the user's, tests included, or another spec's generated code (which a
// run of protogen per spec, each from its own go:generate line, does not
// see otherwise). Files that this run rewrites (rewritten: the outputs of
// every spec in it), that belong to another package (an external test
// package, a //go:build ignore program) are left out.
func redeclared(s *spec.Spec, pkg *pkgInfo, rewritten []string) []Redeclared {
	var out []Redeclared
	check := func(m *spec.Member, at spec.Pos) {
		if !m.Kind.PackageLevel() {
			return
		}
	decls:
		for _, d := range pkg.decls[m.Name] { // the first that is the package's
			if d.file.Name.Name != s.Package || ignored(d.file) {
				continue
			}
			where := pkg.fset.Position(d.pos)
			for _, path := range rewritten {
				if sameFile(path, where.Filename) {
					continue decls
				}
			}
			out = append(out, Redeclared{Spec: s, Pos: cmp.Or(m.Pos, at), Name: m.Name, What: m.What, At: where,
				Tests: d.test || m.Role == spec.RoleSetFuzz, GeneratedFrom: generatedFrom(d.file)})
			return
		}
	}
	for _, m := range s.Members {
		check(m, spec.Pos{Line: 1, Col: 1})
	}
	for _, p := range s.Protocols {
		for _, m := range p.Members {
			check(m, p.Pos)
		}
	}
	return out
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// ignored reports whether f is built never: //go:build ignore, the
// convention for a program kept beside a package.
func ignored(f *ast.File) bool {
	for _, g := range f.Comments {
		if g.Pos() > f.Package {
			break
		}
		for _, c := range g.List {
			if strings.TrimSpace(c.Text) == "//go:build ignore" {
				return true
			}
		}
	}
	return false
}

// protogenHeader is the first line of protogen's output, naming its spec.
var protogenHeader = regexp.MustCompile(`^// Code generated by protogen from (.+)\. DO NOT EDIT\.$`)

// generatedFrom names what generated f: its spec for protogen's output,
// "generated code" for another tool's, "" for a file of the user's.
func generatedFrom(f *ast.File) string {
	if !ast.IsGenerated(f) {
		return ""
	}
	if len(f.Comments) > 0 {
		if m := protogenHeader.FindStringSubmatch(f.Comments[0].List[0].Text); m != nil {
			return m[1]
		}
	}
	return "generated code"
}

// dotImport reports whether f imports a package with the name ".".
func dotImport(f *ast.File) bool {
	for _, is := range f.Imports {
		if is.Name != nil && is.Name.Name == "." {
			return true
		}
	}
	return false
}

// undeclared returns the first unqualified type name in ft's parameters
// and results for which declared is false, or "".
func undeclared(ft *ast.FuncType, declared func(string) bool) string {
	var missing string
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			return false // pkg.Name: another package's
		case *ast.ArrayType:
			ast.Inspect(n.Elt, visit) // a length may name a constant
			return false
		case *ast.Field: // in a literal: its names are no types
			ast.Inspect(n.Type, visit)
			return false
		case *ast.Ident:
			if missing == "" && !declared(n.Name) {
				missing = n.Name
			}
		}
		return true
	}
	for _, fl := range []*ast.FieldList{ft.Params, ft.Results} {
		if fl != nil {
			for _, f := range fl.List {
				ast.Inspect(f.Type, visit)
			}
		}
	}
	return missing
}

// gone lists the generated methods that the stub of hook k calls which
// decls use after a dot, and which are neither members of p nor methods
// that the package declares itself.
func gone(p *spec.Protocol, k spec.HookKind, pkg *pkgInfo, decls []methodDecl) []string {
	used := make(map[string]int)
	for _, d := range decls {
		pkg.countSelectors(d.fn, used)
	}
	var out []string
	for _, name := range k.StubCalls() {
		if used[name] > 0 && !slices.ContainsFunc(p.Members, func(m *spec.Member) bool { return m.Name == name }) &&
			!pkg.methods.has(p.Name, name) {
			out = append(out, name)
		}
	}
	return out
}

// signature prints fn's parameters and results as written, for a message:
// "(frame string)".
func signature(fn *ast.FuncDecl) string {
	var b strings.Builder
	ft := &ast.FuncType{Func: token.NoPos, Params: fn.Type.Params, Results: fn.Type.Results}
	if err := printer.Fprint(&b, token.NewFileSet(), ft); err != nil {
		return "(?)"
	}
	return strings.TrimPrefix(b.String(), "func")
}
