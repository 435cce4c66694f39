package templates

import (
	"bytes"
	"slices"
	"testing"

	"github.com/protogen/protogen/internal/diff"
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
	name := func(path string) string {
		i := slices.IndexFunc(s.Imports, func(imp spec.Import) bool { return imp.Path == path })
		return s.Imports[i].Name
	}
	tail, err := Stubs(s, stubs, name)
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
