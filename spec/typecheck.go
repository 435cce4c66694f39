package spec

import (
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/tools/go/packages"
)

// The state fields' types are Go types, and a typo in one (type: strin,
// time.Tme, foo.Bar) used to pass protogen and fail go build, pointing into
// the generated file. CheckTypes resolves them where the spec writes them.
//
// It is fast, and only certain. One packages.Load per run (per module, and
// a run's specs share one) lists the packages that qualified types name,
// and only when some spec names one; the top-level declarations of those
// packages and of the output package are read from their files, parsed
// without type-checking: a package that does not build (the output
// package, while its hook file is being written) still declares its names,
// and the files of every platform count, so a name declared for another
// GOOS is no error. What cannot be known is not reported: an output
// package that does not exist yet or has a file that does not parse, a
// package that no required module provides (a warning says so), and
// anything when the go command cannot run.

// CheckTypes resolves the types of the state fields of specs: each
// package that a qualified type names must exist and declare the type, and
// each unqualified name must be a predeclared type, a type the generated
// code declares or one the output package declares. It returns an error
// holding every problem of every spec (an [ErrorList] per spec, joined), at
// the spec's position of the name within the type key's value, with a
// did-you-mean; and warnings about what it could not settle, whose
// messages start with "warning: ".
func CheckTypes(specs []*Spec) (warnings ErrorList, err error) {
	c := &typeChecker{
		refs:      make(map[string][]typeUse),
		locals:    make(map[string][]typeUse),
		generated: make(map[string]map[string]bool),
	}
	for _, s := range specs {
		if s.incomplete {
			continue // what it generates is not known
		}
		dir := s.outDir()
		if c.generated[dir] == nil {
			c.generated[dir] = make(map[string]bool)
		}
		for _, name := range s.TypeNames() {
			c.generated[dir][name] = true
		}
	}
	refs := make(map[string][]typeRef) // a type's source → its names: specs repeat types
	for _, s := range specs {
		dir := s.outDir()
		for _, p := range s.Protocols {
			for _, f := range p.Fields {
				if f.Type == nil {
					continue
				}
				rs, ok := refs[f.Type.Src]
				if !ok {
					rs = typeRefs(f.Type.Src)
					refs[f.Type.Src] = rs
				}
				for _, r := range rs {
					u := typeUse{s, f, r}
					switch {
					case r.path != "":
						c.refs[r.path] = append(c.refs[r.path], u)
					case universeType(r.name) || c.generated[dir][r.name]:
					default: // a spec with errors is checked less (result)
						c.locals[dir] = append(c.locals[dir], u)
					}
				}
			}
		}
	}
	if len(c.refs) == 0 && len(c.locals) == 0 {
		return nil, nil // every type is predeclared or generated: nothing to load
	}
	c.outFiles = make(map[string]bool)
	for _, s := range specs {
		if s.OutFile == "" {
			continue
		}
		abs, err := filepath.Abs(s.OutFile)
		if err == nil {
			c.outFiles[abs] = true
		}
	}
	c.run(specs)
	return c.result(specs)
}

// loadPackages is packages.Load; tests count its calls.
var loadPackages = packages.Load

// typeChecker is the state of one CheckTypes: written by one goroutine
// before run, and by run's goroutines under mu.
type typeChecker struct {
	refs      map[string][]typeUse       // import path → the uses of its names
	locals    map[string][]typeUse       // output folder → the unqualified names it must declare
	generated map[string]map[string]bool // output folder → the types the generated code declares there
	outFiles  map[string]bool            // the generated files being replaced, as absolute paths

	mu       sync.Mutex
	pkgs     map[string]*declSet // import path → its declarations; nil when unknown
	ignored  map[string][]string // import path → its files for other platforms, not read yet
	listed   map[string]*packages.Package
	dirs     map[string]*declSet // output folder → its declarations; nil when unknown
	loadErr  error               // why the packages could not be listed
	modules  map[string]string   // import path → the main module's path, "" outside a module
	errs     ErrorList
	warnings ErrorList
}

