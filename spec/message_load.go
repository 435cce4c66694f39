package spec

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Keys of the messages part of a spec, in the order the reference lists
// them.
var (
	enumKeys         = []string{"name", "doc", "type", "values", "unknown"}
	typeKeys         = []string{"name", "doc", "endian", "fields"}
	setKeys          = []string{"set", "doc", "encoding", "endian", "case", "max", "header", "correlate", "error", "messages"}
	messageKeys      = []string{"name", "doc", "tag", "verb", "event", "reply", "noreply", "fields"}
	replyKeys        = []string{"stream", "end"}
	messageFieldKeys = []string{"name", "group", "doc", "type", "endian", "size", "length", "count", "max", "max_items", "min_items", "const", "if", "tag", "counts", "checksum", "over", "optional", "word", "fields"}
)

// wireName is what a message field's name may be: it becomes the tail of a
// Go identifier, and appears in error messages as written.
var wireName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// messageScope is what the decoder knows while it reads the messages part:
// the enums, struct types and sets declared so far, by name.
type messageScope struct {
	enums    map[string]*Enum
	types    map[string]*Message
	sets     map[string]*MessageSet
	messages map[string]*Message // the sets' messages, which share one namespace
	// pending holds, for each field decoded, the references it makes to
	// other fields by name, resolved once its message is complete.
	pending map[*MessageField]*fieldRefs
	// ownEndian holds the fields that give their own byte order (endian:),
	// and typeEndian the types that do, with it: the other fields of a
	// type take the byte order of the sets that use it (typeEndians).
	ownEndian  map[*MessageField]bool
	typeEndian map[*Message]Endian
}

// fieldRefs are the names a field refers to, with where the spec writes
// them.
type fieldRefs struct {
	length, count, countsFrom, first, last ref
	cond                                   *condSrc
}

type ref struct {
	name string
	node *yaml.Node
}

type condSrc struct {
	field, op, value string
	node             *yaml.Node
}

func (r ref) set() bool { return r.node != nil }

// enums decodes the spec's enums list.
func (d *decoder) enums(n *yaml.Node, sc *messageScope) []*Enum {
	var out []*Enum
	d.sequence(n, "enums", func(item *yaml.Node) {
		e := &Enum{Pos: posOf(item)}
		var named, nameGiven bool
		var valuesNode *yaml.Node
		d.mapping(item, "enum", enumKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				nameGiven = true
				if name, ok := d.str(v, "enum name"); ok && d.checkExported(v, "enum name", name) {
					e.Name, e.Pos, named = name, posOf(v), true
				}
			case "doc":
				if !isNull(v) {
					e.Doc = d.doc(v)
				}
			case "type":
				if s, ok := d.str(v, "enum type"); ok {
					it, ok := parseIntType(s)
					if !ok || it.Varint && it.Signed {
						d.errorf(v, "enum type %q: an enum is over u8, u16, u32, u64, i8, i16, i32, i64 or uvarint%s", s, didYouMean(s, intTypeNames))
					} else {
						e.Int = it
					}
				}
			case "values":
				valuesNode = v
			case "unknown":
				if s, ok := d.str(v, "enum unknown"); ok {
					switch s {
					case "error":
					case "keep":
						e.KeepUnknown = true
					default:
						d.errorf(v, "enum unknown: %q: write error (an unlisted value fails to decode) or keep%s", s, didYouMean(s, []string{"error", "keep"}))
					}
				}
			}
		})
		if !named {
			if item.Kind == yaml.MappingNode && !nameGiven {
				d.missingf(item, "enum: missing name")
			}
			return
		}
		if e.Int.Bits == 0 && !e.Int.Varint {
			e.Int = IntType{Bits: 8}
		}
		if valuesNode == nil {
			d.missingf(item, "enum %s: missing values, as in {ok: 0, not_found: 1}", e.Name)
			return
		}
		d.enumValues(valuesNode, e)
		if prev, dup := sc.enums[e.Name]; dup {
			d.errorAt(e.Pos, "enum %s is declared twice (first at %v)", e.Name, prev.Pos)
			return
		}
		sc.enums[e.Name] = e
		out = append(out, e)
	})
	return out
}

// enumValues decodes an enum's values: a mapping from name to number, in
// order.
func (d *decoder) enumValues(n *yaml.Node, e *Enum) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		d.errorf(n, "enum %s: values: expected a mapping of names to numbers, as in {ok: 0, not_found: 1}", e.Name)
		return
	}
	names := make(map[string]Pos)
	numbers := make(map[uint64]string)
	consts := make(map[string]string)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.visit(n.Content[i]), d.visit(n.Content[i+1])
		if k == nil || v == nil {
			return
		}
		name := k.Value
		if !wireName.MatchString(name) {
			d.errorf(k, "enum %s: value name %q: use ASCII letters, digits and underscores, starting with a letter", e.Name, name)
			continue
		}
		if first, dup := names[name]; dup {
			d.errorf(k, "enum %s: value %s is listed twice (first at %v)", e.Name, name, first)
			continue
		}
		names[name] = posOf(k)
		val, ok := d.intValue(v, "enum "+e.Name+": value "+name, e.Int)
		if !ok {
			continue
		}
		if other, dup := numbers[val]; dup {
			d.errorf(v, "enum %s: %s and %s have the same value %s", e.Name, other, name, v.Value)
			continue
		}
		numbers[val] = name
		c := e.Name + camel(name)
		if other, clash := consts[c]; clash {
			d.errorf(k, "enum %s: values %s and %s would both be the constant %s", e.Name, other, name, c)
			continue
		}
		consts[c] = name
		e.Values = append(e.Values, &EnumValue{Pos: posOf(k), Name: name, Const: c, Value: val})
	}
}

// intValue decodes an integer scalar that must fit t, as its two's
// complement bits.
func (d *decoder) intValue(n *yaml.Node, what string, t IntType) (uint64, bool) {
	// YAML reads digits too many for 64 bits as a float: they are an
	// integer that does not fit.
	tooLong := n.Kind == yaml.ScalarNode && n.Tag == "!!float" && digits.MatchString(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" && !tooLong {
		d.errorf(n, "%s: expected an integer, found %s", what, kindName(n))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		u, uerr := strconv.ParseUint(n.Value, 0, 64)
		if uerr != nil {
			d.errorf(n, "%s: %s does not fit in 64 bits", what, n.Value)
			return 0, false
		}
		if t.Signed || !t.Varint && t.Bits < 64 {
			d.errorf(n, "%s: %s does not fit %s", what, n.Value, t)
			return 0, false
		}
		return u, true
	}
	if !t.fits(v) {
		d.errorf(n, "%s: %s does not fit %s", what, n.Value, t)
		return 0, false
	}
	return uint64(v), true
}

// digits is a decimal integer as YAML writes it (a leading 0 makes it
// octal).
var digits = regexp.MustCompile(`^[-+]?[1-9][0-9_]*$`)

