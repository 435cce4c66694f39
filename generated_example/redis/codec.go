package redis

import (
	"bytes"
	"errors"

	"github.com/protogen/protogen/runtime/wire"
)

// A RESP2 command is a multibulk, "*<count>\r\n" then count bulk strings
// "$<len>\r\n<bytes>\r\n", or, when the first byte is not '*', an inline
// command: one line of words split as redis-cli splits them, with
// "double" and 'single' quotes. Codec finds one whole command per frame,
// so that the wire.Framer keeps a command split across reads and
// passes each complete one to the server in place. The parser follows
// Redis 7's (networking.c) in what it accepts and in the words of its
// errors.

// Defaults of [Limits]. Redis allows bulk strings of 512 MiB and 2^31
// arguments; these are far smaller, so that one connection can never make
// the server hold much.
const (
	DefaultMaxBulkLen    = 8 << 20  // longest bulk string
	DefaultMaxArgs       = 64 << 10 // most arguments in one command
	DefaultMaxCommandLen = 16 << 20 // longest command, as encoded
)

// MaxInlineLen is Redis's PROTO_INLINE_MAX_SIZE: the longest inline
// command, and the longest header line ("*<count>", "$<len>") that the
// parser waits for the end of.
const MaxInlineLen = 64 << 10

// Limits bound what one command may make a connection hold. A zero field
// means its default. A bulk string or an argument count over its limit is
// refused as Redis refuses one over its own limits, with "invalid bulk
// length" or "invalid multibulk length", and a command over MaxCommandLen
// closes the connection without a reply, as Redis closes a client over its
// query buffer limit. Each is refused as soon as its header is read, so a
// hostile length allocates nothing.
type Limits struct {
	MaxBulkLen    int // the longest bulk string: Redis's proto-max-bulk-len
	MaxArgs       int // the most arguments in a command, its name included
	MaxCommandLen int // the longest command, as encoded: Redis's client-query-buffer-limit
}

func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = DefaultMaxArgs
	}
	if l.MaxCommandLen <= 0 {
		l.MaxCommandLen = DefaultMaxCommandLen
	}
	return l
}

// ProtocolError is a command that is not RESP, or over a limit. Redis
// answers it with "-ERR Protocol error: " and Reason, then closes the
// connection, and so does [Server]. It matches [wire.ErrBadFrame], or
// [wire.ErrFrameTooLarge] when a limit was exceeded.
type ProtocolError struct {
	Reason   string // Redis's words, such as "invalid bulk length"
	TooLarge bool   // a length over a limit of Limits or over MaxInlineLen
}

// Error returns the reason, for logs.
func (e *ProtocolError) Error() string { return "redis: protocol error: " + e.Reason }

// Is reports whether target is wire.ErrBadFrame, or
// wire.ErrFrameTooLarge for an error about a limit.
func (e *ProtocolError) Is(target error) bool {
	return target == wire.ErrBadFrame || e.TooLarge && target == wire.ErrFrameTooLarge
}

// The protocol errors, made once so that refusing a command allocates
// nothing. Redis gives "invalid multibulk length" and "invalid bulk length"
// both for malformed numbers and for numbers over its limits; so do we.
var (
	errBigMultibulkCount = &ProtocolError{Reason: "too big mbulk count string", TooLarge: true}
	errBigBulkCount      = &ProtocolError{Reason: "too big bulk count string", TooLarge: true}
	errBigInline         = &ProtocolError{Reason: "too big inline request", TooLarge: true}
	errMultibulkLen      = &ProtocolError{Reason: "invalid multibulk length"}
	errMultibulkTooLarge = &ProtocolError{Reason: "invalid multibulk length", TooLarge: true}
	errBulkLen           = &ProtocolError{Reason: "invalid bulk length"}
	errBulkTooLarge      = &ProtocolError{Reason: "invalid bulk length", TooLarge: true}
	errUnbalancedQuotes  = &ProtocolError{Reason: "unbalanced quotes in request"}
	errExpectedDollar    [256]*ProtocolError // indexed by the byte found instead
)

func init() {
	for i := range errExpectedDollar {
		errExpectedDollar[i] = &ProtocolError{Reason: "expected '$', got '" + string(sanitizeByte(byte(i))) + "'"}
	}
}

