package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/internal/textwrap"
	"github.com/protogen/protogen/spec"
)

// wirePkg is the import path of the runtime's wire package.
var wirePkg = spec.WirePath

// Import paths of the standard library that the message code refers to.
const (
	binaryPkg  = "encoding/binary"
	bytesPkg   = "bytes"
	mathPkg    = "math"
	strconvPkg = "strconv"
	slicesPkg  = "slices"
)

// messages prints the spec's enums, struct types and message sets: a Go
// type for each, with its decoder, encoder and Clone.
func messages(f *jen.File, s *spec.Spec) {
	for _, e := range s.Enums {
		enumType(f, e)
	}
	for _, t := range s.Types {
		messageType(f, t)
	}
	for _, set := range s.Sets {
		messageSet(f, set)
		if set.BlockLenFunc != "" {
			blockLenFunc(f, set)
		}
		codecFunc(f, set)
		for _, m := range set.Messages {
			messageType(f, m)
		}
	}
}

// enumType prints an enum: its type, constants, String, and known, which
// tells a listed value from another.
func enumType(f *jen.File, e *spec.Enum) {
	f.Line()
	doc := e.Doc
	if doc == "" {
		doc = fmt.Sprintf("%s is an enum of the spec.", e.Name)
	}
	comment(f, doc)
	f.Type().Id(e.Name).Add(intGoType(e.Int))
	if len(e.Values) > 0 {
		f.Line()
		prose(f, fmt.Sprintf("The values of %s.", e.Name))
		defs := make([]jen.Code, len(e.Values))
		for i, v := range e.Values {
			defs[i] = jen.Id(v.Const).Id(e.Name).Op("=").Add(intLit(v.Value, e.Int))
		}
		f.Const().Defs(defs...)
	}
	cases := make([]jen.Code, len(e.Values))
	for i, v := range e.Values {
		cases[i] = jen.Case(jen.Id(v.Const)).Block(jen.Return(jen.Lit(v.Name)))
	}
	f.Line()
	prose(f, "String returns the value's name in the spec, or its number.")
	f.Func().Params(jen.Id("v").Id(e.Name)).Id("String").Params().String().Block(
		jen.Switch(jen.Id("v")).Block(cases...),
		jen.Return(jen.Lit(e.Name+"(").Op("+").Add(formatInt(jen.Id("v"), e.Int)).Op("+").Lit(")")),
	)
	consts := make([]jen.Code, len(e.Values))
	for i, v := range e.Values {
		consts[i] = jen.Id(v.Const)
	}
	f.Line()
	prose(f, "known reports whether the spec lists v.")
	body := []jen.Code{jen.Return(jen.False())}
	if len(consts) > 0 {
		body = []jen.Code{jen.Switch(jen.Id("v")).Block(jen.Case(consts...).Block(jen.Return(jen.True()))), jen.Return(jen.False())}
	}
	f.Func().Params(jen.Id("v").Id(e.Name)).Id("known").Params().Bool().Block(body...)
}

// formatInt prints a conversion of an integer expression to its decimal
// string.
func formatInt(x jen.Code, t spec.IntType) jen.Code {
	if t.Signed {
		return jen.Qual(strconvPkg, "FormatInt").Call(jen.Int64().Parens(x), jen.Lit(10))
	}
	return jen.Qual(strconvPkg, "FormatUint").Call(jen.Uint64().Parens(x), jen.Lit(10))
}

// intGoType is the Go type of an integer's wire form.
func intGoType(t spec.IntType) *jen.Statement {
	bits := t.Bits
	if t.Varint {
		bits = 64
	}
	if t.Signed {
		return jen.Id(fmt.Sprintf("int%d", bits))
	}
	return jen.Id(fmt.Sprintf("uint%d", bits))
}

// intLit prints v, the bits of an integer of type t, as a Go literal of
// that type's value: negative for a negative signed value, hexadecimal
// above 255.
func intLit(v uint64, t spec.IntType) jen.Code {
	if t.Signed {
		bits := t.Bits
		if t.Varint {
			bits = 64
		}
		sv := int64(v<<(64-bits)) >> (64 - bits)
		return jen.Lit(int(sv))
	}
	if v > 255 {
		return jen.Op(fmt.Sprintf("%#x", v))
	}
	return jen.Lit(int(v))
}

