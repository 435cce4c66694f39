package wire

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// A stream transport hands DataReceived whatever the socket had: half a
// message, or three and a bit. Framing turns those reads back into the
// messages the peer wrote. A [Codec] knows one wire format (lines,
// delimiters, length headers, fixed sizes); a [Framer] keeps the bytes of a
// frame split across reads; [WriteFrame] writes one frame at a time.

const (
	// DefaultMaxLine is the maximum frame length, terminator included, of a
	// [LineCodec] or [DelimiterCodec] whose Max is 0.
	DefaultMaxLine = 64 << 10
	// DefaultMaxLength is the maximum payload length of a [LengthCodec]
	// whose Max is 0.
	DefaultMaxLength = 8 << 20
)

var (
	// ErrFrameTooLarge is matched by the error returned when a frame
	// exceeds its codec's maximum. A [Framer] returns a
	// [*FrameTooLargeError]; a codec's Next returns ErrFrameTooLarge itself,
	// so that rejecting a hostile header allocates nothing.
	ErrFrameTooLarge = errors.New("wire: frame too large")

	// ErrBadFrame is matched by the error returned for bytes that cannot be
	// a frame, such as a [LengthCodec] header with IncludesHeader whose
	// length is shorter than the header itself, and by the error of
	// AppendFrame for a payload that cannot be framed unambiguously.
	ErrBadFrame = errors.New("wire: malformed frame")
)

// Errors that AppendFrame returns for payloads it cannot frame. They are
// made once so that a rejected payload allocates nothing.
var (
	errDelimInPayload = fmt.Errorf("%w: payload contains the delimiter", ErrBadFrame)
	errTrailingCR     = fmt.Errorf(`%w: payload ends with "\r", which the decoder would strip`, ErrBadFrame)
)

var (
	// errNoCodec is Feed's error on a Framer that NewFramer or Init did not
	// set up.
	errNoCodec = errors.New("wire: Framer has no codec: use NewFramer or Init")
	// errCodecBroken stops a Framer whose codec, not of this package,
	// breaks the Next contract in a way that would otherwise loop or grow
	// the buffer without bound.
	errCodecBroken = errors.New("wire: codec broke the Next contract")

	errNestedFeed = errors.New("wire: Framer.Feed with data from inside its own callback")
)

// FrameTooLargeError reports a frame longer than its codec allows. It
// matches [ErrFrameTooLarge] with [errors.Is].
type FrameTooLargeError struct {
	// Size is the frame's size, or a lower bound on it when the frame's
	// end was not seen: a delimited frame that reached Max bytes without its
	// terminator is reported as Max+1. A length header too big for int64 is
	// reported as [math.MaxInt64].
	Size int64
	// Max is the codec's maximum. Both are measured as the codec measures
	// them: the whole frame, terminator included, for [LineCodec] and
	// [DelimiterCodec]; the payload for [LengthCodec].
	Max int
}

// Error gives the frame's size and the maximum.
func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("wire: frame too large: size %d exceeds max %d", e.Size, e.Max)
}

// Is reports whether target is ErrFrameTooLarge.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// Codec finds frames in a byte stream and encodes payloads as frames. The
// codecs of this package are small value types whose zero Max means a
// default, so that a literal such as LineCodec{Max: 8192} is a Codec.
type Codec interface {
	// Next examines buf, the unread bytes, and returns n, the length of
	// the first complete frame's encoding (0 if buf holds none yet), and
	// payload, the frame's payload within buf[:n]. buf[:scanned] is known
	// to hold no complete frame, so that delimiter codecs need not scan it
	// again: a Framer passes scanned > 0 only when buf[:scanned] are the
	// very bytes of its previous call, which returned n == 0, so that a
	// codec may also resume a parse it began there and stay linear in the
	// frame's length. Next returns an error matching ErrFrameTooLarge as soon as the
	// frame under way must exceed the maximum, without waiting for the
	// rest of it.
	Next(buf []byte, scanned int) (n int, payload []byte, err error)
	// AppendFrame appends payload encoded as one frame to dst. It returns
	// dst unchanged and an error if payload is too large for the codec or
	// cannot be framed unambiguously.
	AppendFrame(dst, payload []byte) ([]byte, error)
}

