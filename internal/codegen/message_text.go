package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// textMessage prints Decode, decodeArgs and Append of a text message: a
// line of its verb and space-separated tokens, and maybe a data block.
func textMessage(f *jen.File, m *spec.Message) {
	t := &textCode{m: m}
	f.Line()
	verbNote := "its verb " + m.Verb
	if m.Verb == "" {
		verbNote = "no verb"
	}
	prose(f, fmt.Sprintf("Decode decodes the line (and data block) that b holds, which must be exactly one %s, with %s, into m. Its line: %s", m.Name, verbNote, usage(m)))
	body := []jen.Code{jen.List(jen.Id("line"), jen.Id("after")).Op(":=").Qual(wirePkg, "CutLine").Call(jen.Id("b"))}
	if m.Verb != "" {
		body = append(body,
			jen.List(jen.Id("verb"), jen.Id("rest")).Op(":=").Qual(wirePkg, "Token").Call(jen.Id("line")),
			jen.If(jen.Op("!").Parens(verbMatch(m.Set, jen.Id("verb"), m.Verb))).Block(
				jen.Return(decodeFail(m.Name, "", jen.Lit(0), "ErrInvalid", jen.Lit("verb ").Op("+").Qual(wirePkg, "TokenDetail").Call(jen.Id("verb")).Op("+").Lit(", want "+m.Verb))),
			),
			jen.Return(jen.Id("m").Dot("decodeArgs").Call(jen.Id("line"), jen.Id("rest"), jen.Id("after"))),
		)
	} else {
		body = append(body, jen.Return(jen.Id("m").Dot("decodeArgs").Call(jen.Id("line"), jen.Id("line"), jen.Id("after"))))
	}
	f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Decode").Params(jen.Id("b").Index().Byte()).Error().Block(body...)

	f.Line()
	prose(f, fmt.Sprintf("decodeArgs decodes %s's fields from rest, the line after its verb, and its data block from after, what follows the line.", m.Name))
	f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("decodeArgs").Params(jen.List(jen.Id("line"), jen.Id("rest"), jen.Id("after")).Index().Byte()).Error().Block(t.decodeBody()...)

	if b := m.Block(); b != nil {
		f.Line()
		prose(f, fmt.Sprintf("decodeLine decodes the fields of %s's line from rest, the line after its verb, and returns the length of the data block it announces. The set's codec calls it too: a data block follows only a line that decodes, and the bytes after one that does not are the next line, as memcached reads them.", m.Name))
		lt := &textCode{m: m, lineOnly: true}
		f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("decodeLine").Params(jen.List(jen.Id("line"), jen.Id("rest")).Index().Byte()).Params(elemGoType(b.Length.Field), jen.Error()).Block(lt.decodeLineBody()...)
	}

	f.Line()
	prose(f, fmt.Sprintf("Append appends m's line%s to dst, without the line's terminator, which the framing adds. For a message it cannot encode it returns dst unchanged and a *wire.EncodeError.", blockNote(m)))
	f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Append").Params(jen.Id("dst").Index().Byte()).Params(jen.Index().Byte(), jen.Error()).Block(t.encodeBody()...)
}

func blockNote(m *spec.Message) string {
	if b := m.Block(); b != nil {
		return fmt.Sprintf(`, then "\r\n", its data block %s and "\r\n"`, b.GoName)
	}
	return ""
}

// verbMatch is the test that the token verb is the verb v of a message of
// set s.
func verbMatch(s *spec.MessageSet, verb jen.Code, v string) jen.Code {
	if s.CaseInsensitive {
		return jen.Qual(wirePkg, "EqualFold").Call(verb, jen.Lit(v))
	}
	return jen.String().Parens(verb).Op("==").Lit(v)
}

// unknownVerb is the error for a line whose verb no message of s has.
func unknownVerb(s *spec.MessageSet, verb jen.Code) jen.Code {
	return decodeFail(s.Name, "", jen.Lit(0), "ErrUnknownMessage", jen.Lit("verb ").Op("+").Qual(wirePkg, "TokenDetail").Call(verb))
}