// goType is the Go type of a message field.
func goType(f *spec.MessageField) jen.Code {
	elem := elemGoType(f)
	if f.List {
		return jen.Index().Add(elem)
	}
	return elem
}

// elemGoType is the Go type of one value of a field: the element of a list.
func elemGoType(f *spec.MessageField) *jen.Statement {
	switch f.Kind {
	case spec.WireUint, spec.WireInt:
		return intGoType(f.Int)
	case spec.WireFloat:
		return jen.Id(fmt.Sprintf("float%d", f.Int.Bits))
	case spec.WireBool, spec.WireFlag:
		return jen.Bool()
	case spec.WireBytes:
		if f.Size > 0 {
			return jen.Index(jen.Lit(f.Size)).Byte()
		}
		return jen.Index().Byte()
	case spec.WireString:
		return jen.String()
	case spec.WireEnum:
		return jen.Id(f.Enum.Name)
	case spec.WireStruct:
		return jen.Id(f.Struct.Name)
	}
	panic("codegen: no Go type for a " + f.Name)
}

// structFields prints the Go fields of fields that are in the struct, a
// group's promoted in its place; text says they are a text message's.
func structFields(fields []*spec.MessageField, text bool) []jen.Code {
	var out []jen.Code
	for _, f := range fields {
		if f.Kind == spec.WireGroup {
			out = append(out, structFields(f.Group, text)...)
			continue
		}
		if !f.InStruct() {
			continue
		}
		lines := strings.Split(f.Doc, "\n")
		if f.Doc == "" {
			// A field's comment is indented by a tab: fill to the usual
			// width less one.
			lines = textwrap.Lines(f.GoName+" is "+wireForm(f, text)+".", textwrap.Width-8)
		}
		for _, line := range lines {
			out = append(out, commentLine(line))
		}
		out = append(out, jen.Id(f.GoName).Add(goType(f)))
		if f.HasField != "" {
			out = append(out, commentLine(fmt.Sprintf("%s reports whether the message holds %s.", f.HasField, f.GoName)),
				jen.Id(f.HasField).Bool())
		}
	}
	return out
}

// wireForm says how a field is written, for its doc comment when the spec
// gives none: "bytes after a u16 length, at most 1024 bytes".
func wireForm(f *spec.MessageField, text bool) string {
	var form string
	// number is how an integer (or a float's bits) of type t is written.
	number := func(t spec.IntType, name string) string {
		switch {
		case text:
			return "a decimal " + name
		case t.Bits > 8:
			return "a " + t.Endian.String() + "-endian " + name
		}
		return withArticle(name)
	}
	switch f.Kind {
	case spec.WireUint, spec.WireInt:
		form = number(f.Int, f.Int.String())
	case spec.WireFloat:
		form = number(f.Int, fmt.Sprintf("f%d", f.Int.Bits))
	case spec.WireBool:
		form = "a bool, one byte 0 or 1"
	case spec.WireEnum:
		form = withArticle(f.Enum.Name) + ", " + number(f.Int, f.Int.String())
	case spec.WireStruct:
		form = withArticle(f.Struct.Name)
	case spec.WireFlag:
		form = "true when the line ends in " + f.Word
	case spec.WireBytes, spec.WireString:
		form = "bytes"
		if f.Kind == spec.WireString {
			form = "a string"
		}
		switch {
		case f.Size > 0:
			form = fmt.Sprintf("%d bytes", f.Size)
		case text && f.Length.Kind == spec.LengthField:
			form = "the data block after the line, as long as " + f.Length.Field.Name + " says"
		case text && f.Length.Kind == spec.LengthRest:
			form = "the rest of the line"
		case text:
			form = "a token"
		case f.Length.Kind == spec.LengthPrefix:
			form += " after " + number(f.Length.Prefix, f.Length.Prefix.String()) + " length"
		case f.Length.Kind == spec.LengthField:
			form += ", as long as " + f.Length.Field.Name + " says"
		case f.Length.Kind == spec.LengthRest:
			form += " to the end"
		}
		if f.Max > 0 {
			form += fmt.Sprintf(", at most %d bytes", f.Max)
		}
	}
	if f.List {
		form = "a list, each " + form
		switch f.Count.Kind {
		case spec.LengthPrefix:
			form += ", after " + number(f.Count.Prefix, f.Count.Prefix.String()) + " count"
		case spec.LengthField:
			form += ", as many as " + f.Count.Field.Name + " says"
		case spec.LengthRest:
			form += ", to the end"
		}
		if f.MaxItems > 0 {
			form += fmt.Sprintf(", at most %d items", f.MaxItems)
		}
	}
	if f.If != nil {
		form += ", present when " + f.If.Src
	}
	if f.Optional {
		form += ", optional"
	}
	return form
}

