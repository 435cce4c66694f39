package spec

import (
	"encoding/json"
	"fmt"
)

// The types in this file describe the spec file format, key by key, for its
// JSON Schema, protogen.schema.json, which editors use to complete and check
// a spec as it is typed (see the README). schema_test.go reflects the schema
// from them with github.com/invopop/jsonschema, fails when the committed
// file differs from what they say, and checks that their keys are exactly
// the keys the decoder accepts. Their doc comments become the schema's
// descriptions, which editors show on hover, so they speak of YAML keys and
// not of Go.
//
// Nothing else uses them: the decoder walks YAML nodes itself, to report
// every problem with its position and a did-you-mean. The schema checks the
// shape of a spec (keys, types, names, sizes, durations); protogen checks
// the rest (uniqueness, collisions, what a hook needs, reachable states).
//
// A field's jsonschema tag holds its JSON Schema keywords (required,
// minItems, nullable...). A type with a jsonSchema method is written out in
// JSON instead of reflected: a scalar with a pattern, or a value that has
// more than one shape. A type with a jsonSchemaExtend method adds keywords
// that tags cannot express to its reflected schema.

//go:generate go test -run ^TestSchemaFile$ -update

// schemaTypes are the types the schema is reflected from: the file itself,
// and the types that only a written-out schema refers to.
var schemaTypes = []any{schemaFile{}, schemaFramingKinds{}}

// SchemaURL is where the JSON Schema of the spec is published, for the
// "# yaml-language-server: $schema=" line of a spec.
const SchemaURL = "https://raw.githubusercontent.com/protogen/protogen/main/spec/protogen.schema.json"

// schemaFile is a protogen spec: the protocol types that protogen -spec
// generates Go code for.
type schemaFile struct {
	// A JSON Schema for editors, such as this one's URL. protogen ignores it.
	Schema string `json:"$schema"`
	// The version of the spec format: 1, the only one.
	Version schemaVersion `json:"version" jsonschema:"required"`
	// The Go package of the generated code. Under go generate it defaults to
	// $GOPACKAGE; elsewhere it is required.
	Package schemaIdent `json:"package" jsonschema:"nullable"`
	// Enums over an integer, with named values, for the fields of messages.
	Enums []schemaEnum `json:"enums" jsonschema:"nullable"`
	// Binary structs that messages use as the type of a field (a list's
	// items, say).
	Types []schemaStructType `json:"types" jsonschema:"nullable"`
	// The sets of messages: each set holds the messages that may appear at
	// one place on the wire (a client's requests, say), their encoding, the
	// header they share, and what tells them apart.
	Messages []schemaSet `json:"messages" jsonschema:"nullable"`
	// The protocol types, at least one unless the spec has messages (a
	// spec of messages alone generates their types and codecs). Each
	// becomes a struct that embeds protoflow.BaseProtocol, a constructor,
	// and a method for each hook.
	Protocols []schemaProtocol `json:"protocols" jsonschema:"minItems=1"`
}

// Keys starting with x- are extensions that protogen ignores: a place for
// YAML anchors and for other tools.
func (schemaFile) jsonSchemaExtend() string {
	return `{"patternProperties": {"^x-": {"description": "An extension that protogen ignores: a place for YAML anchors and for other tools."}}, "anyOf": [{"required": ["protocols"]}, {"required": ["messages"]}, {"required": ["types"]}, {"required": ["enums"]}]}`
}

