// Package generate runs protogen's pipeline for a set of specs: load and
// validate each, print the generated file and the hook stubs (a new hook
// file, or the stubs an existing one lacks), all in memory, ready for
// output.Write or output.Check.
package generate

import (
	"cmp"
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"

	"github.com/protogen/protogen/internal/codegen"
	"github.com/protogen/protogen/internal/output"
	"github.com/protogen/protogen/internal/scaffold"
	"github.com/protogen/protogen/spec"
)

// Options apply to every spec.
type Options struct {
	// DefaultPackage names the package of specs without a package key
	// ($GOPACKAGE). If empty, such a spec takes the package of the Go
	// files already in its output's folder, if there are any.
	DefaultPackage string
	// OutFile, if set, is the generated file's path; only with one spec.
	OutFile string
}

// Result is what the specs produce.
type Result struct {
	Files []output.File
	// Missing lists, in spec order, the declared hooks whose methods are
	// missing from the package of a hook file that exists; that file's
	// Update appends their stubs.
	Missing []scaffold.Missing
	// Wrong lists the hook methods whose signature is not their hook's,
	// and Stale the methods of hooks that the specs do not declare and
	// that nothing calls: protogen leaves both to the user.
	Wrong []scaffold.Wrong
	Stale []scaffold.Stale
	// Dangling lists the protocols' methods whose signatures name a type
	// that nothing declares any more (a message the spec no longer has):
	// the package will not build.
	Dangling []scaffold.Dangling
	// Redeclared lists the generated package-level names that a file of
	// the package declares already: the package will not build.
	Redeclared []scaffold.Redeclared
	// Warnings are what the check of the field types could not settle
	// (spec.CheckTypes).
	Warnings spec.ErrorList
}

// Files returns every file the specs produce, and the hook stubs to add to
// existing hook files. It returns nothing unless every spec is valid, every
// file renders and every package with a hook file parses; the error then
// reports every problem of every spec.
func Files(specPaths []string, opts Options) (*Result, error) {
	if opts.OutFile != "" && len(specPaths) > 1 {
		return nil, errors.New("-out names one file, so it takes exactly one -spec")
	}
	res := new(Result)
	var errs []error
	var specs []*spec.Spec
	var checked []*spec.Spec // specs, and what of the others could be read: their field types are checked too
	for _, path := range specPaths {
		pkg := opts.DefaultPackage
		if pkg == "" {
			pkg = folderPackage(path, opts.OutFile)
		}
		s, err := spec.LoadPartial(path, spec.Options{DefaultPackage: pkg, OutFile: opts.OutFile})
		if s != nil {
			checked = append(checked, s)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs = append(specs, s)
	}
	// The field types are checked while the code is generated: the check
	// waits mostly for the go command. Its goroutine exits when CheckTypes
	// returns, and every return below waits for it.
	typed := make(chan error, 1)
	go func() {
		var err error
		res.Warnings, err = spec.CheckTypes(checked)
		typed <- err
	}()
	if err := checkShared(specs); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		if err := <-typed; err != nil {
			errs = append(errs, err)
		}
		return nil, spec.MergeErrors(errs...)
	}
	var rewritten []string // every spec's outputs: no clash with what the run rewrites
	for _, s := range specs {
		rewritten = append(rewritten, s.OutFile, s.TestFile)
	}
	owner := make(map[string]string) // output path → the spec that writes it
	for _, s := range specs {
		path := s.Path
		code, err := codegen.Generate(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		produced := []output.File{{Path: s.OutFile, Data: code}}
		if len(s.Sets) == 0 {
			// Tests generated while the spec had messages go with them.
			if _, err := os.Stat(s.TestFile); err == nil {
				produced = append(produced, output.File{Path: s.TestFile, Remove: true})
			}
		} else {
			tests, err := codegen.GenerateTests(s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			produced = append(produced, output.File{Path: s.TestFile, Data: tests})
		}
		plan, err := scaffold.Plan(s, rewritten...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Wrong = append(res.Wrong, plan.Wrong...)
		res.Stale = append(res.Stale, plan.Stale...)
		res.Dangling = append(res.Dangling, plan.Dangling...)
		res.Redeclared = append(res.Redeclared, plan.Redeclared...)
		switch edit := plan.Edit; {
		case edit == nil: // no hooks, or every hook method exists
		default: // the hook file with the stubs the package lacks: new, or edit.Old with them added
			hooks := output.File{Path: s.HooksFile, Data: edit.New, UserOwned: true}
			if edit.Old != nil {
				hooks.Update = &output.Update{Old: edit.Old}
				res.Missing = append(res.Missing, edit.Missing...)
			}
			produced = append(produced, hooks)
		}
		for _, f := range produced {
			key := filepath.Clean(f.Path)
			if other, dup := owner[key]; dup {
				errs = append(errs, fmt.Errorf("%s and %s would both write %s", other, path, f.Path))
				continue
			}
			owner[key] = path
			res.Files = append(res.Files, f)
		}
	}
	if err := <-typed; err != nil {
		errs = append(errs, err)
	}
	if err := spec.MergeErrors(errs...); err != nil {
		return nil, err
	}
	return res, nil
}

// folderPackage returns the name of the Go package in the folder that the
// spec at path generates into (outFile's, if set), or "" if it holds none
// or more than one. A spec without a package key, written for go generate
// ($GOPACKAGE), is then also one that -check in CI and a run by hand can
// load: once generated, the folder holds at least the generated file.
func folderPackage(path, outFile string) string {
	dir := filepath.Dir(path)
	if outFile != "" {
		dir = filepath.Dir(outFile)
	}
	p, err := build.ImportDir(dir, 0)
	if err != nil {
		return ""
	}
	return p.Name
}

// checkShared checks specs whose output shares a folder, and so a Go
// package: they must agree on the package name, and their protocols may not
// declare the same package-level names.
func checkShared(specs []*spec.Spec) error {
	var errs spec.ErrorList
	type decl struct {
		s    *spec.Spec
		p    *spec.Protocol
		what string
	}
	firstSpec := make(map[string]*spec.Spec)     // folder → first spec writing there
	declared := make(map[string]map[string]decl) // folder → name → declaration
	for _, s := range specs {
		dir := filepath.Clean(filepath.Dir(s.OutFile))
		if first, ok := firstSpec[dir]; !ok {
			firstSpec[dir] = s
			declared[dir] = make(map[string]decl)
		} else if first.Package != s.Package {
			errs = append(errs, s.Errorf(spec.Pos{Line: 1, Col: 1},
				"package %s differs from package %s of %s, whose output is in the same folder", s.Package, first.Package, first.Path))
		}
		for _, m := range s.Members {
			d := decl{s, nil, m.What + " " + m.Name}
			if prev, dup := declared[dir][m.Name]; dup && prev.s != s {
				errs = append(errs, s.Errorf(cmp.Or(m.Pos, spec.Pos{Line: 1, Col: 1}),
					"the %s is also declared by %s, in the same package", d.what, prev.s.Path))
				continue
			}
			declared[dir][m.Name] = d
		}
		for _, p := range s.Protocols {
			for _, name := range p.PackageNames() {
				d := decl{s, p, name.What + " " + name.Name}
				if prev, dup := declared[dir][name.Name]; dup && prev.s != s {
					where := prev.s.Path
					if prev.p != nil {
						where += ":" + prev.p.Pos.String()
					}
					errs = append(errs, s.Errorf(p.Pos,
						"protocol %s: its %s is also declared at %s, in the same package", p.Name, d.what, where))
					break // one report per protocol is enough
				}
				declared[dir][name.Name] = d
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
