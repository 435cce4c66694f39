package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/runtime/wire"
	"github.com/protogen/protogen/spec"
)

// A protocol that receives messages decodes each frame into a message on
// the stack, fires the message's machine event, and calls the message's
// hook; one that sends them has a Send method per message, which encodes
// into a pooled buffer and writes one frame.

// messageCodec prints the codec a protocol that receives messages gives
// its framer: that of its one set, or, for several, the SniffCodec that
// the protocol holds, which chooses among theirs by a connection's first
// bytes.
func messageCodec(p *spec.Protocol) jen.Code {
	if len(p.Receives) == 1 {
		return setCodec(p, p.Receives[0])
	}
	return jen.Op("&").Id("p").Dot(p.Member(spec.RoleSniff).Name)
}

// setCodec prints the codec that frames set s for p: its framing's,
// extended with data blocks for a text set that has them, or the header
// codec of a set that frames itself.
func setCodec(p *spec.Protocol, s *spec.MessageSet) jen.Code {
	switch {
	case s.FrameLength != nil:
		return jen.Id(s.CodecFunc).Call()
	case s.Encoding == spec.Text && s.HasBlocks():
		d := blockCodecDict(s)
		if line, ok := p.Framing.Codec.(wire.LineCodec); ok && line.Max != 0 {
			d[jen.Id("MaxLine")] = jen.Lit(line.Max)
		}
		return jen.Qual(wirePkg, "BlockCodec").Values(d)
	}
	return codecCode(p.Framing)
}

// sniffVar prints the package variable that p's connections copy their
// SniffCodec from: each set's codec, and the magic that starts each set but
// the last.
func sniffVar(f *jen.File, p *spec.Protocol) {
	v := p.Member(spec.RoleSniffTemplate)
	var magics, codecs []jen.Code
	names := make([]string, len(p.Receives))
	for i, s := range p.Receives {
		names[i] = s.Name
		codecs = append(codecs, setCodec(p, s))
		if i < len(p.Receives)-1 {
			magics = append(magics, jen.Index().Byte().Parens(jen.Lit(string(s.Magic()))))
		}
	}
	f.Line()
	prose(f, fmt.Sprintf("%s is what each connection of %s copies its codec from: the first bytes of a connection choose among %s, for its life.", v.Name, p.Name, listFields(names)))
	f.Var().Id(v.Name).Op("=").Qual(wirePkg, "SniffCodec").Values(jen.Dict{
		jen.Id("Magics"): jen.Index().Index().Byte().Values(magics...),
		jen.Id("Codecs"): jen.Index().Qual(wirePkg, "Codec").Values(codecs...),
	})
}

// codecFunc prints the function that returns the codec of a set that
// frames itself, which the generated code uses and tests may: to read
// back a frame that a hook sent (protoflowtest's ReadFrame), or to split
// a stream of the set's messages with a wire.Framer.
func codecFunc(f *jen.File, s *spec.MessageSet) {
	switch {
	case s.CodecFunc == "":
	case s.FrameLength != nil:
		f.Line()
		prose(f, fmt.Sprintf("%s returns the codec that frames the messages of %s by the length in their header, at most %d bytes a message: for a wire.Framer, or protoflowtest's ReadFrame in a test.", s.CodecFunc, s.Name, s.Max))
		f.Func().Id(s.CodecFunc).Params().Qual(wirePkg, "HeaderCodec").Block(jen.Return(headerCodec(s)))
	default:
		f.Line()
		prose(f, fmt.Sprintf("%s returns a codec that frames the messages of %s each with the data block its line announces (lines of at most wire.DefaultMaxLine bytes, blocks of at most %d): for protoflowtest's ReadFrame in a test, or a wire.Framer. A protocol that receives %s frames them the same, with its own line maximum.", s.CodecFunc, s.Name, maxBlock(s), s.Name))
		f.Func().Id(s.CodecFunc).Params().Qual(wirePkg, "BlockCodec").Block(jen.Return(jen.Qual(wirePkg, "BlockCodec").Values(blockCodecDict(s))))
	}
}

// blockCodecDict is the wire.BlockCodec of a text set with data blocks, but
// for its line maximum, which is the receiving protocol's.
func blockCodecDict(s *spec.MessageSet) jen.Dict {
	return jen.Dict{
		jen.Id("Block"):    jen.Id(s.BlockLenFunc),
		jen.Id("MaxBlock"): jen.Lit(maxBlock(s)),
	}
}