// schemaProtocol is one protocol type.
type schemaProtocol struct {
	// The Go type's name: an exported identifier, unique in the spec. The
	// constructor is New followed by the name.
	Name schemaTypeName `json:"name" jsonschema:"required"`
	// The type's doc comment, as written (a Go doc comment starts with the
	// type's name).
	Doc string `json:"doc" jsonschema:"nullable"`
	// State fields of the generated struct, in order, for your hooks to use.
	Fields []schemaField `json:"fields" jsonschema:"nullable"`
	// The events you handle: each hook is a method that you write in the
	// hook file, such as onDataReceived for data_received. Each at most once.
	Hooks []schemaHook `json:"hooks" jsonschema:"nullable,uniqueItems=true"`
	// Write-buffer limits, set on the transport in ConnectionMade: writing
	// pauses above high_water and resumes at low_water.
	Flow *schemaFlow `json:"flow" jsonschema:"nullable"`
	// TCP_NODELAY, true by default; false turns Nagle's algorithm back on.
	NoDelay bool `json:"nodelay"`
	// Split the byte stream into frames with one of the runtime's codecs; the
	// protocol then has the frame_received hook in place of data_received.
	Framing schemaFraming `json:"framing"`
	// A state machine. A protocol Chat gets the enums ChatState and
	// ChatEvent, a State method, and Fire(event), which refuses an event
	// that the current state has no transition for.
	Machine *schemaMachine `json:"machine" jsonschema:"nullable"`
	// Close the connection with a *protoflow.TimeoutError (or call the
	// timeout hook) when no data arrives for this long while reading is not
	// paused.
	ReadTimeout schemaDuration `json:"read_timeout"`
	// Close the connection (or call the timeout hook) when neither reading
	// nor writing happens for this long.
	IdleTimeout schemaDuration `json:"idle_timeout"`
	// With framing: close the connection (or call the timeout hook) when a
	// frame whose first bytes have arrived is not complete within this
	// long, however slowly the rest trickles in (a read timeout is kept
	// alive by any byte).
	FrameTimeout schemaDuration `json:"frame_timeout"`
	// The set of messages the protocol receives (or a list of sets told
	// apart by a constant at their start): each frame is decoded into a
	// message and passed to its hook, on<Message>, in place of
	// frame_received.
	Receives schemaSetRefs `json:"receives"`
	// The sets of messages the protocol sends: each message gets a
	// Send<Message> method that writes one frame of the protocol's framing.
	Sends schemaSetRefs `json:"sends"`
	// Generate a client of this name over the protocol: a method per
	// request it sends that says its reply, safe for concurrent use and
	// pipelined; the messages it receives go to the waiting calls.
	Client schemaTypeName `json:"client"`
}

// schemaField is a state field of the generated struct.
type schemaField struct {
	// The field's name: a Go identifier, unique in the protocol, and not a
	// name the type already has (BaseProtocol, Drain, Transport, a hook
	// method...).
	Name schemaIdent `json:"name" jsonschema:"required"`
	// The field's Go type. A qualified name carries its full import path:
	// time.Time, *gopkg.in/yaml.v3.Node, map[string]*example.com/chat/rooms.Room.
	Type string `json:"type" jsonschema:"required,minLength=1,example=int,example=time.Time,example=map[string]*example.com/chat/rooms.Room"`
	// The field's comment.
	Doc string `json:"doc" jsonschema:"nullable"`
}

// schemaFlow is a protocol's write-buffer limits. Given one mark, the other
// follows asyncio: low = high/4, or high = 4 × low.
type schemaFlow struct {
	// Writing pauses (pause_writing) when more than this is queued. asyncio's
	// default is 64KiB.
	HighWater schemaSize `json:"high_water"`
	// Writing resumes (resume_writing) when the queue has drained to this; at
	// most high_water. asyncio's default is 16KiB.
	LowWater schemaSize `json:"low_water"`
	// Pause reading while writing is paused, so that TCP pushes back on a
	// peer that does not read its replies; a framed protocol also holds the
	// rest of a read's frames once its replies pause writing.
	PauseReading bool `json:"pause_reading"`
}

// The flow mapping sets at least one mark.
func (schemaFlow) jsonSchemaExtend() string { return `{"minProperties": 1}` }

// schemaFramingKinds is a framing as a mapping with exactly one key, the
// kind of framing, whose value holds its settings.
type schemaFramingKinds struct {
	// Lines ending in "\n" (a "\r" before it is dropped too), or in "\r\n"
	// with crlf: true. Null for the defaults.
	Line *schemaLineFraming `json:"line" jsonschema:"nullable"`
	// Frames ending in a delimiter.
	Delimiter *schemaDelimiterFraming `json:"delimiter"`
	// Frames after a length header of 1, 2, 4 or 8 bytes. Null for the
	// defaults: a 4-byte big-endian length of the payload, at most 8MiB.
	Length *schemaLengthFraming `json:"length" jsonschema:"nullable"`
	// Frames of a fixed size.
	Fixed *schemaFixedFraming `json:"fixed"`
}

