// Package templates holds the templates of the files that protogen writes
// once for the user to own, embedded so that an installed protogen needs no
// files beside it.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/protogen/protogen/internal/importname"
	"github.com/protogen/protogen/internal/textwrap"
	"github.com/protogen/protogen/spec"
)

//go:embed *.tmpl
var files embed.FS

var hooksTmpl = template.Must(template.New("hooks.go.tmpl").Funcs(template.FuncMap{
	"comment": comment,
}).ParseFS(files, "hooks.go.tmpl"))

var starterTmpl = template.Must(template.New("starter").ParseFS(files, "starter*.tmpl"))

// Starter is what protogen -init writes from: a protocol type's name, the
// package, and the spec's file name.
type Starter struct {
	Name    string // the protocol type, such as Echo
	Package string // the Go package, such as main
	File    string // the spec's file name, such as echo.yaml
}

// Stem is the spec's file name without its extension, which names the
// generated file and the hook file.
func (st Starter) Stem() string { return strings.TrimSuffix(st.File, filepath.Ext(st.File)) }

// SchemaURL is the spec's JSON Schema, for the starter spec's first line.
func (Starter) SchemaURL() string { return spec.SchemaURL }

// StarterSpec renders the commented starter spec of a line echo protocol.
func StarterSpec(st Starter) ([]byte, error) {
	var buf bytes.Buffer
	if err := starterTmpl.ExecuteTemplate(&buf, "starter.yaml.tmpl", st); err != nil {
		return nil, fmt.Errorf("rendering the starter spec: %w", err)
	}
	return buf.Bytes(), nil
}

// StarterHooks renders the hook file of the starter spec, whose hooks make
// a line echo server.
func StarterHooks(st Starter) ([]byte, error) { return renderStarter("starter_hooks.go.tmpl", st) }

// StarterMain renders a main.go in package main that serves the starter's
// protocol and regenerates it under go generate.
func StarterMain(st Starter) ([]byte, error) { return renderStarter("starter_main.go.tmpl", st) }

func renderStarter(name string, st Starter) ([]byte, error) {
	var buf bytes.Buffer
	if err := starterTmpl.ExecuteTemplate(&buf, name, st); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting %s: %w", name, err)
	}
	return out, nil
}

// comment fills text to the usual width as the lines of a // comment.
func comment(text string) string {
	return "// " + strings.Join(textwrap.Lines(text, textwrap.Width), "\n// ")
}

// hooksData is what hooks.go.tmpl prints.
type hooksData struct {
	Source  string
	Package string
	Imports []importname.Import
	Methods []hookMethod
}

// hookMethod is what the "stubs" template prints for one hook.
type hookMethod struct {
	Receiver, Name, Doc, Params, Result, Body string
}

// A Stub names a hook method to render: the method of Hook on Protocol.
type Stub struct {
	Protocol *spec.Protocol // the type that the method is on
	Hook     *spec.Hook     // the hook that the method handles
}

// Hooks renders the user-owned file of hook stubs for s: a method for each
// declared hook of each protocol, so that a package generated into an empty
// folder builds and vets at once.
func Hooks(s *spec.Spec) ([]byte, error) {
	var stubs []Stub
	for _, p := range s.Protocols {
		for _, h := range p.Hooks {
			stubs = append(stubs, Stub{p, h})
		}
	}
	return HooksWith(s, stubs)
}

// HooksWith renders a new hook file for s holding only stubs: those of the
// hooks whose methods the package does not define elsewhere.
func HooksWith(s *spec.Spec, stubs []Stub) ([]byte, error) {
	names := importname.New()
	names.Reserve(s.PackageIdents()...)
	data := hooksData{Source: s.Source, Package: s.Package, Methods: methods(stubs, names.Name)}
	data.Imports = slices.SortedFunc(slices.Values(names.Imports()), func(a, b importname.Import) int {
		return strings.Compare(a.Path, b.Path)
	})
	return render(s, "hooks.go.tmpl", data)
}

// Stubs renders the methods of stubs exactly as Hooks writes them at the
// end of a new hook file, each after a blank line, so that protogen can
// append them to an existing one: a stub has one shape, wherever it lands.
// name gives the package name by which the stubs refer to an import path
// (the name in the file that will hold them: internal/importname's Namer
// for that file decides it).
func Stubs(s *spec.Spec, stubs []Stub, name func(path string) string) ([]byte, error) {
	return render(s, "stubs", methods(stubs, name))
}

// methods describes the stubs for the template, printing each type with
// the package names that name returns.
func methods(stubs []Stub, name func(path string) string) []hookMethod {
	ms := make([]hookMethod, len(stubs))
	for i, st := range stubs {
		h := st.Hook
		m := hookMethod{Receiver: st.Protocol.Name, Name: h.UserMethod, Doc: h.Doc, Body: h.StubBody}
		params := make([]string, len(h.Params))
		for j, prm := range h.Params {
			params[j] = prm.Name + " " + prm.Type.Format(name)
		}
		m.Params = strings.Join(params, ", ")
		if h.Result != nil {
			m.Result = h.Result.Format(name)
		}
		ms[i] = m
	}
	return ms
}

// render executes the named template and formats the result, which may be
// a whole file or a list of declarations (format.Source keeps the latter's
// leading blank line).
func render(s *spec.Spec, tmpl string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := hooksTmpl.ExecuteTemplate(&buf, tmpl, data); err != nil {
		return nil, fmt.Errorf("rendering hooks for %s: %w", s.Path, err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting hooks for %s: %w", s.Path, err)
	}
	return out, nil
}
