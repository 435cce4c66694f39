// Package generate runs protogen's pipeline for a set of specs: load and
// validate each, print the generated file and the hook stubs, all in
// memory, ready for output.Write or output.Check.
package generate

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/protogen/protogen/internal/codegen"
	"github.com/protogen/protogen/internal/output"
	"github.com/protogen/protogen/spec"
	"github.com/protogen/protogen/templates"
)

// Options apply to every spec.
type Options struct {
	// DefaultPackage names the package of specs without a package key.
	DefaultPackage string
	// OutFile, if set, is the generated file's path; only with one spec.
	OutFile string
}

// Files returns every file the specs produce. It returns no files unless
// every spec is valid and every file renders; the error then reports every
// problem of every spec.
func Files(specPaths []string, opts Options) ([]output.File, error) {
	if opts.OutFile != "" && len(specPaths) > 1 {
		return nil, errors.New("-out names one file, so it takes exactly one -spec")
	}
	var files []output.File
	var errs []error
	owner := make(map[string]string) // output path → the spec that writes it
	for _, path := range specPaths {
		s, err := spec.Load(path, spec.Options{DefaultPackage: opts.DefaultPackage, OutFile: opts.OutFile})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		code, err := codegen.Generate(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		produced := []output.File{{Path: s.OutFile, Data: code}}
		if s.HasHooks() {
			hooks, err := templates.Hooks(s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			produced = append(produced, output.File{Path: s.HooksFile, Data: hooks, UserOwned: true})
		}
		for _, f := range produced {
			key := filepath.Clean(f.Path)
			if other, dup := owner[key]; dup {
				errs = append(errs, fmt.Errorf("%s and %s would both write %s", other, path, f.Path))
				continue
			}
			owner[key] = path
			files = append(files, f)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return files, nil
}