// typeUse is one name that a field's type uses.
type typeUse struct {
	s   *Spec
	f   *Field
	ref typeRef
}

// pos is where the name is in the spec (the name after the import path,
// with atName), within the type key's value when that is written on one
// line as it reads, else at the value.
func (u typeUse) pos(atName bool) Pos {
	off := u.ref.off
	if atName && u.ref.path != "" {
		off += len(u.ref.path) + 1
	}
	pos := u.f.TypePos
	lines := splitLines(u.s.data)
	if pos.Line < 1 || pos.Line > len(lines) {
		return pos
	}
	line := []rune(lines[pos.Line-1])
	src := []rune(u.f.Type.Src)
	for _, start := range []int{pos.Col - 1, pos.Col} { // plain, or after a quote
		if start >= 0 && start+len(src) <= len(line) && string(line[start:start+len(src)]) == u.f.Type.Src {
			return Pos{pos.Line, start + 1 + utf8.RuneCountInString(u.f.Type.Src[:off])}
		}
	}
	return pos
}

// typeRef is a type name in a type's source.
type typeRef struct {
	off  int    // where the name starts in the source: the import path of a qualified one
	path string // the import path; "" for an unqualified name
	name string
}

// typeRefs returns the type names that src, a type as a spec writes it,
// uses: qualified ones with their import paths, and unqualified ones (not
// the names of struct fields or parameters).
func typeRefs(src string) []typeRef {
	// Parse src again as ParseType does, keeping the offsets: each
	// qualified name is replaced by a placeholder of another length.
	type span struct{ src, goSrc, srcLen, goLen int }
	var spans []span
	var paths []string
	goLen := 0
	goSrc := replaceQualifiedAt(src, func(off int, path, name string) string {
		paths = append(paths, path)
		repl := placeholder(len(paths)-1) + "." + name
		delta := 0
		if len(spans) > 0 {
			last := spans[len(spans)-1]
			delta = (last.goSrc + last.goLen) - (last.src + last.srcLen)
		}
		spans = append(spans, span{off, off + delta, len(path) + 1 + len(name), len(repl)})
		goLen += len(repl)
		return repl
	})
	toSrc := func(goOff int) int {
		srcOff := goOff
		for _, sp := range spans {
			switch {
			case goOff >= sp.goSrc+sp.goLen:
				srcOff = sp.src + sp.srcLen + (goOff - sp.goSrc - sp.goLen)
			case goOff >= sp.goSrc:
				return sp.src
			}
		}
		return srcOff
	}
	fset := token.NewFileSet()
	expr, err := parser.ParseExprFrom(fset, "", goSrc, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var refs []typeRef
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && strings.HasPrefix(x.Name, "_protogen_path") {
				i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(x.Name, "_protogen_path"), "_"))
				if i < len(paths) {
					refs = append(refs, typeRef{toSrc(fset.Position(n.Pos()).Offset), paths[i], n.Sel.Name})
				}
			}
			return false
		case *ast.Field:
			ast.Inspect(n.Type, visit) // not the field or parameter names
			return false
		case *ast.ArrayType:
			ast.Inspect(n.Elt, visit) // not the length
			return false
		case *ast.Ident:
			refs = append(refs, typeRef{toSrc(fset.Position(n.Pos()).Offset), "", n.Name})
		}
		return true
	}
	ast.Inspect(expr, visit)
	return refs
}

// universeType reports whether name is a predeclared type.
func universeType(name string) bool {
	_, ok := types.Universe.Lookup(name).(*types.TypeName)
	return ok
}

// declSet is what a package declares at top level.
type declSet struct {
	types map[string]bool   // type names
	other map[string]string // other names: what each is ("a function", ...)
}

// outsideModule is the main module of a path named outside any module,
// which go list resolves in GOPATH mode.
const outsideModule = "\x00"