// builtinCodec is implemented by this package's codecs. It tells a Framer
// what the Codec interface cannot: how big its buffer may have to grow, and
// how much of a read the frame under way still needs, so that it copies no
// more than that.
type builtinCodec interface {
	Codec
	// maxFrameLen returns the longest encoding a frame may have, or 0 if
	// the codec's configuration is invalid.
	maxFrameLen() int
	// frameLen returns the length of the encoding of the frame that starts
	// buf, or 0 if buf does not tell it yet.
	frameLen(buf []byte) int
	// tooLarge describes the ErrFrameTooLarge that Next returned for buf.
	tooLarge(buf []byte) FrameTooLargeError
}

// Framer buffer sizes. A frame split across reads starts in a buffer of
// minFramerBuf bytes; Reset keeps a buffer of up to keepFramerBuf bytes for
// the next frames and releases a bigger one.
const (
	minFramerBuf  = 512
	keepFramerBuf = 4 << 10
)

// Framer reassembles frames from the reads of one connection: call Feed
// from DataReceived. It is not safe for concurrent use, which suits
// DataReceived, as a connection's callbacks never run concurrently.
//
// Create one with [NewFramer], or call [Framer.Init] on a Framer held by
// value in a protocol struct. The zero value has no codec and its Feed
// returns an error. [Framer.SetHost] lends it the connection's reassembly
// buffers and timer: generated protocols pass their transport with protoflow.HostFramer.
type Framer struct {
	codec Codec
	fast  builtinCodec // codec, when it is one of this package's; else nil
	limit int          // the longest frame encoding the codec accepts; 0 if unknown

	// buf holds the bytes not passed on yet. Usually that is the start of
	// a frame split across reads, all of which the codec has seen: buf
	// holds no complete frame. Once fn has refused a frame, held is true
	// and buf holds that frame and every byte fed after it.
	buf     []byte
	held    bool
	paused  bool  // Pause without Resume: fn gets no frame
	feeding bool  // a Feed is running: a nested one must not touch buf
	err     error // sticky: the first error of Feed, until Reset

	// With a Host (SetHost), a buffer bigger than keepFramerBuf comes from
	// it and goes back to it as soon as it is empty, and the host hears
	// when a frame begins (see Host.Partial).
	host    Host
	hosted  bool // buf came from host.Buffer
	fresh   bool // buf's bytes begin a frame that started during the running Feed
	holding bool // the last word to host was Partial(true)

	// tooLarge is where err points when a frame is too large, so that
	// failing on a hostile header allocates nothing.
	tooLarge FrameTooLargeError
}

// NewFramer returns a Framer that splits frames with c.
func NewFramer(c Codec) *Framer {
	f := new(Framer)
	f.Init(c)
	return f
}

// Init makes f split frames with c, dropping any buffered bytes, error and
// pause, so that a protocol struct can hold a Framer by value. It keeps a
// small buffer for reuse. Storing c copies a codec passed by value to the
// heap unless its fields are constants; a pointer to a codec in a
// package-level variable never allocates.
func (f *Framer) Init(c Codec) {
	f.codec, f.fast, f.limit, f.paused = c, nil, 0, false
	if b, ok := c.(builtinCodec); ok {
		f.fast, f.limit = b, max(b.maxFrameLen(), 0)
	}
	f.Reset()
}

