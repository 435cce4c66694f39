package codegen

import (
	"reflect"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/internal/importname"
	"github.com/protogen/protogen/spec"
)

// nameImports names every package that s's generated file may import, and
// tells f: the runtime first, so that it is always protoflow, then the
// others in the order of their paths, so that of two paths with one name
// the earlier keeps it plain. No name hides an identifier the file
// declares or its types use unqualified, a predeclared one, or a word
// jennifer reserves (err), so that jennifer prints exactly these names.
//
// The emitter's own imports are listed here beside the model's: each path
// that it passes to jen.Qual must be, or jennifer would name it itself.
func nameImports(f *jen.File, s *spec.Spec) {
	n := importname.New()
	n.Avoid(jen.IsReservedWord)
	n.Reserve(s.PackageIdents()...)
	var paths []string
	for _, p := range s.Protocols {
		if p.Framing != nil {
			paths = append(paths, reflect.TypeOf(p.Framing.Codec).PkgPath()) // the codec's literal
		}
		if p.HasTimeouts() || p.FrameTimeout > 0 {
			paths = append(paths, "time") // durations are written as 30 * time.Second
		}
		if p.Machine != nil {
			paths = append(paths, "strconv") // String of a state or event out of range
		}
		for _, t := range protocolTypes(p) {
			paths = append(paths, t.ImportPaths()...)
		}
		if p.Framed() || len(p.Sends) > 0 {
			paths = append(paths, wirePkg)
		}
		if p.Client != "" {
			paths = append(paths, contextPkg, netPkg, "fmt")
		}
	}
	if len(s.Sets)+len(s.Types)+len(s.Enums) > 0 {
		// What the decoders and encoders of messages call.
		paths = append(paths, wirePkg, binaryPkg, bytesPkg, mathPkg, slicesPkg, strconvPkg)
	}
	n.Name(runtimePkg)
	slices.Sort(paths)
	for _, path := range slices.Compact(paths) {
		n.Name(path)
	}
	for _, imp := range n.Imports() {
		if imp.Alias {
			f.ImportAlias(imp.Path, imp.Name)
		} else {
			f.ImportName(imp.Path, imp.Name)
		}
	}
}

// protocolTypes returns the types from the model that p's generated code
// may write: its fields' and its members'.
func protocolTypes(p *spec.Protocol) []*spec.Type {
	var ts []*spec.Type
	for _, fd := range p.Fields {
		ts = append(ts, fd.Type)
	}
	for _, m := range p.Members {
		ts = append(ts, m.Types()...)
	}
	return ts
}