// intTypeNames are the integer types a spec names.
var intTypeNames = []string{"u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "uvarint", "varint"}

// lengthWords are what a length or count may be other than a field's
// name.
var lengthWords = []string{"rest", "u8", "u16", "u32", "u64", "uvarint"}

// scalarTypeNames are every built-in field type, for did-you-mean.
var scalarTypeNames = append(slices.Clone(intTypeNames), "f32", "f64", "bool", "bytes", "string", "flag")

// parseIntType parses an integer type's name.
func parseIntType(s string) (IntType, bool) {
	switch s {
	case "uvarint":
		return IntType{Varint: true}, true
	case "varint":
		return IntType{Varint: true, Signed: true}, true
	}
	if len(s) < 2 || s[0] != 'u' && s[0] != 'i' {
		return IntType{}, false
	}
	bits, err := strconv.Atoi(s[1:])
	if err != nil || bits != 8 && bits != 16 && bits != 32 && bits != 64 {
		return IntType{}, false
	}
	return IntType{Bits: bits, Signed: s[0] == 'i'}, true
}

// String returns the type's name in a spec.
func (t IntType) String() string {
	switch {
	case t.Varint && t.Signed:
		return "varint"
	case t.Varint:
		return "uvarint"
	case t.Signed:
		return "i" + strconv.Itoa(t.Bits)
	}
	return "u" + strconv.Itoa(t.Bits)
}

// fits reports whether v (read as t's signedness) fits in t.
func (t IntType) fits(v int64) bool {
	switch {
	case t.Varint && t.Signed:
		return true
	case t.Varint:
		return v >= 0
	case t.Signed:
		return t.Bits == 64 || v >= -1<<(t.Bits-1) && v < 1<<(t.Bits-1)
	}
	return v >= 0 && (t.Bits == 64 || v < 1<<t.Bits)
}

// MaxValue returns the largest value an unsigned t holds (a varint: any
// uint64).
func (t IntType) MaxValue() uint64 {
	if t.Varint || t.Bits >= 64 {
		return math.MaxUint64
	}
	if t.Signed {
		return 1<<(t.Bits-1) - 1
	}
	return 1<<t.Bits - 1
}

// Size returns the bytes the integer takes, or 0 for a varint.
func (t IntType) Size() int { return t.Bits / 8 }

// structTypes decodes the spec's types list: binary structs that messages
// use as the type of a field.
func (d *decoder) structTypes(n *yaml.Node, sc *messageScope) []*Message {
	var out []*Message
	var nodes []*yaml.Node
	// Names first, so that types may refer to one another.
	d.sequence(n, "types", func(item *yaml.Node) {
		m := &Message{Pos: posOf(item)}
		var named, nameGiven bool
		if item.Kind != yaml.MappingNode {
			d.errorf(item, "type: expected a mapping with name and fields, found %s", kindName(item))
			return
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i].Tag == "!!merge" {
				d.errorf(item.Content[i], "type: merge keys (<<) are not supported; repeat the keys")
				return // the type's keys are unknown
			}
			if item.Content[i].Value == "name" {
				nameGiven = true
				if name, ok := d.str(item.Content[i+1], "type name"); ok && d.checkExported(item.Content[i+1], "type name", name) {
					m.Name, m.Pos, named = name, posOf(item.Content[i+1]), true
				}
			}
		}
		if !named {
			if !nameGiven {
				d.missingf(item, "type: missing name")
			}
			return
		}
		if prev, dup := sc.types[m.Name]; dup {
			d.errorAt(m.Pos, "type %s is declared twice (first at %v)", m.Name, prev.Pos)
			return
		}
		sc.types[m.Name] = m
		out = append(out, m)
		nodes = append(nodes, item)
	})
	for i, m := range out {
		var fields *yaml.Node
		d.mapping(nodes[i], "type "+m.Name, typeKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "doc":
				if !isNull(v) {
					m.Doc = d.doc(v)
				}
			case "endian":
				if e, ok := d.endian(v, "endian"); ok {
					sc.typeEndian[m] = e
				}
			case "fields":
				fields = v
				m.Fields = d.messageFields(v, m, nil, sc, Binary)
			}
		})
		if !d.merged[nodes[i]] && (fields == nil || isNull(fields) || fields.Kind == yaml.SequenceNode && len(fields.Content) == 0) {
			d.errorAt(m.Pos, "type %s: fields: list at least one field (a struct of none takes no bytes, so a list of them could not be counted)", m.Name)
		}
		d.resolveFields(m, nil, sc)
	}
	d.checkTypeCycles(out)
	for _, m := range out {
		d.checkRest(m.Fields, m.what())
		d.checkConds(m)
	}
	return out
}

// checkConds reports a condition that tests a field the encoder writes by
// itself (a length, a constant, a checksum, the frame's length, or a tag
// that one value gives): its value is not the message's to hold. It runs
// once every message of the set is read, when every length field is known.
func (d *decoder) checkConds(m *Message) {
	var fields []*MessageField
	if m.Set != nil {
		fields = AllFields(m.Set.Header)
	}
	for _, f := range append(fields, AllFields(m.Fields)...) {
		if f.If == nil {
			continue
		}
		g := f.If.Field
		if g.InStruct() || g.Tag && m.TagField != "" {
			continue
		}
		what := alwaysPresent(g)
		if what == "" {
			what = "a length the encoder computes"
		}
		d.errorAt(f.If.Pos, "field %s: if: %s is %s, not a field of %s; test a field that the message holds", f.Name, g.Name, what, m.Name)
	}
}

// checkTypeCycles reports a struct type that contains itself, even through
// a list or an if: a hostile peer would nest it until the decoder's stack
// ran out.
func (d *decoder) checkTypeCycles(types []*Message) {
	state := make(map[*Message]int) // 1: being visited, 2: done
	var visit func(m *Message, path []string) bool
	visit = func(m *Message, path []string) bool {
		switch state[m] {
		case 1:
			d.errorAt(m.Pos, "type %s contains itself (%s): its decoder would recurse as deep as a peer's bytes say, and a message without a list or an if would never end; nest a fixed number of levels instead", m.Name, strings.Join(append(path, m.Name), " → "))
			return false
		case 2:
			return true
		}
		state[m] = 1
		for _, f := range AllFields(m.Fields) {
			if f.Kind == WireStruct && !visit(f.Struct, append(path, m.Name)) {
				state[m] = 2
				return false
			}
		}
		state[m] = 2
		return true
	}
	for _, m := range types {
		visit(m, nil)
	}
}

// messageSets decodes the spec's messages list.
func (d *decoder) messageSets(n *yaml.Node, sc *messageScope) []*MessageSet {
	var out []*MessageSet
	d.sequence(n, "messages", func(item *yaml.Node) {
		if s := d.messageSet(item, sc); s != nil {
			out = append(out, s)
		}
	})
	return out
}

// messageSet decodes one set.
func (d *decoder) messageSet(n *yaml.Node, sc *messageScope) *MessageSet {
	s := &MessageSet{Pos: posOf(n)}
	var named, nameGiven bool
	var headerNode, messagesNode, caseNode, endianNode, correlateNode, errorNode *yaml.Node
	if !d.mapping(n, "message set", setKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "set":
			nameGiven = true
			if name, ok := d.str(v, "set"); ok && d.checkExported(v, "set name", name) {
				s.Name, s.Pos, named = name, posOf(v), true
			}
		case "doc":
			if !isNull(v) {
				s.Doc = d.doc(v)
			}
		case "encoding":
			if e, ok := d.str(v, "encoding"); ok {
				switch e {
				case "binary":
				case "text":
					s.Encoding = Text
				default:
					d.errorf(v, "encoding %q: write binary or text%s", e, didYouMean(e, []string{"binary", "text"}))
				}
			}
		case "endian":
			endianNode = v
			s.Endian, _ = d.endian(v, "endian")
		case "case":
			caseNode = v
			if c, ok := d.str(v, "case"); ok {
				switch c {
				case "sensitive":
				case "insensitive":
					s.CaseInsensitive = true
				default:
					d.errorf(v, "case %q: write sensitive or insensitive%s", c, didYouMean(c, []string{"sensitive", "insensitive"}))
				}
			}
		case "max":
			s.maxGiven, s.maxPos = true, posOf(v)
			if size, ok := d.positiveSize(v, "max"); ok {
				s.Max = size
			}
		case "header":
			headerNode = v
		case "correlate":
			correlateNode = v
		case "error":
			errorNode = v
		case "messages":
			messagesNode = v
		}
	}) {
		return nil
	}
	if !named {
		if !nameGiven {
			d.missingf(n, "message set: missing set, the set's name, as in \"set: Request\"")
		}
		return nil
	}
	if prev, dup := sc.sets[s.Name]; dup {
		d.errorAt(s.Pos, "set %s is declared twice (first at %v)", s.Name, prev.Pos)
		return nil
	}
	sc.sets[s.Name] = s
	s.DecodeFunc = "Decode" + s.Name
	switch s.Encoding {
	case Text:
		if headerNode != nil {
			d.errorf(headerNode, "set %s: a text set has no header: its messages start with their verb", s.Name)
			headerNode = nil
		}
		if endianNode != nil {
			d.errorf(endianNode, "set %s: endian is for binary sets", s.Name)
		}
	case Binary:
		if caseNode != nil {
			d.errorf(caseNode, "set %s: case is for the verbs of a text set", s.Name)
		}
	}
	if headerNode != nil {
		s.Header = d.messageFields(headerNode, nil, s, sc, Binary)
		d.resolveFields(&Message{Set: s, Fields: s.Header}, nil, sc)
		d.checkHeader(s)
		if head := s.FieldOffset(nil); s.Max > 0 && s.Max < head {
			d.errorAt(s.maxPos, "set %s: max %d is shorter than the set's header (%d bytes): max is the longest message, header included", s.Name, s.Max, head)
		}
		for _, f := range AllFields(s.Header) {
			if endsAtRest(f) {
				d.errorAt(f.Pos, "set %s: header field %s takes the rest of the message, which leaves nothing for the message's own fields", s.Name, f.Name)
			}
		}
	}
	if messagesNode == nil || isNull(messagesNode) {
		d.missingf(n, "set %s: missing messages: list at least one message", s.Name)
		return s
	}
	if messagesNode.Kind == yaml.SequenceNode && len(messagesNode.Content) == 0 {
		d.errorf(messagesNode, "set %s: messages: list at least one message", s.Name)
		return s
	}
	d.sequence(messagesNode, "set "+s.Name+": messages", func(item *yaml.Node) {
		m := d.message(item, s, sc)
		if m == nil {
			return
		}
		if prev := sc.messages[m.Name]; prev != nil {
			// One error, at the second, rather than the collisions of the
			// two messages' Go type, hook and Send method.
			d.errorAt(m.Pos, "message %s is declared twice (first at %v)", m.Name, prev.Pos)
			return
		}
		sc.messages[m.Name] = m
		s.Messages = append(s.Messages, m)
	})
	d.checkSetMessages(s)
	for _, m := range s.Messages {
		d.checkConds(m)
	}
	if correlateNode != nil {
		if name, ok := d.str(correlateNode, "correlate"); ok {
			var names []string
			for _, f := range s.Header {
				names = append(names, f.Name)
				if f.Name == name {
					s.Correlate = f
				}
			}
			switch {
			case s.Correlate == nil:
				d.errorf(correlateNode, "set %s: correlate: no header field %q%s", s.Name, name, didYouMean(name, names))
			case s.Correlate.Kind != WireUint || !s.Correlate.InStruct() || s.Correlate.If != nil:
				d.errorf(correlateNode, "set %s: correlate: %s must be an unsigned integer of the header, always present, that the encoder does not compute", s.Name, name)
				s.Correlate = nil
			}
		}
	}
	if errorNode != nil {
		if name, ok := d.str(errorNode, "error"); ok {
			for _, m := range s.Messages {
				if m.Name == name {
					s.Error = m
				}
			}
			if s.Error == nil {
				d.errorf(errorNode, "set %s: error: no message %q in the set%s", s.Name, name, didYouMean(name, messageNames(s.Messages)))
			} else if what := reservedMessageMember(s.Error, "Error"); what == "" {
				for _, f := range AllFields(s.Error.Fields) {
					if f.GoName == "Error" && f.InStruct() {
						d.errorAt(f.Pos, "message %s: field %s would be the Go field Error, which collides with the method Error of an error reply", s.Error.Name, f.Name)
					}
				}
			}
		}
	}
	if s.Encoding == Text && s.HasBlocks() {
		s.BlockLenFunc = lowerFirst(s.Name) + "BlockLen"
	}
	if s.FrameLength != nil || s.BlockLenFunc != "" {
		s.CodecFunc = s.Name + "Codec"
	}
	return s
}