// Feed splits data into frames and calls fn with each payload, in order.
// Frames that lie wholly inside data are passed without copying (payload
// aliases data); a frame split across calls is reassembled in the Framer's
// buffer, which never grows beyond the codec's maximum frame size (plus
// header), and which a [Host] may lend and take back (then the same memory
// serves another connection next). Either way a payload is valid only
// during fn: copy what must outlive it. fn may call Feed(nil), which
// does nothing: the running Feed goes on passing the held frames, in order
// (a generated ResumeReading called from a frame's hook relies on this);
// Feed with data from inside fn is an error.
//
// If fn returns false, it refuses the frame: Feed stops and returns nil,
// and the Framer keeps that frame and every byte after it, to pass them to
// fn first at the next Feed (Feed(nil) passes just them). So a protocol
// can stop taking frames while reading is paused, in the middle of a read.
// Held bytes are a copy of the rest of data, so they may exceed the
// maximum frame size by up to one read. A protocol whose connection is
// going away can drop them with Reset, or just drop the Framer.
//
// On a frame too large or malformed, or a codec with an invalid
// configuration, Feed returns the error (a [*FrameTooLargeError] for too
// large) and the Framer is then unusable: later Feeds return the same
// error until Reset.
func (f *Framer) Feed(data []byte, fn func(payload []byte) bool) error {
	if f.err != nil {
		return f.err
	}
	if f.codec == nil {
		return errNoCodec
	}
	if f.feeding {
		// Called from fn. Feed(nil) asks for the held frames, which the
		// running Feed passes on itself once fn returns; new data would
		// overtake the frames still to come.
		if len(data) > 0 {
			return errNestedFeed
		}
		return nil
	}
	f.feeding = true
	defer func() {
		f.feeding = false
		f.settle()
	}()
	if f.held && !f.release(fn) {
		if f.err == nil {
			f.keep(data)
		}
		return f.err
	}
	if len(f.buf) > 0 {
		var ok bool
		if data, ok = f.resume(data, fn); !ok {
			return f.err
		}
	}
	// The frames that lie wholly inside data go to fn in place.
	for len(data) > 0 {
		n, payload, err := f.codec.Next(data, 0)
		if err != nil {
			return f.fail(err, data)
		}
		if n == 0 {
			break
		}
		if n > len(data) {
			return f.fail(errCodecBroken, nil)
		}
		if !f.take(fn, payload) {
			f.held = true
			f.keep(data)
			return nil
		}
		data = data[n:]
	}
	if len(data) > 0 {
		if f.limit > 0 && len(data) >= f.limit {
			// A codec that lets a frame reach its limit unfinished would
			// have the buffer grow without bound.
			return f.fail(errCodecBroken, nil)
		}
		f.keep(data)
	}
	return nil
}

// release passes on the frames held since fn refused one, from f.buf in
// place. It returns false if fn refuses one again, with f.buf holding it
// and what follows, or on an error, with f.err set. Otherwise f.buf is left
// with at most the start of a frame, as resume expects.
func (f *Framer) release(fn func([]byte) bool) bool {
	off := 0
	for {
		n, payload, err := f.codec.Next(f.buf[off:], 0)
		if err != nil {
			f.fail(err, f.buf[off:])
			return false
		}
		if n == 0 {
			break
		}
		if n > len(f.buf)-off {
			f.fail(errCodecBroken, nil)
			return false
		}
		if !f.take(fn, payload) {
			f.shift(off)
			return false
		}
		off += n
	}
	f.shift(off)
	f.held = false
	return true
}

// shift drops the first off bytes of f.buf, which fn has taken: what is
// left begins a new frame.
func (f *Framer) shift(off int) {
	if off == 0 {
		return
	}
	f.buf = f.buf[:copy(f.buf, f.buf[off:])]
	f.fresh = len(f.buf) > 0
}

