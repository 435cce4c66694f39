package wire

import (
	"bytes"
	"fmt"
	"math"
)

// Two codecs for messages whose own bytes say where they end: generated
// code uses them for sets of messages that frame themselves.

// HeaderCodec frames messages whose header holds their length: an
// unsigned integer of Size bytes at Offset, which counts the bytes from
// From to the end of the message. The bytes before the length field are
// part of the message, and the payload is the whole message, header and
// all, for the generated decoder to read its fields. memcached's binary
// protocol is {Offset: 8, Size: 4, From: 24}: the length counts the body
// after the 24-byte header. PostgreSQL's messages are {Offset: 1, Size: 4,
// From: 1}: the length counts itself and what follows.
//
// Next refuses a message longer than Max as soon as it has the length
// field, without allocating and without waiting for the rest, and a length
// that would end the message before its own length field with an error
// matching [ErrBadFrame]. AppendFrame writes the length field of the
// message it is given.
type HeaderCodec struct {
	// Offset is where the length field starts, from the message's start.
	Offset int
	// Size is the length field's size in bytes: 1, 2, 4 or 8.
	Size int
	// LittleEndian selects a little-endian length; the default is
	// big-endian (network order).
	LittleEndian bool
	// From is where the bytes that the length counts start, from the
	// message's start.
	From int
	// Max is the longest message, header included; 0 means
	// [DefaultMaxLength].
	Max int
}

func (c HeaderCodec) max() int {
	if c.Max == 0 {
		return DefaultMaxLength
	}
	return c.Max
}

// Validate reports whether c's configuration is usable, with a
// [*ConfigError] if not: Size must be 1, 2, 4 or 8, Offset and From must
// not be negative, and Max must be 0 or enough for the header up to the
// length field.
func (c HeaderCodec) Validate() error {
	switch {
	case c.Size != 1 && c.Size != 2 && c.Size != 4 && c.Size != 8:
		return &ConfigError{"HeaderCodec", "Size", fmt.Sprintf("is %d, but a length field is 1, 2, 4 or 8 bytes", c.Size)}
	case c.Offset < 0:
		return &ConfigError{"HeaderCodec", "Offset", fmt.Sprintf("is %d, but it must be 0 or more", c.Offset)}
	case c.From < 0:
		return &ConfigError{"HeaderCodec", "From", fmt.Sprintf("is %d, but it must be 0 or more", c.From)}
	case c.Max < 0:
		return &ConfigError{"HeaderCodec", "Max", fmt.Sprintf("is %d, but it must be 0 (for DefaultMaxLength) or more", c.Max)}
	case c.max() < c.Offset+c.Size:
		return &ConfigError{"HeaderCodec", "Max", fmt.Sprintf("is %d, shorter than the header up to the length field (%d bytes)", c.Max, c.Offset+c.Size)}
	}
	return nil
}

// valid is Validate's verdict without its error, cheap enough to ask for
// every frame: Validate builds its error only for a codec that fails.
func (c HeaderCodec) valid() bool {
	return (c.Size == 1 || c.Size == 2 || c.Size == 4 || c.Size == 8) &&
		c.Offset >= 0 && c.From >= 0 && c.Max >= 0 && c.max() >= c.Offset+c.Size
}

// length reads the length field of buf, which must hold it.
func (c HeaderCodec) length(buf []byte) uint64 {
	return readUint(buf[c.Offset:], c.Size, c.LittleEndian)
}

// total returns the length of the message that buf starts, which must hold
// its length field, as a uint64 that may exceed any int.
func (c HeaderCodec) total(buf []byte) uint64 {
	v := c.length(buf)
	if v > math.MaxUint64-uint64(c.From) {
		return math.MaxUint64
	}
	return uint64(c.From) + v
}

var errShortHeaderLength = fmt.Errorf("%w: the length ends the message before its own length field", ErrBadFrame)

// Next implements [Codec].
func (c HeaderCodec) Next(buf []byte, scanned int) (n int, payload []byte, err error) {
	if !c.valid() {
		return 0, nil, c.Validate()
	}
	head := c.Offset + c.Size
	if len(buf) < head {
		return 0, nil, nil
	}
	total := c.total(buf)
	switch {
	case total > uint64(c.max()):
		return 0, nil, ErrFrameTooLarge
	case total < uint64(head):
		return 0, nil, errShortHeaderLength
	case uint64(len(buf)) < total:
		return 0, nil, nil
	}
	return int(total), buf[:total:total], nil
}

// AppendFrame implements [Codec]: payload is a whole message, whose length
// field it writes.
func (c HeaderCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	if len(payload) < max(c.Offset+c.Size, c.From) {
		return dst, fmt.Errorf("%w: a message of %d bytes is shorter than its header", ErrBadFrame, len(payload))
	}
	if len(payload) > c.max() {
		return dst, &FrameTooLargeError{Size: int64(len(payload)), Max: c.max()}
	}
	n := uint64(len(payload) - c.From)
	if c.Size < 8 && n > uint64(1)<<(8*c.Size)-1 {
		return dst, &FrameTooLargeError{Size: int64(len(payload)), Max: c.From + 1<<(8*c.Size) - 1}
	}
	start := len(dst)
	dst = append(dst, payload...)
	putUint(dst[start+c.Offset:], c.Size, c.LittleEndian, n)
	return dst, nil
}

func (c HeaderCodec) maxFrameLen() int {
	if !c.valid() {
		return 0
	}
	return c.max()
}

func (c HeaderCodec) frameLen(buf []byte) int {
	if !c.valid() || len(buf) < c.Offset+c.Size {
		return 0
	}
	if total := c.total(buf); total <= uint64(c.max()) {
		return int(total)
	}
	return 0
}

