package protoflowtest

import (
	"errors"
	"net"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Callbacks run one at a time, as over the real transport, on the
// goroutines the real transport would use, played by the callers:
//
//   - Conn's methods that act for the peer or the clock (Feed, FeedEOF,
//     Reset, Unstall, Flush, Advance) play the transport's reader, flusher
//     and timer: they take the right to run callbacks (waiting for a
//     callback running elsewhere to return), run the callbacks they cause,
//     and then everything else that is due (pumpLocked), before they
//     return.
//   - The transport's methods play its callers. A Write or
//     SetWriteBufferLimits that crosses a water mark runs PauseWriting or
//     ResumeWriting on the calling goroutine when no callback is running,
//     and otherwise leaves it to the goroutine running one, which delivers
//     it when its callback returns (notify): the real serializer's rule.
//     DataReceived, EOFReceived and ConnectionLost made due by a transport
//     method (ResumeReading, Close, Abort) run on a pump goroutine of the
//     Conn, as on the real transport's reader, unless a goroutine that
//     delivers them holds the right already (kick).
//
// The methods that run callbacks keep c.mu locked except during a callback,
// and never defer its unlock: a callback that ends its goroutine
// (runtime.Goexit, as t.FailNow does) unwinds with c.mu unlocked; call then
// gives the right up (abandon) and a pump goroutine delivers what is left.

// drive runs fn with c.mu held and the right to run callbacks, then
// delivers whatever is due, on the calling goroutine.
func (c *Conn) drive(fn func()) {
	c.mu.Lock()
	c.acquireLocked()
	fn()
	c.pumpLocked()
	c.releaseLocked()
	c.mu.Unlock()
}

// acquireLocked waits until no goroutine runs callbacks, and takes the
// right to. c.mu must be held.
func (c *Conn) acquireLocked() {
	for c.running {
		c.idle.Wait()
	}
	c.running = true
}

// releaseLocked gives the right to run callbacks back. The caller has
// delivered everything due (pumpLocked) with c.mu held since, so nothing
// is left undelivered. c.mu must be held.
func (c *Conn) releaseLocked() {
	c.running = false
	c.idle.Broadcast()
}

// dueLocked reports whether something waits for a goroutine that delivers
// the read side's callbacks and ConnectionLost. c.mu must be held.
func (c *Conn) dueLocked() bool {
	if c.lostStarted {
		return false
	}
	return c.pending > 0 || c.dead || c.mayReadLocked() && (len(c.held) > 0 || c.eofDue)
}

// mayReadLocked reports whether the protocol may get data now. c.mu must
// be held.
func (c *Conn) mayReadLocked() bool {
	return !c.readPaused && !c.closing && !c.dead && !c.readDone
}

// pumpLocked delivers everything due, in the real transport's order:
// water-mark transitions, then ConnectionLost if the connection is dead,
// else the data held and then EOFReceived while reading is allowed. The
// caller holds the right to run callbacks, and c.mu, which is released
// around each callback.
func (c *Conn) pumpLocked() {
	for !c.lostStarted {
		switch {
		case c.pending > 0:
			c.deliverTransitionLocked()
		case c.dead:
			c.deliverLostLocked()
		case len(c.held) > 0 && c.mayReadLocked():
			c.deliverDataLocked()
		case c.eofDue && c.mayReadLocked():
			c.deliverEOFLocked()
		default:
			return
		}
	}
}

func (c *Conn) deliverTransitionLocked() {
	c.pending--
	c.delivered = !c.delivered
	if c.delivered {
		c.callLocked("PauseWriting", c.proto.PauseWriting)
	} else {
		c.callLocked("ResumeWriting", c.proto.ResumeWriting)
	}
}

func (c *Conn) deliverDataLocked() {
	n := min(len(c.held), c.readSize)
	if cap(c.rbuf) < n {
		c.rbuf = make([]byte, n)
	}
	p := c.rbuf[:n]
	copy(p, c.held)
	c.held = c.held[n:]
	if len(c.held) == 0 {
		c.held = nil
	}
	c.clock.lastRead = c.clock.now
	c.callLocked("DataReceived", func() { c.proto.DataReceived(p) })
	for i := range p {
		p[i] = poison // the protocol must not keep p past the call
	}
}

// poison overwrites what DataReceived got once it has returned, as the
// real transport's next read would.
const poison = 0xdb

func (c *Conn) deliverEOFLocked() {
	c.eofDue = false
	c.readDone = true
	keepOpen := false
	c.callLocked("EOFReceived", func() { keepOpen = c.proto.EOFReceived() })
	if !keepOpen {
		c.closeLocked()
	}
}

func (c *Conn) deliverLostLocked() {
	c.lostStarted = true
	c.pending = 0
	cause := c.cause
	if cause == nil {
		cause = c.latePanic
	}
	c.lostErr = cause
	c.callLocked("ConnectionLost", func() { c.proto.ConnectionLost(cause) })
	c.finishLostLocked()
}

// finishLostLocked records that ConnectionLost has ended. c.mu must be
// held.
func (c *Conn) finishLostLocked() {
	if !c.lostDone {
		c.lostDone = true
		close(c.done)
		c.idle.Broadcast()
		c.broadcastLocked()
	}
}

// callLocked runs one callback with c.mu unlocked. c.mu must be held.
func (c *Conn) callLocked(name string, fn func()) {
	c.mu.Unlock()
	c.call(name, fn)
	c.mu.Lock()
}

// errGoexit is the PanicError value for a callback that called
// runtime.Goexit, as the real transport reports it.
var errGoexit = errors.New("protoflowtest: callback called runtime.Goexit")

// call runs one callback, turning a panic (or runtime.Goexit) into the
// death of the connection with a *protoflow.PanicError. c.mu must not be
// held.
func (c *Conn) call(name string, fn func()) {
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		goexit := v == nil
		if goexit {
			v = errGoexit
		}
		c.mu.Lock()
		c.killLocked(&protoflow.PanicError{Callback: name, Value: v, Stack: debug.Stack()})
		if goexit {
			c.abandonLocked()
		}
		c.mu.Unlock()
	}()
	fn()
	returned = true
}