// resume completes the frame begun in f.buf with the start of data. It
// returns the rest of data after that frame, or ok false if Feed must
// return f.err now: an error, or nil after fn refused the frame, which is
// then held with the rest of data.
//
// It appends data in pieces, so that the copy stops soon after the frame's
// end: exactly at it when the codec knows the frame's length, otherwise in
// pieces that double the buffer, which bounds both the bytes copied and
// the calls to Next (each scanning only the new bytes) to a constant
// factor of the frame's length.
func (f *Framer) resume(data []byte, fn func([]byte) bool) (rest []byte, ok bool) {
	pending := len(f.buf)
	used := 0 // bytes of data appended to f.buf
	for used < len(data) {
		k := max(len(f.buf), minFramerBuf)
		if f.fast != nil {
			if want := f.fast.frameLen(f.buf); want > 0 {
				k = want - len(f.buf)
			}
		}
		k = min(k, len(data)-used)
		if f.limit > 0 {
			k = min(k, f.limit-len(f.buf))
		}
		if k <= 0 {
			f.fail(errCodecBroken, nil)
			return nil, false
		}
		scanned := len(f.buf)
		f.keep(data[used : used+k])
		used += k
		n, payload, err := f.codec.Next(f.buf, scanned)
		if err != nil {
			f.fail(err, f.buf)
			return nil, false
		}
		if n == 0 {
			continue
		}
		if n <= pending || n > len(f.buf) {
			// The frame would end inside bytes Next called incomplete.
			f.fail(errCodecBroken, nil)
			return nil, false
		}
		if !f.take(fn, payload) {
			f.held = true
			f.keep(data[used:])
			return nil, false
		}
		f.clearBuf()
		return data[n-pending:], true
	}
	return nil, true
}

// take passes one frame to fn unless the framer is paused, and reports
// whether it was taken.
func (f *Framer) take(fn func([]byte) bool, payload []byte) bool {
	return !f.paused && fn(payload)
}

// Pause makes the framer hold frames, as if fn refused each: from the next
// frame on, Feed passes none to fn and keeps them, with every byte after
// them, until Resume. Called from fn, it lets fn's own frame count as
// taken. A protocol pauses its framer when it pauses reading, so that no
// frame arrives while reading is paused, as no data would, even from the
// rest of the read being fed.
func (f *Framer) Pause() { f.paused = true }

// Resume ends a Pause. The frames held go to fn at the next Feed, before
// any new data: Feed(nil) passes just them, and may meet a frame that
// pauses the framer again (see [Framer.Paused]). Called from fn, it lets
// the running Feed pass them on, in order.
func (f *Framer) Resume() { f.paused = false }

// Paused reports whether the framer is paused.
func (f *Framer) Paused() bool { return f.paused }

// keep appends p to f.buf.
func (f *Framer) keep(p []byte) {
	if len(p) == 0 {
		return
	}
	if len(f.buf) == 0 {
		f.fresh = true
	}
	f.grow(len(p), p)
	f.buf = append(f.buf, p...)
}

// grow makes room for k more bytes in f.buf, the next bytes of the frame
// under way: never beyond that frame's length when the codec tells it, nor
// beyond the codec's limit, unless the bytes already held need it. The
// buffer doubles otherwise, so that a frame is copied a bounded number of
// times. A buffer bigger than keepFramerBuf comes from the host, if there
// is one.
func (f *Framer) grow(k int, next []byte) {
	need := len(f.buf) + k
	if need <= cap(f.buf) {
		return
	}
	head := f.buf
	if len(head) == 0 {
		head = next
	}
	bound := f.frameBound(head) // 0 if unknown
	c := max(need, 2*cap(f.buf), minFramerBuf)
	if bound > 0 {
		c = min(c, max(bound, need))
	}
	hosted := f.host != nil && c > keepFramerBuf
	var b []byte
	if hosted {
		b = f.host.Buffer(c, max(bound, c))
		if cap(b) < c {
			panic(fmt.Sprintf("wire: Host.Buffer returned a buffer of capacity %d; the Framer asked for %d", cap(b), c))
		}
	} else {
		b = make([]byte, 0, c)
	}
	b = append(b[:0], f.buf...)
	f.dropBuf()
	f.buf, f.hosted = b, hosted
}