// endian decodes a byte order.
func (d *decoder) endian(n *yaml.Node, what string) (Endian, bool) {
	e, ok := d.str(n, what)
	if !ok {
		return BigEndian, false
	}
	switch e {
	case "big":
		return BigEndian, true
	case "little":
		return LittleEndian, true
	}
	d.errorf(n, "%s %q: write big or little%s", what, e, didYouMean(e, []string{"big", "little"}))
	return BigEndian, false
}

// checkHeader finds the header's tag and frame length, and checks what
// the header must be.
func (d *decoder) checkHeader(s *MessageSet) {
	var userFields int
	for i, f := range s.Header {
		switch {
		case f.Tag:
			if s.Tag != nil {
				d.errorAt(f.Pos, "set %s: header field %s is a second tag (the first is %s)", s.Name, f.Name, s.Tag.Name)
				continue
			}
			s.Tag = f
			if f.FixedSize() < 0 || f.Kind != WireUint && f.Kind != WireEnum && f.Kind != WireBytes {
				desc := f.typeDesc()
				if f.Kind == WireEnum {
					desc += ", an enum over a " + f.Int.String()
				}
				d.errorAt(f.Pos, "set %s: the tag %s is %s; a tag is an unsigned integer of a fixed size (u8 to u64), an enum over an integer of a fixed size, or bytes with a size", s.Name, f.Name, desc)
			}
			for _, g := range s.Header[:i] {
				if g.FixedSize() < 0 {
					d.errorAt(g.Pos, "set %s: header field %s comes before the tag %s and has no fixed size: the tag must be found at a fixed place", s.Name, g.Name, f.Name)
				}
			}
		case f.Counts:
			if s.FrameLength != nil {
				d.errorAt(f.Pos, "set %s: header field %s is a second counts field (the first is %s)", s.Name, f.Name, s.FrameLength.Name)
				continue
			}
			s.FrameLength = f
			if f.Int.Varint {
				d.errorAt(f.Pos, "set %s: the counts field %s must have a fixed size, not a varint", s.Name, f.Name)
			}
			for _, g := range s.Header[:i] {
				if g.FixedSize() < 0 {
					d.errorAt(g.Pos, "set %s: header field %s comes before the counts field %s and has no fixed size: the frame's length must be found at a fixed place", s.Name, g.Name, f.Name)
				}
			}
			if f.CountsFrom == nil {
				for _, g := range s.Header[i+1:] {
					if g.FixedSize() < 0 {
						d.errorAt(g.Pos, "set %s: header field %s has no fixed size, so the header's end, from which %s counts, is at no fixed place; count from a field (counts: <field>)", s.Name, g.Name, f.Name)
					}
				}
			} else if from := slices.Index(s.Header, f.CountsFrom); from < 0 {
				d.errorAt(f.Pos, "set %s: %s counts from %s, which is inside a group; count from a field of the header itself", s.Name, f.Name, f.CountsFrom.Name)
			} else if from > i {
				for _, g := range s.Header[i+1 : from] {
					if g.FixedSize() < 0 {
						d.errorAt(g.Pos, "set %s: header field %s has no fixed size, so %s, from which %s counts, is at no fixed place", s.Name, g.Name, f.CountsFrom.Name, f.Name)
					}
				}
			}
			if s.Max == 0 && !s.maxGiven {
				d.errorAt(f.Pos, "set %s frames itself by %s: give the set's max, the longest message it accepts, so that a hostile length is refused before anything is read", s.Name, f.Name)
			} else if !f.Int.Varint && f.Int.Bits < 64 && uint64(s.Max) > f.Int.MaxValue()+uint64(s.CountsOffset()) {
				d.errorAt(f.Pos, "set %s: max %d cannot be written in the %s %s", s.Name, s.Max, f.Int, f.Name)
			}
		}
		if f.InStruct() {
			userFields++
		}
	}
	if userFields > 0 {
		s.HeaderType = s.Name + "Header"
	}
}

// FixedSize returns the bytes f always takes, or -1 when it varies.
func (f *MessageField) FixedSize() int {
	if f.List || f.If != nil || f.Optional {
		return -1
	}
	switch f.Kind {
	case WireUint, WireInt, WireEnum, WireBool, WireFloat:
		if f.Int.Varint {
			return -1
		}
		return f.Int.Size()
	case WireBytes, WireString:
		if f.Size > 0 {
			return f.Size
		}
		if f.Const != nil && f.Const.Bytes != nil {
			return len(f.Const.Bytes)
		}
	case WireStruct:
		total := 0
		for _, g := range f.Struct.Fields {
			n := g.FixedSize()
			if n < 0 {
				return -1
			}
			total += n
		}
		return total
	}
	return -1
}

// message decodes one message of set s.
func (d *decoder) message(n *yaml.Node, s *MessageSet, sc *messageScope) *Message {
	m := &Message{Pos: posOf(n), Set: s}
	var named, nameGiven bool
	var tagNode, verbNode *yaml.Node
	if !d.mapping(n, "message", messageKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			nameGiven = true
			if name, ok := d.str(v, "message name"); ok && d.checkExported(v, "message name", name) {
				m.Name, m.Pos, named = name, posOf(v), true
			}
		case "doc":
			if !isNull(v) {
				m.Doc = d.doc(v)
			}
		case "tag":
			tagNode = v
		case "verb":
			verbNode = v
		case "event":
			if ev, ok := d.str(v, "event"); ok && d.machineName(v, "event", ev) {
				m.Event, m.EventPos = ev, posOf(v)
			}
		case "reply":
			m.replyNode, m.ReplyPos = v, posOf(v)
		case "noreply":
			m.noreplyNode = v
		case "fields":
			m.Fields = d.messageFields(v, m, s, sc, s.Encoding)
		}
	}) {
		return nil
	}
	if !named {
		if !nameGiven {
			d.missingf(n, "message: missing name")
		}
		return nil
	}
	m.Hook = "on" + m.Name
	m.Send = "Send" + m.Name
	switch s.Encoding {
	case Binary:
		if verbNode != nil {
			d.errorf(verbNode, "message %s: verb is for text sets; a binary message has a tag", m.Name)
		}
		if tagNode != nil {
			m.tagGiven = true
			d.messageTags(tagNode, m)
		}
	case Text:
		if tagNode != nil {
			d.errorf(tagNode, "message %s: tag is for binary sets; a text message has a verb", m.Name)
		}
		if verbNode != nil {
			m.verbGiven = true
			if verb, ok := d.str(verbNode, "verb"); ok {
				if why := tokenProblem(verb); why != "" {
					d.errorf(verbNode, "message %s: verb %q %s", m.Name, verb, why)
				} else {
					m.Verb = verb
				}
			}
		}
	}
	d.resolveFields(m, s.Header, sc)
	if s.Encoding == Binary {
		d.checkRest(m.Fields, m.what())
	}
	return m
}

// endsAtRest reports whether binary field f takes what is left of the
// bytes it is decoded from: a rest length or count, or a struct whose last
// field does.
func endsAtRest(f *MessageField) bool {
	switch {
	case f.Length.Kind == LengthRest, f.List && f.Count.Kind == LengthRest:
		return true
	case f.Kind == WireStruct && !f.List:
		return structEndsAtRest(f.Struct)
	}
	return false
}

// structEndsAtRest reports whether the last field of struct type t takes
// the rest of the bytes. A type that contains itself, which is reported
// elsewhere, is followed once.
func structEndsAtRest(t *Message) bool {
	for seen := map[*Message]bool{}; len(t.Fields) > 0 && !seen[t]; {
		seen[t] = true
		f := t.Fields[len(t.Fields)-1]
		switch {
		case f.Length.Kind == LengthRest, f.List && f.Count.Kind == LengthRest:
			return true
		case f.Kind != WireStruct || f.List:
			return false
		}
		t = f.Struct
	}
	return false
}

