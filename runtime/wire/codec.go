package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// The codecs check their configuration on every call, rather than once in a
// constructor, so that a literal is ready to use; the checks are a few
// comparisons. Validate lets generated code report a bad configuration
// when it starts instead of on the first frame, and lets protogen refuse a
// spec whose framing builds one.

// ConfigError reports a codec whose configuration is unusable. A codec's
// Validate returns one, and so do its Next and AppendFrame, and the Feed of
// a Framer that uses it. It names the field at fault, so that a program
// that builds a codec from its own settings (protogen, from a spec) can
// point at the setting behind it.
type ConfigError struct {
	Codec  string // the codec's type, such as "LengthCodec"
	Field  string // the field at fault, such as "Size"
	Reason string // what is wrong with the field, such as "is 3, but ..."
}

// Error reads, for example, "wire: LengthCodec.Size is 3, but the length
// header is 1, 2, 4 or 8 bytes".
func (e *ConfigError) Error() string {
	return "wire: " + e.Codec + "." + e.Field + " " + e.Reason
}

// checkMax returns the error of a delimited codec whose Max is negative,
// or whose effective maximum, limit, cannot hold its terminator term.
func checkMax(codec string, maxField, limit int, term []byte) error {
	switch {
	case maxField < 0:
		return &ConfigError{codec, "Max", fmt.Sprintf("is %d, but it must be 0 (for DefaultMaxLine) or more", maxField)}
	case limit < len(term) && maxField == 0:
		return &ConfigError{codec, "Max", fmt.Sprintf("is 0, for DefaultMaxLine (%d bytes), too short for the %d-byte terminator", limit, len(term))}
	case limit < len(term):
		return &ConfigError{codec, "Max", fmt.Sprintf("is %d, too short for the terminator %q", maxField, term)}
	}
	return nil
}

var (
	lf   = []byte("\n")
	crlf = []byte("\r\n")
)

// LineCodec frames lines of text. With CRLF false and Keep false it splits
// at "\n" and strips a "\r" right before it too, so that it accepts both LF
// and CRLF lines.
//
// AppendFrame writes "\n", or "\r\n" with CRLF. A payload that contains the
// terminator, or with CRLF false and Keep false ends in "\r", would not
// come back whole from Next: AppendFrame refuses it with an error matching
// [ErrBadFrame]. With Keep, a payload that already ends with the terminator
// is written as it is, so that a line received with Keep can be echoed.
type LineCodec struct {
	// CRLF makes the codec split only at "\r\n"; otherwise it splits at
	// "\n".
	CRLF bool
	// Keep keeps the terminator in the payload.
	Keep bool
	// Max is the maximum frame length, terminator included; 0 means
	// [DefaultMaxLine].
	Max int
}

func (c LineCodec) term() []byte {
	if c.CRLF {
		return crlf
	}
	return lf
}

func (c LineCodec) max() int {
	if c.Max == 0 {
		return DefaultMaxLine
	}
	return c.Max
}

// Validate reports whether c's configuration is usable, with a
// [*ConfigError] if not: Max must be 0 or at least the terminator's length.
func (c LineCodec) Validate() error {
	return checkMax("LineCodec", c.Max, c.max(), c.term())
}

// Next implements [Codec].
func (c LineCodec) Next(buf []byte, scanned int) (n int, payload []byte, err error) {
	if err := c.Validate(); err != nil {
		return 0, nil, err
	}
	term := c.term()
	n, err = splitDelim(buf, scanned, term, c.max())
	if n == 0 {
		return 0, nil, err
	}
	if c.Keep {
		return n, buf[:n:n], nil
	}
	end := n - len(term)
	if !c.CRLF && end > 0 && buf[end-1] == '\r' {
		end--
	}
	return n, buf[:end:end], nil
}

// AppendFrame implements [Codec].
func (c LineCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	return appendDelimited(dst, payload, c.term(), c.Keep, c.max(), !c.CRLF && !c.Keep)
}

func (c LineCodec) maxFrameLen() int {
	if c.Validate() != nil {
		return 0
	}
	return c.max()
}

func (LineCodec) frameLen([]byte) int { return 0 }

func (c LineCodec) tooLarge([]byte) FrameTooLargeError {
	return FrameTooLargeError{Size: int64(c.max()) + 1, Max: c.max()}
}