// aliases lists the Go fields of m that alias the bytes m was decoded
// from, for its doc comment.
func aliases(fields []*spec.MessageField) []string {
	var out []string
	for _, f := range fields {
		switch {
		case f.Kind == spec.WireGroup:
			out = append(out, aliases(f.Group)...)
		case !f.InStruct():
		case f.Kind == spec.WireBytes && f.Size == 0, f.Kind == spec.WireStruct && len(aliases(f.Struct.Fields)) > 0:
			out = append(out, f.GoName)
		}
	}
	return out
}

// withArticle puts "a" or "an" before a type's name, as it is read aloud:
// an i32, an f64, an ErrCode, a u16, a Status, a *Fail.
func withArticle(name string) string {
	if name == "" {
		return name
	}
	switch c := name[0]; {
	case strings.IndexByte("aeioAEIO", c) >= 0, c == 'f' && len(name) > 1 && name[1] >= '0' && name[1] <= '9':
		return "an " + name
	}
	return "a " + name
}

// messageSet prints a set's interface, its header struct, and its decoder.
func messageSet(f *jen.File, s *spec.MessageSet) {
	names := make([]string, len(s.Messages))
	for i, m := range s.Messages {
		names[i] = m.Name
	}
	f.Line()
	doc := s.Doc
	if doc == "" {
		doc = fmt.Sprintf("%s is a set of messages of the spec.", s.Name)
	}
	comment(f, doc)
	f.Add(commentLine(""))
	prose(f, fmt.Sprintf("Its messages are %s. %s decodes any of them; a protocol that receives them dispatches each to its hook.",
		strings.Join(names, ", "), s.DecodeFunc))
	f.Type().Id(s.Name).Interface(
		commentLine("Append appends the message's encoding to dst, and returns dst unchanged"),
		commentLine("with a *wire.EncodeError for a message it cannot encode."),
		jen.Id("Append").Params(jen.Id("dst").Index().Byte()).Params(jen.Index().Byte(), jen.Error()),
		jen.Id("is"+s.Name).Params(),
	)
	if s.HeaderType != "" {
		f.Line()
		prose(f, fmt.Sprintf("%s holds the fields of the header that every message of %s starts with, other than those the encoder computes; each message embeds it.", s.HeaderType, s.Name))
		f.Type().Id(s.HeaderType).Struct(structFields(s.Header, false)...)
	}
	f.Line()
	prose(f, fmt.Sprintf("%s decodes the one message of %s that b holds, and returns it as a new value. Its byte fields alias b. A protocol's dispatch decodes without allocating; this is for tools and tests.", s.DecodeFunc, s.Name))
	body := setDecodeBody(s)
	f.Func().Id(s.DecodeFunc).Params(jen.Id("b").Index().Byte()).Params(jen.Id(s.Name), jen.Error()).Block(body...)
}

