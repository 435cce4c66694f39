// Package generated_example_test checks that the generated code checked in
// under generated_example is what protogen makes from its specs today.
package generated_example_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/protogen/protogen/internal/generate"
	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
	"github.com/protogen/protogen/internal/output"
)

func TestGeneratedCodeIsCurrent(t *testing.T) {
	specs, err := filepath.Glob("*/*.yaml")
	if err != nil || len(specs) == 0 {
		t.Fatalf("no specs found (%v)", err)
	}
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			res, err := generate.Files([]string{spec}, generate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var report strings.Builder
			current, err := output.Check(res.Files, &report)
			if err != nil {
				t.Fatal(err)
			}
			if !current {
				t.Errorf("stale generated files: run go generate ./generated_example/...\n%s", report.String())
			}
			for _, m := range res.Missing {
				t.Errorf("%s:%v: %s has no method %s", m.Spec.Path, m.Hook.Pos, m.Protocol.Name, m.Hook.User.Name)
			}
			for _, m := range res.Wrong {
				t.Errorf("%v: %s.%s has the wrong signature", m.Pos, m.Protocol.Name, m.Hook.User.Name)
			}
			for _, m := range res.Stale {
				t.Errorf("%v: %s.%s is the method of a hook the spec does not declare", m.Pos, m.Protocol.Name, m.Kind.UserMethod())
			}
		})
	}
}