// Exactly one kind of framing.
func (schemaFramingKinds) jsonSchemaExtend() string {
	return `{"minProperties": 1, "maxProperties": 1}`
}

// schemaLineFraming is the settings of line framing.
type schemaLineFraming struct {
	// The longest line, terminator included; default 64KiB. A longer line
	// closes the connection with an error matching wire.ErrFrameTooLarge.
	Max schemaSize `json:"max"`
	// Lines end only at "\r\n".
	CRLF bool `json:"crlf"`
	// Keep the terminator in each frame.
	Keep bool `json:"keep"`
}

// schemaDelimiterFraming is the settings of delimiter framing.
type schemaDelimiterFraming struct {
	// The bytes that end each frame, such as "\0".
	Delimiter string `json:"delimiter" jsonschema:"required,minLength=1"`
	// The longest frame, delimiter included; default 64KiB.
	Max schemaSize `json:"max"`
	// Keep the delimiter in each frame.
	Keep bool `json:"keep"`
}

// schemaLengthFraming is the settings of length-prefixed framing.
type schemaLengthFraming struct {
	// The length header's size in bytes; default 4.
	Size int `json:"size" jsonschema:"enum=1,enum=2,enum=4,enum=8"`
	// The header's byte order; default big.
	Endian string `json:"endian" jsonschema:"enum=big,enum=little"`
	// The length counts the header as well as the payload.
	IncludesHeader bool `json:"includes_header"`
	// The largest payload; default 8MiB, and no more than the header can say.
	// A larger length closes the connection before anything is allocated.
	Max schemaSize `json:"max"`
}

// schemaFixedFraming is the settings of fixed-size framing.
type schemaFixedFraming struct {
	// The size of every frame, at least 1 byte.
	Size schemaSize `json:"size" jsonschema:"required"`
}

// schemaMachine is a protocol's state machine. Every state must be
// reachable from the initial one, and a state has at most one transition
// per event.
type schemaMachine struct {
	// The state a connection starts in; one of the states.
	Initial schemaMachineName `json:"initial" jsonschema:"required"`
	// Every state, at least one.
	States []schemaMachineName `json:"states" jsonschema:"required,minItems=1,uniqueItems=true"`
	// The transitions; none for a machine of one state. An event is any
	// name that a transition's on uses.
	Transitions []schemaTransition `json:"transitions" jsonschema:"nullable"`
}

// schemaTransition moves the machine from a state to another on an event.
type schemaTransition struct {
	// The state, or the list of states, that the transition leaves.
	From schemaFrom `json:"from" jsonschema:"required"`
	// The event that fires the transition.
	On schemaMachineName `json:"on" jsonschema:"required"`
	// The state that the transition enters.
	To schemaMachineName `json:"to" jsonschema:"required"`
}

// schemaEnum is an enum over an integer type.
type schemaEnum struct {
	// The Go type's name: an exported identifier.
	Name schemaTypeName `json:"name" jsonschema:"required"`
	// The type's doc comment.
	Doc string `json:"doc" jsonschema:"nullable"`
	// The integer it is written as; default u8.
	Type string `json:"type" jsonschema:"enum=u8,enum=u16,enum=u32,enum=u64,enum=i8,enum=i16,enum=i32,enum=i64,enum=uvarint"`
	// The named values, in order, as a mapping from name to number, such as
	// {ok: 0, not_found: 1}. Each is a Go constant: the enum's name, then the
	// value's name in CamelCase.
	Values map[string]int64 `json:"values" jsonschema:"required,minProperties=1"`
	// What a value the enum does not list does on decode: error (the
	// default) or keep.
	Unknown string `json:"unknown" jsonschema:"enum=error,enum=keep"`
}

// schemaStructType is a binary struct that messages use as a field's type.
type schemaStructType struct {
	// The Go type's name: an exported identifier.
	Name schemaTypeName `json:"name" jsonschema:"required"`
	// The type's doc comment.
	Doc string `json:"doc" jsonschema:"nullable"`
	// The byte order of its integers that do not give their own; without
	// it, that of the sets that use the type.
	Endian string `json:"endian" jsonschema:"enum=big,enum=little"`
	// Its fields, in wire order, at least one.
	Fields []schemaMessageField `json:"fields" jsonschema:"required,minItems=1"`
}