// DelimiterCodec frames payloads that end with Delim, such as "\x00" or
// "\r\n\r\n".
//
// AppendFrame writes the payload and Delim. A payload in which Delim would
// be found before its end, including across the boundary (payload "xa"
// with Delim "aa"), would not come back whole from Next: AppendFrame
// refuses it with an error matching [ErrBadFrame]. With Keep, a payload
// that already ends with Delim is written as it is.
type DelimiterCodec struct {
	// Delim ends each frame. It must not be empty.
	Delim []byte
	// Keep keeps Delim in the payload.
	Keep bool
	// Max is the maximum frame length, Delim included; 0 means
	// [DefaultMaxLine].
	Max int
}

func (c DelimiterCodec) max() int {
	if c.Max == 0 {
		return DefaultMaxLine
	}
	return c.Max
}

// Validate reports whether c's configuration is usable, with a
// [*ConfigError] if not: Delim must not be empty, and Max must be 0 or at
// least len(Delim).
func (c DelimiterCodec) Validate() error {
	if len(c.Delim) == 0 {
		return errEmptyDelim
	}
	return checkMax("DelimiterCodec", c.Max, c.max(), c.Delim)
}

var errEmptyDelim = &ConfigError{"DelimiterCodec", "Delim", "is empty"}

// Next implements [Codec].
func (c DelimiterCodec) Next(buf []byte, scanned int) (n int, payload []byte, err error) {
	if err := c.Validate(); err != nil {
		return 0, nil, err
	}
	n, err = splitDelim(buf, scanned, c.Delim, c.max())
	if n == 0 {
		return 0, nil, err
	}
	end := n
	if !c.Keep {
		end -= len(c.Delim)
	}
	return n, buf[:end:end], nil
}

// AppendFrame implements [Codec].
func (c DelimiterCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	return appendDelimited(dst, payload, c.Delim, c.Keep, c.max(), false)
}

func (c DelimiterCodec) maxFrameLen() int {
	if c.Validate() != nil {
		return 0
	}
	return c.max()
}

func (DelimiterCodec) frameLen([]byte) int { return 0 }

func (c DelimiterCodec) tooLarge([]byte) FrameTooLargeError {
	return FrameTooLargeError{Size: int64(c.max()) + 1, Max: c.max()}
}

// splitDelim returns the length of the first frame in buf that ends with
// delim and is at most max bytes long, or 0 if there is none; in that case
// it returns ErrFrameTooLarge if buf is already limit bytes long, as the
// frame must then be longer.
//
// It looks at no byte beyond limit, and starts len(delim)-1 bytes before
// scanned, where a delimiter that the previous bytes began may end: so
// feeding a frame a byte at a time costs time linear in its length.
func splitDelim(buf []byte, scanned int, delim []byte, limit int) (int, error) {
	window := buf[:min(len(buf), limit)]
	start := min(max(scanned-len(delim)+1, 0), len(window))
	var i int
	if len(delim) == 1 {
		i = bytes.IndexByte(window[start:], delim[0])
	} else {
		i = bytes.Index(window[start:], delim)
	}
	if i >= 0 {
		return start + i + len(delim), nil
	}
	if len(buf) >= limit {
		return 0, ErrFrameTooLarge
	}
	return 0, nil
}

// appendDelimited appends payload and delim to dst, as the delimiter codecs'
// AppendFrame. With keep, a payload that ends with delim already is
// appended alone. It refuses a frame longer than limit, and a payload that
// the decoder would not give back whole: one in which delim is found before
// the end, or, with noTrailingCR, one that ends with "\r".
func appendDelimited(dst, payload, delim []byte, keep bool, limit int, noTrailingCR bool) ([]byte, error) {
	body := payload
	if keep && bytes.HasSuffix(payload, delim) {
		body = payload[:len(payload)-len(delim)]
	}
	if size := len(body) + len(delim); size > limit {
		return dst, &FrameTooLargeError{Size: int64(size), Max: limit}
	}
	if noTrailingCR && len(body) > 0 && body[len(body)-1] == '\r' {
		return dst, errTrailingCR
	}
	start := len(dst)
	dst = append(dst, body...)
	dst = append(dst, delim...)
	// The decoder splits at the first delim; searching the frame itself
	// also catches a delimiter made of the payload's end and delim's start.
	var i int
	if len(delim) == 1 {
		i = bytes.IndexByte(dst[start:], delim[0])
	} else {
		i = bytes.Index(dst[start:], delim)
	}
	if i != len(body) {
		return dst[:start], errDelimInPayload
	}
	return dst, nil
}