// sanitizeByte is what Redis puts in an error reply for b: a space for a
// CR or LF, which would end the reply early.
func sanitizeByte(b byte) byte {
	if b == '\r' || b == '\n' {
		return ' '
	}
	return b
}

// errNotOneCommand is AppendFrame's error for a payload that is not
// exactly one command.
var errNotOneCommand = errors.New("redis: payload is not exactly one RESP command")

// Codec is a [wire.Codec] whose frames are whole RESP commands. The
// payload of a frame is the command's own encoding; [Codec.Args] gives its
// arguments, which Next has already parsed: so each command is parsed
// once, and its arguments alias the bytes read (the payload), never a
// copy, except inline words with quotes, which are unescaped into a buffer
// of the Codec.
//
// A Codec holds the arguments of the last command it found, so it belongs
// to one connection and is not safe for concurrent use. The zero value
// uses the default limits.
type Codec struct {
	Limits Limits // what a command may hold; the zero value means the defaults

	args    [][]byte // the arguments of frame
	frame   []byte   // the last frame Next returned
	scratch []byte   // unescaped quoted inline words
	pending pending  // how far the last call checked an incomplete multibulk
}

// pending is how far Next checked a multibulk that it found incomplete.
type pending struct {
	len  int   // the length of the buffer; 0 when there is nothing to resume
	pos  int   // the offset of the next header line to read
	from int   // where in that line its "\r" may be: no "\r" before
	left int64 // the bulk strings still to read, or -1 before the count
}

// Next implements [wire.Codec]. It returns a frame of a command
// without arguments (an empty line, "*0\r\n") too, which Redis skips.
//
// A command that arrives a few bytes at a time must not cost time
// quadratic in its length, so Next remembers how far it checked a command
// it found incomplete: when the next call's scanned is the length of that
// buffer, buf[:scanned] must hold the same bytes, as it does when a Framer
// calls. Once the command is complete, one more pass collects its
// arguments.
func (c *Codec) Next(buf []byte, scanned int) (n int, payload []byte, err error) {
	c.args, c.frame = c.args[:0], nil
	scanned = min(max(scanned, 0), len(buf))
	resume := c.pending
	c.pending = pending{}
	if len(buf) == 0 {
		return 0, nil, nil
	}
	if buf[0] == '*' {
		n, err = c.multibulk(buf, scanned, resume)
	} else {
		n, err = c.inline(buf, scanned)
	}
	if n == 0 || err != nil {
		c.args = c.args[:0]
		return 0, nil, err
	}
	c.frame = buf[:n:n]
	return n, c.frame, nil
}

// Args returns the arguments of frame, a payload that Next returned. For
// the last one, as when a Framer calls back right after Next, they are the
// ones Next parsed; any other frame is parsed again. They alias frame (or
// the Codec's buffer for quoted inline words) and are valid until the next
// call of Next or Args.
func (c *Codec) Args(frame []byte) [][]byte {
	if len(frame) > 0 && len(c.frame) == len(frame) && &c.frame[0] == &frame[0] {
		return c.args
	}
	if n, _, err := c.Next(frame, 0); err != nil || n != len(frame) {
		return nil
	}
	return c.args
}

// AppendFrame implements [wire.Codec]: payload must be the encoding of
// exactly one command, which is appended as it is. Use [AppendCommand] to
// encode one.
func (c *Codec) AppendFrame(dst, payload []byte) ([]byte, error) {
	check := Codec{Limits: c.Limits}
	n, _, err := check.Next(payload, 0)
	switch {
	case err != nil:
		return dst, err
	case n != len(payload):
		return dst, errNotOneCommand
	}
	return append(dst, payload...), nil
}

// shrink drops buffers grown for a big command.
func (c *Codec) shrink() {
	if cap(c.args) > 1024 {
		c.args = nil
	}
	if cap(c.scratch) > keepBuffers {
		c.scratch = nil
	}
	c.frame = nil
}