// checkRest reports a binary field that takes the rest of the bytes but
// is not the last of its message, type or group, and a list of a struct
// that does.
func (d *decoder) checkRest(fields []*MessageField, owner string) {
	for i, f := range fields {
		if f.Kind == WireGroup {
			d.checkRest(f.Group, "group "+f.Name)
			continue
		}
		if f.Kind == WireStruct && f.List && structEndsAtRest(f.Struct) {
			d.errorAt(f.Pos, "%s: field %s is a list of %s, whose last field takes the rest of the bytes: its first item would take every other", owner, f.Name, f.Struct.Name)
			continue
		}
		if endsAtRest(f) && i < len(fields)-1 {
			d.errorAt(f.Pos, "%s: field %s takes the rest of the bytes, so it must be the last field, but %s follows it", owner, f.Name, fields[i+1].Name)
		}
	}
}

// messageTags decodes a message's tag values: a number, a one-character
// string (for a u8 tag), an enum value's name, a string of a bytes tag's
// size, or a list of them.
func (d *decoder) messageTags(n *yaml.Node, m *Message) {
	tag := m.Set.Tag
	if tag == nil {
		d.errorf(n, "message %s: tag: set %s has no header field with tag: true", m.Name, m.Set.Name)
		return
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = nil
		d.sequence(n, "tag", func(item *yaml.Node) { items = append(items, item) })
		if len(items) == 0 {
			d.errorf(n, "message %s: tag: list at least one value", m.Name)
		}
	}
	for _, item := range items {
		if c, ok := d.constValue(item, "message "+m.Name+": tag", tag); ok {
			m.Tags = append(m.Tags, c)
		}
	}
	if len(m.Tags) > 1 {
		m.TagField = tag.GoName
	}
}

// constValue decodes a constant for field f: an integer, a one-character
// string for a u8, an enum value's name, or bytes (a string, or a list of
// byte values) for a bytes field.
func (d *decoder) constValue(n *yaml.Node, what string, f *MessageField) (Const, bool) {
	c := Const{Pos: posOf(n)}
	switch f.Kind {
	case WireUint, WireInt:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && f.Kind == WireUint && f.Int.Bits == 8 && len(n.Value) == 1 {
			c.Int = uint64(n.Value[0])
			return c, true
		}
		v, ok := d.intValue(n, what, f.Int)
		c.Int = v
		return c, ok
	case WireEnum:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			for _, ev := range f.Enum.Values {
				if ev.Name == n.Value {
					c.Int, c.Name = ev.Value, ev.Name
					return c, true
				}
			}
			names := make([]string, len(f.Enum.Values))
			for i, ev := range f.Enum.Values {
				names[i] = ev.Name
			}
			d.errorf(n, "%s: %q is not a value of enum %s%s", what, n.Value, f.Enum.Name, didYouMean(n.Value, names))
			return c, false
		}
		v, ok := d.intValue(n, what, f.Int)
		c.Int = v
		return c, ok
	case WireBytes, WireString:
		switch {
		case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
			c.Bytes = []byte(n.Value)
		case n.Kind == yaml.SequenceNode:
			bad := false
			d.sequence(n, what, func(item *yaml.Node) {
				if v, ok := d.intValue(item, what, IntType{Bits: 8}); ok {
					c.Bytes = append(c.Bytes, byte(v))
				} else {
					bad = true
				}
			})
			if bad {
				return c, false // each bad byte is reported; the rest would say more of the same
			}
		default:
			d.errorf(n, "%s: expected a string or a list of bytes, found %s", what, kindName(n))
			return c, false
		}
		if len(c.Bytes) == 0 {
			d.errorf(n, "%s: empty", what)
			return c, false
		}
		if f.Size > 0 && len(c.Bytes) != f.Size {
			d.errorf(n, "%s: %d bytes, but field %s has size %d", what, len(c.Bytes), f.Name, f.Size)
			return c, false
		}
		return c, true
	case WireBool:
		b, ok := d.boolean(n, what)
		if b {
			c.Int = 1
		}
		return c, ok
	}
	d.errorf(n, "%s: field %s of type %s cannot hold a constant", what, f.Name, f.typeName())
	return c, false
}

// typeDesc names a field's type with an article, for errors: "an i16",
// "a list of u8", "bytes".
func (f *MessageField) typeDesc() string {
	name := f.typeName()
	switch {
	case f.List:
		return "a list of " + name
	case f.Kind == WireBytes:
		return name
	case strings.IndexByte("aeioAEIO", name[0]) >= 0 || name == "f32" || name == "f64": // an i16, an f32; a u8
		return "an " + name
	}
	return "a " + name
}

// typeName names a field's type as the spec writes it.
func (f *MessageField) typeName() string {
	switch f.Kind {
	case WireUint, WireInt:
		return f.Int.String()
	case WireFloat:
		return "f" + strconv.Itoa(f.Int.Bits)
	case WireBool:
		return "bool"
	case WireBytes:
		return "bytes"
	case WireString:
		return "string"
	case WireEnum:
		return f.Enum.Name
	case WireStruct:
		return f.Struct.Name
	case WireFlag:
		return "flag"
	}
	return "group"
}

// messageFields decodes a list of fields of a message, a header (owner
// nil, set s) or a struct type (s nil).
func (d *decoder) messageFields(n *yaml.Node, owner *Message, s *MessageSet, sc *messageScope, enc Encoding) []*MessageField {
	var out []*MessageField
	d.sequence(n, "fields", func(item *yaml.Node) {
		if f := d.messageField(item, owner, s, sc, enc); f != nil {
			out = append(out, f)
		}
	})
	return out
}