// abandonLocked gives up the right to run callbacks for a goroutine that
// is ending in runtime.Goexit inside a callback, and starts a pump
// goroutine for what it leaves due. c.mu must be held.
func (c *Conn) abandonLocked() {
	if c.lostStarted {
		c.finishLostLocked()
	}
	c.running = false
	c.idle.Broadcast()
	c.kickLocked()
}

// killLocked marks the connection dead with cause (nil for a clean close)
// and drops both directions' bytes; ConnectionLost is then due. The first
// call wins; a panic after a clean death is kept for ConnectionLost, as
// the real transport does. c.mu must be held.
func (c *Conn) killLocked(cause error) {
	if c.dead {
		if _, ok := cause.(*protoflow.PanicError); ok && c.cause == nil && c.latePanic == nil && !c.lostStarted {
			c.latePanic = cause
		}
		return
	}
	c.dead = true
	c.cause = cause
	c.queue = nil
	c.held = nil
	c.eofDue = false
	c.writeClosed = true
	c.broadcastLocked()
}

// kickLocked starts a pump goroutine if something is due and no goroutine
// holds the right to run callbacks; one that does delivers it before it
// gives the right back. c.mu must be held.
func (c *Conn) kickLocked() {
	if c.running || !c.dueLocked() {
		return
	}
	c.pumps++
	go c.pump()
}

// pump is the body of a pump goroutine: it delivers what is due and exits.
func (c *Conn) pump() {
	defer func() { // also after runtime.Goexit in a callback
		c.mu.Lock()
		c.pumps--
		c.idle.Broadcast()
		c.mu.Unlock()
	}()
	c.drive(func() {})
}

// notify records n water-mark transitions and delivers them on the calling
// goroutine unless a callback is running; its goroutine then delivers them
// when the callback returns. c.mu must not be held.
func (c *Conn) notify(n int) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	c.pending += n
	if c.running {
		c.mu.Unlock()
		return
	}
	c.running = true
	for c.pending > 0 && !c.lostStarted {
		c.deliverTransitionLocked()
	}
	c.releaseLocked()
	c.kickLocked() // a callback may have closed the connection, or panicked
	c.mu.Unlock()
}

// settleLocked waits until no pump goroutine is left, so that what a
// transport method made due has been delivered. c.mu must be held.
func (c *Conn) settleLocked() {
	for c.pumps > 0 {
		c.idle.Wait()
	}
}

// transitionLocked checks the water marks after the queue or the limits
// changed and returns the number of transitions (0 or 1) the protocol is
// owed: PauseWriting when the queue rises above high, ResumeWriting when
// it then falls to low or below. c.mu must be held.
func (c *Conn) transitionLocked() int {
	if c.dead {
		return 0
	}
	size := len(c.queue)
	if c.writePaused && size <= c.low || !c.writePaused && size > c.high {
		c.writePaused = !c.writePaused
		return 1
	}
	return 0
}

// resetError is the cause of a Reset without one: what a read from a
// socket that the peer reset returns.
func resetError() error {
	return &net.OpError{
		Op:     "read",
		Net:    network,
		Source: localAddr,
		Addr:   remoteAddr,
		Err:    os.NewSyscallError("read", syscall.ECONNRESET),
	}
}