// headerCodec prints the wire.HeaderCodec of a set whose header holds the
// message's length.
func headerCodec(s *spec.MessageSet) jen.Code {
	f := s.FrameLength
	d := jen.Dict{
		jen.Id("Offset"): jen.Lit(s.FieldOffset(f)),
		jen.Id("Size"):   jen.Lit(f.Int.Size()),
		jen.Id("From"):   jen.Lit(s.CountsOffset()),
		jen.Id("Max"):    jen.Lit(s.Max),
	}
	if f.Int.Endian == spec.LittleEndian {
		d[jen.Id("LittleEndian")] = jen.True()
	}
	return jen.Qual(wirePkg, "HeaderCodec").Values(d)
}

// maxBlock is the largest data block of a text set's messages.
func maxBlock(s *spec.MessageSet) int {
	max := 0
	for _, m := range s.Messages {
		if b := m.Block(); b != nil && b.Max > max {
			max = b.Max
		}
	}
	return max
}

// blockLenFunc prints the set's BlockLenFunc: for a line whose verb's
// message has a data block, the block's length if the line decodes; -1
// for a line without one, or one that does not decode, which is then a
// frame alone (the decoder reports why), as memcached reads it.
func blockLenFunc(f *jen.File, s *spec.MessageSet) {
	f.Line()
	prose(f, fmt.Sprintf("%s returns the length of the data block that line announces, for %s's codec, or -1 when it announces none: a line that does not decode announces none, and what follows it is the next line. A length over the maximum is the codec's to refuse.", s.BlockLenFunc, s.Name))
	var cases []jen.Code
	for _, m := range s.Messages {
		if m.Block() == nil || m.Verb == "" {
			continue
		}
		cases = append(cases, jen.Case(verbMatch(s, jen.Id("verb"), m.Verb)).Block(
			jen.Var().Id("m").Id(m.Name),
			jen.List(jen.Id("n"), jen.Err()).Op(":=").Id("m").Dot("decodeLine").Call(jen.Id("line"), jen.Id("rest")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(-1))),
			jen.Return(jen.Int().Parens(jen.Min(jen.Uint64().Parens(jen.Id("n")), jen.Uint64().Parens(jen.Qual(mathPkg, "MaxInt32"))))),
		))
	}
	f.Func().Id(s.BlockLenFunc).Params(jen.Id("line").Index().Byte()).Int().Block(
		jen.List(jen.Id("verb"), jen.Id("rest")).Op(":=").Qual(wirePkg, "Token").Call(jen.Id("line")),
		jen.Switch().Block(cases...),
		jen.Return(jen.Lit(-1)),
	)
}

// dispatchMethod prints the method that decodes one frame's message and
// passes it on; for several sets, one per set, and one that calls the set
// the connection's first bytes chose.
func dispatchMethod(f *jen.File, p *spec.Protocol) {
	top := p.Member(spec.RoleDispatch).Name
	if len(p.Receives) > 1 {
		var cases []jen.Code
		for i, s := range p.Receives {
			c := jen.Case(jen.Lit(i))
			if i == len(p.Receives)-1 {
				c = jen.Default()
			}
			cases = append(cases, c.Block(jen.Id("p").Dot(top+s.Name).Call(jen.Id("frame"))))
		}
		f.Line()
		prose(f, fmt.Sprintf("%s passes a frame to the dispatch of the set that the connection's first bytes chose.", top))
		f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(top).Params(jen.Id("frame").Index().Byte()).Block(
			jen.Switch(jen.Id("p").Dot(p.Member(spec.RoleSniff).Name).Dot("Chosen").Call()).Block(cases...),
		)
	}
	for _, s := range p.Receives {
		name := top
		if len(p.Receives) > 1 {
			name += s.Name
		}
		f.Line()
		prose(f, fmt.Sprintf("%s decodes the %s message in frame into a value on the stack, fires its machine event if it has one, and calls its hook. A message that does not decode, or that the state machine refuses, goes to badMessage without reaching a hook.", name, s.Name))
		var body []jen.Code
		if s.Encoding == spec.Text {
			body = textDispatch(p, s)
		} else {
			body = binaryDispatch(p, s)
		}
		f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(name).Params(jen.Id("frame").Index().Byte()).Block(body...)
	}
}

// badMessageCall names the method a message that does not decode, or that
// the machine refuses, goes to (the member table's runner of bad_message).
func badMessageCall(p *spec.Protocol) *jen.Statement {
	return jen.Id("p").Dot(p.HookRunner(spec.BadMessage).Name)
}

