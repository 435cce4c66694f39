package codegen

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// binCode prints the decoder and encoder of one binary message or struct
// type. The decoder reads b from off, keeping the values of fields that
// are not in the struct (lengths, counts, checksums) in locals; the
// encoder appends to dst, and patches what it can only know later (a
// group's length, the frame's length, checksums).
type binCode struct {
	m      *spec.Message
	seq    []*spec.MessageField // the header's fields, then the message's, groups' fields after each group
	starts map[*spec.MessageField]bool
	ends   map[*spec.MessageField]bool
	bufs   int // groups entered, for naming their buffers
	// usesStart is set once the encoder has printed an error path, which
	// returns dst as it was at the start.
	usesStart bool
	// single is set while printing a message's Decode, which returns only
	// an error; a struct type's decode also returns the offset.
	single bool
}

func newBinCode(m *spec.Message) *binCode {
	c := &binCode{m: m, starts: map[*spec.MessageField]bool{}, ends: map[*spec.MessageField]bool{}}
	if m.Set != nil {
		c.seq = spec.AllFields(m.Set.Header)
	}
	c.seq = append(c.seq, spec.AllFields(m.Fields)...)
	for _, f := range c.seq {
		if f.Checksum != spec.NoChecksum {
			c.starts[f.First], c.ends[f.Last] = true, true
		}
		if f.Counts && f.CountsFrom != nil {
			c.starts[f.CountsFrom] = true
		}
	}
	return c
}

// val is the expression that holds f's value: the struct's field, or a
// local of the decoder or encoder.
func (c *binCode) val(f *spec.MessageField) *jen.Statement {
	if f.InStruct() {
		return jen.Id("m").Dot(f.GoName)
	}
	if f.Tag && c.m.TagField != "" {
		return jen.Id("m").Dot(c.m.TagField)
	}
	return jen.Id(localName(f))
}

func localName(f *spec.MessageField) string { return "w" + f.GoName }
func startName(f *spec.MessageField) string { return "o" + f.GoName }
func endName(f *spec.MessageField) string   { return "e" + f.GoName }

// binaryMessage prints Decode, decode and Append of a binary message or
// struct type.
func binaryMessage(f *jen.File, m *spec.Message) {
	c := newBinCode(m)
	what := "message"
	if m.Set == nil {
		what = "struct"
	}
	// The fields' decoding: a message's Decode holds it, so that a
	// frame's decoding is one call; a struct type's decode, which the
	// messages that hold it call, returns the offset after it.
	c.single = m.Set != nil
	body := resetMessage(m)
	if c.single {
		body = append(body, jen.Id("off").Op(":=").Lit(0))
	}
	if locals := c.decodeLocals(); len(locals) > 0 {
		body = append(body, jen.Var().Defs(locals...))
	}
	hdr := 0
	if m.Set != nil {
		hdr = len(m.Set.Header)
	}
	for i, fd := range c.topFields() {
		body = append(body, c.decodeField(fd, "b")...)
		if i == hdr-1 && m.Set.FrameLength != nil {
			// The header is read: the frame length must count the bytes
			// from where it says to the end.
			body = append(body, c.countsCheck(m.Set.FrameLength))
		}
	}
	body = append(body, c.checkChecksums()...)
	f.Line()
	if c.single {
		body = append(body,
			jen.If(jen.Id("off").Op("<").Len(jen.Id("b"))).Block(
				jen.Return(decodeFail(m.Name, "", jen.Id("off"), "ErrTrailing", jen.Qual(wirePkg, "Left").Call(jen.Len(jen.Id("b")).Op("-").Id("off")))),
			),
			jen.Return(jen.Nil()),
		)
		prose(f, fmt.Sprintf("Decode decodes the message that b holds, which must be exactly one %s%s, into m.", m.Name, headerNote(m)))
		f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Decode").Params(jen.Id("b").Index().Byte()).Error().Block(body...)
	} else {
		prose(f, fmt.Sprintf("Decode decodes the struct that b holds, which must be exactly one %s, into m.", m.Name))
		f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Decode").Params(jen.Id("b").Index().Byte()).Error().Block(
			jen.List(jen.Id("off"), jen.Err()).Op(":=").Id("m").Dot("decode").Call(jen.Id("b"), jen.Lit(0)),
			jen.If(jen.Err().Op("==").Nil().Op("&&").Id("off").Op("<").Len(jen.Id("b"))).Block(
				jen.Err().Op("=").Add(decodeFail(m.Name, "", jen.Id("off"), "ErrTrailing", jen.Qual(wirePkg, "Left").Call(jen.Len(jen.Id("b")).Op("-").Id("off")))),
			),
			jen.Return(jen.Err()),
		)
		body = append(body, jen.Return(jen.Id("off"), jen.Nil()))
		f.Line()
		prose(f, fmt.Sprintf("decode decodes %s's fields from b[off:] and returns the offset after them.", m.Name))
		f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("decode").Params(jen.Id("b").Index().Byte(), jen.Id("off").Int()).Params(jen.Int(), jen.Error()).Block(body...)
	}

	f.Line()
	prose(f, fmt.Sprintf("Append appends m's encoding%s to dst. For a %s it cannot encode it returns dst unchanged and a *wire.EncodeError.", headerNote(m), what))
	f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Append").Params(jen.Id("dst").Index().Byte()).Params(jen.Index().Byte(), jen.Error()).Block(c.encodeBody()...)
}

// resetMessage prints the zeroing of *m before a decode, so that nothing
// of a message decoded before into it remains (a field absent from this
// one, say), keeping its lists' capacity to decode into.
//
// A message with lists is zeroed field by field, each list re-sliced in
// place (m.L = m.L[:0]): the compiler's escape analysis lets a field be
// re-sliced into itself, but any other store of a list through m (such as
// *m = T{L: m.L[:0]}) moves the array a dispatch gives the list on its
// stack (listBacking) to the heap, an allocation per message.
func resetMessage(m *spec.Message) []jen.Code {
	var header []*spec.MessageField
	if m.Set != nil {
		header = spec.AllFields(m.Set.Header)
	}
	own := spec.AllFields(m.Fields)
	if !slices.ContainsFunc(append(slices.Clone(header), own...), (*spec.MessageField).InStruct) && m.TagField == "" {
		return nil // nothing to reset
	}
	isList := func(f *spec.MessageField) bool { return f.List && f.InStruct() }
	if !slices.ContainsFunc(header, isList) && !slices.ContainsFunc(own, isList) {
		return []jen.Code{jen.Op("*").Id("m").Op("=").Id(m.Name).Values()}
	}
	var out []jen.Code
	if m.Set != nil && m.Set.HeaderType != "" {
		if slices.ContainsFunc(header, isList) {
			out = append(out, resetFields(jen.Id("m").Dot(m.Set.HeaderType), header)...)
		} else {
			out = append(out, jen.Id("m").Dot(m.Set.HeaderType).Op("=").Id(m.Set.HeaderType).Values())
		}
	}
	if m.TagField != "" {
		out = append(out, jen.Id("m").Dot(m.TagField).Op("=").Add(zeroValue(m.Set.Tag)))
	}
	return append(out, resetFields(jen.Id("m"), own)...)
}