// messageField decodes one field. References to other fields by name are
// kept in sc.pending until its message is complete. A named field left out
// for an error is noted in d.dropped.
func (d *decoder) messageField(n *yaml.Node, owner *Message, s *MessageSet, sc *messageScope, enc Encoding) (out *MessageField) {
	f := &MessageField{Pos: posOf(n)}
	defer func() {
		if out == nil && f.Name != "" {
			if d.dropped == nil {
				d.dropped = make(map[string]bool)
			}
			d.dropped[f.Name] = true
		}
	}()
	refs := &fieldRefs{}
	var named, typed, isGroup bool
	var endianNode, constNode, fieldsNode, typeNode *yaml.Node
	header := owner == nil && s != nil
	keys := map[string]*yaml.Node{}
	if !d.mapping(n, "field", messageFieldKeys, func(key string, k, v *yaml.Node) {
		keys[key] = k
		switch key {
		case "name", "group":
			if named {
				d.errorf(k, "field: give name or group, not both")
				return
			}
			named, isGroup = true, key == "group"
			if name, ok := d.str(v, "field "+key); ok {
				if !wireName.MatchString(name) {
					d.errorf(v, "field %s %q: use ASCII letters, digits and underscores, starting with a letter", key, name)
					return
				}
				f.Name, f.Pos, f.GoName = name, posOf(v), camel(name)
			}
		case "doc":
			if !isNull(v) {
				f.Doc = d.doc(v)
			}
		case "type":
			typed, typeNode = true, v
		case "endian":
			endianNode = v
		case "size":
			if size, ok := d.positiveSize(v, "size"); ok {
				f.Size = size
			}
		case "length":
			refs.length = d.lengthRef(v, "length")
		case "count":
			refs.count = d.lengthRef(v, "count")
			f.List = true
		case "max":
			if size, ok := d.positiveSize(v, "max"); ok {
				f.Max = size
			}
		case "max_items":
			if n, ok := d.integerAtLeast(v, "max_items", 1); ok {
				f.MaxItems = n
			}
		case "min_items":
			if n, ok := d.integerAtLeast(v, "min_items", 0); ok {
				f.MinItems = n
			}
		case "const":
			constNode = v
		case "if":
			if src, ok := d.str(v, "if"); ok {
				refs.cond = d.parseCond(v, src)
			}
		case "tag":
			if b, ok := d.boolean(v, "tag"); ok {
				f.Tag = b
			}
		case "counts":
			f.Counts = true
			if from, ok := d.str(v, "counts"); ok && from != "body" {
				refs.countsFrom = ref{from, v}
			}
		case "checksum":
			if alg, ok := d.str(v, "checksum"); ok {
				switch alg {
				case "crc32":
					f.Checksum = CRC32
				case "crc32c":
					f.Checksum = CRC32C
				case "internet":
					f.Checksum = Internet
				default:
					d.errorf(v, "checksum %q: write crc32, crc32c or internet%s", alg, didYouMean(alg, []string{"crc32", "crc32c", "internet"}))
				}
			}
		case "over":
			if v.Kind != yaml.SequenceNode || len(v.Content) != 2 {
				d.errorf(v, "over: expected [first, last], the first and last fields the checksum covers")
				return
			}
			if first, ok := d.str(v.Content[0], "over"); ok {
				refs.first = ref{first, v.Content[0]}
			}
			if last, ok := d.str(v.Content[1], "over"); ok {
				refs.last = ref{last, v.Content[1]}
			}
		case "optional":
			if b, ok := d.boolean(v, "optional"); ok {
				f.Optional = b
			}
		case "word":
			if w, ok := d.str(v, "word"); ok {
				if why := tokenProblem(w); why != "" {
					d.errorf(v, "word %q %s", w, why)
				} else {
					f.Word = w
				}
			}
		case "fields":
			fieldsNode = v
		}
	}) {
		return nil
	}
	if !named {
		d.missingf(n, "field: missing name")
		return nil
	}
	if f.Name == "" {
		return nil // reported
	}
	what := "field " + f.Name
	misplaced := func(key, why string) {
		if k := keys[key]; k != nil {
			d.errorf(k, "%s: %s %s", what, key, why)
		}
	}
	if isGroup {
		f.Kind = WireGroup
		if typed {
			d.errorf(typeNode, "%s: a group has fields, not a type", what)
		}
		if enc == Text {
			d.errorf(keys["group"], "%s: groups are for binary messages", what)
		}
		if fieldsNode == nil {
			d.missingf(n, "%s: missing fields: a group lists the fields it holds", what)
		} else {
			f.Group = d.messageFields(fieldsNode, owner, s, sc, enc)
		}
		if !refs.length.set() {
			d.missingf(n, "%s: missing length: a group's length is an earlier field, as in length: extras_len", what)
		}
	} else {
		if fieldsNode != nil {
			d.errorf(keys["fields"], "%s: fields is for a group (group: name, in place of name)", what)
		}
		if !typed {
			d.missingf(n, "%s: missing type", what)
			return nil
		}
		if !d.fieldType(typeNode, f, sc, enc) {
			return nil
		}
	}
	if refs.length.set() {
		refs.length = d.checkLengthRef(refs.length, &f.Length, f, "length")
	}
	if refs.count.set() {
		refs.count = d.checkLengthRef(refs.count, &f.Count, f, "count")
	}
	// The byte order, of the field and of its length or count prefix: the
	// field's own, else the set's (a type's fields: typeEndians).
	if s != nil {
		setEndian(f, s.Endian)
	}
	if endianNode != nil {
		if enc == Text {
			d.errorf(endianNode, "%s: endian is for binary fields", what)
		} else if e, ok := d.endian(endianNode, "endian"); ok {
			setEndian(f, e)
			sc.ownEndian[f] = true
			// A group's order is that of the fields it holds that give
			// none, as a struct field's is its type's.
			for _, g := range AllFields(f.Group) {
				if !sc.ownEndian[g] {
					setEndian(g, e)
					sc.ownEndian[g] = true // given, by the group
				}
			}
		}
	}
	if constNode != nil && (f.List || f.Kind == WireGroup || f.Kind == WireStruct) {
		d.errorf(constNode, "%s: const is for one number or bytes, not a %s", what, map[bool]string{true: "list", false: f.typeName()}[f.List])
		constNode = nil
	}
	if constNode != nil {
		if c, ok := d.constValue(constNode, what+": const", f); ok {
			f.Const = &c
			if f.Kind == WireBytes || f.Kind == WireString {
				// A constant is not in the Go struct: its bytes are
				// all there is to it.
				f.Kind, f.Size = WireBytes, len(c.Bytes)
			}
		}
	}
	if !header {
		misplaced("tag", "is for a set's header fields")
		misplaced("counts", "is for a set's header fields")
		f.Tag, f.Counts = false, false
	}
	if enc == Binary {
		misplaced("optional", "is for text fields; a binary field is present or not by its if")
		misplaced("word", "is for text flags")
	} else {
		misplaced("size", "is for binary fields")
		misplaced("const", "is for binary fields")
		misplaced("checksum", "is for binary fields")
		misplaced("if", "is for binary fields; a text field may be optional")
	}
	if f.Checksum == NoChecksum {
		misplaced("over", "is for checksum fields")
	}
	if f.Kind == WireFlag && keys["word"] == nil {
		d.errorf(n, "%s: a flag needs its word, as in word: noreply", what)
	}
	if f.Kind != WireFlag {
		misplaced("word", "is for flag fields (type: flag)")
	}
	if !f.List {
		misplaced("max_items", "is for lists (count)")
		misplaced("min_items", "is for lists (count)")
	}
	switch {
	case f.Kind == WireBytes || f.Kind == WireString:
	case f.List:
		misplaced("max", "is the longest bytes or string value; a list's most items is max_items")
	case f.Kind == WireUint || f.Kind == WireInt || f.Kind == WireFloat:
		misplaced("max", "is the longest bytes or string value, not a bound on a number")
	default:
		misplaced("max", "is the longest bytes or string value")
	}
	d.checkFieldShape(n, f, enc, keys)
	sc.pending[f] = refs
	return f
}

// lengthRef decodes a length or count: a prefix width, rest, or a field's
// name, resolved later.
func (d *decoder) lengthRef(n *yaml.Node, what string) ref {
	name, ok := d.str(n, what)
	if !ok {
		return ref{}
	}
	return ref{name, n}
}

// checkLengthRef fills l for a prefix or rest, and returns the reference
// to a field, which resolveFields resolves.
func (d *decoder) checkLengthRef(r ref, l *Length, f *MessageField, what string) ref {
	switch r.name {
	case "rest":
		l.Kind = LengthRest
		return ref{}
	}
	if it, ok := parseIntType(r.name); ok {
		if it.Signed {
			d.errorf(r.node, "field %s: %s %s: a length prefix is unsigned: u8, u16, u32, u64 or uvarint", f.Name, what, r.name)
			return ref{}
		}
		l.Kind, l.Prefix = LengthPrefix, it
		return ref{}
	}
	l.Kind = LengthField
	return r
}

// fieldType decodes a field's type.
func (d *decoder) fieldType(n *yaml.Node, f *MessageField, sc *messageScope, enc Encoding) bool {
	name, ok := d.str(n, "type")
	if !ok {
		return false
	}
	if it, ok := parseIntType(name); ok {
		f.Kind, f.Int = WireUint, it
		if it.Signed {
			f.Kind = WireInt
		}
		if enc == Text && it.Varint {
			d.errorf(n, "field %s: a text field is a decimal number: use u8…u64 or i8…i64", f.Name)
			return false
		}
		return true
	}
	switch name {
	case "f32", "f64":
		if enc == Text {
			d.errorf(n, "field %s: text numbers are integers", f.Name)
			return false
		}
		bits, _ := strconv.Atoi(name[1:])
		f.Kind, f.Int = WireFloat, IntType{Bits: bits}
		return true
	case "bool":
		if enc == Text {
			d.errorf(n, "field %s: a text message says yes or no with a flag (type: flag, word: ...)", f.Name)
			return false
		}
		f.Kind, f.Int = WireBool, IntType{Bits: 8}
		return true
	case "bytes":
		f.Kind = WireBytes
		return true
	case "string":
		f.Kind = WireString
		return true
	case "flag":
		if enc != Text {
			d.errorf(n, "field %s: flag is for text messages; a binary message uses bool", f.Name)
			return false
		}
		f.Kind = WireFlag
		return true
	}
	if e := sc.enums[name]; e != nil {
		if enc == Text {
			d.errorf(n, "field %s: enums are for binary messages", f.Name)
			return false
		}
		f.Kind, f.Enum, f.Int = WireEnum, e, e.Int
		return true
	}
	if t := sc.types[name]; t != nil {
		if enc == Text {
			d.errorf(n, "field %s: struct types are for binary messages", f.Name)
			return false
		}
		f.Kind, f.Struct = WireStruct, t
		return true
	}
	candidates := slices.Clone(scalarTypeNames)
	for name := range sc.enums {
		candidates = append(candidates, name)
	}
	for name := range sc.types {
		candidates = append(candidates, name)
	}
	slices.Sort(candidates[len(scalarTypeNames):])
	d.errorf(n, "field %s: unknown type %q%s (types are %s, an enum or a type of the spec)", f.Name, name, didYouMean(name, candidates), listWords(scalarTypeNames))
	return false
}

