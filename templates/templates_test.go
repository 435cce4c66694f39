package templates

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/protogen/protogen/internal/diff"
	"github.com/protogen/protogen/internal/importname"
	"github.com/protogen/protogen/spec"
)

// A stub has one shape: the stubs appended to an existing hook file are the
// tail of the hook file that protogen creates.
func TestStubsEndHooks(t *testing.T) {
	src := `version: 1
package: chat
protocols:
  - name: Chat
    hooks: [connection_made, data_received, eof_received]
  - name: Relay
    hooks: [connection_lost]
`
	s, err := spec.Parse("chat.yaml", []byte(src), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file, err := Hooks(s)
	if err != nil {
		t.Fatal(err)
	}
	var stubs []Stub
	for _, p := range s.Protocols {
		for _, h := range p.Hooks {
			stubs = append(stubs, Stub{p, h})
		}
	}
	tail, err := Stubs(s, stubs, importname.New().Name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(tail, []byte("\n// onConnectionMade ")) {
		t.Errorf("Stubs does not start with a blank line and the first stub's comment:\n%s", tail)
	}
	if !bytes.HasSuffix(file, tail) {
		t.Errorf("the hook file does not end with the stubs (-file +stubs):\n%s",
			diff.Unified("file", "stubs", file[max(0, len(file)-len(tail)):], tail))
	}
}

// The starter spec loads, names every hook (its hook file defines those it
// declares), and validates against the spec's JSON Schema, whatever the name and package.
func TestStarterSpec(t *testing.T) {
	schema := compileSpecSchema(t)
	for _, st := range []Starter{
		{Name: "Echo", Package: "main", File: "echo.yaml"},
		{Name: "ChatServer", Package: "chat", File: "chat-server.yml"},
	} {
		data, err := StarterSpec(st)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(st.File, data, spec.Options{})
		if err != nil {
			t.Fatalf("%s: the starter spec does not load:\n%v", st.File, err)
		}
		if got := s.Protocols[0].Name; got != st.Name || s.Package != st.Package {
			t.Errorf("%s: protocol %s in package %s, want %s in %s", st.File, got, s.Package, st.Name, st.Package)
		}
		hooks, err := StarterHooks(st)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range s.Protocols[0].Hooks {
			if !bytes.Contains(hooks, []byte(") "+h.User.Name+"(")) {
				t.Errorf("%s: the starter hook file has no %s", st.File, h.User.Name)
			}
		}
		// Its comment names the hooks it does not declare, for a reader
		// choosing one: every hook is in the spec's text.
		for _, k := range spec.AllHooks() {
			if !bytes.Contains(data, []byte(k.SpecName())) {
				t.Errorf("%s: the starter spec never names hook %s", st.File, k.SpecName())
			}
		}
		if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema="+spec.SchemaURL+"\n")) {
			t.Errorf("%s: the starter spec does not start with the yaml-language-server line", st.File)
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: the starter spec fails the schema:\n%v", st.File, err)
		}
	}
}

// compileSpecSchema compiles spec/protogen.schema.json.
func compileSpecSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "spec", "protogen.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(spec.SchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(spec.SchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