// LengthCodec frames payloads behind a header that holds their length as an
// unsigned integer of Size bytes.
//
// Next rejects a header whose length exceeds Max as soon as it has the
// header, without allocating and without waiting for the payload. With
// IncludesHeader, a length below Size is an error matching [ErrBadFrame].
// AppendFrame refuses a payload longer than Max or than the header can
// express with a [*FrameTooLargeError].
type LengthCodec struct {
	// Size is the header's length in bytes: 1, 2, 4 or 8.
	Size int
	// LittleEndian selects a little-endian header; the default is
	// big-endian (network order).
	LittleEndian bool
	// IncludesHeader means the length counts the header as well as the
	// payload.
	IncludesHeader bool
	// Max is the maximum payload length. It must fit in the header: at
	// most 255 for Size 1 (254 with IncludesHeader), 65535 for Size 2, and
	// so on. 0 means [DefaultMaxLength], or the header's capacity when that
	// is less.
	Max int
}

// Validate reports whether c's configuration is usable, with a
// [*ConfigError] if not: Size must be 1, 2, 4 or 8, and Max must be 0 or
// a length that the header can express.
func (c LengthCodec) Validate() error {
	switch {
	case c.Size != 1 && c.Size != 2 && c.Size != 4 && c.Size != 8:
		return &ConfigError{"LengthCodec", "Size", fmt.Sprintf("is %d, but the length header is 1, 2, 4 or 8 bytes", c.Size)}
	case c.Max < 0:
		return &ConfigError{"LengthCodec", "Max", fmt.Sprintf("is %d, but it must be 0 (for DefaultMaxLength) or more", c.Max)}
	case uint64(c.Max) > c.capacity():
		return &ConfigError{"LengthCodec", "Max", c.overCapacity()}
	}
	return nil
}

// capacity returns the longest payload the header can express. c.Size must
// be valid.
func (c LengthCodec) capacity() uint64 {
	capacity := uint64(math.MaxUint64) >> (64 - 8*c.Size)
	if c.IncludesHeader {
		capacity -= uint64(c.Size)
	}
	return capacity
}

// overCapacity says why Max is too large for the header.
func (c LengthCodec) overCapacity() string {
	counted := ""
	if c.IncludesHeader {
		counted = " that counts itself"
	}
	return fmt.Sprintf("is %d, more than a %d-byte header%s can express (%d)", c.Max, c.Size, counted, c.capacity())
}

// MaxPayload returns the longest payload c accepts: Max, or when Max is 0
// the smaller of DefaultMaxLength and what the header can express. It
// returns 0 when c is not valid.
func (c LengthCodec) MaxPayload() int {
	if c.Validate() != nil {
		return 0
	}
	return int(c.maxPayload())
}

// maxPayload returns the longest payload allowed: Max, or less if the
// header cannot express the default or if a frame that long would not fit
// in an int. c must be valid.
func (c LengthCodec) maxPayload() uint64 {
	m := uint64(c.Max)
	if c.Max == 0 {
		m = DefaultMaxLength
	}
	return min(m, c.capacity(), uint64(math.MaxInt-c.Size))
}

// length decodes the header at the start of b, which holds at least Size
// bytes.
func (c LengthCodec) length(b []byte) uint64 { return readUint(b, c.Size, c.LittleEndian) }

// readUint reads an unsigned integer of size bytes (1, 2, 4 or 8) from the
// start of b, which holds at least that many. It calls the byte orders
// directly rather than through [binary.ByteOrder], which costs an indirect
// call per frame.
func readUint(b []byte, size int, little bool) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		if little {
			return uint64(binary.LittleEndian.Uint16(b))
		}
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		if little {
			return uint64(binary.LittleEndian.Uint32(b))
		}
		return uint64(binary.BigEndian.Uint32(b))
	default:
		if little {
			return binary.LittleEndian.Uint64(b)
		}
		return binary.BigEndian.Uint64(b)
	}
}

