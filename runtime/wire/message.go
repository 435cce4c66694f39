package wire

import (
	"errors"
	"strconv"
	"strings"
)

// The reasons a message fails to decode. A [*DecodeError] carries one of
// them, and matches it with [errors.Is], as it matches [ErrBadMessage].
var (
	// ErrBadMessage is matched by every *DecodeError.
	ErrBadMessage = errors.New("wire: malformed message")

	// ErrTruncated: the message ends before a field does.
	ErrTruncated = errors.New("message ends early")
	// ErrTooLong: a length or count is over the field's maximum, or under
	// its minimum.
	ErrTooLong = errors.New("value over its maximum")
	// ErrInvalid: a value the field cannot take: a constant or magic that
	// differs, a number that does not parse or fit, an enum value the spec
	// does not list, a bool that is neither 0 nor 1, a length that
	// disagrees with the bytes it counts.
	ErrInvalid = errors.New("invalid value")
	// ErrUnknownMessage: no message of the set has this tag or verb.
	ErrUnknownMessage = errors.New("unknown message")
	// ErrChecksum: a checksum field does not match the bytes it covers.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTrailing: bytes are left after the message's last field.
	ErrTrailing = errors.New("trailing bytes")
	// ErrMissing: a text message lacks a field that is not optional.
	ErrMissing = errors.New("missing field")
)

// DecodeError reports a message that could not be decoded: which message
// and field, where, and why. It matches its reason (Err: [ErrTruncated],
// [ErrTooLong], [ErrInvalid], [ErrUnknownMessage], [ErrChecksum],
// [ErrTrailing] or [ErrMissing]) and [ErrBadMessage] with [errors.Is].
//
// Generated decoders return it; they allocate only on this path, never for
// a message that decodes.
type DecodeError struct {
	// Message is the message being decoded, such as "Set"; for
	// ErrUnknownMessage, the set whose messages were tried.
	Message string
	// Field is the field being decoded, such as "key"; empty when the
	// problem is the message as a whole.
	Field string
	// Offset is the byte offset, from the start of the message, where
	// decoding failed.
	Offset int
	// Err is the reason.
	Err error
	// Detail says more, for people: "300 bytes, at most 250".
	Detail string
}

// Error returns a message such as
// "wire: Set.key at byte 3: value over its maximum (300 bytes, at most 250)".
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("wire: ")
	b.WriteString(e.Message)
	if e.Field != "" {
		b.WriteByte('.')
		b.WriteString(e.Field)
	}
	b.WriteString(" at byte ")
	b.WriteString(strconv.Itoa(e.Offset))
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("malformed")
	}
	if e.Detail != "" {
		b.WriteString(" (")
		b.WriteString(e.Detail)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the reason.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadMessage, which every DecodeError
// matches.
func (e *DecodeError) Is(target error) bool { return target == ErrBadMessage }

// EncodeError reports a message that cannot be encoded as it stands: a
// field over its maximum, a length that does not fit its field, a text
// token with a space in it, a tag that is not one of the message's. It
// matches its reason ([ErrTooLong] or [ErrInvalid]) with [errors.Is]; it
// does not match [ErrBadMessage], which is about what a peer sent.
type EncodeError struct {
	Message string // the message being encoded, such as "Set"
	Field   string // the field at fault
	Err     error  // the reason
	Detail  string // more, for people
}

// Error returns a message such as
// "wire: encoding Set.key: value over its maximum (300 bytes, at most 250)".
func (e *EncodeError) Error() string {
	s := "wire: encoding " + e.Message
	if e.Field != "" {
		s += "." + e.Field
	}
	s += ": " + e.Err.Error()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the reason.
func (e *EncodeError) Unwrap() error { return e.Err }

// DecodeFail returns a *DecodeError. Generated decoders call it, and the
// detail helpers below, on their error paths only: it is kept out of line,
// so that the decoders stay small enough for the compiler to inline.
//
//go:noinline
func DecodeFail(message, field string, offset int, reason error, detail string) error {
	return &DecodeError{Message: message, Field: field, Offset: offset, Err: reason, Detail: detail}
}

// EncodeFail returns an *EncodeError, out of line as DecodeFail is.
//
//go:noinline
func EncodeFail(message, field string, reason error, detail string) error {
	return &EncodeError{Message: message, Field: field, Err: reason, Detail: detail}
}

// Need describes a truncated field: "need 4 bytes, have 2".
//
//go:noinline
func Need(need uint64, have int) string {
	return "need " + strconv.FormatUint(need, 10) + " bytes, have " + strconv.Itoa(have)
}

// Over describes a length over its maximum: "300 bytes, at most 250".
//
//go:noinline
func Over(n, max uint64) string {
	return strconv.FormatUint(n, 10) + " bytes, at most " + strconv.FormatUint(max, 10)
}

// OverItems describes a count over its maximum: "300 items, at most 250".
//
//go:noinline
func OverItems(n, max uint64) string {
	return strconv.FormatUint(n, 10) + " items, at most " + strconv.FormatUint(max, 10)
}

// UnderItems describes a count under its minimum: "0 items, at least 1".
//
//go:noinline
func UnderItems(n, min uint64) string {
	return strconv.FormatUint(n, 10) + " items, at least " + strconv.FormatUint(min, 10)
}

// Left describes bytes left over: "3 bytes left".
//
//go:noinline
func Left(n int) string { return strconv.Itoa(n) + " bytes left" }

// Counted describes a length field that disagrees with the bytes it
// counts: "it says 10, the message has 12".
//
//go:noinline
func Counted(says uint64, has int) string {
	return "it says " + strconv.FormatUint(says, 10) + ", the message has " + strconv.Itoa(has)
}

// Got describes a value that differs from the one required:
// "0x81, want 0x80".
//
//go:noinline
func Got(got, want uint64) string {
	return "0x" + strconv.FormatUint(got, 16) + ", want 0x" + strconv.FormatUint(want, 16)
}

// GotBytes describes bytes that differ from a constant: `"PGM2", want "PGM1"`.
//
//go:noinline
func GotBytes(got []byte, want string) string {
	return strconv.Quote(string(got)) + ", want " + strconv.Quote(want)
}

// Value describes an unsigned value that is not allowed: "0x4d".
//
//go:noinline
func Value(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// ByteValue describes a one-byte value that is not allowed: "0x80", or
// "0x58 ('X')" for a printable byte.
//
//go:noinline
func ByteValue(b byte) string {
	s := Value(uint64(b))
	if b >= 0x20 && b < 0x7f {
		s += " (" + strconv.QuoteRune(rune(b)) + ")"
	}
	return s
}

// IntValue describes a signed value that is not allowed: "-5".
//
//go:noinline
func IntValue(v int64) string { return strconv.FormatInt(v, 10) }

// GotInt describes a signed value that differs from the one required:
// "-2, want -1".
//
//go:noinline
func GotInt(got, want int64) string {
	return strconv.FormatInt(got, 10) + ", want " + strconv.FormatInt(want, 10)
}

// TokenDetail describes a text token that is not allowed: `"12x"`.
//
//go:noinline
func TokenDetail(tok []byte) string { return strconv.Quote(string(tok)) }

// BoolByte is a bool's byte on the wire: 1 for true, 0 for false.
func BoolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