// tagValue is the value of s's tag in buf, of the tag's Go type (a
// string for bytes), for a switch on the messages' tags.
func tagValue(s *spec.MessageSet, buf string) *jen.Statement {
	off := s.TagOffset()
	switch s.Tag.Kind {
	case spec.WireBytes:
		return jen.String().Parens(jen.Id(buf).Index(jen.Lit(off), jen.Lit(off+s.Tag.Size)))
	case spec.WireEnum:
		return jen.Id(s.Tag.Enum.Name).Parens(readFixed(s.Tag, jen.Id(buf), jen.Lit(off)))
	}
	return readFixed(s.Tag, jen.Id(buf), jen.Lit(off))
}

// unknownTag is the error for a tag no message of s has.
func unknownTag(s *spec.MessageSet, tag jen.Code) jen.Code {
	detail := valueDetail(s.Tag.Int, tag)
	if s.Tag.Kind == spec.WireBytes {
		detail = jen.Qual(wirePkg, "TokenDetail").Call(jen.Index().Byte().Parens(tag))
	}
	return decodeFail(s.Name, s.Tag.Name, jen.Lit(s.TagOffset()), "ErrUnknownMessage", detail)
}

type textCode struct {
	m *spec.Message
	// lineOnly prints decodeLine, whose error paths also return a zero
	// block length.
	lineOnly bool
	// usesStart is set once the encoder has printed an error path, which
	// returns dst as it was at the start.
	usesStart bool
}

// flag returns the message's flag field, or nil.
func (t *textCode) flag() *spec.MessageField {
	for _, f := range t.m.Fields {
		if f.Kind == spec.WireFlag {
			return f
		}
	}
	return nil
}

func (t *textCode) val(f *spec.MessageField) *jen.Statement {
	if f.InStruct() {
		return jen.Id("m").Dot(f.GoName)
	}
	return jen.Id(localName(f))
}

// tokOff is the offset in the line of the token just read.
var tokOff = jen.Len(jen.Id("line")).Op("-").Len(jen.Id("rest")).Op("-").Len(jen.Id("tok"))

func (t *textCode) fail(f *spec.MessageField, off jen.Code, reason string, detail jen.Code) jen.Code {
	name := ""
	if f != nil {
		name = f.Name
	}
	if t.lineOnly {
		return jen.Return(jen.Lit(0), decodeFail(t.m.Name, name, off, reason, detail))
	}
	return jen.Return(decodeFail(t.m.Name, name, off, reason, detail))
}

