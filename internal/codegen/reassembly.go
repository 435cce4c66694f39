package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// framerHost prints the statement of a framed protocol's ConnectionMade
// that makes the transport its framer's host (protoflow.HostFramer): the
// framer then borrows its buffers for frames split across reads from the
// runtime's pools, within a server's reassembly budget, and tells the
// transport when a frame begins, which the frame timeout times.
func framerHost(fr *spec.Member, t jen.Code) jen.Code {
	return jen.Qual(runtimePkg, "HostFramer").Call(t, jen.Op("&").Add(self()).Dot(fr.Name))
}

// frameTimeout prints the statement of ConnectionMade that sets the
// spec's frame timeout, and the step that its doc comment names.
func frameTimeout(p *spec.Protocol, t jen.Code) (jen.Code, string) {
	return jen.Id("_").Op("=").Qual(runtimePkg, "SetFrameTimeout").Call(t, durationCode(p.FrameTimeout)),
		"sets a frame timeout of " + p.FrameTimeout.String()
}
