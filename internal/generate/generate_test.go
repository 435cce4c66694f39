package generate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
)

// syntheticSpec returns a spec of n protocols, each with 20 fields of
// assorted types (qualified from several packages) and four hooks.
func syntheticSpec(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\npackage: synth\nprotocols:\n")
	types := []string{"uint32", "string", "time.Duration", "net.IP", "*example.com/synth/rooms.Room", "map[string][]byte", "chan<- error", "[]*net/netip.AddrPort"}
	for i := range n {
		fmt.Fprintf(&b, "  - name: Proto%d\n    doc: Proto%d is protocol number %d.\n    fields:\n", i, i, i)
		for f := range 20 {
			fmt.Fprintf(&b, "      - {name: f%d, type: %q, doc: field %d}\n", f, types[f%len(types)], f)
		}
		b.WriteString("    hooks: [connection_made, data_received, connection_lost, pause_writing]\n")
		b.WriteString("    flow: {high_water: 64KiB}\n")
	}
	return b.String()
}

// writeSpec writes the synthetic spec of n protocols into a new module,
// example.com/synth, which declares the rooms package that the spec names,
// so that the check of the field types finds every package.
func writeSpec(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{
		"synth.yaml":     syntheticSpec(n),
		"go.mod":         "module example.com/synth\n\ngo 1.26\n",
		"rooms/rooms.go": "// Package rooms holds the rooms.\npackage rooms\n\n// Room is a room.\ntype Room struct{}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "synth.yaml")
}

// BenchmarkGenerate measures the whole pipeline (read, parse, validate,
// resolve, check the field types with the go command, emit, format the
// generated file and the hook stubs) for specs of 10, 100 and 1,000
// protocols: the cost should grow linearly, and a 1,000-protocol spec
// should take well under 2 s.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("protocols=%d", n), func(b *testing.B) {
			path := writeSpec(b, n)
			b.ReportAllocs()
			var size int
			for b.Loop() {
				res, err := Files([]string{path}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				size = len(res.Files[0].Data)
			}
			b.ReportMetric(float64(size)/float64(n), "bytes/protocol")
		})
	}
}

// The synthetic spec is valid, its field types resolve, and it yields the
// generated file and the hook file, so that the benchmark measures real
// work.
func TestSyntheticSpec(t *testing.T) {
	res, err := Files([]string{writeSpec(t, 3)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("the field types were not all resolved: %v", res.Warnings)
	}
	files := res.Files
	if len(files) != 2 || !strings.Contains(string(files[0].Data), "type Proto2 struct") || !files[1].UserOwned {
		t.Fatalf("got %d files; want the generated file with Proto2 and the hook file", len(files))
	}
}
