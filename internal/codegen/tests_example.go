package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// protoflowtestPkg is the in-memory transport for testing hooks.
const protoflowtestPkg = "github.com/protogen/protogen/runtime/protoflowtest"

// exampleProtocol prints Example<Protocol>_protoflowtest: how to test the
// hooks of a protocol that receives messages without a socket. It feeds
// the protocol one message as a peer sends it (encoded, then framed), reads
// what the hooks sent back, decoded, and asks how the connection ended. It
// has no Output comment: what it prints depends on the hooks, which are the
// user's, so go test compiles it and does not run it.
func exampleProtocol(f *jen.File, p *spec.Protocol) {
	set := p.Receives[0]
	m := set.Messages[0]
	for _, cand := range set.Messages {
		if cand.Block() == nil {
			m = cand // a line with a data block needs one written out
			break
		}
	}
	name := "Example" + p.Name + "_protoflowtest"
	f.Line()
	prose(f, fmt.Sprintf("%s shows how to test %s's hooks without a socket: protoflowtest.New runs ConnectionMade, "+
		"Feed hands DataReceived what a peer sends (here a %s, encoded and framed), and what the hooks sent comes back "+
		"from the test's side of the connection. It prints what the hooks do, so it has no Output to check: copy it "+
		"into a test of your own and check what your hooks should do. See protoflowtest.CheckSplits for the same input "+
		"cut at every byte.", name, p.Name, m.Name))
	body := []jen.Code{
		jen.Id("c").Op(":=").Qual(protoflowtestPkg, "New").Call(jen.Id("New" + p.Name).Call()),
		jen.Line().Comment(fmt.Sprintf("A %s, as a peer sends it: its fields (fill them in), encoded, framed.", m.Name)),
		jen.Id("m").Op(":=").Op("&").Id(m.Name).Values(),
		jen.List(jen.Id("payload"), jen.Err()).Op(":=").Id("m").Dot("Append").Call(jen.Nil()),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Qual("fmt", "Println").Call(jen.Lit("encoding:"), jen.Err()),
			jen.Return(),
		),
	}
	frame := jen.Id("payload")
	if set.FrameLength == nil && p.Framing != nil {
		body = append(body,
			jen.List(jen.Id("frame"), jen.Err()).Op(":=").Add(codecCode(p.Framing)).Dot("AppendFrame").Call(jen.Nil(), jen.Id("payload")),
			jen.If(jen.Err().Op("!=").Nil()).Block(
				jen.Qual("fmt", "Println").Call(jen.Lit("framing:"), jen.Err()),
				jen.Return(),
			),
		)
		frame = jen.Id("frame")
	}
	body = append(body,
		jen.If(jen.Err().Op(":=").Id("c").Dot("Feed").Call(frame), jen.Err().Op("!=").Nil()).Block(
			jen.Qual("fmt", "Println").Call(jen.Lit("the connection had ended:"), jen.Err()),
		),
	)
	if len(p.Sends) > 0 && p.SendCodec != "" {
		reply := p.Sends[0]
		body = append(body,
			jen.Line().Comment("What the hooks sent, a frame at a time."),
			jen.For().Block(
				jen.List(jen.Id("b"), jen.Err()).Op(":=").Id("c").Dot("ReadFrame").Call(jen.Id(p.SendCodec)),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Break()),
				jen.List(jen.Id("r"), jen.Err()).Op(":=").Id(reply.DecodeFunc).Call(jen.Id("b")),
				jen.Qual("fmt", "Printf").Call(jen.Lit("sent %T %+v (%v)\n"), jen.Id("r"), jen.Id("r"), jen.Err()),
			),
		)
	} else {
		body = append(body,
			jen.Line().Comment("What the hooks sent."),
			jen.Qual("fmt", "Printf").Call(jen.Lit("sent %q\n"), jen.Id("c").Dot("ReadAll").Call()),
		)
	}
	body = append(body,
		jen.Line().Comment("The peer closes its side; how did the connection end?"),
		jen.Id("c").Dot("FeedEOF").Call(),
		jen.List(jen.Id("lost"), jen.Err()).Op(":=").Id("c").Dot("Lost").Call(),
		jen.Qual("fmt", "Println").Call(jen.Lit("lost:"), jen.Id("lost"), jen.Err()),
	)
	f.Func().Id(name).Params().Block(body...)
}