// multibulk parses "*<count>\r\n" and count bulk strings at the start of
// buf, going on where an earlier call stopped if resume is for buf. It
// returns the command's length, or 0 while it is incomplete.
func (c *Codec) multibulk(buf []byte, scanned int, resume pending) (int, error) {
	if resume.len == 0 || resume.len != scanned {
		return c.parseMultibulk(buf, 0, -1, 0, true)
	}
	n, err := c.parseMultibulk(buf, resume.pos, resume.left, resume.from, false)
	if n == 0 || err != nil {
		return n, err
	}
	// Complete and valid: collect the arguments, in one more pass.
	return c.parseMultibulk(buf, 0, -1, 0, true)
}

// parseMultibulk reads buf from the header line at pos, whose "\r" is not
// before pos+from, with left bulk strings still to read (-1 before the
// count), and appends each bulk string to c.args when collect is set. Like
// Redis, it ends a header line at its "\r" and skips the byte after it,
// and skips the two bytes after a bulk string, without checking that they
// are "\n" and "\r\n". When the command is incomplete it returns 0 and
// sets c.pending.
func (c *Codec) parseMultibulk(buf []byte, pos int, left int64, from int, collect bool) (int, error) {
	lim := c.Limits.withDefaults()
	// incomplete notes where to go on: at the header line at pos, whose
	// "\r" may be the last byte of buf if the line was not complete.
	incomplete := func(lineDone bool) (int, error) {
		c.pending = pending{len: len(buf), pos: pos, left: left}
		if !lineDone {
			c.pending.from = max(len(buf)-pos-1, 0)
		}
		return 0, nil
	}
	if left < 0 {
		count, next, h := header(buf[pos:], from)
		switch {
		case h == headerIncomplete:
			if len(buf) > MaxInlineLen {
				return 0, errBigMultibulkCount
			}
			return incomplete(false)
		case h == headerBad:
			return 0, errMultibulkLen
		case count > int64(lim.MaxArgs):
			return 0, errMultibulkTooLarge
		case count <= 0:
			return next, nil // Redis skips an empty (or negative) multibulk
		}
		pos, left, from = next, count, 0
	}
	for ; left > 0; left-- {
		rest := buf[pos:]
		size, next, h := header(rest, from)
		from = 0
		switch {
		case h == headerIncomplete:
			if len(rest) > MaxInlineLen {
				return 0, errBigBulkCount
			}
			return incomplete(false)
		case rest[0] != '$':
			return 0, errExpectedDollar[rest[0]] // rest[0] may be the '\r'
		case h == headerBad || size < 0:
			return 0, errBulkLen
		case size > int64(lim.MaxBulkLen):
			return 0, errBulkTooLarge
		}
		start := pos + next
		end := start + int(size)
		if end+2 > lim.MaxCommandLen {
			return 0, wire.ErrFrameTooLarge
		}
		if end+2 > len(buf) {
			return incomplete(true)
		}
		if collect {
			c.args = append(c.args, buf[start:end:end])
		}
		pos = end + 2
	}
	return pos, nil
}

// headerState is what header found.
type headerState uint8

const (
	headerOK         headerState = iota
	headerIncomplete             // the line's "\r", or the byte after it, has not arrived
	headerBad                    // the line's number is not one that parseInt takes
)

// header parses a header line at the start of buf, "*<count>" or
// "$<length>", up to its first "\r", which the next byte must follow;
// buf[:from] is known to hold no "\r". It returns the number after the
// type byte (which the caller checks) and the offset after the "\r" and
// the byte after it.
func header(buf []byte, from int) (n int64, next int, state headerState) {
	// The common case, a short positive number, in one pass.
	var v int64
	for i := 1; i < len(buf) && i <= 18; i++ {
		d := buf[i] - '0'
		if d <= 9 && (i > 1 || d > 0) {
			v = v*10 + int64(d)
			continue
		}
		if buf[i] == '\r' && i > 1 && i+1 < len(buf) {
			return v, i + 2, headerOK
		}
		break
	}
	// Everything else: 0, negative numbers, malformed or long lines.
	i := bytes.IndexByte(buf[from:], '\r')
	if i >= 0 {
		i += from
	}
	switch {
	case i < 0 || i+2 > len(buf):
		return 0, 0, headerIncomplete
	case i == 0:
		return 0, 0, headerBad // no type byte: the caller reports the "\r"
	}
	v, ok := parseInt(buf[1:i])
	if !ok {
		return 0, 0, headerBad
	}
	return v, i + 2, headerOK
}