// setDecodeBody is the body of a set's decoder: choose the message, make
// it, decode it.
func setDecodeBody(s *spec.MessageSet) []jen.Code {
	decodeInto := func(m *spec.Message) []jen.Code {
		return []jen.Code{
			jen.Id("m").Op(":=").New(jen.Id(m.Name)),
			jen.If(jen.Err().Op(":=").Id("m").Dot("Decode").Call(jen.Id("b")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("m"), jen.Nil()),
		}
	}
	if s.Encoding == spec.Text {
		var body []jen.Code
		body = append(body, jen.List(jen.Id("line"), jen.Id("_")).Op(":=").Qual(wirePkg, "CutLine").Call(jen.Id("b")))
		body = append(body, jen.List(jen.Id("verb"), jen.Id("_")).Op(":=").Qual(wirePkg, "Token").Call(jen.Id("line")))
		var cases []jen.Code
		for _, m := range s.Messages {
			if m.Verb == "" {
				continue
			}
			cases = append(cases, jen.Case(verbMatch(s, jen.Id("verb"), m.Verb)).Block(decodeInto(m)...))
		}
		if s.Default != nil {
			cases = append(cases, jen.Default().Block(decodeInto(s.Default)...))
		}
		body = append(body, jen.Switch().Block(cases...))
		if s.Default == nil {
			body = append(body, jen.Return(jen.Nil(), unknownVerb(s, jen.Id("verb"))))
		}
		return body
	}
	if s.Tag == nil { // one message, nothing to choose
		return decodeInto(s.Messages[0])
	}
	tagOff := s.TagOffset()
	body := []jen.Code{
		jen.If(jen.Len(jen.Id("b")).Op("<").Lit(tagOff + s.Tag.FixedSize())).Block(
			jen.Return(jen.Nil(), decodeFail(s.Name, s.Tag.Name, jen.Len(jen.Id("b")), "ErrTruncated", needDetail(jen.Lit(tagOff+s.Tag.FixedSize()), jen.Len(jen.Id("b"))))),
		),
	}
	var cases []jen.Code
	for _, m := range s.Messages {
		vals := make([]jen.Code, len(m.Tags))
		for i, t := range m.Tags {
			vals[i] = constCode(s.Tag, t)
		}
		cases = append(cases, jen.Case(vals...).Block(decodeInto(m)...))
	}
	tagVal := tagValue(s, "b")
	body = append(body, jen.Switch(tagVal).Block(cases...))
	body = append(body, jen.Return(jen.Nil(), unknownTag(s, tagVal)))
	return body
}

// messageType prints a message or struct type: the struct, and its
// methods.
func messageType(f *jen.File, m *spec.Message) {
	f.Line()
	doc := m.Doc
	if doc == "" {
		doc = defaultMessageDoc(m)
	}
	comment(f, doc)
	if a := aliases(m.Fields); len(a) > 0 {
		verb := "alias"
		if len(a) == 1 {
			verb = "aliases"
		}
		f.Add(commentLine(""))
		prose(f, fmt.Sprintf("After Decode, %s %s the decoded bytes: valid only until the hook that "+
			"receives the message returns. Clone returns a copy that may be kept.", listFields(a), verb))
	}
	var fields []jen.Code
	if m.Set != nil && m.Set.HeaderType != "" {
		fields = append(fields, jen.Id(m.Set.HeaderType))
	}
	if m.TagField != "" {
		tags := make([]string, len(m.Tags))
		for i, t := range m.Tags {
			tags[i] = tagText(m.Set.Tag, t)
		}
		fields = append(fields,
			commentLine(fmt.Sprintf("%s is the message's %s: one of %s.", m.TagField, m.Set.Tag.Name, strings.Join(tags, ", "))),
			jen.Id(m.TagField).Add(elemGoType(m.Set.Tag)))
	}
	fields = append(fields, structFields(m.Fields, m.Set != nil && m.Set.Encoding == spec.Text)...)
	f.Type().Id(m.Name).Struct(fields...)
	if m.Set != nil {
		f.Line()
		f.Func().Params(jen.Op("*").Id(m.Name)).Id("is" + m.Set.Name).Params().Block()
	}
	if m.Set != nil && m.Set.Encoding == spec.Text {
		textMessage(f, m)
	} else {
		binaryMessage(f, m)
	}
	cloneMethod(f, m)
}

// defaultMessageDoc is a message's doc comment when the spec gives none: what
// selects it in its set.
func defaultMessageDoc(m *spec.Message) string {
	switch {
	case m.Set == nil:
		return fmt.Sprintf("%s is a struct of the spec, for the fields of messages.", m.Name)
	case m.Set.Encoding == spec.Text && m.Verb != "":
		return fmt.Sprintf("%s is the message %s of set %s: %s", m.Name, m.Verb, m.Set.Name, usage(m))
	case m.Set.Encoding == spec.Text:
		return fmt.Sprintf("%s is the message of set %s whose line starts with no verb: %s", m.Name, m.Set.Name, usage(m))
	case len(m.Tags) > 0:
		tags := make([]string, len(m.Tags))
		for i, t := range m.Tags {
			tags[i] = tagText(m.Set.Tag, t)
		}
		return fmt.Sprintf("%s is the message of set %s whose %s is %s.", m.Name, m.Set.Name, m.Set.Tag.Name, strings.Join(tags, " or "))
	}
	return fmt.Sprintf("%s is the message of set %s.", m.Name, m.Set.Name)
}

// listFields joins Go field names for prose: "Key", "Key and Value".
func listFields(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// tagText writes a tag value of field f for a doc comment.
func tagText(f *spec.MessageField, c spec.Const) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Bytes != nil:
		return fmt.Sprintf("%q", c.Bytes)
	case f.Kind == spec.WireUint && f.Int.Bits == 8 && c.Int >= 0x20 && c.Int < 0x7f:
		return strconv.QuoteRune(rune(c.Int))
	case f.Int.Signed:
		return strconv.FormatInt(int64(c.Int), 10) // two's complement
	}
	return fmt.Sprintf("%#x", c.Int)
}