func (c HeaderCodec) tooLarge(buf []byte) FrameTooLargeError {
	size := int64(math.MaxInt64)
	if total := c.total(buf); total <= math.MaxInt64 {
		size = int64(total)
	}
	return FrameTooLargeError{Size: size, Max: c.max()}
}

// BlockCodec frames lines of text, some of which a data block follows, as
// in memcached's text protocol ("set k 0 0 5\r\nhello\r\n"). Block, given
// a line without its terminator, returns the length of the block that the
// line announces, or -1 when it announces none.
//
// A line ends at "\n", and a "\r" before it is dropped. The frame of a line
// without a block is the line, and its payload the line without its
// terminator, as [LineCodec] gives it. The frame of a line with a block is
// the line, its terminator, the block and two more bytes, which should be
// "\r\n"; its payload is the whole frame, which [CutLine] splits, and whose
// decoder checks those two bytes (memcached answers "bad data chunk" and
// goes on). A line over MaxLine bytes, or a block over MaxBlock, is
// refused with [ErrFrameTooLarge] before anything of it is buffered.
//
// Finding a line's end looks again at the bytes of a line that is not yet
// complete, so a line trickled a byte at a time costs time quadratic in
// its length, bounded by MaxLine: keep MaxLine modest (memcached's lines
// are at most 2048 bytes).
type BlockCodec struct {
	// MaxLine is the longest line, terminator included; 0 means
	// [DefaultMaxLine].
	MaxLine int
	// MaxBlock is the longest data block.
	MaxBlock int
	// Block returns the length of the data block that line announces, or -1.
	Block func(line []byte) int
}

func (c BlockCodec) maxLine() int {
	if c.MaxLine == 0 {
		return DefaultMaxLine
	}
	return c.MaxLine
}

// Validate reports whether c's configuration is usable, with a
// [*ConfigError] if not: Block must be set, MaxLine must be 0 or at least 1,
// and MaxBlock must not be negative.
func (c BlockCodec) Validate() error {
	switch {
	case c.Block == nil:
		return &ConfigError{"BlockCodec", "Block", "is nil"}
	case c.MaxLine < 0:
		return &ConfigError{"BlockCodec", "MaxLine", fmt.Sprintf("is %d, but it must be 0 (for DefaultMaxLine) or more", c.MaxLine)}
	case c.MaxBlock < 0:
		return &ConfigError{"BlockCodec", "MaxBlock", fmt.Sprintf("is %d, but it must be 0 or more", c.MaxBlock)}
	}
	return nil
}

// valid is Validate's verdict without its error, cheap enough to ask for
// every frame.
func (c BlockCodec) valid() bool { return c.Block != nil && c.MaxLine >= 0 && c.MaxBlock >= 0 }

// blockEnd is what follows a data block.
var blockEnd = []byte("\r\n")

// scan finds the frame that buf starts: the end of its line (-1 when not
// yet there, or too long) and the length of its block (-1 for none).
func (c BlockCodec) scan(buf []byte) (lineEnd, block int, tooLong bool) {
	limit := c.maxLine()
	i := bytes.IndexByte(buf[:min(len(buf), limit)], '\n')
	if i < 0 {
		return -1, -1, len(buf) >= limit
	}
	line := buf[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return i + 1, c.Block(line), false
}

// Next implements [Codec].
func (c BlockCodec) Next(buf []byte, scanned int) (n int, payload []byte, err error) {
	if !c.valid() {
		return 0, nil, c.Validate()
	}
	lineEnd, block, tooLong := c.scan(buf)
	switch {
	case tooLong:
		return 0, nil, ErrFrameTooLarge
	case lineEnd < 0:
		return 0, nil, nil
	case block < 0:
		line := buf[:lineEnd-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		return lineEnd, line[:len(line):len(line)], nil
	case block > c.MaxBlock:
		return 0, nil, ErrFrameTooLarge
	}
	total := lineEnd + block + len(blockEnd)
	if len(buf) < total {
		return 0, nil, nil
	}
	return total, buf[:total:total], nil
}

// AppendFrame implements [Codec]: a payload without a line break is a line,
// written with "\r\n"; one with a line break must be a whole frame with its
// block, written as it is.
func (c BlockCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	if bytes.IndexByte(payload, '\n') < 0 {
		if size := len(payload) + 2; size > c.maxLine() {
			return dst, &FrameTooLargeError{Size: int64(size), Max: c.maxLine()}
		}
		if len(payload) > 0 && payload[len(payload)-1] == '\r' {
			return dst, errTrailingCR
		}
		return append(append(dst, payload...), blockEnd...), nil
	}
	n, _, err := c.Next(payload, 0)
	switch {
	case err != nil:
		return dst, err
	case n != len(payload):
		return dst, fmt.Errorf("%w: a payload with a line break is a line and its data block, whole", ErrBadFrame)
	}
	return append(dst, payload...), nil
}

func (c BlockCodec) maxFrameLen() int {
	if !c.valid() {
		return 0
	}
	return c.maxLine() + c.MaxBlock + len(blockEnd)
}

func (c BlockCodec) frameLen(buf []byte) int {
	if !c.valid() {
		return 0
	}
	lineEnd, block, _ := c.scan(buf)
	if lineEnd < 0 || block < 0 || block > c.MaxBlock {
		return 0
	}
	return lineEnd + block + len(blockEnd)
}

func (c BlockCodec) tooLarge(buf []byte) FrameTooLargeError {
	lineEnd, block, tooLong := c.scan(buf)
	if tooLong || lineEnd < 0 {
		return FrameTooLargeError{Size: int64(c.maxLine()) + 1, Max: c.maxLine()}
	}
	return FrameTooLargeError{Size: int64(lineEnd) + int64(block) + int64(len(blockEnd)), Max: c.maxFrameLen()}
}
