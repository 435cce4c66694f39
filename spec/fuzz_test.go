package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// FuzzParse checks that no input makes Parse panic or hang, and that a
// failure is always an ErrorList of positioned errors, whose excerpts are a
// line and a caret. The corpus starts
// from every spec in the golden cases.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.txtar"))
	for _, path := range paths {
		a, err := txtar.ParseFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			if strings.HasSuffix(file.Name, ".yaml") {
				f.Add(file.Data)
			}
		}
	}
	kv, err := os.ReadFile(filepath.Join("..", "generated_example", "kv", "kv.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(kv)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, Options{})
		if err == nil {
			if s == nil || len(s.Protocols)+len(s.Sets)+len(s.Types)+len(s.Enums) == 0 || s.Package == "" {
				t.Fatalf("Parse succeeded with an incomplete model: %+v", s)
			}
			return
		}
		list, ok := err.(ErrorList)
		if !ok || len(list) == 0 {
			t.Fatalf("Parse failed with %T %v, want a non-empty ErrorList", err, err)
		}
		for _, e := range list {
			if e.Pos.Line < 1 || e.Pos.Col < 1 || e.File != "fuzz.yaml" {
				t.Fatalf("error without a position: %v", e)
			}
			if x := e.Excerpt(); x != "" && (strings.Count(x, "\n") != 2 || !strings.HasSuffix(x, "^\n")) {
				t.Fatalf("excerpt of %v is not a line and a caret:\n%s", e, x)
			}
		}
	})
}