// checkFieldShape reports combinations of keys that do not make a field.
func (d *decoder) checkFieldShape(n *yaml.Node, f *MessageField, enc Encoding, keys map[string]*yaml.Node) {
	what := "field " + f.Name
	at := func(key string) *yaml.Node {
		if k := keys[key]; k != nil {
			return k
		}
		return n
	}
	variable := f.Kind == WireBytes || f.Kind == WireString
	switch {
	case f.Kind == WireGroup:
	case f.List:
		if f.Length.Kind != LengthNone && f.Kind != WireBytes && f.Kind != WireString {
			d.errorf(at("length"), "%s: a list of %s has a count, not a length", what, f.typeName())
		}
		if f.Kind == WireFlag {
			d.errorf(at("count"), "%s: a flag cannot be a list", what)
		}
		if enc == Text && f.Count.Kind != LengthRest {
			d.errorf(at("count"), "%s: a text list takes the rest of the line: count: rest", what)
		}
		if enc == Text && f.Kind != WireBytes && f.Kind != WireString && f.Kind != WireUint && f.Kind != WireInt {
			d.errorf(at("count"), "%s: a text list holds tokens: bytes, string or numbers", what)
		}
	case variable && f.Size > 0:
		if f.Length.Kind != LengthNone {
			d.errorf(at("length"), "%s: give size (a fixed size) or length, not both", what)
		}
		if f.Kind == WireString {
			d.errorf(at("size"), "%s: a fixed size is for bytes", what)
		}
	case variable && enc == Binary && f.Length.Kind == LengthNone && f.Const == nil && keys["length"] == nil && keys["size"] == nil && keys["const"] == nil:
		// A length, size or const that is given but wrong is reported
		// where it is written.
		d.errorf(n, "%s: %s needs a length (u8, u16, u32, u64 or uvarint for a prefix, an earlier field, or rest) or a size", what, f.typeName())
	case !variable && f.Length.Kind != LengthNone:
		d.errorf(at("length"), "%s: length is for bytes and string fields", what)
	case !variable && f.Size > 0:
		d.errorf(at("size"), "%s: size is for bytes fields", what)
	}
	if enc == Text && variable && f.Length.Kind == LengthPrefix {
		d.errorf(at("length"), "%s: a text field's length is a token's, rest (the rest of the line) or an earlier field (a data block)", what)
	}
	// Bounds: a list needs a maximum, and a prefix must be able to say it.
	switch {
	case !f.List || f.MaxItems > 0:
	case f.Kind == WireStruct || f.Kind == WireBytes || f.Kind == WireString:
		// Each item may be far larger in memory than on the wire.
		d.errorf(n, "%s: a list of %s needs max_items, the most items it may hold, so that a hostile count cannot make the decoder allocate much more than the message's size", what, f.typeName())
	case f.Count.Kind != LengthPrefix && f.Count.Kind != LengthNone:
		d.errorf(n, "%s: a list needs max_items, the most items it may hold, so that a hostile count allocates nothing", what)
	case f.Count.Kind == LengthPrefix && (f.Count.Prefix.Varint || f.Count.Prefix.Bits > 16):
		d.errorf(n, "%s: a list counted by a %s needs max_items, the most items it may hold", what, f.Count.Prefix)
	}
	if f.MinItems < 0 || f.MaxItems < 0 || f.MaxItems > 0 && f.MinItems > f.MaxItems {
		d.errorf(at("min_items"), "%s: min_items %d must be between 0 and max_items %d", what, f.MinItems, f.MaxItems)
	}
	if f.Max > 0 && f.Length.Kind == LengthPrefix && uint64(f.Max) > f.Length.Prefix.MaxValue() {
		d.errorf(at("max"), "%s: max %d cannot be written in a %s length (at most %d)", what, f.Max, f.Length.Prefix, f.Length.Prefix.MaxValue())
	}
	if f.MaxItems > 0 && f.Count.Kind == LengthPrefix && uint64(f.MaxItems) > f.Count.Prefix.MaxValue() {
		d.errorf(at("max_items"), "%s: max_items %d cannot be written in a %s count (at most %d)", what, f.MaxItems, f.Count.Prefix, f.Count.Prefix.MaxValue())
	}
	if f.List && enc == Binary && (f.Kind == WireBytes || f.Kind == WireString) && f.Size == 0 && f.Length.Kind != LengthPrefix {
		d.errorf(n, "%s: each element of a list of %s needs a length prefix (length: u8, u16, u32, u64 or uvarint) or a size", what, f.typeName())
	}
	if f.Checksum != NoChecksum {
		want := 32
		if f.Checksum == Internet {
			want = 16
		}
		if f.Kind != WireUint || f.Int.Bits != want || f.List {
			d.errorf(at("checksum"), "%s: a %s checksum is a u%d", what, checksumName(f.Checksum), want)
		}
	}
	if f.Counts && f.Kind != WireUint {
		d.errorf(at("counts"), "%s: counts is for an unsigned integer field", what)
	}
}

func checksumName(c Checksum) string {
	switch c {
	case CRC32:
		return "crc32"
	case CRC32C:
		return "crc32c"
	case Internet:
		return "internet"
	}
	return "no"
}

// condPattern is an if: a field, and optionally a comparison or a bit test
// against a number or an enum value's name.
var condPattern = regexp.MustCompile(`^\s*(!?)\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:(==|!=|<=|>=|<|>|&)\s*(-?[A-Za-z0-9_]+))?\s*$`)

// parseCond parses an if.
func (d *decoder) parseCond(n *yaml.Node, src string) *condSrc {
	m := condPattern.FindStringSubmatch(src)
	if m == nil || m[1] == "!" && m[3] != "" {
		d.errorf(n, "if %q: write a field, !field, or a comparison such as \"flags & 0x04\", \"status == 0\" or \"kind != ping\"", src)
		return nil
	}
	c := &condSrc{field: m[2], op: m[3], value: m[4], node: n}
	switch {
	case m[1] == "!":
		c.op, c.value = "==", "0"
	case c.op == "":
		c.op, c.value = "!=", "0"
	}
	return c
}

// resolveFields resolves the references that the fields of m make by
// name, to fields decoded before them: in header (the set's header, for a
// message of a set) and in m itself, groups included. It marks the fields
// that hold another's length or count as computed. The header's own
// references are resolved once, by the set, with header nil.
func (d *decoder) resolveFields(m *Message, header []*MessageField, sc *messageScope) {
	own := len(AllFields(header)) // seq[own:] are m's fields
	seq := append(slices.Clone(AllFields(header)), AllFields(m.Fields)...)
	index := make(map[string]int)
	goNames := make(map[string]*MessageField)
	for i, f := range seq {
		if prev, dup := index[f.Name]; dup {
			if i >= own {
				d.errorAt(f.Pos, "%s: field %s is declared twice (first at %v)", m.what(), f.Name, seq[prev].Pos)
			}
			continue
		}
		index[f.Name] = i
		if f.Kind == WireGroup {
			continue
		}
		if prev := goNames[f.GoName]; prev != nil && i >= own {
			d.errorAt(f.Pos, "%s: fields %s and %s would both be the Go field %s", m.what(), prev.Name, f.Name, f.GoName)
		}
		if what := reservedMessageMember(m, f.GoName); what != "" && f.InStruct() {
			d.errorAt(f.Pos, "%s: field %s would be the Go field %s, which collides with %s", m.what(), f.Name, f.GoName, what)
		}
		goNames[f.GoName] = f
	}
	names := func() []string {
		out := make([]string, len(seq))
		for i, f := range seq {
			out[i] = f.Name
		}
		return out
	}
	// lookup finds the field named by r, which must come before the field
	// at position at.
	lookup := func(r ref, at int, what string, also ...string) *MessageField {
		i, ok := index[r.name]
		switch {
		case !ok && d.dropped[r.name]:
			return nil // the field has an error of its own, reported
		case !ok:
			d.errorf(r.node, "%s: no field %q in %s%s", what, r.name, m.what(), didYouMean(r.name, append(names(), also...)))
			return nil
		case i >= at:
			d.errorf(r.node, "%s: field %s comes after %s: a field can only refer to one decoded before it", what, r.name, seq[at].Name)
			return nil
		}
		return seq[i]
	}
	uses := make(map[*MessageField][]*MessageField) // length field → the fields it measures, in m
	// The header's uses, resolved with the set, count too.
	for _, f := range seq[:own] {
		for _, l := range []Length{f.Length, f.Count} {
			if l.Kind == LengthField && l.Field != nil {
				uses[l.Field] = append(uses[l.Field], f)
			}
		}
	}
	for at := own; at < len(seq); at++ {
		f := seq[at]
		refs := sc.pending[f]
		if refs == nil {
			continue
		}
		what := "field " + f.Name
		for _, r := range []lengthRefCheck{
			{refs.length, &f.Length, "length", "max", func(f *MessageField) int { return f.Max }},
			{refs.count, &f.Count, "count", "max_items", func(f *MessageField) int { return f.MaxItems }},
		} {
			if !r.ref.set() {
				continue
			}
			// A misspelt prefix or rest reads as a field's name.
			g := lookup(r.ref, at, what+": "+r.key, lengthWords...)
			if g == nil {
				continue
			}
			switch {
			case g.Kind != WireUint || g.List:
				d.errorf(r.ref.node, "%s: %s: field %s is %s; a length or count is held by an unsigned integer", what, r.key, g.Name, g.typeDesc())
				continue
			case g.Optional:
				d.errorf(r.ref.node, "%s: %s: field %s is optional; a length or count must always be present", what, r.key, g.Name)
				continue
			case g.Const != nil || g.Tag || g.Counts || g.Checksum != NoChecksum:
				d.errorf(r.ref.node, "%s: %s: field %s is written from something else (a constant, a tag, the frame's length or a checksum); hold the length in a field of its own", what, r.key, g.Name)
				continue
			}
			if limit, max := g.Int.MaxValue(), r.max(f); max > 0 && uint64(max) > limit {
				d.errorf(r.ref.node, "%s: %s: field %s, a %s, cannot hold the %s %d (at most %d)", what, r.key, g.Name, g.Int, r.maxKey, max, limit)
			}
			r.len.Field = g
			g.Computed = true
			uses[g] = append(uses[g], f)
		}
		if c := refs.cond; c != nil {
			if g := lookup(ref{c.field, c.node}, at, what+": if"); g != nil {
				d.resolveCond(c, f, g)
			}
			if f.If != nil {
				if kind := alwaysPresent(f); kind != "" {
					d.errorf(c.node, "%s: if: %s is %s, which is always present", what, f.Name, kind)
					f.If = nil
				}
			}
		}
		if refs.countsFrom.set() {
			// The frame may be counted from a header field after the
			// length, as from one before it.
			if g := lookup(refs.countsFrom, len(seq), what+": counts"); g != nil {
				f.CountsFrom = g
			}
		}
		if f.Checksum != NoChecksum {
			f.First = seq[0]
			if at > 0 {
				f.Last = seq[at-1]
			}
			if refs.first.set() {
				f.First = lookup(refs.first, len(seq), what+": over")
			}
			if refs.last.set() {
				f.Last = lookup(refs.last, len(seq), what+": over")
			}
			switch {
			case f.First != nil && f.Last != nil && index[f.First.Name] > index[f.Last.Name]:
				d.errorf(refs.first.node, "%s: over: %s comes after %s", what, f.First.Name, f.Last.Name)
			case f.Last == nil && !refs.last.set():
				d.errorAt(f.Pos, "%s: a checksum covers the fields before it, or the range that over names", what)
			case f.First != nil && f.Last != nil:
				for _, g := range seq[index[f.First.Name] : index[f.Last.Name]+1] {
					// An earlier checksum is filled in first, so this one
					// covers its final bytes; a later one is not yet.
					if g != f && g.Checksum != NoChecksum && index[g.Name] > at {
						d.errorAt(f.Pos, "%s: its range %s…%s covers the checksum %s, which is computed after it; end the range before %s", what, f.First.Name, f.Last.Name, g.Name, g.Name)
						break
					}
				}
			}
		}
	}
	for g, fs := range uses {
		// The header's uses come first; what they do alone was checked
		// with the set.
		header := slices.IndexFunc(fs, func(f *MessageField) bool { return index[f.Name] >= own })
		switch {
		case header < 0:
			continue
		case header > 1:
			continue // one field holding two lengths in the header: said once, for the set
		case len(fs) > 1:
			d.errorAt(fs[max(header, 1)].Pos, "%s: field %s holds the length of %s: one field holds one length", m.what(), g.Name, fieldNames(fs))
		}
		// A conditional length is there exactly when what it measures
		// is.
		if header == 0 && g.If != nil && !g.If.Same(fs[0].If) {
			d.errorAt(g.If.Pos, "field %s: if: %s holds the length of %s, so it must be present exactly when %s is: give both the same if, or drop it from %s", g.Name, g.Name, fs[0].Name, fs[0].Name, g.Name)
		}
	}
}