// resetFields prints the zeroing of fields of v, one by one (resetMessage).
func resetFields(v *jen.Statement, fields []*spec.MessageField) []jen.Code {
	var out []jen.Code
	for _, f := range fields {
		if !f.InStruct() {
			continue
		}
		field := v.Clone().Dot(f.GoName)
		if f.List {
			out = append(out, field.Op("=").Add(v.Clone().Dot(f.GoName)).Index(jen.Empty(), jen.Lit(0)))
		} else {
			out = append(out, field.Op("=").Add(zeroValue(f)))
		}
		if f.HasField != "" {
			out = append(out, v.Clone().Dot(f.HasField).Op("=").False())
		}
	}
	return out
}

func headerNote(m *spec.Message) string {
	if m.Set != nil && len(m.Set.Header) > 0 {
		return fmt.Sprintf(" (with the header of %s)", m.Set.Name)
	}
	return ""
}

// topFields are the header's fields and the message's, without the
// fields inside groups (which their group prints).
func (c *binCode) topFields() []*spec.MessageField {
	var out []*spec.MessageField
	if c.m.Set != nil {
		out = append(out, c.m.Set.Header...)
	}
	return append(out, c.m.Fields...)
}

// decodeLocals declares the decoder's locals: values not in the struct,
// and recorded offsets.
func (c *binCode) decodeLocals() []jen.Code {
	var out []jen.Code
	for _, f := range c.seq {
		if c.needsLocal(f) {
			out = append(out, jen.Id(localName(f)).Add(elemGoType(f)))
		}
	}
	for _, f := range c.seq {
		if c.starts[f] || f.Checksum != spec.NoChecksum {
			out = append(out, jen.Id(startName(f)).Int())
		}
		if c.ends[f] {
			out = append(out, jen.Id(endName(f)).Int())
		}
	}
	return out
}

// needsLocal reports whether the decoder keeps f's value in a local.
func (c *binCode) needsLocal(f *spec.MessageField) bool {
	switch {
	case f.InStruct(), f.Kind == spec.WireGroup, f.Const != nil:
		return false
	case f.Tag:
		return false
	case f.Computed:
		return c.m.LengthOf(f) != nil
	}
	return f.Counts || f.Checksum != spec.NoChecksum
}

// decodeField prints the decoding of f from buf at off.
func (c *binCode) decodeField(f *spec.MessageField, buf string) []jen.Code {
	var body []jen.Code
	switch {
	case f.Kind == spec.WireGroup:
		body = append(body, c.decodeGroup(f, buf))
	case f.List:
		body = append(body, c.decodeList(f, buf))
	default:
		body = append(body, c.decodeValue(f, buf, c.val(f))...)
	}
	if f.If != nil {
		present := jen.If(c.cond(f.If)).Block(body...)
		if g := lengthFieldOf(f); g != nil && g.If == nil {
			// The field that holds f's length is always there: with f
			// absent, it must say 0.
			present.Else().If(c.val(g).Op("!=").Lit(0)).Block(
				c.fail(g, jen.Id("off"), "ErrInvalid", jen.Lit("must be 0: "+f.Name+" is absent")),
			)
		}
		body = []jen.Code{present}
	}
	// The marks stand outside the condition: a checksum's range may
	// start or end at a field that is absent.
	if c.starts[f] || f.Checksum != spec.NoChecksum {
		body = append([]jen.Code{jen.Id(startName(f)).Op("=").Id("off")}, body...)
	}
	if c.ends[f] {
		body = append(body, jen.Id(endName(f)).Op("=").Id("off"))
	}
	return body
}

// lengthFieldOf returns the field that holds f's length or count, or nil
// when none does.
func lengthFieldOf(f *spec.MessageField) *spec.MessageField {
	switch {
	case f.Length.Kind == spec.LengthField:
		return f.Length.Field
	case f.List && f.Count.Kind == spec.LengthField:
		return f.Count.Field
	}
	return nil
}

// fail is `return off, wire.DecodeFail(...)` for field f.
func (c *binCode) fail(f *spec.MessageField, off jen.Code, reason string, detail jen.Code) jen.Code {
	return c.ret(decodeFail(c.m.Name, f.Name, off, reason, detail))
}

// ret prints the return of err from the decoder: with the offset from a
// struct type's decode, alone from a message's Decode.
func (c *binCode) ret(err jen.Code) jen.Code {
	if c.single {
		return jen.Return(err)
	}
	return jen.Return(jen.Id("off"), err)
}

// decodeFail prints a call of wire.DecodeFail.
func decodeFail(msg, field string, off jen.Code, reason string, detail jen.Code) *jen.Statement {
	if detail == nil {
		detail = jen.Lit("")
	}
	return jen.Qual(wirePkg, "DecodeFail").Call(jen.Lit(msg), jen.Lit(field), off, jen.Qual(wirePkg, reason), detail)
}

func needDetail(need, have jen.Code) jen.Code { return jen.Qual(wirePkg, "Need").Call(need, have) }

// avail is len(buf)-off, what is left to decode.
func avail(buf string) *jen.Statement { return jen.Len(jen.Id(buf)).Op("-").Id("off") }

// checkAvail prints the check that n bytes are left.
func (c *binCode) checkAvail(f *spec.MessageField, buf string, n int) jen.Code {
	return jen.If(avail(buf).Op("<").Lit(n)).Block(
		c.fail(f, jen.Id("off"), "ErrTruncated", needDetail(jen.Lit(n), avail(buf))),
	)
}

// byteOrder is the encoding/binary value of f's byte order.
func byteOrder(t spec.IntType) jen.Code {
	if t.Endian == spec.LittleEndian {
		return jen.Qual(binaryPkg, "LittleEndian")
	}
	return jen.Qual(binaryPkg, "BigEndian")
}

// readFixed is the unsigned value of a fixed-size integer at buf[off].
func readFixed(f *spec.MessageField, buf jen.Code, off jen.Code) *jen.Statement {
	t := f.Int
	if t.Bits == 8 {
		return jen.Add(buf).Index(off)
	}
	return jen.Add(byteOrder(t)).Dot(fmt.Sprintf("Uint%d", t.Bits)).Call(jen.Add(buf).Index(off, jen.Empty()))
}

