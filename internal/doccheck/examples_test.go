package doccheck

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
)

// The runtime's entry points, its framing and the shape of generated code
// each have a runnable example whose output go test checks, which go doc
// and pkg.go.dev show beside the documentation.
func TestExamples(t *testing.T) {
	want := map[string][]string{
		"runtime/protoflow":      {"ExampleServer", "ExampleDial", "ExampleAttach", "ExampleBaseProtocol_Drain", "ExampleSetTimeouts", "Example_generatedCode"},
		"runtime/wire":           {"ExampleFramer", "ExampleWriteFrame"},
		"generated_example/echo": {"Example"},
	}
	for dir, names := range want {
		tests, err := filepath.Glob(filepath.Join("..", "..", filepath.FromSlash(dir), "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var files []*ast.File
		for _, path := range tests {
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		found := make(map[string]*doc.Example)
		for _, ex := range doc.Examples(files...) {
			found["Example"+ex.Name] = ex
		}
		for _, name := range names {
			switch ex := found[name]; {
			case ex == nil:
				t.Errorf("%s has no %s", dir, name)
			case ex.Output == "" || ex.Unordered:
				t.Errorf("%s: %s has no // Output: comment that go test checks", dir, name)
			case ex.Doc == "":
				t.Errorf("%s: %s has no doc comment to say what it shows", dir, name)
			}
		}
	}
}