// schemaSet is a set of messages.
type schemaSet struct {
	// The set's name: an exported identifier, the Go interface that its
	// messages implement.
	Set schemaTypeName `json:"set" jsonschema:"required"`
	// The interface's doc comment.
	Doc string `json:"doc" jsonschema:"nullable"`
	// binary (the default): fields of fixed or declared sizes; text: a line
	// of a verb and space-separated tokens, and maybe a data block.
	Encoding string `json:"encoding" jsonschema:"enum=binary,enum=text"`
	// The byte order of a binary set's integers, their length and count
	// prefixes and the struct types they hold; default big.
	Endian string `json:"endian" jsonschema:"enum=big,enum=little"`
	// Whether a text set's verbs match in any case: sensitive (the default)
	// or insensitive.
	Case string `json:"case" jsonschema:"enum=sensitive,enum=insensitive"`
	// The longest message, required when a header field holds the
	// message's length (counts), so that the set frames itself.
	Max schemaSize `json:"max"`
	// The fields that every binary message of the set starts with; one of
	// them may be the tag that tells the messages apart, and one may hold
	// the message's length.
	Header []schemaMessageField `json:"header" jsonschema:"nullable"`
	// The header field that carries the id matching a reply to its
	// request: a generated client numbers its requests in it, and the
	// replies' set must correlate on a field of the same name.
	Correlate string `json:"correlate" jsonschema:"minLength=1"`
	// The message of a reply set that a generated client returns as an
	// error.
	Error schemaTypeName `json:"error"`
	// The set's messages, at least one.
	Messages []schemaMessage `json:"messages" jsonschema:"required,minItems=1"`
}

// schemaMessage is one message of a set.
type schemaMessage struct {
	// The Go type's name: an exported identifier. A protocol that receives
	// it has the hook on<Name>; one that sends it, Send<Name>.
	Name schemaTypeName `json:"name" jsonschema:"required"`
	// The type's doc comment.
	Doc string `json:"doc" jsonschema:"nullable"`
	// The value of the header's tag that selects this binary message: a
	// number, a one-character string for a u8 tag, an enum value's name,
	// or a list of them (the tag is then a field of the message).
	Tag schemaConst `json:"tag"`
	// The verb that starts this text message's line; a message without a
	// verb takes the lines whose first token is no verb.
	Verb string `json:"verb" jsonschema:"pattern=^[^ \t\r\n]+$"`
	// The machine event that a receiving protocol fires before the hook; a
	// message the machine refuses goes to bad_message instead.
	Event schemaMachineName `json:"event"`
	// What answers this request, for a generated client: a message, a
	// list of the messages that may, or {stream: Value, end: End} for many
	// messages up to an end.
	Reply schemaReply `json:"reply"`
	// The flag (text) or bool (binary) field of the request that, set,
	// tells the server not to reply: a generated client then waits for
	// nothing.
	Noreply string `json:"noreply" jsonschema:"minLength=1"`
	// Its fields, in wire order.
	Fields []schemaMessageField `json:"fields" jsonschema:"nullable"`
}