// deliver prints what follows a message's decoding: the event, the hook.
func deliver(p *spec.Protocol, m *spec.Message, decode jen.Code) []jen.Code {
	out := []jen.Code{jen.Var().Id("m").Id(m.Name)}
	out = append(out, listBacking(m)...)
	out = append(out, jen.If(jen.Err().Op(":=").Add(decode), jen.Err().Op("!=").Nil()).Block(
		badMessageCall(p).Call(jen.Err()),
		jen.Return(),
	))
	if ev := p.EventOf(m); ev != nil {
		out = append(out, jen.If(jen.Err().Op(":=").Id("p").Dot(p.Member(spec.RoleFire).Name).Call(jen.Id(ev.Const)), jen.Err().Op("!=").Nil()).Block(
			badMessageCall(p).Call(jen.Err()),
			jen.Return(),
		))
	}
	return append(out, jen.Id("p").Dot(m.Hook).Call(jen.Op("&").Id("m")))
}

// listBacking gives the lists of a message a small array on the stack to
// decode into, so that a message with a few items allocates nothing.
func listBacking(m *spec.Message) []jen.Code {
	var out []jen.Code
	for _, fd := range spec.AllFields(m.Fields) {
		if !fd.List || !fd.InStruct() {
			continue
		}
		n := 16
		if fd.MaxItems > 0 && fd.MaxItems < n {
			n = fd.MaxItems
		}
		arr := "backing" + fd.GoName
		out = append(out,
			jen.Var().Id(arr).Index(jen.Lit(n)).Add(elemGoType(fd)),
			jen.Id("m").Dot(fd.GoName).Op("=").Id(arr).Index(jen.Empty(), jen.Lit(0)),
		)
	}
	return out
}

func binaryDispatch(p *spec.Protocol, s *spec.MessageSet) []jen.Code {
	if s.Tag == nil {
		return deliver(p, s.Messages[0], jen.Id("m").Dot("Decode").Call(jen.Id("frame")))
	}
	off, size := s.TagOffset(), s.Tag.FixedSize()
	tag := tagValue(s, "frame")
	body := []jen.Code{jen.If(jen.Len(jen.Id("frame")).Op("<").Lit(off+size)).Block(
		badMessageCall(p).Call(decodeFail(s.Name, s.Tag.Name, jen.Len(jen.Id("frame")), "ErrTruncated", needDetail(jen.Lit(off+size), jen.Len(jen.Id("frame"))))),
		jen.Return(),
	)}
	var cases []jen.Code
	for _, m := range s.Messages {
		vals := make([]jen.Code, len(m.Tags))
		for i, t := range m.Tags {
			vals[i] = constCode(s.Tag, t)
		}
		cases = append(cases, jen.Case(vals...).Block(deliver(p, m, jen.Id("m").Dot("Decode").Call(jen.Id("frame")))...))
	}
	cases = append(cases, jen.Default().Block(badMessageCall(p).Call(unknownTag(s, tag.Clone()))))
	return append(body, jen.Switch(tag).Block(cases...))
}

func textDispatch(p *spec.Protocol, s *spec.MessageSet) []jen.Code {
	var body []jen.Code
	if s.HasBlocks() {
		body = append(body, jen.List(jen.Id("line"), jen.Id("after")).Op(":=").Qual(wirePkg, "CutLine").Call(jen.Id("frame")))
	} else {
		body = append(body, jen.List(jen.Id("line"), jen.Id("after")).Op(":=").Id("frame").Op(",").Index().Byte().Parens(jen.Nil()))
	}
	body = append(body, jen.List(jen.Id("verb"), jen.Id("rest")).Op(":=").Qual(wirePkg, "Token").Call(jen.Id("line")))
	key := jen.String().Parens(jen.Id("verb"))
	if s.CaseInsensitive {
		longest := 0
		for _, m := range s.Messages {
			longest = max(longest, len(m.Verb))
		}
		body = append(body,
			jen.Var().Id("lower").Index(jen.Lit(longest)).Byte(),
			jen.Id("key").Op(":=").Id("verb"),
			jen.If(jen.Len(jen.Id("verb")).Op("<=").Len(jen.Id("lower"))).Block(
				jen.Id("key").Op("=").Qual(wirePkg, "LowerASCII").Call(jen.Id("lower").Index(jen.Empty(), jen.Lit(0)), jen.Id("verb")),
			),
		)
		key = jen.String().Parens(jen.Id("key"))
	}
	var cases []jen.Code
	for _, m := range s.Messages {
		if m.Verb == "" {
			continue
		}
		v := m.Verb
		if s.CaseInsensitive {
			v = strings.ToLower(v)
		}
		cases = append(cases, jen.Case(jen.Lit(v)).Block(deliver(p, m, jen.Id("m").Dot("decodeArgs").Call(jen.Id("line"), jen.Id("rest"), jen.Id("after")))...))
	}
	if d := s.Default; d != nil {
		cases = append(cases, jen.Default().Block(deliver(p, d, jen.Id("m").Dot("decodeArgs").Call(jen.Id("line"), jen.Id("line"), jen.Id("after")))...))
	} else {
		cases = append(cases, jen.Default().Block(badMessageCall(p).Call(unknownVerb(s, jen.Id("verb")))))
	}
	return append(body, jen.Switch(key).Block(cases...))
}

