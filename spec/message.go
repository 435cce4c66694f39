package spec

import (
	"encoding/binary"

	"gopkg.in/yaml.v3"
)

// The model of a spec's messages: what the emitter prints the message
// types, their decoders and encoders, and the dispatch from. Every Go name
// and every computed fact (which fields are computed, their offsets, the
// frame's layout) is decided here, at load time.

// Encoding is how a set's messages are written: as binary fields or as a
// line of text.
type Encoding uint8

const (
	Binary Encoding = iota // fields of fixed or declared sizes
	Text                   // a line: a verb and space-separated tokens, and maybe a data block
)

// Endian is a binary integer's byte order.
type Endian uint8

const (
	BigEndian    Endian = iota // the most significant byte first (network order)
	LittleEndian               // the least significant byte first
)

// MessageSet is a set: the messages that may appear at one place on the
// wire (a client's requests, say), their encoding, the header they share
// and what tells them apart.
type MessageSet struct {
	Pos  Pos    // the set's name in the spec
	Name string // the exported Go name of the set's interface, such as Request
	Doc  string // the interface's doc comment; empty if none

	Encoding Encoding // binary or text
	// Endian is the byte order of the binary set's integers that do not
	// set their own.
	Endian Endian // the byte order of a fixed-size integer
	// CaseInsensitive makes a text set's verbs match in any case.
	CaseInsensitive bool

	// Header is the binary fields that every message of the set starts
	// with, in order; empty for a text set.
	Header []*MessageField
	// HeaderType is the Go name of the struct of the header's user fields,
	// embedded in every message of the set; empty when the header has no
	// user field.
	HeaderType string
	// Tag is the header field whose value tells the messages apart; nil
	// for a text set, and for a binary set of one message without a tag.
	Tag *MessageField
	// FrameLength is the header field that holds the message's length
	// (the counts key): the set then frames itself. Nil otherwise.
	FrameLength *MessageField
	// Max is the longest message the set's decoders accept, in bytes; 0
	// when the protocol's framing bounds it instead.
	Max int

	// Messages are the set's messages, in spec order.
	Messages []*Message
	// Default is the message of a text set that has no verb, or nil.
	Default *Message

	// DecodeFunc decodes any message of the set (DecodeRequest).
	DecodeFunc string
	// Correlate is the header field that carries the id matching a reply
	// to its request (correlate: opaque), in a request set; nil when
	// replies come in the order of the requests.
	Correlate *MessageField
	// Error is the message of a reply set that a generated client returns
	// as an error (error: Error); nil for none.
	Error *Message
	// BlockLenFunc is the function that tells the codec of a text set with
	// data blocks the length of the block a line announces
	// (requestBlockLen); empty for other sets.
	BlockLenFunc string
	// CodecFunc returns the codec that frames the set's messages, for the
	// user's tests and, for a set that frames itself (FrameLength), the
	// generated code (RequestCodec): a wire.HeaderCodec, or for a text set
	// with data blocks a wire.BlockCodec, which keeps a line and its block
	// together. Empty for other sets, whose frames are the protocol's
	// lines.
	CodecFunc string

	maxGiven bool // the spec gives max, maybe a bad one (reported)
	maxPos   Pos  // where
}

// FuzzDecodeName is the generated test that decodes any bytes as a message
// of the set.
func (s *MessageSet) FuzzDecodeName() string { return "FuzzDecode" + s.Name }

// FuzzRoundTripName is the generated test that encodes and decodes the
// set's messages, filled from any bytes.
func (s *MessageSet) FuzzRoundTripName() string { return "FuzzRoundTrip" + s.Name }

// Magic returns the constant bytes that begin every message of a binary
// set whose header starts with a constant, which tell the set apart from
// the others a protocol receives; nil for another set.
func (s *MessageSet) Magic() []byte {
	if s.Encoding != Binary || len(s.Header) == 0 || s.Header[0].Const == nil {
		return nil
	}
	return s.Header[0].ConstBytes(*s.Header[0].Const)
}

// ConstBytes is the encoding of constant v as field f writes it.
func (f *MessageField) ConstBytes(v Const) []byte {
	if v.Bytes != nil {
		return v.Bytes
	}
	t := f.Int
	var order binary.AppendByteOrder = binary.BigEndian
	if t.Endian == LittleEndian {
		order = binary.LittleEndian
	}
	switch {
	case t.Varint && t.Signed:
		return binary.AppendVarint(nil, int64(v.Int))
	case t.Varint:
		return binary.AppendUvarint(nil, v.Int)
	case t.Bits == 8:
		return []byte{byte(v.Int)}
	case t.Bits == 16:
		return order.AppendUint16(nil, uint16(v.Int))
	case t.Bits == 32:
		return order.AppendUint32(nil, uint32(v.Int))
	}
	return order.AppendUint64(nil, v.Int)
}

// HasBlocks reports whether a message of the text set has a data block.
func (s *MessageSet) HasBlocks() bool {
	for _, m := range s.Messages {
		if m.Block() != nil {
			return true
		}
	}
	return false
}