// decodeValue prints the decoding of one value of f (the field, or one
// element of a list) into target.
func (c *binCode) decodeValue(f *spec.MessageField, buf string, target *jen.Statement) []jen.Code {
	b := jen.Id(buf)
	switch f.Kind {
	case spec.WireStruct:
		return []jen.Code{jen.Block(
			jen.Var().Err().Error(),
			jen.If(jen.List(jen.Id("off"), jen.Err()).Op("=").Add(target).Dot("decode").Call(b, jen.Id("off")), jen.Err().Op("!=").Nil()).Block(
				c.ret(jen.Err()),
			),
		)}
	case spec.WireBytes, spec.WireString:
		if f.Size > 0 {
			n := f.Size
			out := []jen.Code{c.checkAvail(f, buf, n)}
			window := b.Clone().Index(jen.Id("off"), jen.Id("off").Op("+").Lit(n))
			switch want := c.constOf(f); {
			case want != nil:
				out = append(out, jen.If(jen.String().Parens(window).Op("!=").Lit(string(want.Bytes))).Block(
					c.fail(f, jen.Id("off"), "ErrInvalid", jen.Qual(wirePkg, "GotBytes").Call(window.Clone(), jen.Lit(string(want.Bytes)))),
				))
			case f.Tag && c.m.Set != nil:
				// One of the message's tags, kept in its tag field.
				out = append(out, jen.Switch(jen.String().Parens(window.Clone())).Block(
					jen.Case(c.tagCodes(f)...).Block(jen.Copy(target.Clone().Index(jen.Empty(), jen.Empty()), window.Clone())),
					jen.Default().Block(c.fail(f, jen.Id("off"), "ErrInvalid", jen.Qual(wirePkg, "TokenDetail").Call(window.Clone()))),
				))
			default:
				out = append(out, jen.Copy(target.Clone().Index(jen.Empty(), jen.Empty()), window))
			}
			return append(out, jen.Id("off").Op("+=").Lit(n))
		}
		return []jen.Code{jen.Block(c.decodeLengthInto(f, buf, f.Length, c.val(f))...)}
	}
	// A number.
	if f.Int.Varint {
		fn, conv := "Uvarint", jen.Id("v")
		if f.Int.Signed {
			fn = "Varint"
		}
		if f.Kind == spec.WireEnum {
			conv = jen.Id(f.Enum.Name).Parens(jen.Id("v"))
		}
		return []jen.Code{jen.Block(
			jen.List(jen.Id("v"), jen.Id("n")).Op(":=").Qual(binaryPkg, fn).Call(b.Clone().Index(jen.Id("off"), jen.Empty())),
			jen.Switch().Block(
				jen.Case(jen.Id("n").Op("==").Lit(0)).Block(c.fail(f, jen.Id("off"), "ErrTruncated", jen.Lit("a varint ends early"))),
				jen.Case(jen.Id("n").Op("<").Lit(0)).Block(c.fail(f, jen.Id("off"), "ErrInvalid", jen.Lit("a varint over 64 bits"))),
			),
			c.assign(f, target, conv, valueDetail(f.Int, jen.Id("v"))),
			jen.Id("off").Op("+=").Id("n"),
		)}
	}
	n := f.Int.Size()
	raw := readFixed(f, b, jen.Id("off"))
	var conv jen.Code
	switch f.Kind {
	case spec.WireUint:
		conv = raw
	case spec.WireInt:
		conv = intGoType(f.Int).Parens(raw)
	case spec.WireEnum:
		if f.Int.Signed {
			conv = jen.Id(f.Enum.Name).Parens(intGoType(f.Int).Parens(raw))
		} else {
			conv = jen.Id(f.Enum.Name).Parens(raw)
		}
	case spec.WireFloat:
		conv = jen.Qual(mathPkg, fmt.Sprintf("Float%dfrombits", f.Int.Bits)).Call(raw)
	case spec.WireBool:
		return []jen.Code{
			c.checkAvail(f, buf, 1),
			jen.Switch(raw).Block(
				jen.Case(jen.Lit(0)).Block(target.Clone().Op("=").False()),
				jen.Case(jen.Lit(1)).Block(target.Clone().Op("=").True()),
				jen.Default().Block(c.fail(f, jen.Id("off"), "ErrInvalid", valueDetail(f.Int, raw.Clone()))),
			),
			jen.Id("off").Op("++"),
		}
	}
	return []jen.Code{
		c.checkAvail(f, buf, n),
		c.assign(f, target, conv, valueDetail(f.Int, jen.Add(conv))),
		jen.Id("off").Op("+=").Lit(n),
	}
}

// assign prints what the decoder does with a number's value v (already
// converted to f's Go type): check a constant, a tag or an enum, or store
// it in target. detail describes v in an error.
func (c *binCode) assign(f *spec.MessageField, target *jen.Statement, v jen.Code, detail jen.Code) jen.Code {
	switch {
	case c.constOf(f) != nil:
		want := constCode(f, *c.constOf(f))
		return jen.If(jen.Add(v).Op("!=").Add(want)).Block(
			c.fail(f, jen.Id("off"), "ErrInvalid", gotDetail(f.Int, v, want)),
		)
	case f.Tag && c.m.Set != nil:
		return jen.Switch(jen.Id("t").Op(":=").Add(v), jen.Id("t")).Block(
			jen.Case(c.tagCodes(f)...).Block(target.Clone().Op("=").Id("t")),
			jen.Default().Block(c.fail(f, jen.Id("off"), "ErrInvalid", valueDetail(f.Int, jen.Id("t")))),
		)
	case f.Computed && c.m.LengthOf(f) == nil:
		// A header length that this message measures nothing with.
		return jen.If(jen.Add(v).Op("!=").Lit(0)).Block(
			c.fail(f, jen.Id("off"), "ErrInvalid", jen.Lit("must be 0: "+c.m.Name+" has nothing for it to measure")),
		)
	case f.Kind == spec.WireEnum && !f.Enum.KeepUnknown:
		return jen.If(target.Clone().Op("=").Add(v), jen.Op("!").Add(target.Clone()).Dot("known").Call()).Block(
			c.fail(f, jen.Id("off"), "ErrInvalid", detail),
		)
	}
	return target.Clone().Op("=").Add(v)
}

// constOf returns the value field f must have in c's message: its
// constant, or the message's tag when it has one; nil for none.
func (c *binCode) constOf(f *spec.MessageField) *spec.Const {
	switch {
	case f.Const != nil:
		return f.Const
	case f.Tag && c.m.Set != nil && len(c.m.Tags) == 1:
		return &c.m.Tags[0]
	}
	return nil
}

// tagCodes prints the values of tag field f that select c's message.
func (c *binCode) tagCodes(f *spec.MessageField) []jen.Code {
	vals := make([]jen.Code, len(c.m.Tags))
	for i, t := range c.m.Tags {
		vals[i] = constCode(f, t)
	}
	return vals
}