// putUint writes v as an unsigned integer of size bytes (1, 2, 4 or 8) at
// the start of b, which holds at least that many; directly, as readUint
// reads, so that b does not escape through an interface.
func putUint(b []byte, size int, little bool, v uint64) {
	switch {
	case size == 1:
		b[0] = byte(v)
	case size == 2 && little:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case size == 2:
		binary.BigEndian.PutUint16(b, uint16(v))
	case size == 4 && little:
		binary.LittleEndian.PutUint32(b, uint32(v))
	case size == 4:
		binary.BigEndian.PutUint32(b, uint32(v))
	case little:
		binary.LittleEndian.PutUint64(b, v)
	default:
		binary.BigEndian.PutUint64(b, v)
	}
}

// payloadLen decodes the payload length from the header at the start of b,
// or returns ErrBadFrame or ErrFrameTooLarge. c must be valid and b hold at
// least Size bytes.
func (c LengthCodec) payloadLen(b []byte) (uint64, error) {
	l := c.length(b)
	if c.IncludesHeader {
		if l < uint64(c.Size) {
			return 0, ErrBadFrame
		}
		l -= uint64(c.Size)
	}
	if l > c.maxPayload() {
		return l, ErrFrameTooLarge
	}
	return l, nil
}

// Next implements [Codec].
func (c LengthCodec) Next(buf []byte, _ int) (n int, payload []byte, err error) {
	if err := c.Validate(); err != nil {
		return 0, nil, err
	}
	if len(buf) < c.Size {
		return 0, nil, nil
	}
	l, err := c.payloadLen(buf)
	if err != nil {
		return 0, nil, err
	}
	// l <= maxPayload <= MaxInt-Size, so this cannot overflow.
	n = c.Size + int(l)
	if len(buf) < n {
		return 0, nil, nil
	}
	return n, buf[c.Size:n:n], nil
}

// AppendFrame implements [Codec].
func (c LengthCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	if m := c.maxPayload(); uint64(len(payload)) > m {
		return dst, &FrameTooLargeError{Size: int64(len(payload)), Max: int(m)}
	}
	l := uint64(len(payload))
	if c.IncludesHeader {
		l += uint64(c.Size)
	}
	var room [8]byte
	putUint(room[:], c.Size, c.LittleEndian, l)
	return append(append(dst, room[:c.Size]...), payload...), nil
}

func (c LengthCodec) maxFrameLen() int {
	if c.Validate() != nil {
		return 0
	}
	return c.Size + int(c.maxPayload())
}

func (c LengthCodec) frameLen(buf []byte) int {
	if c.Validate() != nil || len(buf) < c.Size {
		return 0
	}
	l, err := c.payloadLen(buf)
	if err != nil {
		return 0
	}
	return c.Size + int(l)
}

func (c LengthCodec) tooLarge(buf []byte) FrameTooLargeError {
	l, _ := c.payloadLen(buf)
	return FrameTooLargeError{Size: int64(min(l, math.MaxInt64)), Max: int(c.maxPayload())}
}

// FixedCodec frames payloads of exactly Size bytes, with nothing around
// them. AppendFrame refuses a payload of any other length: a longer one
// with a [*FrameTooLargeError], a shorter one with an error matching
// [ErrBadFrame].
type FixedCodec struct {
	// Size is the length of every frame. It must be positive.
	Size int
}

// Validate reports whether c's configuration is usable, with a
// [*ConfigError] if not: Size must be positive.
func (c FixedCodec) Validate() error {
	if c.Size <= 0 {
		return &ConfigError{"FixedCodec", "Size", fmt.Sprintf("is %d, but a frame is at least 1 byte", c.Size)}
	}
	return nil
}

// Next implements [Codec].
func (c FixedCodec) Next(buf []byte, _ int) (n int, payload []byte, err error) {
	if err := c.Validate(); err != nil {
		return 0, nil, err
	}
	if len(buf) < c.Size {
		return 0, nil, nil
	}
	return c.Size, buf[:c.Size:c.Size], nil
}

// AppendFrame implements [Codec].
func (c FixedCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	switch {
	case len(payload) > c.Size:
		return dst, &FrameTooLargeError{Size: int64(len(payload)), Max: c.Size}
	case len(payload) < c.Size:
		return dst, fmt.Errorf("%w: payload of %d bytes; FixedCodec.Size is %d", ErrBadFrame, len(payload), c.Size)
	}
	return append(dst, payload...), nil
}

func (c FixedCodec) maxFrameLen() int { return max(c.Size, 0) }

func (c FixedCodec) frameLen([]byte) int { return max(c.Size, 0) }

func (FixedCodec) tooLarge([]byte) FrameTooLargeError { return FrameTooLargeError{} }