// inline parses the line at the start of buf into words. Like Redis, it
// looks for the line's end with C's strchr, which stops at a NUL byte: an
// inline command with a NUL never ends, and is refused once it is over
// MaxInlineLen.
func (c *Codec) inline(buf []byte, scanned int) (int, error) {
	end := bytes.IndexByte(buf[scanned:], '\n') // buf[:scanned] holds none
	if end >= 0 {
		end += scanned
	}
	if end < 0 || bytes.IndexByte(buf[:end], 0) >= 0 {
		if len(buf) > MaxInlineLen {
			return 0, errBigInline
		}
		return 0, nil
	}
	line := buf[:end]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if err := c.splitWords(line); err != nil {
		return 0, err
	}
	return end + 1, nil
}

// splitWords appends the words of line to c.args as Redis's sdssplitargs
// splits them: words are separated by blanks; "double quotes" take the
// escapes \n \r \t \b \a \xHH and a backslash before any other character,
// 'single quotes' only \'; a quote may start inside a word, and a closing
// quote ends the word and must be followed by a blank or the end. A word
// without quotes aliases line; the others are unescaped into c.scratch.
func (c *Codec) splitWords(line []byte) error {
	c.scratch = c.scratch[:0]
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return nil
		}
		start := i
		for i < len(line) && !isWordEnd(line[i]) && line[i] != '"' && line[i] != '\'' {
			i++
		}
		if i == len(line) || isWordEnd(line[i]) {
			c.args = append(c.args, line[start:i:i]) // no quotes: in place
			continue
		}
		// Earlier words in scratch keep the array they were appended to,
		// so growing it cannot move them.
		w := len(c.scratch)
		c.scratch = append(c.scratch, line[start:i]...)
		var err error
		if i, err = c.unquote(line, i); err != nil {
			return err
		}
		c.args = append(c.args, c.scratch[w:len(c.scratch):len(c.scratch)])
	}
}

// unquote appends to c.scratch the quoted string that starts at line[i]
// and returns the offset after its closing quote.
func (c *Codec) unquote(line []byte, i int) (int, error) {
	q := line[i]
	for i++; i < len(line); {
		b := line[i]
		switch {
		case b == q:
			if i+1 < len(line) && !isSpace(line[i+1]) {
				return 0, errUnbalancedQuotes
			}
			return i + 1, nil
		case q == '"' && b == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
			c.scratch = append(c.scratch, unhex(line[i+2])<<4|unhex(line[i+3]))
			i += 4
		case q == '"' && b == '\\' && i+1 < len(line):
			c.scratch = append(c.scratch, unescape(line[i+1]))
			i += 2
		case q == '\'' && b == '\\' && i+1 < len(line) && line[i+1] == '\'':
			c.scratch = append(c.scratch, '\'')
			i += 2
		default:
			c.scratch = append(c.scratch, b)
			i++
		}
	}
	return 0, errUnbalancedQuotes // the line ended inside the quotes
}

// isSpace is C's isspace, which Redis skips between words.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// isWordEnd reports whether b ends an unquoted word in sdssplitargs, which
// unlike isspace does not stop at \v and \f.
func isWordEnd(b byte) bool { return b == ' ' || b == '\n' || b == '\r' || b == '\t' }

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case b <= '9':
		return b - '0'
	case b <= 'F':
		return b - 'A' + 10
	}
	return b - 'a' + 10
}

func unescape(b byte) byte {
	switch b {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return b
}

// parseInt parses b as Redis's string2ll does: an optional '-', then
// digits without a leading zero (but "0" itself), fitting an int64;
// nothing else, not even a '+' or a blank.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	// 19 digits fit a uint64; 20 never fit an int64.
	if len(b) == 0 || len(b) > 19 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		v = v*10 + uint64(d-'0')
	}
	switch {
	case neg && v <= 1<<63:
		return int64(-v), true
	case !neg && v < 1<<63:
		return int64(v), true
	}
	return 0, false
}

// AppendCommand appends args encoded as a multibulk command to dst.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = appendHeader(dst, '*', int64(len(args)))
	for _, a := range args {
		dst = appendBulk(dst, a)
	}
	return dst
}