// Message is one message of a set, or a struct type of the spec's types
// list, which messages use as a field's type (Set is nil).
type Message struct {
	Pos  Pos         // the message's name in the spec
	Name string      // the exported Go type name
	Doc  string      // its doc comment; empty if none
	Set  *MessageSet // the set it belongs to; nil for a struct type
	// Tags are the values of the set's tag field that select this message,
	// in spec order; several put the tag in the Go struct (TagField).
	Tags []Const
	// TagField is the Go field that holds the tag of a message with
	// several tags; empty otherwise.
	TagField string
	// Verb is a text message's verb; empty for the set's default message.
	Verb string
	// Event is the machine event that the message fires before its hook,
	// by name; protocols that receive the message resolve it against their
	// machine. Empty for none.
	Event    string
	EventPos Pos // where the spec names Event
	// Fields are the message's own fields, in order, after the set's
	// header.
	Fields []*MessageField

	// Replies are the messages that may answer this request, one of them
	// (reply: Value, or reply: [Value, NotFound]); nil when it declares
	// none.
	Replies []*Message
	// Stream is the message of which a stream of replies answers this
	// request, up to one End (reply: {stream: Value, end: End}); both nil
	// for none.
	Stream *Message
	End    *Message // the message that ends the stream
	// ReplyPos is where the spec gives reply.
	ReplyPos Pos
	// Silencer is the flag or bool field of a request that, set, tells the
	// server not to reply (memcached's noreply: noreply); nil for none.
	// A generated client then sends the request and waits for nothing.
	Silencer *MessageField

	// Hook is the method a protocol that receives the message calls, such
	// as onGet; Send is the protocol method that sends it, such as SendGet.
	Hook, Send string

	tagGiven    bool       // the spec gives a tag, valid or not
	verbGiven   bool       // the spec gives a verb, valid or not
	replyNode   *yaml.Node // the reply, resolved once every set is known
	noreplyNode *yaml.Node // the field that silences the reply, resolved with the reply
}

// HasReply reports whether a generated client has a method for m: the spec
// says what answers it.
func (m *Message) HasReply() bool { return len(m.Replies) > 0 || m.Stream != nil }

// LengthOf returns the field of m, or of its set's header, whose length or
// count g holds, or nil when m measures nothing with g.
func (m *Message) LengthOf(g *MessageField) *MessageField {
	var fields []*MessageField
	if m.Set != nil {
		fields = AllFields(m.Set.Header)
	}
	for _, f := range append(fields, AllFields(m.Fields)...) {
		if f.Length.Field == g || f.Count.Field == g {
			return f
		}
	}
	return nil
}

// Block returns the data block field of a text message, or nil.
func (m *Message) Block() *MessageField {
	for _, f := range m.Fields {
		if f.Length.Kind == LengthField && m.Set != nil && m.Set.Encoding == Text {
			return f
		}
	}
	return nil
}

// WireKind is what a message field holds.
type WireKind uint8

const (
	WireUint   WireKind = iota // u8…u64, uvarint
	WireInt                    // i8…i64, varint
	WireFloat                  // f32, f64
	WireBool                   // one byte, 0 or 1
	WireBytes                  // []byte, or [N]byte with Size
	WireString                 // string: a copy of the bytes
	WireEnum                   // an enum of the spec, over an integer
	WireStruct                 // a struct of the spec's types
	WireFlag                   // text: true when the line ends in Word
	WireGroup                  // inline fields (Group) whose length is a field
)

// String names the kind as a spec's type does: bytes, string...
func (k WireKind) String() string {
	return [...]string{"uint", "int", "float", "bool", "bytes", "string", "enum", "struct", "flag", "group"}[k]
}

// LengthKind says where a variable field's length, or a list's count,
// comes from.
type LengthKind uint8

const (
	LengthNone   LengthKind = iota // fixed size, or a scalar
	LengthPrefix                   // a prefix integer just before the field
	LengthField                    // an earlier field, which is then computed
	LengthRest                     // to the end of the message (binary), of the line (text)
)

// Length is where a length or count comes from.
type Length struct {
	Kind LengthKind // where it comes from
	// Prefix is the integer type of a LengthPrefix: Bits 8, 16, 32 or 64,
	// or Varint; with Endian.
	Prefix IntType
	// Field is the earlier field of a LengthField.
	Field *MessageField
}

// IntType is the wire form of an integer.
type IntType struct {
	Bits   int    // 8, 16, 32 or 64; 0 for a varint
	Signed bool   // i* and varint
	Varint bool   // uvarint or varint (LEB128, zigzag for signed)
	Endian Endian // the byte order of a fixed-size integer
}