// schemaMessageField is one field of a message, a header or a struct type.
type schemaMessageField struct {
	// The field's name: letters, digits and underscores; the Go field is
	// its CamelCase form.
	Name schemaMachineName `json:"name"`
	// In place of name: a group of inline fields, whose byte length an
	// earlier field holds (length); its fields are the message's.
	Group schemaMachineName `json:"group"`
	// The Go field's comment.
	Doc string `json:"doc" jsonschema:"nullable"`
	// u8, u16, u32, u64, i8, i16, i32, i64, uvarint, varint, f32, f64, bool,
	// bytes, string, flag (text), an enum or a struct type of the spec.
	Type string `json:"type" jsonschema:"minLength=1,example=u16,example=bytes,example=string"`
	// This integer's byte order, over the set's.
	Endian string `json:"endian" jsonschema:"enum=big,enum=little"`
	// A bytes field's fixed size: a Go [N]byte.
	Size schemaSize `json:"size"`
	// Where a bytes or string field's length comes from: a prefix (u8, u16,
	// u32, u64, uvarint), an earlier unsigned field's name (which the
	// encoder then computes), or rest (to the end of the message, or of the
	// line). A text field's earlier field makes it a data block after the
	// line.
	Length string `json:"length" jsonschema:"minLength=1"`
	// Makes the field a list of its type, whose count is a prefix, an
	// earlier field's value, or rest (items until the end).
	Count string `json:"count" jsonschema:"minLength=1"`
	// The longest bytes or string value (of each element, for a list).
	Max schemaSize `json:"max"`
	// The most items a list may hold: required for a list of structs,
	// bytes or strings, and for a list of numbers unless a u8 or u16 count
	// bounds it.
	MaxItems int `json:"max_items" jsonschema:"minimum=1"`
	// The fewest items a list may hold.
	MinItems int `json:"min_items" jsonschema:"minimum=0"`
	// A constant (a magic): checked on decode, written on encode, not in the
	// Go struct.
	Const schemaConst `json:"const"`
	// The field is present when an earlier field says so: "flags & 0x04",
	// "status == 0", "kind != ping", "has_extras" or "!has_extras".
	If string `json:"if" jsonschema:"minLength=1"`
	// Marks the header field that tells the set's messages apart.
	Tag bool `json:"tag"`
	// Makes a header field hold the message's length, counted from the
	// named header field, or from body, the end of the header.
	Counts string `json:"counts" jsonschema:"minLength=1"`
	// Makes the field a checksum, computed on encode and checked on
	// decode: crc32 or crc32c (a u32), internet (a u16).
	Checksum string `json:"checksum" jsonschema:"enum=crc32,enum=crc32c,enum=internet"`
	// The first and last fields the checksum covers; default everything
	// before it.
	Over []schemaMachineName `json:"over" jsonschema:"minItems=2,maxItems=2"`
	// A text field that may be missing, as may every field after it.
	Optional bool `json:"optional"`
	// A text flag's word, such as noreply: the flag is true when the line
	// ends in it.
	Word string `json:"word" jsonschema:"pattern=^[^ \t\r\n]+$"`
	// A group's fields.
	Fields []schemaMessageField `json:"fields"`
}

// A field has a name or is a group.
func (schemaMessageField) jsonSchemaExtend() string {
	return `{"oneOf": [{"required": ["name"]}, {"required": ["group"]}]}`
}

// The scalars and the values of several shapes, written out.
type (
	// schemaVersion is the version of the spec format.
	schemaVersion struct{}
	// schemaIdent is a Go identifier that is not a keyword.
	schemaIdent struct{}
	// schemaTypeName is an exported Go identifier: it starts with an
	// upper-case letter.
	schemaTypeName struct{}
	// schemaHook is a hook: an event of the connection that calls a method
	// you write.
	schemaHook struct{}
	// schemaSize is a size in bytes: an integer, or a string with a unit,
	// B, KiB, MiB or GiB, as in 64KiB. Decimal units such as KB are refused.
	schemaSize struct{}
	// schemaDuration is a positive Go duration, as in 30s, 1m30s or 500ms.
	schemaDuration struct{}
	// schemaFraming is a protocol's framing: a mapping with one kind and its
	// settings, or the name of a kind whose settings all have defaults.
	schemaFraming struct{}
	// schemaMachineName is the name of a state or an event: letters, digits
	// and underscores, starting with a letter.
	schemaMachineName struct{}
	// schemaFrom is the state a transition leaves, or a list of them.
	schemaFrom struct{}
	// schemaSetRefs is a set's name, or a list of them.
	schemaSetRefs struct{}
	// schemaConst is a constant: a number, a string, or a list of them.
	schemaConst struct{}
	// schemaReply is what answers a request: a message, a list, or a stream.
	schemaReply struct{}
)

