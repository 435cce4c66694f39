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
	// Generate puts the //go:generate line in the hook file: set when
	// there is no main.go of the starter to hold it.
	Generate bool
}

// Stem is the spec's file name without its extension, which names the
// generated file and the hook file.
func (st Starter) Stem() string { return strings.TrimSuffix(st.File, filepath.Ext(st.File)) }

// UserMethod returns the name of the method the user writes for the hook
// that a spec calls specName, from the table of members.
func (Starter) UserMethod(specName string) (string, error) {
	k, ok := spec.HookBySpecName(specName)
	if !ok {
		return "", fmt.Errorf("no hook %s", specName)
	}
	return k.UserMethod(), nil
}

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
// a line echo server. Each hook method's name and signature come from the
// table of members of the starter spec's protocol, as the stubs' do.
func StarterHooks(st Starter) ([]byte, error) {
	src, err := StarterSpec(st)
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(st.File, src, spec.Options{})
	if err != nil {
		return nil, fmt.Errorf("the starter spec: %w", err)
	}
	return renderStarter("starter_hooks.go.tmpl", starterHooks{st, s.Protocols[0]})
}

// StarterMain renders a main.go in package main that serves the starter's
// protocol and regenerates it under go generate.
func StarterMain(st Starter) ([]byte, error) { return renderStarter("starter_main.go.tmpl", st) }

// starterHooks is what starter_hooks.go.tmpl prints: the starter and its
// spec's protocol.
type starterHooks struct {
	Starter
	protocol *spec.Protocol
}

// hookDecl is a hook method the starter's hook file writes: its name, and
// its declaration up to the body.
type hookDecl struct{ Name, Decl string }

// Hook returns the method of the hook that the starter spec names
// specName (connection_made...), with its types written as the hook file
// imports their packages: protoflow and wire.
func (d starterHooks) Hook(specName string) (hookDecl, error) {
	for _, h := range d.protocol.Hooks {
		if h.SpecName != specName {
			continue
		}
		names := importname.New()
		names.Adopt(spec.RuntimePath, "protoflow")
		names.Adopt(spec.WirePath, "wire")
		decl := fmt.Sprintf("func (p *%s) %s%s", d.Name, h.User.Name, h.User.Signature(names.Name))
		if imps := names.Imports(); len(imps) > 0 {
			return hookDecl{}, fmt.Errorf("the starter's hook %s needs package %s, which its hook file does not import", specName, imps[0].Path)
		}
		return hookDecl{h.User.Name, decl}, nil
	}
	return hookDecl{}, fmt.Errorf("the starter spec declares no hook %s", specName)
}

func renderStarter(name string, st any) ([]byte, error) {
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
	Receiver, Name, Doc, Signature, Body string
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
		ms[i] = hookMethod{Receiver: st.Protocol.Name, Name: h.User.Name, Doc: h.Doc,
			Signature: h.User.Signature(name), Body: h.StubBody}
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