// MessageField is one field of a message, a header or a group.
type MessageField struct {
	Pos    Pos      // the field's name in the spec
	Name   string   // the spec's name, for errors: key_len
	GoName string   // the Go field: KeyLen
	Doc    string   // the comment; empty if none
	Kind   WireKind // what the field holds
	// Int is the wire form of a WireUint, WireInt, WireEnum or WireBool
	// field (bool: 8 bits), and of a WireFloat (Bits 32 or 64).
	Int IntType
	// Enum is the enum of a WireEnum field; Struct the type of a
	// WireStruct field.
	Enum   *Enum
	Struct *Message // the struct type of a WireStruct field
	// Size is the fixed size of a [N]byte field, 0 otherwise.
	Size int
	// Length is where a bytes or string field's length comes from; for a
	// group, the field that holds its length.
	Length Length
	// List makes the field a list of its kind, Count items long.
	List  bool
	Count Length // where a list's count comes from
	// Max is the largest length in bytes of a bytes or string field (of
	// each element, for a list); 0 for none.
	Max int
	// MaxItems and MinItems bound a list's count; 0 for none.
	MaxItems, MinItems int

	// Const is the value of a constant field, checked on decode and
	// written on encode; not in the Go struct.
	Const *Const
	// If is the condition under which the field is present; nil for
	// always.
	If *Cond
	// Tag marks the header field that tells the set's messages apart.
	Tag bool
	// Counts makes a header field hold the message's length, counted from
	// the start of the header field CountsFrom, or from the end of the
	// header when CountsFrom is nil.
	Counts     bool
	CountsFrom *MessageField // where the count starts; nil for the end of the header
	// Checksum is the algorithm of a checksum field, over the fields
	// First…Last (inclusive).
	Checksum Checksum
	First    *MessageField // the first field the checksum covers
	Last     *MessageField // the last field the checksum covers

	// Group is the inline fields of a WireGroup, promoted into the parent's
	// Go struct.
	Group []*MessageField

	// Text: Optional fields may be missing (with a Has<GoName> field for a
	// number); a WireFlag is true when the line ends in Word.
	Optional bool
	Word     string // a flag's word, such as noreply
	HasField string // the Go name of the presence field of an optional number

	// Computed is set for a field that another's length, count or group
	// length refers to: it is written from what it counts and checked on
	// decode, and is not in the Go struct. A header field is computed when
	// any message of the set measures a field with it; in a message that
	// measures nothing with it, it is written and checked as 0.
	Computed bool
}

// InStruct reports whether the field is a field of the Go struct.
func (f *MessageField) InStruct() bool {
	return !f.Computed && f.Const == nil && !f.Tag && !f.Counts && f.Checksum == NoChecksum && f.Kind != WireGroup
}

// Const is a constant value: an integer, or bytes.
type Const struct {
	Pos   Pos    // where the spec writes it
	Int   uint64 // the value of an integer constant (two's complement)
	Bytes []byte // the value of a bytes constant; nil for an integer
	Name  string // the enum value's name, when the field is an enum
}

// Cond is a field's presence condition: Field Op Value, or a bit test
// (Op "&": Field & Value != 0).
type Cond struct {
	Pos   Pos           // where the spec writes it
	Field *MessageField // the field it tests
	Op    string        // ==, !=, <, <=, >, >=, &
	Value uint64        // what it compares the field with
	Src   string        // as the spec writes it, for doc comments
}

// Checksum is a checksum algorithm.
type Checksum uint8

const (
	NoChecksum Checksum = iota // not a checksum field
	CRC32                      // IEEE, u32
	CRC32C                     // Castagnoli, u32
	Internet                   // RFC 1071, u16
)

// Enum is a named set of integer values.
type Enum struct {
	Pos    Pos          // the enum's name in the spec
	Name   string       // the Go type
	Doc    string       // the type's doc comment; empty if none
	Int    IntType      // the wire form
	Values []*EnumValue // the named values, in spec order
	// KeepUnknown keeps values the spec does not list; otherwise they are
	// a decode error.
	KeepUnknown bool
}

// EnumValue is one named value of an enum.
type EnumValue struct {
	Pos   Pos    // where the spec names it
	Name  string // the spec's name, which String returns
	Const string // the Go constant: StatusKeyNotFound
	Value uint64 // its value
}

// FieldOffset returns the offset of header field f from the start of a
// message: the sizes of the header fields before it, which validation
// makes fixed for the fields whose offsets the code needs (the tag, the
// frame length and where it counts from).
func (s *MessageSet) FieldOffset(f *MessageField) int {
	off := 0
	for _, g := range s.Header {
		if g == f {
			return off
		}
		off += max(g.FixedSize(), 0)
	}
	return off
}

// TagOffset returns the tag's offset from the start of a message.
func (s *MessageSet) TagOffset() int { return s.FieldOffset(s.Tag) }

// CountsOffset returns where the bytes that the frame length counts start:
// the field it names, or the end of the header.
func (s *MessageSet) CountsOffset() int {
	if f := s.FrameLength; f != nil && f.CountsFrom != nil {
		return s.FieldOffset(f.CountsFrom)
	}
	return s.FieldOffset(nil)
}
