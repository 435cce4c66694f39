package protoflowtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Errors of the peer's side. Write, Close and CloseWrite on the transport
// fail with an error that matches [net.ErrClosed], as the real transport's
// do.
var (
	// ErrLost is returned by Feed and FeedEOF once the connection is
	// lost: the peer cannot send any more. It matches [net.ErrClosed].
	ErrLost = fmt.Errorf("protoflowtest: connection lost: %w", net.ErrClosed)
	// ErrFedEOF is returned by Feed and FeedEOF after FeedEOF: the peer
	// has closed its write side.
	ErrFedEOF = errors.New("protoflowtest: the peer has closed its write side (FeedEOF)")
)

// errClosed is the transport's error once it is closing or lost.
var errClosed = fmt.Errorf("protoflowtest: transport is closed: %w", net.ErrClosed)

// Conn is one in-memory connection: a protocol at one end, driven through
// the [protoflow.Transport] that [Conn.Transport] returns, and the test at
// the other end, acting as the peer (Feed, FeedEOF, Reset, ReadAll,
// ReadFrame, Stall) and as the clock (Advance).
//
// Every method of Conn is safe for concurrent use, but none may be called
// from the protocol's callbacks: they play the real transport's own
// goroutines, which a callback never waits for.
type Conn struct {
	// Immutable after New.
	proto    protoflow.Protocol
	handler  protoflow.TimeoutHandler // proto's, or nil
	tr       *transport
	readSize int      // the most bytes one DataReceived gets
	before   []uint64 // the goroutines that existed before New, for Finish

	mu   sync.Mutex // guards the following
	idle sync.Cond  // L is &mu: broadcast when running becomes false, a pump goroutine ends or ConnectionLost returns

	// The right to run callbacks (see deliver.go).
	running     bool // a goroutine is running callbacks
	pending     int  // water-mark transitions decided and not yet delivered
	delivered   bool // the last transition delivered was PauseWriting
	pumps       int  // pump goroutines started and not yet ended
	lostStarted bool // ConnectionLost has been called: nothing more is delivered
	lostDone    bool // ConnectionLost has returned (or ended in a panic)
	lostErr     error
	done        chan struct{} // closed when lostDone is set

	// The connection's state.
	closing     bool  // Close was called: flush, then lose
	shutWrite   bool  // CloseWrite was called: flush, then close the write side
	writeClosed bool  // the write side is closed: the peer sees EOF after received
	dead        bool  // the connection is over; ConnectionLost is due
	cause       error // why it died; nil for a clean close
	latePanic   error // the first panic in a callback after a clean death

	// The read side: what the peer sent and the protocol has not got.
	readPaused bool   // PauseReading without ResumeReading
	readDone   bool   // EOFReceived has been delivered (or is being)
	held       []byte // fed and not yet delivered
	fedEOF     bool   // FeedEOF was called
	eofDue     bool   // FeedEOF was called and EOFReceived not yet delivered
	rbuf       []byte // the buffer DataReceived gets, poisoned after each call

	// The write side: what the protocol wrote and the test has not read.
	queue       []byte        // the transport's write queue: written, not yet taken by the peer
	high, low   int           // the water marks
	writePaused bool          // the queue rose above high and has not fallen to low since
	stalled     bool          // the peer takes nothing: writes queue
	received    []byte        // taken by the peer, not yet read by the test
	changed     chan struct{} // closed when received grows or the write side closes (broadcastLocked); made by a waiter

	clock clock
}

// An Option configures a [Conn] made by [New].
type Option func(*config)

type config struct {
	high, low int
	readSize  int
	err       error
}

// WithWriteBufferLimits sets the initial water marks, as
// protoflow.WithWriteBufferLimits does (default 64 KiB and 16 KiB). New
// panics if high >= low >= 0 does not hold.
func WithWriteBufferLimits(high, low int) Option {
	return func(c *config) {
		if high < low || low < 0 {
			c.err = &protoflow.BufferLimitsError{High: high, Low: low}
			return
		}
		c.high, c.low = high, low
	}
}