// valueDetail describes v, a value of integer type t, in a decode or
// encode error: a signed one in decimal, an unsigned one in hexadecimal,
// with its character if it is a printable byte.
func valueDetail(t spec.IntType, v jen.Code) jen.Code {
	switch {
	case t.Signed:
		return jen.Qual(wirePkg, "IntValue").Call(jen.Int64().Parens(v))
	case t.Bits == 8 && !t.Varint:
		return jen.Qual(wirePkg, "ByteValue").Call(jen.Byte().Parens(v))
	}
	return jen.Qual(wirePkg, "Value").Call(jen.Uint64().Parens(v))
}

// gotDetail describes got, a value of integer type t that differs from the
// constant want, as valueDetail does.
func gotDetail(t spec.IntType, got, want jen.Code) jen.Code {
	if t.Signed {
		return jen.Qual(wirePkg, "GotInt").Call(jen.Int64().Parens(got), jen.Int64().Parens(want))
	}
	return jen.Qual(wirePkg, "Got").Call(jen.Uint64().Parens(got), jen.Uint64().Parens(want))
}

// constCode prints a constant of field f's type.
func constCode(f *spec.MessageField, v spec.Const) jen.Code {
	switch {
	case f.Kind == spec.WireEnum && v.Name != "":
		for _, ev := range f.Enum.Values {
			if ev.Name == v.Name {
				return jen.Id(ev.Const)
			}
		}
	case f.Kind == spec.WireEnum:
		return jen.Id(f.Enum.Name).Parens(intLit(v.Int, f.Int))
	case f.Kind == spec.WireBytes || f.Kind == spec.WireString:
		return jen.Lit(string(v.Bytes))
	case f.Kind == spec.WireBool:
		return jen.Lit(v.Int != 0)
	}
	if f.Kind == spec.WireUint && f.Int.Bits == 8 && v.Int >= 0x20 && v.Int < 0x7f {
		return byteLit(byte(v.Int))
	}
	return intLit(v.Int, f.Int)
}

// byteLit prints a printable byte as a character literal, 'H'; others as
// numbers.
func byteLit(b byte) jen.Code {
	if b >= 0x20 && b < 0x7f {
		return jen.Op(strconv.QuoteRune(rune(b)))
	}
	return jen.Lit(int(b))
}