// Patterns of the written-out scalars. Identifiers are checked loosely
// beyond ASCII (any non-ASCII character may take part), as editors'
// regular expressions and Go's disagree on Unicode classes; protogen checks
// them exactly.
const (
	identPattern    = `^([A-Za-z_]|[^\x00-\x7F])([A-Za-z0-9_]|[^\x00-\x7F])*$`
	exportedPattern = `^([A-Z]|[^\x00-\x7F])([A-Za-z0-9_]|[^\x00-\x7F])*$`
	sizePattern     = `^[0-9]+\s*(B|KiB|MiB|GiB)?$`
	durationPattern = `^\+?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`
	// machineName's pattern, in the schema too.
	machineNamePattern = `^[A-Za-z][A-Za-z0-9_]*$`
)

// goKeywords are Go's keywords, which no identifier may be.
var goKeywords = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface",
	"map", "package", "range", "return", "select", "struct", "switch", "type", "var",
}

func (schemaVersion) jsonSchema() string {
	return fmt.Sprintf(`{"type": "integer", "const": %d}`, Version)
}

func (schemaIdent) jsonSchema() string {
	return fmt.Sprintf(`{"type": "string", "pattern": %s, "not": {"enum": %s}}`, jsonString(identPattern), jsonValue(append(goKeywords, "_")))
}

func (schemaTypeName) jsonSchema() string {
	return fmt.Sprintf(`{"type": "string", "pattern": %s}`, jsonString(exportedPattern))
}

func (schemaHook) jsonSchema() string {
	var descs []string
	for _, k := range AllHooks() {
		if !hookInfos[k].implicit {
			descs = append(descs, fmt.Sprintf("Your method %s %s", k.UserMethod(), k.Doc()))
		}
	}
	return fmt.Sprintf(`{"type": "string", "enum": %s, "enumDescriptions": %s}`, jsonValue(hookSpecNames()), jsonValue(descs))
}

func (schemaSize) jsonSchema() string {
	return fmt.Sprintf(`{"oneOf": [
		{"type": "integer", "minimum": 0, "maximum": %d},
		{"type": "string", "pattern": %s}
	], "examples": [65536, "64KiB", "1MiB"]}`, 1<<31-1, jsonString(sizePattern))
}

func (schemaDuration) jsonSchema() string {
	return fmt.Sprintf(`{"type": "string", "pattern": %s, "examples": ["30s", "1m30s", "500ms"]}`, jsonString(durationPattern))
}

func (schemaFraming) jsonSchema() string {
	// Delimiter and fixed framing have a required setting, so only line
	// and length may be named alone.
	return `{"oneOf": [
		{"type": "string", "enum": ["line", "length"], "description": "The name of a framing kind, with its default settings."},
		{"$ref": "#/$defs/FramingKinds"},
		{"type": "null"}
	]}`
}

func (schemaMachineName) jsonSchema() string {
	return fmt.Sprintf(`{"type": "string", "pattern": %s}`, jsonString(machineNamePattern))
}

func (schemaFrom) jsonSchema() string {
	return `{"oneOf": [
		{"$ref": "#/$defs/MachineName"},
		{"type": "array", "items": {"$ref": "#/$defs/MachineName"}, "minItems": 1}
	]}`
}

func jsonString(s string) string { return jsonValue(s) }

func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (schemaSetRefs) jsonSchema() string {
	return fmt.Sprintf(`{"oneOf": [
		{"type": "string", "pattern": %[1]s},
		{"type": "array", "items": {"type": "string", "pattern": %[1]s}, "minItems": 1}
	]}`, jsonString(exportedPattern))
}

func (schemaConst) jsonSchema() string {
	return `{"oneOf": [
		{"type": "integer"},
		{"type": "string", "minLength": 1},
		{"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1}]}, "minItems": 1}
	]}`
}

func (schemaReply) jsonSchema() string {
	return fmt.Sprintf(`{"oneOf": [
		{"type": "string", "pattern": %[1]s},
		{"type": "array", "items": {"type": "string", "pattern": %[1]s}, "minItems": 1},
		{"type": "object", "properties": {"stream": {"type": "string", "pattern": %[1]s}, "end": {"type": "string", "pattern": %[1]s}}, "required": ["stream", "end"], "additionalProperties": false}
	]}`, jsonString(exportedPattern))
}