// WithReadBufferSize sets the most bytes one DataReceived gets, as
// protoflow.WithReadBufferSize does (default 256 KiB): Feed hands longer
// input over in pieces of that size. Sizes below 1 are ignored.
func WithReadBufferSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readSize = n
		}
	}
}

// New connects p to an in-memory peer and runs p.ConnectionMade on the
// calling goroutine before it returns. The peer takes whatever p writes
// (see [Conn.Stall]); the clock stands still until [Conn.Advance].
func New(p protoflow.Protocol, opts ...Option) *Conn {
	c := newConn(p, opts)
	c.before = goroutineIDs()
	c.start()
	return c
}

// newConn makes a Conn without starting it.
func newConn(p protoflow.Protocol, opts []Option) *Conn {
	cfg := config{
		high:     protoflow.DefaultHighWater,
		low:      protoflow.DefaultLowWater,
		readSize: protoflow.DefaultReadBufferSize,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.err != nil {
		panic("protoflowtest: New: " + cfg.err.Error())
	}
	c := &Conn{
		proto:    p,
		readSize: cfg.readSize,
		high:     cfg.high,
		low:      cfg.low,
		done:     make(chan struct{}),
	}
	c.handler, _ = p.(protoflow.TimeoutHandler)
	c.tr = &transport{c}
	c.idle.L = &c.mu
	return c
}

// start runs ConnectionMade and whatever it made due.
func (c *Conn) start() {
	c.drive(func() {
		c.callLocked("ConnectionMade", func() { c.proto.ConnectionMade(c.tr) })
	})
}

// Transport returns the transport that the protocol got in ConnectionMade.
// A test can call its methods as the protocol would, from any goroutine.
func (c *Conn) Transport() protoflow.Transport { return c.tr }

// Feed sends p to the protocol, as a peer's write. DataReceived runs on the
// calling goroutine, in pieces of at most the read buffer size, before Feed
// returns, unless reading is paused: then the bytes are held and delivered
// when reading resumes. The slice DataReceived gets is overwritten after
// each call, so that a protocol that keeps it past the call, which the
// contract forbids, sees garbage at once.
//
// Feed drops p when the transport is closing, as a transport that stopped
// reading does. It returns [ErrLost] once the connection is lost and
// [ErrFedEOF] after FeedEOF.
func (c *Conn) Feed(p []byte) error {
	var err error
	c.drive(func() {
		switch {
		case c.dead:
			err = ErrLost
		case c.fedEOF:
			err = ErrFedEOF
		case c.closing:
			// The transport no longer reads.
		default:
			c.held = append(c.held, p...)
		}
	})
	return err
}

// FeedEOF closes the peer's write side, a half close: EOFReceived runs on
// the calling goroutine after the bytes fed before it, unless reading is
// paused (then when it resumes) or the transport is closing (then never).
// If EOFReceived returns false the transport closes itself, and once its
// queue is flushed ConnectionLost(nil) runs too. FeedEOF returns
// [ErrLost] once the connection is lost and [ErrFedEOF] the second time.
func (c *Conn) FeedEOF() error {
	var err error
	c.drive(func() {
		switch {
		case c.dead:
			err = ErrLost
		case c.fedEOF:
			err = ErrFedEOF
		default:
			c.fedEOF = true
			c.eofDue = !c.closing
		}
	})
	return err
}

// Reset ends the connection abruptly, as a peer's reset does: the queue is
// dropped and ConnectionLost runs on the calling goroutine with cause, or
// with an error that matches [syscall.ECONNRESET] if cause is nil. It does
// nothing once the connection is lost.
func (c *Conn) Reset(cause error) {
	if cause == nil {
		cause = resetError()
	}
	c.drive(func() { c.killLocked(cause) })
}

// Stall makes the peer stop reading: what the protocol writes from now on
// stays in the transport's queue (WriteBufferSize), and PauseWriting comes
// once the queue rises above the high-water mark. Close then waits for the
// queue to be taken.
func (c *Conn) Stall() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stalled = true
}