// decodeLengthInto prints the decoding of a bytes or string value whose
// length l gives into target (the field, or a list's element): the length
// in a local n, checked against the maximum and the bytes left, then the
// slice or the copy.
func (c *binCode) decodeLengthInto(f *spec.MessageField, buf string, l spec.Length, target *jen.Statement) []jen.Code {
	b := jen.Id(buf)
	out := c.readCount(f, buf, l, "n")
	if f.Max > 0 {
		out = append(out, jen.If(jen.Id("n").Op(">").Lit(f.Max)).Block(
			c.fail(f, jen.Id("off"), "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Id("n"), jen.Lit(f.Max))),
		))
	}
	if l.Kind != spec.LengthRest {
		out = append(out, jen.If(jen.Id("n").Op(">").Uint64().Parens(avail(buf))).Block(
			c.fail(f, jen.Id("off"), "ErrTruncated", needDetail(jen.Id("n"), avail(buf))),
		))
	}
	end := jen.Id("off").Op("+").Int().Parens(jen.Id("n"))
	if f.Kind == spec.WireString {
		out = append(out, target.Clone().Op("=").String().Parens(b.Clone().Index(jen.Id("off"), end)))
	} else {
		out = append(out, target.Clone().Op("=").Add(b.Clone().Index(jen.Id("off"), end.Clone(), end.Clone())))
	}
	return append(out, jen.Id("off").Op("+=").Int().Parens(jen.Id("n")))
}

// readCount prints the statements that set a uint64 local named n to a
// length or count: a prefix read from buf, a field's value, or what is
// left (rest).
func (c *binCode) readCount(f *spec.MessageField, buf string, l spec.Length, n string) []jen.Code {
	b := jen.Id(buf)
	switch l.Kind {
	case spec.LengthField:
		return []jen.Code{jen.Id(n).Op(":=").Uint64().Parens(c.val(l.Field))}
	case spec.LengthRest:
		return []jen.Code{jen.Id(n).Op(":=").Uint64().Parens(avail(buf))}
	}
	t := l.Prefix
	if t.Varint {
		return []jen.Code{
			jen.List(jen.Id(n), jen.Id("k")).Op(":=").Qual(binaryPkg, "Uvarint").Call(b.Clone().Index(jen.Id("off"), jen.Empty())),
			jen.Switch().Block(
				jen.Case(jen.Id("k").Op("==").Lit(0)).Block(c.fail(f, jen.Id("off"), "ErrTruncated", jen.Lit("its length ends early"))),
				jen.Case(jen.Id("k").Op("<").Lit(0)).Block(c.fail(f, jen.Id("off"), "ErrInvalid", jen.Lit("its length is a varint over 64 bits"))),
			),
			jen.Id("off").Op("+=").Id("k"),
		}
	}
	size := t.Size()
	pf := &spec.MessageField{Int: t}
	return []jen.Code{
		jen.If(avail(buf).Op("<").Lit(size)).Block(c.fail(f, jen.Id("off"), "ErrTruncated", needDetail(jen.Lit(size), avail(buf)))),
		jen.Id(n).Op(":=").Uint64().Parens(readFixed(pf, b, jen.Id("off"))),
		jen.Id("off").Op("+=").Lit(size),
	}
}

// appendElem prints the appending of elem to the list target in a way
// that keeps an array a dispatch gave the list on its stack (listBacking)
// there: target = append(target, elem) is a store of the list through m,
// which the compiler's escape analysis takes for an escape of the array,
// an allocation per message. Re-slicing the field into itself is not, and
// a list that outgrows its array moves to a new one.
func appendElem(f *spec.MessageField, target, elem jen.Code) []jen.Code {
	t := func() *jen.Statement { return jen.Add(target) }
	return []jen.Code{
		jen.If(jen.Len(t()).Op("==").Cap(t())).Block(
			t().Op("=").Append(jen.Make(goType(f), jen.Lit(0), jen.Lit(2).Op("*").Cap(t()).Op("+").Lit(16)), t().Op("...")),
		),
		t().Op("=").Add(t()).Index(jen.Empty(), jen.Len(t()).Op("+").Lit(1)),
		t().Index(jen.Len(t()).Op("-").Lit(1)).Op("=").Add(elem),
	}
}

// decodeList prints the decoding of a list field: its count, checked,
// then its elements, reusing the capacity the field already has.
func (c *binCode) decodeList(f *spec.MessageField, buf string) jen.Code {
	target := c.val(f)
	elem := jen.Id("e")
	var body []jen.Code
	if f.Count.Kind == spec.LengthRest {
		// The reset at the start of decode left the list empty.
		loop := []jen.Code{}
		if f.MaxItems > 0 {
			loop = append(loop, jen.If(jen.Len(target.Clone()).Op("==").Lit(f.MaxItems)).Block(
				c.fail(f, jen.Id("off"), "ErrTooLong", jen.Qual(wirePkg, "OverItems").Call(jen.Uint64().Parens(jen.Len(target.Clone()).Op("+").Lit(1)), jen.Lit(f.MaxItems))),
			))
		}
		loop = append(loop, jen.Var().Add(elem).Add(elemGoType(f)), jen.Id("before").Op(":=").Id("off"))
		loop = append(loop, c.decodeElem(f, buf, elem)...)
		loop = append(loop,
			jen.If(jen.Id("off").Op("==").Id("before")).Block(c.fail(f, jen.Id("off"), "ErrInvalid", jen.Lit("an element took no bytes"))),
		)
		loop = append(loop, appendElem(f, target, elem)...)
		body = append(body, jen.For(jen.Id("off").Op("<").Len(jen.Id(buf))).Block(loop...))
		if f.MinItems > 0 {
			body = append(body, jen.If(jen.Len(target.Clone()).Op("<").Lit(f.MinItems)).Block(
				c.fail(f, jen.Id("off"), "ErrTooLong", jen.Qual(wirePkg, "UnderItems").Call(jen.Uint64().Parens(jen.Len(target.Clone())), jen.Lit(f.MinItems))),
			))
		}
		return jen.Block(body...)
	}
	body = append(body, c.readCount(f, buf, f.Count, "n")...)
	if f.MaxItems > 0 {
		body = append(body, jen.If(jen.Id("n").Op(">").Lit(f.MaxItems)).Block(
			c.fail(f, jen.Id("off"), "ErrTooLong", jen.Qual(wirePkg, "OverItems").Call(jen.Id("n"), jen.Lit(f.MaxItems))),
		))
	}
	if f.MinItems > 0 {
		body = append(body, jen.If(jen.Id("n").Op("<").Lit(f.MinItems)).Block(
			c.fail(f, jen.Id("off"), "ErrTooLong", jen.Qual(wirePkg, "UnderItems").Call(jen.Id("n"), jen.Lit(f.MinItems))),
		))
	}
	// Every element takes at least a byte (a fixed size, or more): a count
	// beyond the bytes left is refused before anything is allocated.
	least := 1
	if size := elemFixedSize(f); size > 0 {
		least = size
	}
	body = append(body, jen.If(jen.Id("n").Op(">").Uint64().Parens(avail(buf)).Op("/").Lit(least)).Block(
		c.fail(f, jen.Id("off"), "ErrTruncated", needDetail(jen.Id("n").Op("*").Lit(least), avail(buf))),
	))
	body = append(body,
		jen.If(jen.Uint64().Parens(jen.Cap(target.Clone())).Op(">=").Id("n")).Block(
			target.Clone().Op("=").Add(target.Clone()).Index(jen.Empty(), jen.Id("n")),
		).Else().Block(
			target.Clone().Op("=").Make(goType(f), jen.Id("n")),
		),
		jen.For(jen.Id("i").Op(":=").Range().Add(target.Clone())).Block(
			c.decodeElem(f, buf, target.Clone().Index(jen.Id("i")))...,
		),
	)
	return jen.Block(body...)
}

// decodeElem prints the decoding of one element of a list field.
func (c *binCode) decodeElem(f *spec.MessageField, buf string, target *jen.Statement) []jen.Code {
	if f.Kind == spec.WireBytes || f.Kind == spec.WireString {
		if f.Size > 0 {
			return c.decodeValue(f, buf, target)
		}
		return []jen.Code{jen.Block(c.decodeLengthInto(f, buf, f.Length, target)...)}
	}
	return c.decodeValue(f, buf, target)
}

// elemFixedSize is the size of one element of a list, or 0 when it
// varies.
func elemFixedSize(f *spec.MessageField) int {
	e := *f
	e.List, e.If = false, nil
	if n := e.FixedSize(); n > 0 {
		return n
	}
	return 0
}

// decodeGroup prints the decoding of a group: its fields, from a buffer
// that ends where its length says, which they must fill.
func (c *binCode) decodeGroup(f *spec.MessageField, buf string) jen.Code {
	c.bufs++
	gb := fmt.Sprintf("gb%d", c.bufs)
	body := c.readCount(f, buf, f.Length, "n")
	body = append(body,
		jen.If(jen.Id("n").Op(">").Uint64().Parens(avail(buf))).Block(c.fail(f, jen.Id("off"), "ErrTruncated", needDetail(jen.Id("n"), avail(buf)))),
		jen.Id(gb).Op(":=").Id(buf).Index(jen.Empty(), jen.Id("off").Op("+").Int().Parens(jen.Id("n"))),
	)
	for _, g := range f.Group {
		body = append(body, c.decodeField(g, gb)...)
	}
	body = append(body, jen.If(jen.Id("off").Op("<").Len(jen.Id(gb))).Block(
		c.fail(f, jen.Id("off"), "ErrInvalid", jen.Qual(wirePkg, "Left").Call(jen.Len(jen.Id(gb)).Op("-").Id("off"))),
	))
	return jen.Block(body...)
}

// countsCheck prints the check of the frame length f: it must count the
// bytes from where it says (the end of the header, at off, or a header
// field) to the end of the message.
func (c *binCode) countsCheck(f *spec.MessageField) jen.Code {
	from := jen.Id("off")
	if f.CountsFrom != nil {
		from = jen.Id(startName(f.CountsFrom))
	}
	have := jen.Len(jen.Id("b")).Op("-").Add(from)
	return jen.If(jen.Uint64().Parens(c.val(f)).Op("!=").Uint64().Parens(have)).Block(
		c.fail(f, jen.Id("off"), "ErrInvalid", jen.Qual(wirePkg, "Counted").Call(jen.Uint64().Parens(c.val(f)), have.Clone())),
	)
}

// checksumFuncs are the functions of package wire that compute each
// checksum.
var checksumFuncs = map[spec.Checksum]string{spec.CRC32: "CRC32", spec.CRC32C: "CRC32C", spec.Internet: "InternetChecksum"}

// checkChecksums prints the checks of the checksum fields, once every
// field is decoded.
func (c *binCode) checkChecksums() []jen.Code {
	var out []jen.Code
	for i, f := range c.seq {
		if f.Checksum == spec.NoChecksum {
			continue
		}
		skip, n := jen.Lit(0), jen.Lit(0)
		first, last := slices.Index(c.seq, f.First), slices.Index(c.seq, f.Last)
		if first <= i && i <= last {
			skip, n = jen.Id(startName(f)).Op("-").Id(startName(f.First)), jen.Lit(f.Int.Size())
		}
		sum := jen.Qual(wirePkg, checksumFuncs[f.Checksum]).Call(jen.Id("b").Index(jen.Id(startName(f.First)), jen.Id(endName(f.Last))), skip, n)
		out = append(out, jen.If(jen.Id("got").Op(":=").Add(sum), jen.Id("got").Op("!=").Add(c.val(f))).Block(
			c.ret(decodeFail(c.m.Name, f.Name, jen.Id(startName(f)), "ErrChecksum",
				jen.Qual(wirePkg, "Got").Call(jen.Uint64().Parens(jen.Id("got")), jen.Uint64().Parens(c.val(f))))),
		))
	}
	return out
}

// cond prints a presence condition.
func (c *binCode) cond(k *spec.Cond) jen.Code { return c.condExpr(k, false) }

// notCond prints the negation of a presence condition.
func (c *binCode) notCond(k *spec.Cond) jen.Code { return c.condExpr(k, true) }

// condExpr prints condition k, or its negation.
func (c *binCode) condExpr(k *spec.Cond, negate bool) jen.Code {
	x := c.val(k.Field)
	var v jen.Code
	switch k.Field.Kind {
	case spec.WireBool:
		// == 1 and != 0 test true; == 0 and != 1 test false.
		if (k.Op == "==") == (k.Value != 0) != negate {
			return x
		}
		return jen.Op("!").Add(x)
	case spec.WireEnum:
		v = constCode(k.Field, spec.Const{Int: k.Value, Name: enumName(k.Field.Enum, k.Value)})
	default:
		v = intLit(k.Value, k.Field.Int)
	}
	op := k.Op
	if op == "&" {
		x, op = x.Op("&").Add(v), "!="
		v = jen.Lit(0)
	}
	if negate {
		op = map[string]string{"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}[op]
	}
	return x.Op(op).Add(v)
}

func enumName(e *spec.Enum, v uint64) string {
	for _, ev := range e.Values {
		if ev.Value == v {
			return ev.Name
		}
	}
	return ""
}

// The encoder.

// encodeBody prints Append's body.
func (c *binCode) encodeBody() []jen.Code {
	var body []jen.Code
	var positions []jen.Code
	for _, f := range c.seq {
		if c.patched(f) {
			positions = append(positions, jen.Id("p"+f.GoName).Int())
		}
		if c.starts[f] {
			positions = append(positions, jen.Id(startName(f)).Int())
		}
		if c.ends[f] {
			positions = append(positions, jen.Id(endName(f)).Int())
		}
	}
	if c.bodyMark() {
		positions = append(positions, jen.Id("bodyStart").Int())
	}
	if len(positions) > 0 {
		body = append(body, jen.Var().Defs(positions...))
	}
	hdr := 0
	if c.m.Set != nil {
		hdr = len(c.m.Set.Header)
	}
	for i, f := range c.topFields() {
		if i == hdr && c.bodyMark() {
			body = append(body, jen.Id("bodyStart").Op("=").Len(jen.Id("dst")))
		}
		body = append(body, c.encodeField(f)...)
	}
	if len(c.topFields()) == hdr && c.bodyMark() {
		body = append(body, jen.Id("bodyStart").Op("=").Len(jen.Id("dst")))
	}
	body = append(body, c.patchCounts()...)
	body = append(body, c.patchChecksums()...)
	body = append(body, jen.Return(jen.Id("dst"), jen.Nil()))
	if c.usesStart {
		body = append([]jen.Code{jen.Id("start").Op(":=").Len(jen.Id("dst"))}, body...)
	}
	return body
}

// bodyMark reports whether the encoder records where the header ends: a
// frame length counts from there.
func (c *binCode) bodyMark() bool {
	for _, f := range c.seq {
		if f.Counts && f.CountsFrom == nil {
			return true
		}
	}
	return false
}

// patched reports whether the encoder writes f as zeros and fills it in
// later: a frame length, a checksum, a group's length.
func (c *binCode) patched(f *spec.MessageField) bool {
	if f.Counts || f.Checksum != spec.NoChecksum {
		return true
	}
	if f.Computed {
		if g := c.m.LengthOf(f); g != nil && g.Kind == spec.WireGroup {
			return true
		}
	}
	return false
}

// efail is `return dst[:start], wire.EncodeFail(...)`.
func (c *binCode) efail(f *spec.MessageField, reason string, detail jen.Code) jen.Code {
	c.usesStart = true
	return jen.Return(jen.Id("dst").Index(jen.Empty(), jen.Id("start")), encodeFail(c.m.Name, f.Name, reason, detail))
}

func encodeFail(msg, field, reason string, detail jen.Code) jen.Code {
	if detail == nil {
		detail = jen.Lit("")
	}
	return jen.Qual(wirePkg, "EncodeFail").Call(jen.Lit(msg), jen.Lit(field), jen.Qual(wirePkg, reason), detail)
}

// encodeField prints the encoding of f.
func (c *binCode) encodeField(f *spec.MessageField) []jen.Code {
	var body []jen.Code
	switch {
	case f.Kind == spec.WireGroup:
		body = append(body, c.encodeGroup(f))
	case c.patched(f):
		body = append(body, jen.Id("p"+f.GoName).Op("=").Len(jen.Id("dst")))
		body = append(body, jen.Id("dst").Op("=").Append(append([]jen.Code{jen.Id("dst")}, zeros(f.Int.Size())...)...))
	case f.Computed:
		body = append(body, c.encodeComputed(f)...)
	case f.List:
		body = append(body, c.encodeList(f))
	default:
		body = append(body, c.encodeValue(f, c.val(f))...)
	}
	if f.If != nil {
		present := jen.If(c.cond(f.If)).Block(body...)
		// The decoder would give back the zero value: refuse another.
		if set := isSet(f, c.val(f)); set != nil {
			present.Else().If(set).Block(c.efail(f, "ErrInvalid", jen.Lit("set while "+f.If.Src+" is false, which leaves it off the wire")))
		}
		body = []jen.Code{present}
	}
	// As in the decoder, the marks stand outside the condition.
	if c.starts[f] {
		body = append([]jen.Code{jen.Id(startName(f)).Op("=").Len(jen.Id("dst"))}, body...)
	}
	if c.ends[f] {
		body = append(body, jen.Id(endName(f)).Op("=").Len(jen.Id("dst")))
	}
	return body
}

// isSet prints whether v, the Go value of f, is other than its zero
// value, bit for bit (a float's -0 is set: it would decode as +0); nil
// for a field the Go struct does not hold, a group, or a struct that ==
// cannot tell from its zero value that way (one holding a list, variable
// bytes or a float).
func isSet(f *spec.MessageField, v *jen.Statement) jen.Code {
	switch {
	case !f.InStruct() || f.Kind == spec.WireGroup:
		return nil
	case f.List, f.Kind == spec.WireBytes && f.Size == 0, f.Kind == spec.WireString:
		return jen.Len(v).Op("!=").Lit(0)
	case f.Kind == spec.WireBool:
		return v
	case f.Kind == spec.WireFloat:
		return jen.Qual(mathPkg, fmt.Sprintf("Float%dbits", f.Int.Bits)).Call(v).Op("!=").Lit(0)
	case f.Kind == spec.WireBytes, f.Kind == spec.WireStruct && comparable(f.Struct):
		// In parentheses: a composite literal in an if's condition.
		return v.Op("!=").Parens(jen.Add(elemGoType(f)).Values())
	case f.Kind == spec.WireStruct:
		return nil
	}
	return v.Op("!=").Lit(0)
}

// comparable reports whether == tells a value of struct type m from its
// zero value bit for bit: none of its fields is a list, of variable bytes
// or a float (-0 == 0).
func comparable(m *spec.Message) bool {
	for _, f := range spec.AllFields(m.Fields) {
		switch {
		case !f.InStruct():
		case f.List, f.Kind == spec.WireBytes && f.Size == 0, f.Kind == spec.WireFloat:
			return false
		case f.Kind == spec.WireStruct && !comparable(f.Struct):
			return false
		}
	}
	return true
}

func zeros(n int) []jen.Code {
	out := make([]jen.Code, n)
	for i := range out {
		out[i] = jen.Lit(0)
	}
	return out
}

// appendInt prints the appending of integer v (of f's Go type, or any
// integer type when conv) in f's wire form.
func appendInt(t spec.IntType, v jen.Code) jen.Code {
	dst := jen.Id("dst")
	switch {
	case t.Varint && t.Signed:
		return dst.Op("=").Qual(binaryPkg, "AppendVarint").Call(jen.Id("dst"), jen.Int64().Parens(v))
	case t.Varint:
		return dst.Op("=").Qual(binaryPkg, "AppendUvarint").Call(jen.Id("dst"), jen.Uint64().Parens(v))
	case t.Bits == 8:
		return dst.Op("=").Append(jen.Id("dst"), jen.Byte().Parens(v))
	}
	return dst.Op("=").Add(byteOrder(t)).Dot(fmt.Sprintf("AppendUint%d", t.Bits)).Call(jen.Id("dst"), jen.Id(fmt.Sprintf("uint%d", t.Bits)).Parens(v))
}

// appendStatic prints the appending of constant bytes.
func appendStatic(b []byte) jen.Code {
	if len(b) > 4 {
		return jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit(string(b)).Op("..."))
	}
	vals := []jen.Code{jen.Id("dst")}
	for _, x := range b {
		vals = append(vals, byteLit(x))
	}
	return jen.Id("dst").Op("=").Append(vals...)
}

// encodeValue prints the encoding of one value of f (the field, or an
// element of a list) held in v.
func (c *binCode) encodeValue(f *spec.MessageField, v *jen.Statement) []jen.Code {
	switch {
	case c.constOf(f) != nil:
		return []jen.Code{appendStatic(f.ConstBytes(*c.constOf(f)))}
	case f.Tag && c.m.Set != nil && f.Kind == spec.WireBytes:
		return []jen.Code{
			jen.Switch(jen.String().Parens(v.Clone().Index(jen.Empty(), jen.Empty()))).Block(
				jen.Case(c.tagCodes(f)...),
				jen.Default().Block(c.efail(f, "ErrInvalid", jen.Qual(wirePkg, "TokenDetail").Call(v.Clone().Index(jen.Empty(), jen.Empty())))),
			),
			jen.Id("dst").Op("=").Append(jen.Id("dst"), v.Clone().Index(jen.Empty(), jen.Empty()).Op("...")),
		}
	case f.Tag && c.m.Set != nil:
		return []jen.Code{
			jen.Switch(v.Clone()).Block(
				jen.Case(c.tagCodes(f)...),
				jen.Default().Block(c.efail(f, "ErrInvalid", valueDetail(f.Int, v.Clone()))),
			),
			appendInt(f.Int, v.Clone()),
		}
	}
	switch f.Kind {
	case spec.WireStruct:
		return []jen.Code{jen.Block(
			jen.Var().Err().Error(),
			jen.If(jen.List(jen.Id("dst"), jen.Err()).Op("=").Add(v).Dot("Append").Call(jen.Id("dst")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Id("dst").Index(jen.Empty(), jen.Id("start")), jen.Err()).Do(func(*jen.Statement) { c.usesStart = true }),
			),
		)}
	case spec.WireBytes, spec.WireString:
		if f.Size > 0 {
			return []jen.Code{jen.Id("dst").Op("=").Append(jen.Id("dst"), v.Clone().Index(jen.Empty(), jen.Empty()).Op("..."))}
		}
		var out []jen.Code
		if f.Length.Kind != spec.LengthField { // else its length field checks it
			out = append(out, c.checkLen(f, jen.Len(v.Clone()), f.Length)...)
		}
		if f.Length.Kind == spec.LengthPrefix {
			out = append(out, appendInt(f.Length.Prefix, jen.Len(v.Clone())))
		}
		return append(out, jen.Id("dst").Op("=").Append(jen.Id("dst"), v.Clone().Op("...")))
	case spec.WireBool:
		return []jen.Code{jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Qual(wirePkg, "BoolByte").Call(v))}
	case spec.WireFloat:
		return []jen.Code{appendInt(spec.IntType{Bits: f.Int.Bits, Endian: f.Int.Endian}, jen.Qual(mathPkg, fmt.Sprintf("Float%dbits", f.Int.Bits)).Call(v))}
	case spec.WireEnum:
		if !f.Enum.KeepUnknown {
			// The decoder refuses a value the enum does not list; so
			// does the encoder.
			return []jen.Code{
				jen.If(jen.Op("!").Add(v.Clone()).Dot("known").Call()).Block(
					c.efail(f, "ErrInvalid", valueDetail(f.Int, v.Clone())),
				),
				appendInt(f.Int, v),
			}
		}
	}
	return []jen.Code{appendInt(f.Int, v)}
}