// frameBound bounds the frame that starts with head: its length when the
// codec tells it, else the codec's limit, else 0 for unknown, as for a
// codec of your own or frames held while fn refuses them (up to a read
// more than the frames, which no bound caps).
func (f *Framer) frameBound(head []byte) int {
	switch {
	case f.held:
		return 0
	case f.fast != nil:
		if n := f.fast.frameLen(head); n > 0 {
			return n
		}
	}
	return f.limit
}

// clearBuf empties f.buf after its frame was taken. A buffer from the host
// goes back to it at once: the next frame is most likely small, and the
// memory is better spent on another connection's. The Framer's own buffer
// stays for the next frames.
func (f *Framer) clearBuf() {
	if f.hosted {
		f.dropBuf()
		return
	}
	f.buf = f.buf[:0]
}

// dropBuf forgets f.buf, giving it back to the host if it came from there.
func (f *Framer) dropBuf() {
	if f.hosted {
		f.host.Release(f.buf[:0])
		f.hosted = false
	}
	f.buf = nil
}

// settle ends a Feed: it gives an emptied buffer back to the host, and
// tells the host whether the bytes held begin a new frame or none is held.
func (f *Framer) settle() {
	fresh := f.fresh
	f.fresh = false
	switch {
	case f.host == nil:
	case len(f.buf) == 0:
		if f.hosted {
			f.dropBuf()
		}
		if f.holding {
			f.holding = false
			f.host.Partial(false)
		}
	case fresh:
		f.holding = true
		f.host.Partial(true)
	}
}

// fail makes err sticky, as a *FrameTooLargeError if it is this package's
// codecs' bare ErrFrameTooLarge for buf, and drops the buffered bytes.
func (f *Framer) fail(err error, buf []byte) error {
	if err == ErrFrameTooLarge && f.fast != nil {
		f.tooLarge = f.fast.tooLarge(buf)
		err = &f.tooLarge
	}
	f.err = err
	f.buf, f.held = f.buf[:0], false
	return err
}

// Buffered returns the number of bytes the Framer holds: the start of a
// frame split across reads, or the frames fn refused and the bytes after
// them.
func (f *Framer) Buffered() int { return len(f.buf) }

// Reset drops the buffered bytes, held frames included, and any error, so
// that the Framer can start on a new stream. It releases a big buffer (to
// the host it came from, if any) and keeps a small one. A
// *FrameTooLargeError returned earlier may be reused by a later failure.
func (f *Framer) Reset() {
	f.err, f.held, f.fresh = nil, false, false
	if f.hosted || cap(f.buf) > keepFramerBuf {
		f.dropBuf()
	}
	f.buf = f.buf[:0]
	if f.holding {
		f.holding = false
		f.host.Partial(false)
	}
}

// maxPooledFrame is the largest scratch buffer WriteFrame keeps for reuse;
// a bigger one, made for a rare big frame, goes to the garbage collector
// rather than sit in the pool.
const maxPooledFrame = 64 << 10

var framePool = sync.Pool{New: func() any {
	b := make([]byte, 0, minFramerBuf)
	return &b
}}

// WriteFrame encodes payload with c and writes it to w in one Write call,
// so that concurrent writers never interleave within a frame when w's Write
// is atomic, as a protoflow.Transport's is. It encodes into a pooled
// scratch buffer, which it can reuse at once because Write must not retain
// it (io.Writer's contract): it allocates nothing in steady state, provided
// c is already an interface value or a pointer (converting a codec struct
// to Codec at each call would copy it to the heap: keep it in a variable of
// type Codec). It returns the error of c.AppendFrame, without writing, or
// that of w.Write.
func WriteFrame(w io.Writer, c Codec, payload []byte) error {
	bp := framePool.Get().(*[]byte)
	b, err := c.AppendFrame((*bp)[:0], payload)
	if err == nil {
		_, err = w.Write(b)
	}
	if cap(b) <= maxPooledFrame {
		*bp = b[:0]
		framePool.Put(bp)
	}
	return err
}
