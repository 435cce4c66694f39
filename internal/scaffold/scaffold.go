// Package scaffold keeps a hook file in step with its spec. protogen
// creates the hook file once, with a stub for each hook; from then on the
// file is the user's, and a hook the spec gains would only surface as a
// build error. Plan finds the declared hooks whose methods the package does
// not define, wherever in the package the user keeps them, and computes the
// hook file with a stub for each appended. Every change is an insertion:
// no byte of the user's code moves or changes, unlike generators that
// regenerate such files and lose the user's comments and imports (gqlgen's
// resolvers).
package scaffold

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/protogen/protogen/spec"
	"github.com/protogen/protogen/templates"
)

// Missing is a declared hook whose method the package does not define.
type Missing struct {
	Spec     *spec.Spec
	Protocol *spec.Protocol
	Hook     *spec.Hook
}

// Edit brings an existing hook file up to date: Old is its content as read,
// New the same with the imports and stubs that Missing needs inserted.
type Edit struct {
	Path     string
	Old, New []byte
	Missing  []Missing
}

// Plan returns the edit that adds to s's hook file a stub for each
// declared hook whose method the package in its folder does not define.
// When the hook file does not exist, the edit creates it (Old is nil) with
// a stub for each hook the rest of the package lacks, so that a user who
// moved the methods elsewhere and deleted the file gets no duplicates. It
// returns nil when s has no hooks and when no method is missing. A file of
// the package that does not parse is an error: protogen cannot tell which
// methods it defines.
func Plan(s *spec.Spec) (*Edit, error) {
	if !s.HasHooks() {
		return nil, nil
	}
	src, err := os.ReadFile(s.HooksFile)
	if errors.Is(err, fs.ErrNotExist) {
		return create(s)
	}
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	hooks, err := parser.ParseFile(fset, s.HooksFile, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, unparsable(err)
	}
	dir := filepath.Dir(s.HooksFile)
	defined, err := packageMethods(fset, dir, filepath.Base(s.HooksFile), filepath.Base(s.OutFile))
	if err != nil {
		return nil, err
	}
	defined.add(hooks)
	missing, stubs := lacking(s, defined)
	if len(missing) == 0 {
		return nil, nil
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
	return &Edit{Path: s.HooksFile, Old: src, New: updated, Missing: missing}, nil
}

// unparsable explains a parse error, which names the file.
func unparsable(err error) error {
	return fmt.Errorf("%w (protogen reads the package to find the hook methods it lacks)", err)
}

// create plans a new hook file holding the stubs that the package, read
// from the output folder when it exists, lacks.
func create(s *spec.Spec) (*Edit, error) {
	defined := make(methodSet)
	dir := filepath.Dir(s.HooksFile)
	if _, err := os.Stat(dir); err == nil {
		if defined, err = packageMethods(token.NewFileSet(), dir, filepath.Base(s.HooksFile), filepath.Base(s.OutFile)); err != nil {
			return nil, err
		}
	}
	missing, stubs := lacking(s, defined)
	if len(stubs) == 0 {
		return nil, nil
	}
	text, err := templates.HooksWith(s, stubs)
	if err != nil {
		return nil, err
	}
	return &Edit{Path: s.HooksFile, New: text, Missing: missing}, nil
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