// checkLen prints the checks of a length n (of bytes, or items) against
// f's maximum and minimum and what the length's prefix can say.
func (c *binCode) checkLen(f *spec.MessageField, n *jen.Statement, l spec.Length) []jen.Code {
	var out []jen.Code
	over, max := "Over", f.Max
	if f.List {
		over, max = "OverItems", f.MaxItems
	}
	if max > 0 {
		out = append(out, jen.If(n.Clone().Op(">").Lit(max)).Block(
			c.efail(f, "ErrTooLong", jen.Qual(wirePkg, over).Call(jen.Uint64().Parens(n.Clone()), jen.Lit(max))),
		))
	}
	if f.List && f.MinItems > 0 {
		out = append(out, jen.If(n.Clone().Op("<").Lit(f.MinItems)).Block(
			c.efail(f, "ErrTooLong", jen.Qual(wirePkg, "UnderItems").Call(jen.Uint64().Parens(n.Clone()), jen.Lit(f.MinItems))),
		))
	}
	var width spec.IntType
	switch l.Kind {
	case spec.LengthPrefix:
		width = l.Prefix
	case spec.LengthField:
		width = l.Field.Int
	default:
		return out
	}
	if limit := width.MaxValue(); !width.Varint && width.Bits < 64 && (max <= 0 || uint64(max) > limit) {
		out = append(out, jen.If(jen.Uint64().Parens(n.Clone()).Op(">").Add(intLit(limit, spec.IntType{Bits: 64}))).Block(
			c.efail(f, "ErrTooLong", jen.Qual(wirePkg, over).Call(jen.Uint64().Parens(n.Clone()), intLit(limit, spec.IntType{Bits: 64}))),
		))
	}
	return out
}