// decodeBody prints decodeArgs's body. A message with a data block
// decodes its line with decodeLine, then the block.
func (t *textCode) decodeBody() []jen.Code {
	if block := t.m.Block(); block != nil {
		return append([]jen.Code{
			jen.List(t.val(block.Length.Field), jen.Err()).Op(":=").Id("m").Dot("decodeLine").Call(jen.Id("line"), jen.Id("rest")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		}, append(t.decodeBlock(block), jen.Return(jen.Nil()))...)
	}
	return t.decodeLineBody()
}

// decodeLineBody prints the decoding of the line's fields: decodeArgs's
// body for a message without a data block, decodeLine's for one with.
func (t *textCode) decodeLineBody() []jen.Code {
	body := append(resetMessage(t.m), jen.Var().Id("tok").Index().Byte())
	for _, f := range t.m.Fields {
		if f.Computed {
			body = append(body, jen.Var().Id(localName(f)).Add(elemGoType(f)))
		}
	}
	block := t.m.Block()
	for _, f := range t.m.Fields {
		if f == block {
			continue
		}
		body = append(body, t.decodeField(f)...)
	}
	body = append(body, jen.If(jen.List(jen.Id("tok"), jen.Id("_")).Op("=").Qual(wirePkg, "Token").Call(jen.Id("rest")), jen.Len(jen.Id("tok")).Op(">").Lit(0)).Block(
		t.fail(nil, jen.Len(jen.Id("line")).Op("-").Len(jen.Id("rest")), "ErrTrailing", jen.Qual(wirePkg, "TokenDetail").Call(jen.Id("tok"))),
	))
	if block != nil {
		return append(body, jen.Return(t.val(block.Length.Field), jen.Nil()))
	}
	body = append(body, jen.If(jen.Len(jen.Id("after")).Op(">").Lit(0)).Block(
		jen.Return(decodeFail(t.m.Name, "", jen.Len(jen.Id("line")), "ErrTrailing", jen.Qual(wirePkg, "Left").Call(jen.Len(jen.Id("after"))))),
	))
	return append(body, jen.Return(jen.Nil()))
}

// decodeField prints the decoding of one field from the tokens of rest.
func (t *textCode) decodeField(f *spec.MessageField) []jen.Code {
	switch {
	case f.Kind == spec.WireFlag:
		return []jen.Code{
			jen.List(jen.Id("tok"), jen.Id("rest")).Op("=").Qual(wirePkg, "Token").Call(jen.Id("rest")),
			jen.Switch().Block(
				jen.Case(jen.Len(jen.Id("tok")).Op("==").Lit(0)),
				jen.Case(jen.String().Parens(jen.Id("tok")).Op("==").Lit(f.Word)).Block(t.val(f).Op("=").True()),
				jen.Default().Block(t.fail(f, tokOff, "ErrInvalid", jen.Qual(wirePkg, "TokenDetail").Call(jen.Id("tok")).Op("+").Lit(", want "+f.Word))),
			),
		}
	case f.Length.Kind == spec.LengthRest:
		// A line break inside the line (a lone "\r") is refused, as
		// the encoder refuses to write one.
		out := []jen.Code{
			jen.If(jen.Op("!").Qual(wirePkg, "ValidRest").Call(jen.Id("rest"))).Block(
				t.fail(f, jen.Len(jen.Id("line")).Op("-").Len(jen.Id("rest")), "ErrInvalid", jen.Lit("a line break inside the line")),
			),
			t.val(f).Op("=").Add(restValue(f, jen.Qual(wirePkg, "Rest").Call(jen.Id("rest")))),
		}
		if f.Optional {
			// Only spaces: absent, as the encoder writes an absent rest
			// (and refuses one given without the optional token before).
			out = append(out, jen.If(jen.Len(jen.Qual(wirePkg, "TrimSpaces").Call(jen.Id("rest"))).Op("==").Lit(0)).Block(
				t.val(f).Op("=").Add(zeroValue(f)),
			))
		}
		if f.Max > 0 {
			out = append(out, jen.If(jen.Len(t.val(f)).Op(">").Lit(f.Max)).Block(
				t.fail(f, jen.Len(jen.Id("line")).Op("-").Len(jen.Id("rest")), "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(jen.Len(t.val(f))), jen.Lit(f.Max))),
			))
		}
		return append(out, jen.Id("rest").Op("=").Nil())
	case f.List:
		return []jen.Code{t.decodeList(f)}
	}
	if !f.Optional {
		return append([]jen.Code{
			jen.List(jen.Id("tok"), jen.Id("rest")).Op("=").Qual(wirePkg, "Token").Call(jen.Id("rest")),
			jen.If(jen.Len(jen.Id("tok")).Op("==").Lit(0)).Block(t.fail(f, jen.Len(jen.Id("line")), "ErrMissing", nil)),
		}, t.parseToken(f, t.val(f))...)
	}
	// An optional token: absent at the end of the line, or where the line
	// ends in the message's flag.
	present := jen.Len(jen.Id("tok")).Op(">").Lit(0)
	if fl := t.flag(); fl != nil {
		present = present.Op("&&").Op("!").Parens(jen.String().Parens(jen.Id("tok")).Op("==").Lit(fl.Word).Op("&&").Len(jen.Qual(wirePkg, "TrimSpaces").Call(jen.Id("next"))).Op("==").Lit(0))
	}
	inner := append([]jen.Code{jen.Id("rest").Op("=").Id("next")}, t.parseToken(f, t.val(f))...)
	if f.HasField != "" {
		inner = append(inner, jen.Id("m").Dot(f.HasField).Op("=").True())
	}
	return []jen.Code{jen.Block(
		jen.List(jen.Id("tok"), jen.Id("next")).Op(":=").Qual(wirePkg, "Token").Call(jen.Id("rest")),
		jen.If(present).Block(inner...),
	)}
}

// restValue converts the rest of a line to a field's type.
func restValue(f *spec.MessageField, rest jen.Code) jen.Code {
	if f.Kind == spec.WireString {
		return jen.String().Parens(rest)
	}
	return rest
}

// parseToken prints the parsing of tok into target, for f's type.
func (t *textCode) parseToken(f *spec.MessageField, target *jen.Statement) []jen.Code {
	switch f.Kind {
	case spec.WireBytes, spec.WireString:
		out := []jen.Code{jen.If(jen.Op("!").Qual(wirePkg, "ValidRest").Call(jen.Id("tok"))).Block(
			t.fail(f, tokOff, "ErrInvalid", jen.Lit("a line break inside a token")),
		)}
		if f.Max > 0 {
			out = append(out, jen.If(jen.Len(jen.Id("tok")).Op(">").Lit(f.Max)).Block(
				t.fail(f, tokOff, "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(jen.Len(jen.Id("tok"))), jen.Lit(f.Max))),
			))
		}
		if f.Kind == spec.WireString {
			out = append(out, target.Op("=").String().Parens(jen.Id("tok")))
		} else {
			out = append(out, target.Op("=").Id("tok"))
		}
		return out
	}
	fn := "ParseUint"
	if f.Int.Signed {
		fn = "ParseInt"
	}
	return []jen.Code{jen.If(jen.List(jen.Id("v"), jen.Id("ok")).Op(":=").Qual(wirePkg, fn).Call(jen.Id("tok"), jen.Lit(f.Int.Bits)), jen.Op("!").Id("ok")).Block(
		t.fail(f, tokOff, "ErrInvalid", jen.Qual(wirePkg, "TokenDetail").Call(jen.Id("tok")).Op("+").Lit(fmt.Sprintf(" is not a %s", numberName(f.Int)))),
	).Else().Block(target.Op("=").Add(intGoType(f.Int)).Parens(jen.Id("v")))}
}

// numberName says what a text number must be, for errors.
func numberName(t spec.IntType) string {
	if t.Signed {
		return fmt.Sprintf("decimal number that fits %d bits", t.Bits)
	}
	return fmt.Sprintf("decimal number from 0 to %d", t.MaxValue())
}

// decodeList prints the decoding of the tokens left on the line into a
// list, reusing the capacity it has.
func (t *textCode) decodeList(f *spec.MessageField) jen.Code {
	target := t.val(f)
	loop := []jen.Code{
		jen.List(jen.Id("tok"), jen.Id("rest")).Op("=").Qual(wirePkg, "Token").Call(jen.Id("rest")),
		jen.If(jen.Len(jen.Id("tok")).Op("==").Lit(0)).Block(jen.Break()),
	}
	if f.MaxItems > 0 {
		loop = append(loop, jen.If(jen.Len(target.Clone()).Op("==").Lit(f.MaxItems)).Block(
			t.fail(f, tokOff, "ErrTooLong", jen.Qual(wirePkg, "OverItems").Call(jen.Uint64().Parens(jen.Len(target.Clone()).Op("+").Lit(1)), jen.Lit(f.MaxItems))),
		))
	}
	loop = append(loop, jen.Var().Id("e").Add(elemGoType(f)))
	loop = append(loop, t.parseToken(f, jen.Id("e"))...)
	loop = append(loop, appendElem(f, target, jen.Id("e"))...)
	out := []jen.Code{jen.For().Block(loop...)} // the reset left the list empty
	if f.MinItems > 0 {
		out = append(out, jen.If(jen.Len(target.Clone()).Op("<").Lit(f.MinItems)).Block(
			t.fail(f, jen.Len(jen.Id("line")), "ErrMissing", jen.Qual(wirePkg, "UnderItems").Call(jen.Uint64().Parens(jen.Len(target.Clone())), jen.Lit(f.MinItems))),
		))
	}
	return jen.Block(out...)
}

// decodeBlock prints the decoding of the data block that follows the line:
// as many bytes as its length field says, then "\r\n".
func (t *textCode) decodeBlock(f *spec.MessageField) []jen.Code {
	n := jen.Int().Parens(t.val(f.Length.Field))
	at := jen.Len(jen.Id("line")).Op("+").Lit(2)
	return []jen.Code{
		jen.If(jen.Uint64().Parens(t.val(f.Length.Field)).Op(">").Lit(f.Max)).Block(
			t.fail(f, at.Clone(), "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(t.val(f.Length.Field)), jen.Lit(f.Max))),
		),
		jen.Id("n").Op(":=").Add(n),
		jen.Switch().Block(
			jen.Case(jen.Len(jen.Id("after")).Op("<").Id("n").Op("+").Lit(2)).Block(
				t.fail(f, at.Clone(), "ErrTruncated", needDetail(jen.Uint64().Parens(jen.Id("n").Op("+").Lit(2)), jen.Len(jen.Id("after")))),
			),
			jen.Case(jen.String().Parens(jen.Id("after").Index(jen.Id("n"), jen.Id("n").Op("+").Lit(2))).Op("!=").Lit("\r\n")).Block(
				t.fail(f, at.Clone().Op("+").Id("n"), "ErrInvalid", jen.Lit(`the data block does not end in "\r\n"`)),
			),
			jen.Case(jen.Len(jen.Id("after")).Op(">").Id("n").Op("+").Lit(2)).Block(
				t.fail(f, at.Clone().Op("+").Id("n").Op("+").Lit(2), "ErrTrailing", jen.Qual(wirePkg, "Left").Call(jen.Len(jen.Id("after")).Op("-").Id("n").Op("-").Lit(2))),
			),
		),
		t.val(f).Op("=").Add(blockValue(f, jen.Id("after").Index(jen.Empty(), jen.Id("n"), jen.Id("n")))),
	}
}

func blockValue(f *spec.MessageField, b jen.Code) jen.Code {
	if f.Kind == spec.WireString {
		return jen.String().Parens(b)
	}
	return b
}

// The encoder.

func (t *textCode) efail(f *spec.MessageField, reason, detail string) jen.Code {
	return t.efailWith(f, reason, jen.Lit(detail))
}

// efailWith is `return dst[:start], wire.EncodeFail(...)` with any detail.
func (t *textCode) efailWith(f *spec.MessageField, reason string, detail jen.Code) jen.Code {
	t.usesStart = true
	return jen.Return(jen.Id("dst").Index(jen.Empty(), jen.Id("start")), encodeFail(t.m.Name, f.Name, reason, detail))
}

// encodeBody prints Append's body.
func (t *textCode) encodeBody() []jen.Code {
	var body []jen.Code
	if t.m.Verb != "" {
		body = append(body, jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit(t.m.Verb).Op("...")))
	}
	block := t.m.Block()
	body = append(body, t.checkOptionals()...)
	for _, f := range t.m.Fields {
		if f == block {
			continue
		}
		body = append(body, t.encodeField(f)...)
	}
	if block != nil {
		v := t.val(block)
		if block.Max > 0 {
			body = append(body, jen.If(jen.Len(v.Clone()).Op(">").Lit(block.Max)).Block(
				t.efailWith(block, "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(jen.Len(v.Clone())), jen.Lit(block.Max))),
			))
		}
		body = append(body,
			jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit("\r\n").Op("...")),
			jen.Id("dst").Op("=").Append(jen.Id("dst"), v.Clone().Op("...")),
			jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit("\r\n").Op("...")),
		)
	}
	if t.m.Verb == "" && len(t.m.Set.Messages) > 1 {
		body = append(body, t.checkNotAVerb()...)
	}
	body = append(body, jen.Return(jen.Id("dst"), jen.Nil()))
	if t.usesStart || t.m.Verb == "" {
		body = append([]jen.Code{jen.Id("start").Op(":=").Len(jen.Id("dst"))}, body...)
	}
	return body
}

// present is the test that optional field f is given: its Has field, or
// a value that is not empty; absent is its negation.
func (t *textCode) present(f *spec.MessageField) jen.Code {
	if f.HasField != "" {
		return jen.Id("m").Dot(f.HasField)
	}
	return jen.Len(t.val(f)).Op(">").Lit(0)
}

func (t *textCode) absent(f *spec.MessageField) jen.Code {
	if f.HasField != "" {
		return jen.Op("!").Id("m").Dot(f.HasField)
	}
	return jen.Len(t.val(f)).Op("==").Lit(0)
}

// checkOptionals prints the checks that the optional tokens can be told
// apart when decoded: the decoder fills them in order, so one given
// without the one before it would be read as that one; and the decoder
// takes a last token equal to the flag's word for the flag.
func (t *textCode) checkOptionals() []jen.Code {
	var out []jen.Code
	var prev *spec.MessageField
	flag := t.flag()
	for _, f := range t.m.Fields {
		if !f.Optional {
			continue
		}
		if prev != nil {
			out = append(out, jen.If(jen.Add(t.present(f)).Op("&&").Add(t.absent(prev))).Block(
				t.efail(f, "ErrInvalid", "given without "+prev.Name+", which comes before it on the line"),
			))
		}
		if flag != nil && (f.Kind == spec.WireBytes || f.Kind == spec.WireString) {
			out = append(out, jen.If(jen.String().Parens(t.val(f)).Op("==").Lit(flag.Word)).Block(
				t.efail(f, "ErrInvalid", "the flag's word "+flag.Word+", which would be read as the flag"),
			))
		}
		prev = f
	}
	return out
}

// checkNotAVerb prints the check that the line of a message without a
// verb does not start with another message's verb, as which the decoder
// would read it.
func (t *textCode) checkNotAVerb() []jen.Code {
	var verbs []jen.Code
	for _, m := range t.m.Set.Messages {
		if m.Verb != "" {
			verbs = append(verbs, verbMatch(m.Set, jen.Id("first"), m.Verb))
		}
	}
	isVerb := verbs[0]
	for _, v := range verbs[1:] {
		isVerb = jen.Add(isVerb).Op("||").Line().Add(v)
	}
	return []jen.Code{
		jen.If(jen.List(jen.Id("first"), jen.Id("_")).Op(":=").Qual(wirePkg, "Token").Call(jen.Id("dst").Index(jen.Id("start"), jen.Empty())), isVerb).Block(
			jen.Return(jen.Id("dst").Index(jen.Empty(), jen.Id("start")), encodeFail(t.m.Name, "", "ErrInvalid", jen.Lit("the line starts with ").Op("+").Qual(wirePkg, "TokenDetail").Call(jen.Id("first")).Op("+").Lit(", the verb of another message"))),
		),
	}
}

// sep prints the space before a token: always after a verb; in a message
// without a verb, only between tokens.
func (t *textCode) sep() jen.Code {
	if t.m.Verb != "" {
		return jen.Id("dst").Op("=").Append(jen.Id("dst"), byteLit(' '))
	}
	return jen.If(jen.Len(jen.Id("dst")).Op(">").Id("start")).Block(jen.Id("dst").Op("=").Append(jen.Id("dst"), byteLit(' ')))
}

// encodeField prints the encoding of one field as tokens.
func (t *textCode) encodeField(f *spec.MessageField) []jen.Code {
	v := t.val(f)
	switch {
	case f.Kind == spec.WireFlag:
		return []jen.Code{jen.If(v).Block(jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit(" "+f.Word).Op("...")))}
	case f.Computed:
		// A data block's length.
		return []jen.Code{t.sep(), jen.Id("dst").Op("=").Qual(strconvPkg, "AppendUint").Call(jen.Id("dst"), jen.Uint64().Parens(jen.Len(t.val(t.m.Block()))), jen.Lit(10))}
	case f.Length.Kind == spec.LengthRest:
		out := []jen.Code{
			jen.If(jen.Op("!").Qual(wirePkg, "ValidRest").Call(bytesOf(f, v.Clone()))).Block(t.efail(f, "ErrInvalid", "the rest of a line holds no line break")),
		}
		if f.Max > 0 {
			out = append(out, jen.If(jen.Len(v.Clone()).Op(">").Lit(f.Max)).Block(
				t.efailWith(f, "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(jen.Len(v.Clone())), jen.Lit(f.Max))),
			))
		}
		return append(out, jen.If(jen.Len(v.Clone()).Op(">").Lit(0)).Block(
			t.sep(),
			jen.Id("dst").Op("=").Append(jen.Id("dst"), v.Clone().Op("...")),
		))
	case f.List:
		out := []jen.Code{}
		if f.MaxItems > 0 {
			out = append(out, jen.If(jen.Len(v.Clone()).Op(">").Lit(f.MaxItems)).Block(
				t.efailWith(f, "ErrTooLong", jen.Qual(wirePkg, "OverItems").Call(jen.Uint64().Parens(jen.Len(v.Clone())), jen.Lit(f.MaxItems))),
			))
		}
		if f.MinItems > 0 {
			out = append(out, jen.If(jen.Len(v.Clone()).Op("<").Lit(f.MinItems)).Block(
				t.efailWith(f, "ErrTooLong", jen.Qual(wirePkg, "UnderItems").Call(jen.Uint64().Parens(jen.Len(v.Clone())), jen.Lit(f.MinItems))),
			))
		}
		out = append(out, jen.For(jen.List(jen.Id("_"), jen.Id("e")).Op(":=").Range().Add(v.Clone())).Block(t.encodeToken(f, jen.Id("e"))...))
		return out
	case f.Optional && f.HasField != "":
		return []jen.Code{jen.If(jen.Id("m").Dot(f.HasField)).Block(t.encodeToken(f, v)...)}
	case f.Optional:
		return []jen.Code{jen.If(jen.Len(v.Clone()).Op(">").Lit(0)).Block(t.encodeToken(f, v)...)}
	}
	return t.encodeToken(f, v)
}

// bytesOf converts a string field's value for a wire helper that takes
// bytes; a []byte is passed as it is.
func bytesOf(f *spec.MessageField, v jen.Code) jen.Code {
	if f.Kind == spec.WireString {
		return jen.Index().Byte().Parens(v)
	}
	return v
}

// encodeToken prints the encoding of one token: a number, or bytes that
// must be one word.
func (t *textCode) encodeToken(f *spec.MessageField, v *jen.Statement) []jen.Code {
	switch f.Kind {
	case spec.WireUint:
		return []jen.Code{t.sep(), jen.Id("dst").Op("=").Qual(strconvPkg, "AppendUint").Call(jen.Id("dst"), jen.Uint64().Parens(v), jen.Lit(10))}
	case spec.WireInt:
		return []jen.Code{t.sep(), jen.Id("dst").Op("=").Qual(strconvPkg, "AppendInt").Call(jen.Id("dst"), jen.Int64().Parens(v), jen.Lit(10))}
	}
	out := []jen.Code{
		jen.If(jen.Op("!").Qual(wirePkg, "ValidToken").Call(bytesOf(f, v.Clone()))).Block(t.efail(f, "ErrInvalid", "a token is one word: not empty, without spaces or line breaks")),
	}
	if f.Max > 0 {
		out = append(out, jen.If(jen.Len(v.Clone()).Op(">").Lit(f.Max)).Block(
			t.efailWith(f, "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(jen.Len(v.Clone())), jen.Lit(f.Max))),
		))
	}
	return append(out, t.sep(), jen.Id("dst").Op("=").Append(jen.Id("dst"), v.Clone().Op("...")))
}

// usage is a text message's line as a protocol's documentation writes it:
// "set <key> <flags> <exptime> <bytes> [noreply]".
func usage(m *spec.Message) string {
	parts := []string{m.Verb}
	for _, f := range m.Fields {
		if f == m.Block() {
			continue
		}
		p := "<" + f.Name + ">"
		switch {
		case f.Kind == spec.WireFlag:
			p = "[" + f.Word + "]"
		case f.List:
			p += "*"
		case f.Optional:
			p = "[" + p + "]"
		}
		parts = append(parts, p)
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}