// badMessageMethod prints badMessage: the bad_message hook, which keeps the
// connection open or not, or an abort with the error, which ConnectionLost
// receives.
func badMessageMethod(f *jen.File, p *spec.Protocol) {
	f.Line()
	abort := jen.If(jen.Id("t").Op(":=").Id("p").Dot("Transport").Call(), jen.Id("t").Op("!=").Nil()).Block(
		jen.Qual(runtimePkg, "AbortWithError").Call(jen.Id("t"), jen.Err()),
	)
	runner := p.HookRunner(spec.BadMessage)
	if h := p.Hook(spec.BadMessage); h != nil {
		prose(f, fmt.Sprintf("%s passes a message that did not decode (a *wire.DecodeError) or that the state machine refused (a *protoflow.TransitionError) to %s, and aborts the connection with the error unless it returns true.", runner.Name, h.User.Name))
		f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(runner.Name).Params(jen.Err().Error()).Block(
			jen.If(jen.Op("!").Id("p").Dot(h.User.Name).Call(jen.Err())).Block(abort),
		)
		return
	}
	prose(f, fmt.Sprintf("%s aborts the connection for a message that did not decode (a *wire.DecodeError) or that the state machine refused (a *protoflow.TransitionError); ConnectionLost receives the error. Declare the bad_message hook to decide otherwise.", runner.Name))
	f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(runner.Name).Params(jen.Err().Error()).Block(abort)
}

// sendMethods prints a Send method for each message p sends, and the
// package variable that holds the codec they frame with.
func sendMethods(f *jen.File, p *spec.Protocol) {
	if p.SendCodec != "" {
		f.Line()
		prose(f, fmt.Sprintf("%s frames what %s sends, in place in the buffer a message is encoded into: %s.", p.SendCodec, p.Name, p.Framing.Summary))
		f.Var().Id(p.SendCodec).Op("=").Add(codecCode(p.Framing))
	}
	for _, m := range p.SentMessages() {
		sendMethod(f, p, m)
	}
}

func sendMethod(f *jen.File, p *spec.Protocol, m *spec.Message) {
	f.Line()
	how := "as one frame, with one Write"
	framed := m.Set.FrameLength == nil && m.Block() == nil
	switch {
	case m.Set.FrameLength != nil:
		how = "with one Write: its header holds its length"
	case m.Block() != nil:
		how = `with one Write: its line, "\r\n", its data block and "\r\n"`
	}
	prose(f, fmt.Sprintf("%s sends m to the peer %s. It never blocks and is safe for concurrent use. Its error is a *wire.EncodeError for a message that cannot be encoded, protoflow.ErrConnectionReset when not connected, or one matching net.ErrClosed once the transport is closing.", m.Send, how))
	dst := jen.Parens(jen.Op("*").Id("buf")).Index(jen.Empty(), jen.Lit(0))
	body := []jen.Code{
		jen.Id("t").Op(":=").Id("p").Dot("Transport").Call(),
		jen.If(jen.Id("t").Op("==").Nil()).Block(jen.Return(jen.Qual(runtimePkg, "ErrConnectionReset"))),
		jen.Id("buf").Op(":=").Qual(wirePkg, "GetBuffer").Call(),
	}
	if framed {
		body = append(body,
			jen.List(jen.Id("b"), jen.Err()).Op(":=").Id("m").Dot("Append").Call(jen.Id(p.SendCodec).Dot("BeginFrame").Call(dst)),
			jen.If(jen.Err().Op("==").Nil()).Block(jen.List(jen.Id("b"), jen.Err()).Op("=").Id(p.SendCodec).Dot("EndFrame").Call(jen.Id("b"), jen.Lit(0))),
		)
	} else {
		body = append(body, jen.List(jen.Id("b"), jen.Err()).Op(":=").Id("m").Dot("Append").Call(dst))
	}
	body = append(body,
		jen.If(jen.Err().Op("==").Nil()).Block(jen.List(jen.Id("_"), jen.Err()).Op("=").Id("t").Dot("Write").Call(jen.Id("b"))),
		jen.Qual(wirePkg, "PutBuffer").Call(jen.Id("buf"), jen.Id("b")),
		jen.Return(jen.Err()),
	)
	f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(m.Send).Params(jen.Id("m").Op("*").Id(m.Name)).Error().Block(body...)
}
