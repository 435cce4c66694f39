package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// wiretestPkg is the package that fills messages from fuzz input.
const wiretestPkg = "github.com/protogen/protogen/runtime/wire/wiretest"

// fuzzRoundTrip prints FuzzRoundTrip<Set>: a message of the set built from
// the fuzz input either fails to encode with a *wire.EncodeError, or
// encodes to bytes that decode to the same message, once the fields its
// encoding leaves out (absent under their condition, or an optional number
// whose Has field is false) are zeroed.
func fuzzRoundTrip(f *jen.File, s *spec.MessageSet, norm *normalizers) {
	name := s.FuzzRoundTripName()
	f.Line()
	prose(f, fmt.Sprintf("%s checks that the generated encoder and decoder of %s agree: a message built from the fuzz input "+
		"(the first byte chooses which, when there are several; wiretest.Fill sets its fields from the rest) either fails to encode with a "+
		"*wire.EncodeError, or encodes to bytes that decode to the same message (decode(encode(m)) == m), the fields "+
		"that its encoding leaves out zeroed. go test runs it on one seed per message; go test -fuzz=%s explores further.", name, s.Name, name))
	n := len(s.Messages)
	var cases []jen.Code
	for i, m := range s.Messages {
		cases = append(cases, jen.Case(jen.Lit(i)).Block(jen.Id("m").Op("=").Op("&").Id(m.Name).Values()))
	}
	var normCases []jen.Code
	for _, m := range s.Messages {
		if fn := norm.of(m); fn != "" {
			normCases = append(normCases, jen.Case(jen.Op("*").Id(m.Name)).Block(jen.Id(fn).Call(jen.Id("m"))))
		}
	}
	normalize := jen.Nil()
	if len(normCases) > 0 {
		normalize = jen.Func().Params(jen.Id("m").Id(s.Name)).Block(
			jen.Switch(jen.Id("m").Op(":=").Id("m").Assert(jen.Type())).Block(normCases...),
		)
	}
	choose := jen.Var().Id("m").Id(s.Name).Op("=").Op("&").Id(s.Messages[0].Name).Values()
	if n > 1 {
		choose = jen.Var().Id("m").Id(s.Name).Line().Switch(jen.Int().Parens(jen.Id("data").Index(jen.Lit(0))).Op("%").Lit(n)).Block(cases...)
	}
	check := []jen.Code{
		jen.If(jen.Len(jen.Id("data")).Op("==").Lit(0)).Block(jen.Return()),
		choose,
		jen.Qual(wiretestPkg, "Fill").Call(jen.Id("m"), jen.Id("data").Index(jen.Lit(1), jen.Empty())),
		jen.Qual(wiretestPkg, "CheckRoundTrip").Call(jen.Id("t"), jen.Id("m"), jen.Id(s.DecodeFunc), normalize),
	}
	f.Func().Id(name).Params(jen.Id("f").Op("*").Qual("testing", "F")).Block(
		jen.For(jen.Id("i").Op(":=").Range().Lit(n)).Block(jen.Id("f").Dot("Add").Call(jen.Index().Byte().Values(jen.Byte().Parens(jen.Id("i"))))),
		jen.Id("f").Dot("Fuzz").Call(jen.Func().Params(jen.Id("t").Op("*").Qual("testing", "T"), jen.Id("data").Index().Byte()).Block(check...)),
	)
}

// normalizers names and prints, for each message or struct type whose
// encoding may leave out some of its Go fields without an error, the
// function of the generated tests that zeroes them: what a decoder gives
// back for a field that is not on the wire.
type normalizers struct {
	names map[*spec.Message]string
	order []*spec.Message
}