// Unstall makes the peer read again: it takes the whole queue at once,
// and ResumeWriting (if writing was paused) and anything else that follows,
// such as ConnectionLost after a Close, run on the calling goroutine.
func (c *Conn) Unstall() {
	c.drive(func() {
		c.stalled = false
		c.takeLocked(len(c.queue))
	})
}

// Flush makes a stalled peer take up to n bytes of the queue (all of it if
// n is negative) and stay stalled, and returns how many it took.
// ResumeWriting runs on the calling goroutine if the queue falls to the
// low-water mark.
func (c *Conn) Flush(n int) int {
	c.drive(func() {
		if n < 0 || n > len(c.queue) {
			n = len(c.queue)
		}
		c.takeLocked(n)
	})
	return n
}

// takeLocked moves the first n bytes of the queue to the peer and applies
// what follows: a transition, and the end of a Close or CloseWrite that
// waited for the queue. c.mu must be held.
func (c *Conn) takeLocked(n int) {
	if c.dead || n == 0 && len(c.queue) > 0 {
		return
	}
	if n > 0 {
		c.received = append(c.received, c.queue[:n]...)
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = nil
		}
		c.clock.lastWrite = c.clock.now
		c.pending += c.transitionLocked()
	}
	if len(c.queue) == 0 {
		switch {
		case c.closing:
			c.killLocked(nil)
		case c.shutWrite:
			c.writeClosed = true
		}
	}
	c.broadcastLocked()
}

// ReadAll returns every byte that the peer has taken and the test has not
// read yet, in the order the protocol wrote them; nil if there is none.
func (c *Conn) ReadAll() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked()
	p := c.received
	c.received = nil
	return p
}

// WriteClosed reports whether the protocol's side has closed its write
// side: CloseWrite or Close has flushed the queue, or the connection is
// lost. A real peer would read EOF after the bytes that ReadAll returns.
func (c *Conn) WriteClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked()
	return c.writeClosed
}

// Lost reports whether ConnectionLost has run, and the error it got. It
// first waits for a ConnectionLost that is due, such as after a Close
// called from another goroutine.
func (c *Conn) Lost() (lost bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked()
	for c.dead && !c.lostDone {
		c.idle.Wait()
	}
	return c.lostDone, c.lostErr
}

// Done returns a channel that is closed once ConnectionLost has returned.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Finish ends a test of c and checks that nothing leaked: it aborts the
// connection unless it is lost, waits up to 10 seconds for ConnectionLost
// to return, and then up to 2 seconds for every goroutine started since
// New to end, and fails t, with their stacks, for those still running.
// Call it once the test's own goroutines are done, as with
// goleak.VerifyNone; it cannot tell the goroutines of parallel tests from
// the protocol's, so such tests should rely on goleak.VerifyTestMain.
func (c *Conn) Finish(t testing.TB) {
	t.Helper()
	c.tr.Abort()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Errorf("protoflowtest: ConnectionLost has not returned 10s after Abort")
		return
	}
	c.mu.Lock()
	c.settleLocked()
	c.mu.Unlock()
	if left := waitLeftovers(c.before, 2*time.Second); len(left) > 0 {
		t.Errorf("protoflowtest: %d goroutines started since New are still running after ConnectionLost:\n\n%s",
			len(left), bytes.Join(left, []byte("\n\n")))
	}
}

// broadcastLocked wakes those that wait for the bytes the peer took or the
// end of the write side. c.mu must be held.
func (c *Conn) broadcastLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// changedLocked returns a channel closed at the next broadcastLocked. c.mu
// must be held.
func (c *Conn) changedLocked() <-chan struct{} {
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}