// encodeComputed prints the encoding of a length field from what it
// measures in this message (a group's is patched instead), or 0.
func (c *binCode) encodeComputed(f *spec.MessageField) []jen.Code {
	g := c.m.LengthOf(f)
	if g == nil {
		return []jen.Code{appendInt(f.Int, jen.Lit(0))}
	}
	n := jen.Len(c.val(g))
	var out []jen.Code
	if g.If != nil && !g.If.Same(f.If) { // else f's own condition holds already
		out = append(out, jen.Id("n").Op(":=").Lit(0), jen.If(c.cond(g.If)).Block(jen.Id("n").Op("=").Add(n)))
		n = jen.Id("n")
	}
	l := g.Length
	if g.List {
		l = g.Count
	}
	out = append(out, c.checkLen(g, n, l)...)
	out = append(out, appendInt(f.Int, n.Clone()))
	if len(out) > 1 {
		return []jen.Code{jen.Block(out...)}
	}
	return out
}

// encodeList prints the encoding of a list: its count (unless a field
// holds it), then each element.
func (c *binCode) encodeList(f *spec.MessageField) jen.Code {
	v := c.val(f)
	var out []jen.Code
	if f.Count.Kind != spec.LengthField {
		out = append(out, c.checkLen(f, jen.Len(v.Clone()), f.Count)...)
	}
	if f.Count.Kind == spec.LengthPrefix {
		out = append(out, appendInt(f.Count.Prefix, jen.Len(v.Clone())))
	}
	elem := *f
	elem.List = false
	var each []jen.Code
	if f.Kind == spec.WireStruct {
		each = c.encodeValue(&elem, v.Clone().Index(jen.Id("i")))
		out = append(out, jen.For(jen.Id("i").Op(":=").Range().Add(v.Clone())).Block(each...))
	} else {
		each = c.encodeValue(&elem, jen.Id("e"))
		out = append(out, jen.For(jen.List(jen.Id("_"), jen.Id("e")).Op(":=").Range().Add(v.Clone())).Block(each...))
	}
	return jen.Block(out...)
}

