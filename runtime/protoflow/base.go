package protoflow

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// BaseProtocol is aiohttp's BaseProtocol: the connection state and write
// flow control that every protocol needs. Embed it in a protocol type and
// call its methods from the overriding ones; *BaseProtocol is itself a
// [Protocol] whose DataReceived does nothing and whose EOFReceived returns
// false.
//
// The zero value is ready to use. Every method is safe for concurrent use, so
// Drain may be called from any goroutine that writes to the transport. A
// BaseProtocol belongs to one connection and must not be copied after first
// use.
type BaseProtocol struct {
	// fast mirrors (transport != nil, paused) so that Drain on a connected,
	// unpaused protocol costs one atomic load. It is written only with mu
	// held.
	fast atomic.Uint32

	// flow is this package's transport, whose decided write state
	// (conn.writingPaused) Drain follows; set by ConnectionMade, nil with
	// any other transport. With it, Drain follows the transport itself
	// rather than the PauseWriting and ResumeWriting callbacks, which may
	// lag behind it while another callback of the connection runs: the same
	// order asyncio gives by calling pause_writing from inside write.
	flow atomic.Pointer[core]

	// mu guards the following.
	mu            sync.Mutex
	transport     Transport
	paused        bool         // writing is paused: PauseWriting without ResumeWriting
	readingPaused bool         // PauseReading without ResumeReading
	waiter        *drainWaiter // shared by every Drain blocked on this pause; nil if none
}

// Bits of BaseProtocol.fast.
const (
	fastConnected = 1 << iota
	fastPaused
)

// drainWaiter is the one wait that all concurrent drainers share: aiohttp's
// _drain_waiter future. done is closed exactly once, after err is set, with
// BaseProtocol.mu held; a drainer whose context ends simply stops listening,
// so a cancelled drainer never disturbs the others (asyncio.shield).
type drainWaiter struct {
	done chan struct{}
	err  error
}

// updateFastLocked recomputes fast from the fields. b.mu must be held.
func (b *BaseProtocol) updateFastLocked() {
	var v uint32
	if b.transport != nil {
		v |= fastConnected
	}
	if b.paused {
		v |= fastPaused
	}
	b.fast.Store(v)
}

// Connected reports whether the protocol has a transport: ConnectionMade
// has run and ConnectionLost has not.
func (b *BaseProtocol) Connected() bool {
	return b.fast.Load()&fastConnected != 0
}

// WritingPaused reports whether writing is paused. Over this package's
// transport it is the transport's own state, which changes inside the
// Write that crosses a water mark, as in asyncio: a callback that writes
// can check it after each Write and stop producing, although PauseWriting
// itself is only delivered after the callback returns. With any other
// transport it reflects the PauseWriting and ResumeWriting calls. Like
// aiohttp, ConnectionLost leaves it as it was.
//
// Because it reports the transport's current state, WritingPaused inside a
// PauseWriting or ResumeWriting hook may already show the next transition
// (a ResumeWriting that is on its way, say): hooks must not infer which
// callback they are in from it.
func (b *BaseProtocol) WritingPaused() bool {
	if c := b.flow.Load(); c != nil {
		return c.writingPaused()
	}
	return b.fast.Load()&fastPaused != 0
}

// ReadingPaused reports whether PauseReading was called without a later
// ResumeReading.
func (b *BaseProtocol) ReadingPaused() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readingPaused
}

// Transport returns the connection's transport, or nil when not connected.
func (b *BaseProtocol) Transport() Transport {
	// Over this package's transport, without the lock: generated code asks
	// on every frame and every Send. fast is loaded first: ConnectionMade
	// stores flow before it marks the protocol connected.
	if b.fast.Load()&fastConnected != 0 {
		if c := b.flow.Load(); c != nil {
			return c.transport()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.transport
}

// ConnectionMade turns TCP_NODELAY on for a TCP connection (also beneath
// TLS), ignoring any error, and stores t. Unix sockets and pipes are left
// alone. A transport created with [WithNoDelay](false) keeps Nagle's
// algorithm.
func (b *BaseProtocol) ConnectionMade(t Transport) {
	SetTCPNoDelay(t, noDelayWanted(t))
	if h, ok := t.(coreHolder); ok {
		c := h.coreOf()
		b.flow.Store(c)
		c.base.Store(b)
	} else {
		b.flow.Store(nil)
	}
	b.mu.Lock()
	b.transport = t
	b.updateFastLocked()
	b.mu.Unlock()
}

// DataReceived does nothing.
func (b *BaseProtocol) DataReceived([]byte) {}

// EOFReceived returns false, so that the transport closes itself.
func (b *BaseProtocol) EOFReceived() bool { return false }

// ConnectionLost clears the transport. If drainers wait, it wakes them: with
// nil when err is nil, otherwise with a [*ConnectionLostError] that matches
// both [ErrConnectionLost] and err. WritingPaused is left as it was.
func (b *BaseProtocol) ConnectionLost(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.transport = nil
	// Like aiohttp, wake drainers only while paused; over this package's
	// transport they may also wait on a pause the transport has decided
	// and that ConnectionLost now overtakes.
	// flow stays: the transport decides nothing after it died, so
	// WritingPaused keeps its value and a racing Drain sees a consistent state.
	c := b.flow.Load()
	decided := c != nil
	if decided {
		b.paused = c.writingPaused()
	}
	b.updateFastLocked()
	if b.waiter == nil || !b.paused && !decided {
		return
	}
	w := b.waiter
	b.waiter = nil
	if err != nil {
		w.err = &ConnectionLostError{Err: err}
	}
	close(w.done)
}

// PauseWriting marks writing as paused, so that Drain waits. The transport
// calls it; calling it while already paused is a bug in the caller and
// panics, with the state unchanged, as aiohttp's assertion does.
func (b *BaseProtocol) PauseWriting() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.paused {
		panic("protoflow: BaseProtocol.PauseWriting called while writing is already paused")
	}
	b.paused = true
	b.updateFastLocked()
}

// ResumeWriting marks writing as resumed and wakes every drainer with nil.
// Calling it while not paused is a bug in the caller and panics, with the
// state unchanged.
func (b *BaseProtocol) ResumeWriting() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.paused {
		panic("protoflow: BaseProtocol.ResumeWriting called while writing is not paused")
	}
	b.paused = false
	b.updateFastLocked()
	b.wakeLocked()
}

