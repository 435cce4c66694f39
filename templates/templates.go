// Package templates holds the templates of the files that protogen writes
// once for the user to own, embedded so that an installed protogen needs no
// files beside it.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"slices"
	"strings"
	"text/template"

	"github.com/protogen/protogen/internal/textwrap"
	"github.com/protogen/protogen/spec"
)

//go:embed *.tmpl
var files embed.FS

var hooksTmpl = template.Must(template.New("hooks.go.tmpl").Funcs(template.FuncMap{
	"comment": comment,
}).ParseFS(files, "hooks.go.tmpl"))

// comment fills text to the usual width as the lines of a // comment.
func comment(text string) string {
	return "// " + strings.Join(textwrap.Lines(text, textwrap.Width), "\n// ")
}

// hooksData is what hooks.go.tmpl prints.
type hooksData struct {
	Source  string
	Package string
	Imports []spec.Import
	Methods []hookMethod
}

type hookMethod struct {
	Receiver, Name, Doc, Params, Result, Body string
}

// Hooks renders the user-owned file of hook stubs for s: a method for each
// declared hook of each protocol, so that a package generated into an empty
// folder builds and vets at once.
func Hooks(s *spec.Spec) ([]byte, error) {
	data := hooksData{Source: s.Source, Package: s.Package}
	used := make(map[string]bool)
	for _, p := range s.Protocols {
		for _, h := range p.Hooks {
			m := hookMethod{Receiver: p.Name, Name: h.UserMethod, Doc: h.Doc, Body: h.StubBody}
			params := make([]string, len(h.Params))
			for i, prm := range h.Params {
				params[i] = prm.Name + " " + typeString(prm.Type, s.Imports, used)
			}
			m.Params = strings.Join(params, ", ")
			if h.Result != nil {
				m.Result = typeString(h.Result, s.Imports, used)
			}
			data.Methods = append(data.Methods, m)
		}
	}
	for _, imp := range s.Imports {
		if used[imp.Path] {
			data.Imports = append(data.Imports, imp)
		}
	}
	var buf bytes.Buffer
	if err := hooksTmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("rendering hooks for %s: %w", s.Path, err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting hooks for %s: %w", s.Path, err)
	}
	return out, nil
}

// typeString prints a spec type as Go source with each import path replaced
// by its package name, and notes the paths used.
func typeString(t *spec.Type, imports []spec.Import, used map[string]bool) string {
	return t.Format(func(path string) string {
		used[path] = true
		i := slices.IndexFunc(imports, func(imp spec.Import) bool { return imp.Path == path })
		return imports[i].Name
	})
}