// encodeGroup prints the encoding of a group and the patching of its
// length into the field that holds it.
func (c *binCode) encodeGroup(f *spec.MessageField) jen.Code {
	body := []jen.Code{jen.Id("g").Op(":=").Len(jen.Id("dst"))}
	for _, g := range f.Group {
		body = append(body, c.encodeField(g)...)
	}
	lf := f.Length.Field
	n := jen.Len(jen.Id("dst")).Op("-").Id("g")
	body = append(body, jen.If(jen.Uint64().Parens(n.Clone()).Op(">").Add(intLit(lf.Int.MaxValue(), spec.IntType{Bits: 64}))).Block(
		c.efail(f, "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(n.Clone()), intLit(lf.Int.MaxValue(), spec.IntType{Bits: 64}))),
	))
	body = append(body, putInt(lf, jen.Id("p"+lf.GoName), n.Clone()))
	return jen.Block(body...)
}

// putInt prints the writing of n into dst at p, in f's fixed-size form.
func putInt(f *spec.MessageField, p, n jen.Code) jen.Code {
	t := f.Int
	if t.Bits == 8 {
		return jen.Id("dst").Index(p).Op("=").Byte().Parens(n)
	}
	return jen.Add(byteOrder(t)).Dot(fmt.Sprintf("PutUint%d", t.Bits)).Call(jen.Id("dst").Index(p, jen.Empty()), jen.Id(fmt.Sprintf("uint%d", t.Bits)).Parens(n))
}

// patchCounts prints the filling in of the frame length.
func (c *binCode) patchCounts() []jen.Code {
	var out []jen.Code
	for _, f := range c.seq {
		if !f.Counts {
			continue
		}
		from := jen.Id("bodyStart")
		if f.CountsFrom != nil {
			from = jen.Id(startName(f.CountsFrom))
		}
		n := jen.Len(jen.Id("dst")).Op("-").Add(from)
		// The whole message is at most the set's max, so what the
		// field counts is at most max less the bytes before where it
		// counts from.
		limit := f.Int.MaxValue()
		if max := c.m.Set.Max - c.m.Set.CountsOffset(); max >= 0 && uint64(max) < limit {
			limit = uint64(max)
		}
		out = append(out, jen.If(jen.Uint64().Parens(n.Clone()).Op(">").Add(intLit(limit, spec.IntType{Bits: 64}))).Block(
			c.efail(f, "ErrTooLong", jen.Qual(wirePkg, "Over").Call(jen.Uint64().Parens(n.Clone()), intLit(limit, spec.IntType{Bits: 64}))),
		))
		out = append(out, putInt(f, jen.Id("p"+f.GoName), n.Clone()))
	}
	return out
}

// patchChecksums prints the filling in of checksums, over bytes in which
// the checksum itself is still zero.
func (c *binCode) patchChecksums() []jen.Code {
	var out []jen.Code
	for _, f := range c.seq {
		if f.Checksum == spec.NoChecksum {
			continue
		}
		sum := jen.Qual(wirePkg, checksumFuncs[f.Checksum]).Call(jen.Id("dst").Index(jen.Id(startName(f.First)), jen.Id(endName(f.Last))), jen.Lit(0), jen.Lit(0))
		out = append(out, putInt(f, jen.Id("p"+f.GoName), sum))
	}
	return out
}