// run lists and reads the packages and output folders that the uses need,
// at the same time: each goroutine reads one folder, or lists and reads
// one module's packages, and exits; run returns when all have.
func (c *typeChecker) run(specs []*Spec) {
	c.pkgs = make(map[string]*declSet)
	c.listed = make(map[string]*packages.Package)
	c.ignored = make(map[string][]string)
	c.dirs = make(map[string]*declSet)
	c.modules = make(map[string]string)
	var wg sync.WaitGroup
	for dir := range c.locals {
		wg.Go(func() {
			d := c.readOutputDir(dir, specs)
			c.mu.Lock()
			c.dirs[dir] = d
			c.mu.Unlock()
		})
	}
	// One packages.Load for the paths of each module (the specs of a run
	// share one); the go command lists them without compiling anything.
	groups := make(map[string][]string) // module root → import paths
	dirOf := make(map[string]string)    // module root → a folder to run go list in
	for path, uses := range c.refs {
		dir := uses[0].s.outDir()
		root, modPath := moduleOf(dir)
		if _, ok := dirOf[root]; !ok {
			dirOf[root] = existingDir(dir)
		}
		groups[root] = append(groups[root], path)
		c.modules[path] = modPath
		if root == "" {
			c.modules[path] = outsideModule
		}
	}
	for root, paths := range groups {
		slices.Sort(paths)
		wg.Go(func() { c.load(root, dirOf[root], paths) })
	}
	wg.Wait()
}

// load lists paths with the go command in dir and reads the declarations
// of each package found.
func (c *typeChecker) load(root, dir string, paths []string) {
	env := append(os.Environ(), "GOPROXY=off") // never the network: what is not here is not certain
	var flags []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if f == "-mod=mod" {
			f = "-mod=readonly" // go list must not edit go.mod
		}
		flags = append(flags, f)
	}
	env = append(env, "GOFLAGS="+strings.Join(flags, " "))
	if root == "" {
		env = append(env, "GO111MODULE=off") // the standard library resolves outside a module too
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles, Dir: dir, Env: env}
	pkgs, err := loadPackages(cfg, paths...)
	if err != nil {
		c.mu.Lock()
		c.loadErr = err
		c.mu.Unlock()
		return
	}
	goFiles := func(paths []string) []string {
		var files []string
		for _, f := range paths {
			if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
		return files
	}
	var wg sync.WaitGroup
	for _, p := range pkgs {
		// The files of this platform first; those of the others (often
		// more, as in package net) only when a name is not found there.
		files, ignored := goFiles(p.GoFiles), goFiles(p.IgnoredFiles)
		if len(files) == 0 {
			files, ignored = ignored, nil
		}
		c.mu.Lock()
		c.listed[p.PkgPath] = p
		c.ignored[p.PkgPath] = ignored
		c.mu.Unlock()
		if len(files) == 0 {
			continue
		}
		wg.Go(func() {
			d := readDecls(files, "")
			c.mu.Lock()
			c.pkgs[p.PkgPath] = d
			c.mu.Unlock()
		})
	}
	wg.Wait()
}