// lengthRefCheck is a length or count that a field takes from another
// field, with the maximum the other must be able to hold.
type lengthRefCheck struct {
	ref    ref
	len    *Length
	key    string
	maxKey string
	max    func(*MessageField) int
}

// alwaysPresent says what f is when it cannot be conditional: a constant,
// a tag, a frame length or a checksum; "" otherwise.
func alwaysPresent(f *MessageField) string {
	switch {
	case f.Const != nil:
		return "a constant"
	case f.Tag:
		return "the set's tag"
	case f.Counts:
		return "the frame's length"
	case f.Checksum != NoChecksum:
		return "a checksum"
	}
	return ""
}

// Same reports whether c and o test the same thing.
func (c *Cond) Same(o *Cond) bool {
	return c != nil && o != nil && c.Field == o.Field && c.Op == o.Op && c.Value == o.Value
}

// reservedMessageMember says what a message's Go type already has under
// name, or "" when nothing.
func reservedMessageMember(m *Message, name string) string {
	switch name {
	case "Append", "Decode", "Clone":
		return "the method " + name + " of every message"
	}
	if m.Set != nil && name == m.Set.HeaderType {
		return "the embedded header struct " + name
	}
	if m.Set != nil && m.Set.Tag != nil && len(m.Tags) > 1 && name == m.Set.Tag.GoName {
		return "the tag field " + name
	}
	return ""
}

func messageNames(ms []*Message) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// resolveReplies resolves what each message says answers it: a message
// name, a list of them, or {stream: Name, end: Name}, among every set's
// messages.
func (d *decoder) resolveReplies(sets []*MessageSet) {
	byName := make(map[string]*Message)
	var all []string
	for _, s := range sets {
		for _, m := range s.Messages {
			byName[m.Name] = m
			all = append(all, m.Name)
		}
	}
	find := func(n *yaml.Node, what string) *Message {
		name, ok := d.str(n, what)
		if !ok {
			return nil
		}
		m := byName[name]
		if m == nil {
			d.errorf(n, "%s: no message %q%s", what, name, didYouMean(name, all))
		}
		return m
	}
	for _, s := range sets {
		for _, m := range s.Messages {
			d.resolveSilencer(m)
			n := m.replyNode
			if n == nil {
				continue
			}
			what := "message " + m.Name + ": reply"
			// resolve finds a reply, stream or end that v names, and
			// checks it against m and the others m names.
			seen := make(map[*Message]bool)
			resolve := func(v *yaml.Node, whatKey string) *Message {
				r := find(v, whatKey)
				switch {
				case r == nil:
					return nil
				case r.Set == s:
					d.errorf(v, "%s: %s is of the same set as %s: a reply is of another set, the one the server sends", what, r.Name, m.Name)
				case r == r.Set.Error:
					d.errorf(v, "%s: %s is the error of set %s, which may answer every request already: name only the other replies", what, r.Name, r.Set.Name)
				case seen[r]:
					d.errorf(v, "%s: %s is named twice", what, r.Name)
				}
				seen[r] = true
				return r
			}
			switch n.Kind {
			case yaml.MappingNode:
				d.mapping(n, what, replyKeys, func(key string, k, v *yaml.Node) {
					switch key {
					case "stream":
						m.Stream = resolve(v, what+": stream")
					case "end":
						m.End = resolve(v, what+": end")
					}
				})
				if m.Stream == nil || m.End == nil {
					if m.Stream != nil || m.End != nil || len(n.Content) == 0 {
						d.errorf(n, "%s: a stream of replies gives both stream and end, as in {stream: Value, end: End}", what)
					}
					m.Stream, m.End = nil, nil
				}
			case yaml.SequenceNode:
				if len(n.Content) == 0 {
					d.errorf(n, "%s: list at least one message, or leave reply out for a request that nothing answers", what)
				}
				d.sequence(n, what, func(item *yaml.Node) {
					if r := resolve(item, what); r != nil {
						m.Replies = append(m.Replies, r)
					}
				})
			default:
				if r := resolve(n, what); r != nil {
					m.Replies = append(m.Replies, r)
				}
			}
		}
	}
}

// tokenProblem says what is wrong with a verb or a flag's word, one token
// of a line: empty, or holding a space or a character that is not
// printable (a control character, a line separator, a byte order mark),
// which a peer could not type and the generated comments could not hold.
// It returns "" for a good one.
func tokenProblem(tok string) string {
	switch i := strings.IndexFunc(tok, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }); {
	case tok == "":
		return "must be one word, not empty"
	case !utf8.ValidString(tok):
		return "must be valid UTF-8"
	case i >= 0:
		r, _ := utf8.DecodeRuneInString(tok[i:])
		if unicode.IsSpace(r) {
			return "must be one word"
		}
		return fmt.Sprintf("must be printable: it holds %U", r)
	}
	return ""
}

// resolveSilencer resolves m's noreply: a flag or bool field of m's own
// that, set, tells the server not to reply.
func (d *decoder) resolveSilencer(m *Message) {
	n := m.noreplyNode
	if n == nil {
		return
	}
	name, ok := d.str(n, "noreply")
	if !ok {
		return
	}
	var names []string
	for _, f := range AllFields(m.Fields) {
		names = append(names, f.Name)
		if f.Name == name {
			m.Silencer = f
		}
	}
	switch f := m.Silencer; {
	case m.replyNode == nil:
		d.errorf(n, "message %s: noreply is for a request that has a reply (reply: OK)", m.Name)
		m.Silencer = nil
	case f == nil && d.dropped[name]:
	case f == nil:
		d.errorf(n, "message %s: noreply: no field %q%s", m.Name, name, didYouMean(name, names))
	case f.Kind != WireFlag && f.Kind != WireBool || f.List || !f.InStruct():
		d.errorf(n, "message %s: noreply: %s is %s; the field that silences the reply is a flag (text) or a bool (binary)", m.Name, name, f.typeDesc())
		m.Silencer = nil
	}
}

// what names m in an error message.
func (m *Message) what() string {
	switch {
	case m.Set == nil:
		return "type " + m.Name
	case m.Name == "":
		return "the header of set " + m.Set.Name
	}
	return "message " + m.Name
}