// flowResumed is called by this package's transport as soon as it decides
// that writing may resume.
func (b *BaseProtocol) flowResumed(c *core) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flow.Load() != c {
		return // bound to another transport, or follows the callbacks
	}
	b.wakeLocked()
}

// flowDied is called by this package's transport once it is dead: drainers
// waiting on a pause it decided wake now, for ConnectionLost may not be
// deliverable while they wait (Drain inside a callback).
func (b *BaseProtocol) flowDied(c *core) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flow.Load() != c || b.waiter == nil {
		return
	}
	w := b.waiter
	b.waiter = nil
	w.err = c.deathErr()
	close(w.done)
}

// wakeLocked wakes the drainers with nil, unless the transport has paused
// writing again meanwhile. b.mu must be held.
func (b *BaseProtocol) wakeLocked() {
	if c := b.flow.Load(); c != nil && c.st()&(stWritePaused|stDead) == stWritePaused {
		return
	}
	if w := b.waiter; w != nil {
		b.waiter = nil
		close(w.done)
	}
}

// writingPausedLocked is the state Drain waits on: the transport's own
// when it is this package's, else the one PauseWriting and ResumeWriting
// set. b.mu must be held.
func (b *BaseProtocol) writingPausedLocked() bool {
	if c := b.flow.Load(); c != nil {
		return c.writingPaused()
	}
	return b.paused
}

// PauseReading asks the transport, if there is one, to stop reading. It
// forwards only a change of state; the flag is set even without a
// transport. A transport that cannot pause ([ErrNotSupported]) or is
// closing ([net.ErrClosed]) is ignored; any other error from the transport
// is returned, and the flag is set regardless.
func (b *BaseProtocol) PauseReading() error {
	return b.setReadingPaused(true)
}

// ResumeReading undoes PauseReading, with the same rules.
func (b *BaseProtocol) ResumeReading() error {
	return b.setReadingPaused(false)
}

func (b *BaseProtocol) setReadingPaused(paused bool) error {
	// The transport is called with mu held so that concurrent pause and
	// resume reach it in the order their flags changed. Transports never
	// call back into the protocol from PauseReading or ResumeReading.
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.readingPaused == paused {
		return nil
	}
	b.readingPaused = paused
	if b.transport == nil {
		return nil
	}
	var err error
	if paused {
		err = b.transport.PauseReading()
	} else {
		err = b.transport.ResumeReading()
	}
	if errors.Is(err, ErrNotSupported) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Drain waits until the transport may be written to again. It is aiohttp's
// _drain_helper:
//
//   - without a transport it returns an error matching [ErrConnectionReset];
//   - when writing is not paused it returns nil at once;
//   - otherwise it waits for ResumeWriting (nil), ConnectionLost(nil) (nil),
//     ConnectionLost(err) (a [*ConnectionLostError] matching
//     [ErrConnectionLost] and err), or the end of ctx (ctx.Err()).
//
// Any number of goroutines may drain at once; they share one wait and all
// wake. A drainer whose ctx ends returns alone: the others keep waiting, as
// under aiohttp's asyncio.shield.
//
// Over this package's transport, Drain follows the transport's write state
// as it changes, not the PauseWriting and ResumeWriting callbacks, which
// may come a moment later: a Drain right after a Write that crossed the
// high-water mark waits, as in asyncio, and drainers wake as soon as the
// queue has fallen to the low-water mark. So Drain works from any
// goroutine, the protocol's callbacks included (where it holds up the
// connection's other events while it waits). With any other transport it
// follows the callbacks, as aiohttp does.
func (b *BaseProtocol) Drain(ctx context.Context) error {
	if b.fast.Load() == fastConnected {
		if c := b.flow.Load(); c == nil || !c.writingPaused() {
			return nil
		}
	}
	b.mu.Lock()
	if b.transport == nil {
		b.mu.Unlock()
		return ErrConnectionReset
	}
	if !b.writingPausedLocked() {
		b.mu.Unlock()
		return nil
	}
	if c := b.flow.Load(); c != nil && c.st()&stDead != 0 {
		b.mu.Unlock()
		return c.deathErr()
	}
	if c := b.flow.Load(); c != nil {
		if lc := lconnOf(c); lc != nil && lc.l.onLoop() {
			// Inside a callback on the connection's own loop, which
			// would flush the queue: Drain flushes it itself.
			b.mu.Unlock()
			return lc.assistDrain(ctx)
		}
	}
	w := b.waiter
	if w == nil {
		w = &drainWaiter{done: make(chan struct{})}
		b.waiter = w
	}
	c := b.flow.Load()
	b.mu.Unlock()
	if c != nil {
		// Never wait on bytes a corked callback holds back, the one that
		// drains maybe (cork.go).
		c.flushCorkedAny()
	}
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