// cloneMethod prints Clone, and clone for a struct type.
func cloneMethod(f *jen.File, m *spec.Message) {
	copies := cloneFields(m.Fields, "c", "m")
	if m.Set != nil && m.Set.HeaderType != "" {
		copies = append(cloneFields(m.Set.Header, "c", "m"), copies...)
	}
	f.Line()
	prose(f, "Clone returns a copy of m that shares no memory with it or with the bytes it was decoded from.")
	body := append([]jen.Code{jen.Id("c").Op(":=").Op("*").Id("m")}, copies...)
	body = append(body, jen.Return(jen.Op("&").Id("c")))
	f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Clone").Params().Op("*").Id(m.Name).Block(body...)
}

// cloneFields prints the statements that make dst's fields of fields,
// copied from src's, share no memory.
func cloneFields(fields []*spec.MessageField, dst, src string) []jen.Code {
	var out []jen.Code
	for _, f := range fields {
		if f.Kind == spec.WireGroup {
			out = append(out, cloneFields(f.Group, dst, src)...)
			continue
		}
		if !f.InStruct() {
			continue
		}
		d, s := jen.Id(dst).Dot(f.GoName), jen.Id(src).Dot(f.GoName)
		switch {
		case f.List && (f.Kind == spec.WireStruct || f.Kind == spec.WireBytes && f.Size == 0):
			out = append(out, jen.If(s.Clone().Op("!=").Nil()).Block(
				d.Clone().Op("=").Make(goType(f), jen.Len(s.Clone())),
				jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Add(s.Clone())).Block(
					d.Clone().Index(jen.Id("i")).Op("=").Add(cloneValue(f, jen.Id("v"))),
				),
			))
		case f.List:
			out = append(out, d.Op("=").Qual(slicesPkg, "Clone").Call(s))
		case f.Kind == spec.WireBytes && f.Size == 0:
			out = append(out, d.Op("=").Qual(bytesPkg, "Clone").Call(s))
		case f.Kind == spec.WireStruct:
			out = append(out, d.Op("=").Op("*").Add(s).Dot("Clone").Call())
		}
	}
	return out
}

// cloneValue is a copy of one element v of a list field f.
func cloneValue(f *spec.MessageField, v jen.Code) jen.Code {
	if f.Kind == spec.WireStruct {
		return jen.Op("*").Add(v).Dot("Clone").Call()
	}
	return jen.Qual(bytesPkg, "Clone").Call(v)
}
