package spec_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/protogen/protogen/internal/codegen"
	"github.com/protogen/protogen/spec"
)

// TestGeneratedMembersAreReserved checks the spec's reserved member names
// against what the code generator really emits. A state field named like
// a field or method that the generated type declares would make the
// generated file fail to compile, so the spec must refuse it; the spec's
// list and codegen's names are written separately, and this test catches
// one moving without the other.
func TestGeneratedMembersAreReserved(t *testing.T) {
	tests := []struct {
		name     string
		protocol string // the protocol's keys after its name; FIELDS is replaced by its fields
		min      int    // the generated type declares at least this many members
	}{
		{
			name:     "every Protocol hook",
			protocol: "hooks: [connection_made, data_received, eof_received, connection_lost, pause_writing, resume_writing]",
			min:      13, // the embedded BaseProtocol, six methods and six hook methods
		},
		{
			name: "framing, state machine and timeouts",
			protocol: `framing: {length: {size: 4, max: 1MiB}}
    machine:
      initial: greeting
      states: [greeting, ready]
      transitions:
        - {from: greeting, on: hello, to: ready}
    read_timeout: 30s
    hooks: [connection_made, frame_received, connection_lost, state_changed, timeout]`,
			min: 12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			members := generatedMembers(t, specSource(tt.protocol, ""), "Server")
			if len(members) < tt.min {
				t.Fatalf("the generated Server declares %d members (%v), want at least %d: is the parse of the generated file broken?", len(members), members, tt.min)
			}
			for _, m := range members {
				src := specSource(tt.protocol, fmt.Sprintf("{name: %s, type: int}", m))
				_, err := spec.Parse("spec.yaml", []byte(src), spec.Options{})
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("field %q of Server collides with", m)) {
					t.Errorf("a state field named %q, which the generated Server declares: err = %v, want it refused as a collision", m, err)
				}
			}
		})
	}
}

// specSource returns a spec of one protocol, Server, with the given keys and
// state field ("" for none).
func specSource(protocol, field string) string {
	fields := ""
	if field != "" {
		fields = "    fields: [" + field + "]\n"
	}
	return "version: 1\npackage: p\nprotocols:\n  - name: Server\n" + fields + "    " + protocol + "\n"
}

// generatedMembers generates the code of the spec and returns the names of
// the fields and methods that it declares on typeName, and of the hook
// methods its hooks interface asks the user to write, sorted.
func generatedMembers(t *testing.T, src, typeName string) []string {
	t.Helper()
	s, err := spec.Parse("spec.yaml", []byte(src), spec.Options{})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	out, err := codegen.Generate(s)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "gen.go", out, 0)
	if err != nil {
		t.Fatalf("parse the generated file: %v", err)
	}
	hooks := ""
	for _, p := range s.Protocols {
		if p.Name == typeName {
			hooks = p.HooksInterface
		}
	}
	seen := make(map[string]bool)
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil && receiverName(d.Recv.List[0].Type) == typeName {
				seen[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				ts, ok := sp.(*ast.TypeSpec)
				if !ok {
					continue
				}
				if it, ok := ts.Type.(*ast.InterfaceType); ok && ts.Name.Name == hooks {
					for _, m := range it.Methods.List {
						for _, n := range m.Names {
							seen[n.Name] = true
						}
					}
					continue
				}
				if ts.Name.Name != typeName {
					continue
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					t.Fatalf("type %s is not a struct", typeName)
				}
				for _, field := range st.Fields.List {
					for _, n := range field.Names {
						seen[n.Name] = true
					}
					if len(field.Names) == 0 { // embedded: the field is named after the type
						seen[receiverName(field.Type)] = true
					}
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// receiverName returns the type name of T, *T or pkg.T.
func receiverName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return receiverName(x.X)
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.Ident:
		return x.Name
	}
	return ""
}