func newNormalizers(s *spec.Spec) *normalizers {
	n := &normalizers{names: map[*spec.Message]string{}}
	var all []*spec.Message
	all = append(all, s.Types...)
	for _, set := range s.Sets {
		all = append(all, set.Messages...)
	}
	// A type needs one when a field of its own does, or a field of a
	// type it holds: repeat until nothing changes, as types may nest in
	// any order.
	for changed := true; changed; {
		changed = false
		for _, m := range all {
			if n.names[m] == "" && len(n.statements(m)) > 0 {
				n.names[m] = "fuzzNormalize" + m.Name
				n.order = append(n.order, m)
				changed = true
			}
		}
	}
	return n
}

// of returns the normalizer of m, or "" when it needs none.
func (n *normalizers) of(m *spec.Message) string { return n.names[m] }

// print prints every normalizer, in the order they were found.
func (n *normalizers) print(f *jen.File) {
	for _, m := range n.order {
		f.Line()
		prose(f, fmt.Sprintf("%s zeroes the fields of m that its encoding leaves out, as decoding gives them back.", n.names[m]))
		f.Func().Id(n.names[m]).Params(jen.Id("m").Op("*").Id(m.Name)).Block(n.statements(m)...)
	}
}

// statements prints the zeroing of m's absent fields, in decoding order,
// so that a condition reads fields already zeroed.
func (n *normalizers) statements(m *spec.Message) []jen.Code {
	c := newBinCode(m)
	var out []jen.Code
	var walk func(fields []*spec.MessageField)
	walk = func(fields []*spec.MessageField) {
		for _, f := range fields {
			var zero []jen.Code
			switch {
			case f.Kind == spec.WireGroup:
				zero = zeroFields(f.Group)
			case f.InStruct():
				zero = []jen.Code{jen.Id("m").Dot(f.GoName).Op("=").Add(zeroValue(f))}
			}
			switch {
			case f.If != nil && isSet(f, jen.Id("m").Dot(f.GoName)) != nil:
				// The encoder refuses it set while absent.
			case f.If != nil && len(zero) > 0 && condReadsStruct(m, f.If):
				out = append(out, jen.If(c.notCond(f.If)).Block(zero...))
			case f.HasField != "":
				out = append(out, jen.If(jen.Op("!").Id("m").Dot(f.HasField)).Block(zero...))
			}
			if f.Kind == spec.WireGroup {
				walk(f.Group)
			}
			if fn := n.names[f.Struct]; f.Kind == spec.WireStruct && fn != "" {
				if f.List {
					out = append(out, jen.For(jen.Id("i").Op(":=").Range().Id("m").Dot(f.GoName)).Block(
						jen.Id(fn).Call(jen.Op("&").Id("m").Dot(f.GoName).Index(jen.Id("i")))))
				} else {
					out = append(out, jen.Id(fn).Call(jen.Op("&").Id("m").Dot(f.GoName)))
				}
			}
		}
	}
	if m.Set != nil {
		walk(m.Set.Header)
	}
	walk(m.Fields)
	return out
}

// condReadsStruct reports whether condition k tests a field of m's Go
// struct, which a normalizer can read; one that tests a computed field
// (a length, say) is left alone.
func condReadsStruct(m *spec.Message, k *spec.Cond) bool {
	return k.Field.InStruct() || k.Field.Tag && m.TagField != ""
}

// zeroFields prints the zeroing of the Go fields among fields, a group's.
func zeroFields(fields []*spec.MessageField) []jen.Code {
	var out []jen.Code
	for _, f := range spec.AllFields(fields) {
		if f.InStruct() {
			out = append(out, jen.Id("m").Dot(f.GoName).Op("=").Add(zeroValue(f)))
		}
	}
	return out
}

// zeroValue prints the zero value of f's Go type.
func zeroValue(f *spec.MessageField) jen.Code {
	switch {
	case f.List, f.Kind == spec.WireBytes && f.Size == 0:
		return jen.Nil()
	case f.Kind == spec.WireBytes, f.Kind == spec.WireStruct:
		return elemGoType(f).Values()
	case f.Kind == spec.WireString:
		return jen.Lit("")
	case f.Kind == spec.WireBool, f.Kind == spec.WireFlag:
		return jen.False()
	}
	return jen.Lit(0)
}