// readOutputDir reads the declarations of the package in dir, leaving out
// the generated files that this run replaces. It returns nil when they
// cannot all be known: the folder holds no other Go file of the package
// yet, or one does not parse.
func (c *typeChecker) readOutputDir(dir string, specs []*Spec) *declSet {
	var pkg string
	for _, s := range specs {
		if s.outDir() == dir && s.Package != "" {
			pkg = s.Package
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		path := filepath.Join(dir, name)
		if abs, err := filepath.Abs(path); err == nil && c.outFiles[abs] {
			continue
		}
		files = append(files, path)
	}
	if len(files) == 0 {
		return nil
	}
	return readDecls(files, pkg)
}

// readDecls parses files and returns their top-level declarations, or nil
// if a file cannot be read or parsed, or none is of the package. With pkg
// set, files of another package (a program kept beside it under a build
// constraint) are left out.
func readDecls(files []string, pkg string) *declSet {
	d := &declSet{types: make(map[string]bool), other: make(map[string]string)}
	var mu sync.Mutex
	ok := true
	read := 0 // files of the package
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, path := range files {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ok = false
				return
			}
			if pkg != "" && f.Name.Name != pkg {
				return
			}
			read++
			for _, decl := range f.Decls {
				switch decl := decl.(type) {
				case *ast.FuncDecl:
					if decl.Recv == nil {
						d.other[decl.Name.Name] = "a function"
					}
				case *ast.GenDecl:
					for _, sp := range decl.Specs {
						switch sp := sp.(type) {
						case *ast.TypeSpec:
							d.types[sp.Name.Name] = true
						case *ast.ValueSpec:
							what := "a variable"
							if decl.Tok == token.CONST {
								what = "a constant"
							}
							for _, n := range sp.Names {
								d.other[n.Name] = what
							}
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if !ok || read == 0 {
		return nil
	}
	return d
}

// result turns what run found into errors and warnings.
func (c *typeChecker) result(specs []*Spec) (ErrorList, error) {
	if c.loadErr != nil { // once, at the first package named
		msg := strings.TrimSuffix(strings.TrimPrefix(c.loadErr.Error(), "err: "), ": stderr: ")
		c.warn(c.refs[slices.Sorted(maps.Keys(c.refs))[0]][0], "cannot check the packages that field types name: %s", msg)
	}
	for path, uses := range c.refs {
		d, found := c.pkgs[path], c.listed[path]
		for _, u := range uses {
			switch {
			case d != nil && !d.types[u.ref.name] && len(c.ignored[path]) > 0:
				// Not declared for this platform: read the others' files.
				more := readDecls(c.ignored[path], "")
				c.ignored[path] = nil
				if more == nil {
					d = nil // a file does not parse: nothing is certain
					continue
				}
				maps.Copy(d.types, more.types)
				maps.Copy(d.other, more.other)
				c.checkName(u, d, "package "+path, u.ref.name, exportedTypes(d))
			case d != nil:
				c.checkName(u, d, "package "+path, u.ref.name, exportedTypes(d))
			case c.loadErr != nil || found == nil:
				// not listed: nothing is certain
			case len(found.GoFiles) > 0:
				// listed, but a file does not parse: the build will say
			case stdPath(path) && !inModule(path, c.modules[path]):
				c.fail(u, false, "no package %s in the standard library%s", path, didYouMean(path, stdPackages()))
			case c.modules[path] == outsideModule:
				// outside a module, only the standard library can be checked
			case inModule(path, c.modules[path]):
				c.warn(u, "no package %s in module %s yet", path, c.modules[path])
			default:
				c.warn(u, "package %s is in no module that go.mod requires: go get it, or check the path", path)
			}
		}
	}
	for dir, uses := range c.locals {
		d := c.dirs[dir]
		for _, u := range uses {
			name := u.ref.name
			switch {
			case d != nil && !u.s.incomplete:
				candidates := slices.Concat(slices.Collect(maps.Keys(d.types)), slices.Collect(maps.Keys(c.generated[dir])))
				if first, _ := utf8.DecodeRuneInString(name); unicode.IsLower(first) {
					candidates = append(candidates, universeTypes()...) // strin: string
				}
				slices.Sort(candidates)
				c.checkName(u, d, "package "+u.s.Package, name, candidates)
			case d != nil && (d.types[name] || d.other[name] != ""):
				// A spec with errors: the package declares it.
			default:
				// The package's declarations are unknown (it has no file
				// yet, or one does not parse), or the spec has errors, so
				// which types it generates is not known either.
				c.nearPredeclared(u)
			}
		}
	}
	var errs []error
	for _, s := range specs {
		var list ErrorList
		for _, e := range c.errs {
			if e.File == s.Path {
				list = append(list, e)
			}
		}
		if err := list.err(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.warnings) > 0 {
		c.warnings.sort()
	}
	return c.warnings, errors.Join(errs...)
}

// checkName checks that d, the declarations of what (a package), holds a
// type called name, and reports it otherwise, suggesting among candidates.
func (c *typeChecker) checkName(u typeUse, d *declSet, what, name string, candidates []string) {
	switch {
	case d.types[name]:
	case d.other[name] != "":
		c.fail(u, true, "%s is %s of %s, not a type", name, d.other[name], what)
	default:
		c.fail(u, true, "%s declares no type %s%s", what, name, didYouMean(name, candidates))
	}
}

// fail reports a problem with u's package (at its import path), or with
// its name.
func (c *typeChecker) fail(u typeUse, atName bool, format string, args ...any) {
	e := u.s.Errorf(u.pos(atName), "field type %q: %s", u.f.Type.Src, fmt.Sprintf(format, args...))
	c.errs = append(c.errs, e)
}

// outDir is the folder of the spec's output: its package's. A spec whose
// output is not placed (one with errors) is taken to generate beside
// itself, as it does by default.
func (s *Spec) outDir() string { return filepath.Clean(filepath.Dir(cmp.Or(s.OutFile, s.Path))) }

// nearPredeclared reports u's name if it is a near miss of a predeclared
// type, which no package would name a type: all that can be said of a
// name when what the package declares is not known.
func (c *typeChecker) nearPredeclared(u typeUse) {
	name := u.ref.name
	if first, _ := utf8.DecodeRuneInString(name); unicode.IsLower(first) {
		if sug := suggest(name, universeTypes()); sug != "" {
			c.fail(u, true, "unknown type %s; did you mean %s?", name, sug)
		}
	}
}

// warn says what cannot be settled about u's package.
func (c *typeChecker) warn(u typeUse, format string, args ...any) {
	e := u.s.Errorf(u.pos(false), "warning: field type %q: %s", u.f.Type.Src, fmt.Sprintf(format, args...))
	c.warnings = append(c.warnings, e)
}

// exportedTypes lists the exported type names of d, sorted.
func exportedTypes(d *declSet) []string {
	var names []string
	for name := range d.types {
		if ast.IsExported(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func universeTypes() []string {
	var names []string
	for _, name := range types.Universe.Names() {
		if universeType(name) {
			names = append(names, name)
		}
	}
	return names
}

// stdPath reports whether path has the form of a standard library path:
// its first element has no dot.
func stdPath(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// inModule reports whether path is in the module mod.
func inModule(path, mod string) bool {
	return mod != "" && mod != outsideModule && (path == mod || strings.HasPrefix(path, mod+"/"))
}

// stdPackages lists the packages of the standard library that a program
// may import, from GOROOT's source tree, for suggestions.
func stdPackages() []string {
	root := filepath.Join(build.Default.GOROOT, "src")
	var paths []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		name := d.Name()
		rel, _ := filepath.Rel(root, path)
		if rel == "cmd" || name == "internal" || name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return filepath.SkipDir
		}
		if rel != "." {
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	return paths
}

// moduleOf returns the root folder of the module that holds dir and the
// module's path, or "" and "" outside a module.
func moduleOf(dir string) (root, path string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", ""
	}
	for d := abs; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			return d, modulePath(data)
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
}

// modulePath returns the path that go.mod's module directive declares.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line, _, _ = strings.Cut(line, "//")
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || !unicode.IsSpace(rune(rest[0])) && rest[0] != '"' {
			continue
		}
		rest = strings.TrimSpace(rest)
		if p, err := strconv.Unquote(rest); err == nil {
			return p
		}
		return rest
	}
	return ""
}

// existingDir returns dir, or its nearest ancestor that exists.
func existingDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.IsDir() || filepath.Dir(d) == d {
			return d
		}
	}
}