func fieldNames(fs []*MessageField) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return listWords(names)
}

// resolveCond checks f's condition, which refers to field g.
func (d *decoder) resolveCond(c *condSrc, f, g *MessageField) {
	what := "field " + f.Name + ": if"
	cond := &Cond{Pos: posOf(c.node), Field: g, Op: c.op, Src: c.node.Value}
	switch g.Kind {
	case WireUint, WireInt, WireBool, WireEnum:
	default:
		d.errorf(c.node, "%s: field %s is %s; a condition tests an integer, an enum or a bool", what, g.Name, g.typeDesc())
		return
	}
	if g.Optional || g.List {
		d.errorf(c.node, "%s: field %s must be always present", what, g.Name)
		return
	}
	if g.Kind == WireEnum {
		for _, ev := range g.Enum.Values {
			if ev.Name == c.value {
				cond.Value = ev.Value
				f.If = cond
				return
			}
		}
	}
	if g.Kind == WireBool {
		switch {
		case c.op != "==" && c.op != "!=":
			d.errorf(c.node, "%s: field %s is a bool: test it with ==, != or by itself (%s, !%s)", what, g.Name, g.Name, g.Name)
			return
		case c.value == "true" || c.value == "1":
			cond.Value = 1
		case c.value == "false" || c.value == "0":
		default:
			d.errorf(c.node, "%s: field %s is a bool: compare it with true or false, not %q", what, g.Name, c.value)
			return
		}
		f.If = cond
		return
	}
	v, ok := condValue(c.value, g.Int)
	if !ok {
		if _, err := strconv.ParseUint(strings.TrimPrefix(c.value, "-"), 0, 64); err != nil {
			d.errorf(c.node, "%s: %q is not a number%s", what, c.value, enumHint(g, c.value))
		} else {
			d.errorf(c.node, "%s: %s does not fit field %s, a %s: the test would never be true", what, c.value, g.Name, g.Int)
		}
		return
	}
	cond.Value = v
	f.If = cond
}

// condValue parses a condition's number for a field of type t, as its two's
// complement bits; ok is false when it is not a number or does not fit t.
func condValue(s string, t IntType) (uint64, bool) {
	if !t.Signed {
		u, err := strconv.ParseUint(s, 0, 64)
		return u, err == nil && u <= t.MaxValue()
	}
	v, err := strconv.ParseInt(s, 0, 64)
	return uint64(v), err == nil && t.fits(v)
}

func enumValueNames(e *Enum) []string {
	names := make([]string, len(e.Values))
	for i, ev := range e.Values {
		names[i] = ev.Name
	}
	return names
}

func enumHint(g *MessageField, value string) string {
	if g.Kind != WireEnum {
		return ""
	}
	return " or a value of enum " + g.Enum.Name + " (" + listWords(enumValueNames(g.Enum)) + ")" + didYouMean(value, enumValueNames(g.Enum))
}

// AllFields returns fields with the fields of each group after the group,
// in decoding order.
func AllFields(fields []*MessageField) []*MessageField {
	var out []*MessageField
	for _, f := range fields {
		out = append(out, f)
		if f.Kind == WireGroup {
			out = append(out, AllFields(f.Group)...)
		}
	}
	return out
}

// checkSetMessages checks what the messages of a set must be together:
// tags and verbs that tell them apart, and the order of text fields.
func (d *decoder) checkSetMessages(s *MessageSet) {
	type first struct {
		m   *Message
		pos Pos
	}
	seen := make(map[string]first)
	for _, m := range s.Messages {
		switch s.Encoding {
		case Binary:
			if s.Tag == nil {
				if len(s.Messages) > 1 {
					d.errorAt(m.Pos, "set %s: message %s cannot be told apart from the others: mark a header field tag: true and give each message its tag", s.Name, m.Name)
					return
				}
				continue
			}
			if len(m.Tags) == 0 {
				if !m.tagGiven {
					d.errorAt(m.Pos, "message %s has no tag: give the value of %s that selects it, as in tag: 1", m.Name, s.Tag.Name)
				}
				continue
			}
			for _, t := range m.Tags {
				key := string(t.Bytes) + "/" + strconv.FormatUint(t.Int, 10)
				if prev, dup := seen[key]; dup {
					d.errorAt(t.Pos, "message %s: tag %s is taken by message %s (at %v)", m.Name, tagString(t), prev.m.Name, prev.pos)
					continue
				}
				seen[key] = first{m, t.Pos}
			}
		case Text:
			if m.Verb == "" && m.verbGiven {
				// Its verb is not valid, which is reported: it is not
				// the message for lines without a verb.
				d.checkTextFields(m)
				continue
			}
			if m.Verb == "" {
				if s.Default != nil {
					d.errorAt(m.Pos, "set %s: messages %s and %s both have no verb: only one message may match lines whose first token is no verb", s.Name, s.Default.Name, m.Name)
					continue
				}
				s.Default = m
				continue
			}
			key := m.Verb
			if s.CaseInsensitive {
				key = strings.ToLower(key)
			}
			if prev, dup := seen[key]; dup {
				d.errorAt(m.Pos, "message %s: verb %s is taken by message %s (at %v)", m.Name, m.Verb, prev.m.Name, prev.pos)
				continue
			}
			seen[key] = first{m, m.Pos}
			d.checkTextFields(m)
		}
	}
	if s.Default != nil {
		d.checkTextFields(s.Default)
	}
}

func tagString(c Const) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Bytes != nil:
		return strconv.Quote(string(c.Bytes))
	case c.Int >= 0x20 && c.Int < 0x7f:
		return fmt.Sprintf("%d (%q)", c.Int, rune(c.Int))
	}
	return fmt.Sprintf("%#x", c.Int)
}

// checkTextFields checks the order of a text message's fields, so that
// every line the encoder writes decodes to the same message: optional
// ones trail, a flag comes last on the line, nothing follows a rest of
// line or a list, and a data block is the last field.
func (d *decoder) checkTextFields(m *Message) {
	var optional *MessageField // the first optional field
	lineEnd := -1              // index of a field that ends the line's tokens
	blocks := 0
	goNames := make(map[string]*MessageField)
	for _, f := range m.Fields {
		goNames[f.GoName] = f
	}
	for i, f := range m.Fields {
		switch {
		case f.Length.Kind == LengthField && (f.Kind == WireBytes || f.Kind == WireString):
			blocks++
			if blocks > 1 {
				d.errorAt(f.Pos, "message %s: field %s is a second data block: a line is followed by one at most", m.Name, f.Name)
			}
			if i != len(m.Fields)-1 {
				d.errorAt(f.Pos, "message %s: the data block %s must be the last field", m.Name, f.Name)
			}
			if f.Optional {
				d.errorAt(f.Pos, "message %s: a data block cannot be optional", m.Name)
			}
			if f.Max <= 0 {
				d.errorAt(f.Pos, "message %s: the data block %s needs max, so that a hostile length is refused before anything is read", m.Name, f.Name)
			}
			if m.Verb == "" && !m.verbGiven {
				d.errorAt(f.Pos, "message %s: a message without a verb cannot have a data block: the codec finds a block's length by the line's verb", m.Name)
			}
			continue
		case lineEnd >= 0:
			d.errorAt(f.Pos, "message %s: field %s comes after %s, which takes the rest of the line", m.Name, f.Name, m.Fields[lineEnd].Name)
			continue
		}
		if f.Kind == WireFlag {
			for _, g := range m.Fields[i+1:] {
				if g.Length.Kind != LengthField {
					d.errorAt(g.Pos, "message %s: field %s comes after the flag %s, which is the line's last token", m.Name, g.Name, f.Name)
				}
			}
			if f.Word != "" && !wireName.MatchString(f.Word) {
				d.errorAt(f.Pos, "message %s: the flag %s's word %q must be letters, digits and underscores, starting with a letter, so that no number is taken for it", m.Name, f.Name, f.Word)
			}
			continue
		}
		if f.Length.Kind == LengthRest || f.List {
			lineEnd = i
		}
		switch {
		case f.Optional && optional == nil:
			optional = f
		case !f.Optional && optional != nil && f.Computed:
			d.errorAt(f.Pos, "message %s: the data block's length %s follows the optional field %s, and would take its place when it is absent; put it before", m.Name, f.Name, optional.Name)
		case !f.Optional && optional != nil:
			d.errorAt(f.Pos, "message %s: field %s follows an optional field, so it must be optional too", m.Name, f.Name)
		}
		if f.Optional && f.List && f.MinItems > 0 {
			d.errorAt(f.Pos, "message %s: the optional list %s is absent when it has no items, which min_items %d refuses: drop one of them", m.Name, f.Name, f.MinItems)
		}
		if f.Optional && !f.List && (f.Kind == WireUint || f.Kind == WireInt) { // a list is absent when empty
			f.HasField = "Has" + f.GoName
			if g := goNames[f.HasField]; g != nil {
				d.errorAt(g.Pos, "message %s: field %s would be the Go field %s, which says whether the optional %s is present", m.Name, g.Name, f.HasField, f.Name)
			}
		}
	}
}
