package spec_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/protogen/protogen/internal/codegen"
	"github.com/protogen/protogen/spec"
)

// TestGeneratedMembersAreReserved checks the table of members against what
// the code generator really emits. A state field named like a field or
// method that the generated type declares would make the generated file
// fail to compile, so the spec must refuse it: every member the generated
// type declares must be in the table (and refused as a field's name), with
// the signature the table gives it, and every member the table lists for
// the type must be generated (when the spec declares its hook).
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
    hooks: [connection_made, frame_received, eof_received, connection_lost, pause_writing, resume_writing, state_changed, timeout]`,
			min: 24, // BaseProtocol, six Protocol methods, five of their hook methods, the framer, the state, six methods for them, two more hooks and their methods
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, members := generatedMembers(t, specSource(tt.protocol, ""), "Server")
			if len(members) < tt.min {
				t.Fatalf("the generated Server declares %d members (%v), want at least %d: is the parse of the generated file broken?", len(members), slices.Sorted(maps.Keys(members)), tt.min)
			}
			p := s.Protocols[0]
			for _, name := range slices.Sorted(maps.Keys(members)) {
				src := specSource(tt.protocol, fmt.Sprintf("{name: %s, type: int}", name))
				_, err := spec.Parse("spec.yaml", []byte(src), spec.Options{})
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("field %q of Server collides with", name)) {
					t.Errorf("a state field named %q, which the generated Server declares: err = %v, want it refused as a collision", name, err)
				}
			}
			for _, m := range p.Members {
				if m.Kind.PackageLevel() || m.Recv != p.Name || m.Role == spec.RolePromoted ||
					m.Role == spec.RoleUserHook && p.Hook(m.Hook) == nil {
					continue
				}
				sig, ok := members[m.Name]
				switch {
				case !ok:
					t.Errorf("the table lists %s (%s), which the generated Server does not declare", m.Name, m.What)
				case m.Kind == spec.KindMethod || m.Kind == spec.KindHookMethod:
					if want := m.Signature(path.Base); sig != want {
						t.Errorf("the generated %s%s differs from the table's %s%s", m.Name, sig, m.Name, want)
					}
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
// methods its hooks interface asks the user to write, each with its
// signature as Go source ("" for a field).
func generatedMembers(t *testing.T, src, typeName string) (*spec.Spec, map[string]string) {
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
			hooks = p.Member(spec.RoleHooksInterface).Name
		}
	}
	seen := make(map[string]string)
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil && receiverName(d.Recv.List[0].Type) == typeName {
				seen[d.Name.Name] = signatureOf(t, d.Type)
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
							seen[n.Name] = signatureOf(t, m.Type.(*ast.FuncType))
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
						seen[n.Name] = ""
					}
					if len(field.Names) == 0 { // embedded: the field is named after the type
						seen[receiverName(field.Type)] = ""
					}
				}
			}
		}
	}
	return s, seen
}

// signatureOf prints a function type without its func keyword, as
// spec.Member's Signature does.
func signatureOf(t *testing.T, ft *ast.FuncType) string {
	var b strings.Builder
	if err := printer.Fprint(&b, token.NewFileSet(), ft); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(b.String(), "func")
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
