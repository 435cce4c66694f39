package protoflow

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// TimeoutKind says which timeout expired.
type TimeoutKind int

const (
	// ReadTimeout expires when no data has been read for the whole period
	// while reading was not paused.
	ReadTimeout TimeoutKind = iota + 1
	// IdleTimeout expires when nothing has been read from the socket or
	// written to it for the whole period, whether reading is paused or not.
	IdleTimeout
	// FrameTimeout expires when a frame whose first bytes have arrived is
	// not complete within the period, however many bytes trickle in
	// meanwhile; a pause of reading holds it. It times the frames of a
	// [wire.Framer] hosted by the transport ([HostFramer]).
	FrameTimeout
)

// String returns "read timeout", "idle timeout" or "frame timeout".
func (k TimeoutKind) String() string {
	switch k {
	case ReadTimeout:
		return "read timeout"
	case IdleTimeout:
		return "idle timeout"
	case FrameTimeout:
		return "frame timeout"
	}
	return "TimeoutKind(" + strconv.Itoa(int(k)) + ")"
}

// TimeoutError is the cause [Protocol.ConnectionLost] receives when a
// timeout set by [SetTimeouts] closes the connection. It is a [net.Error]
// whose Timeout method reports true, and it matches
// [os.ErrDeadlineExceeded] with [errors.Is], as an expired deadline on a
// [net.Conn] does.
type TimeoutError struct {
	// Kind is the timeout that expired.
	Kind TimeoutKind
	// After is its period: how long the connection was quiet, or, for a
	// frame timeout, how long the frame had to arrive.
	After time.Duration
	// MemoryWait says that a frame timeout expired while the connection
	// was paused for want of reassembly memory (see
	// [WithReassemblyBudget]): the error then also matches
	// [ErrReassemblyBudget].
	MemoryWait bool
}

// Error names the timeout and its period.
func (e *TimeoutError) Error() string {
	switch {
	case e.Kind == FrameTimeout && e.MemoryWait:
		return fmt.Sprintf("protoflow: %s: a frame was not complete within %v, waiting for reassembly memory", e.Kind, e.After)
	case e.Kind == FrameTimeout:
		return fmt.Sprintf("protoflow: %s: a frame was not complete within %v", e.Kind, e.After)
	}
	return fmt.Sprintf("protoflow: %s: nothing happened for %v", e.Kind, e.After)
}

// Timeout reports true: e is a timeout.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true, as [os.ErrDeadlineExceeded] does. It is part of
// [net.Error] and deprecated there.
func (e *TimeoutError) Temporary() bool { return true }

// Is reports whether target is [os.ErrDeadlineExceeded], or
// [ErrReassemblyBudget] when MemoryWait is set.
func (e *TimeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded || e.MemoryWait && target == ErrReassemblyBudget
}

// TimeoutHandler is implemented by a [Protocol] that handles its timeouts
// itself. When a timeout set by [SetTimeouts], [SetFrameTimeout] or an
// option expires, Timeout is called instead of closing the connection
// (but for a frame timeout while the connection waits for reassembly
// memory, see [SetFrameTimeout]), serialized with the connection's other
// callbacks: never concurrently with them, and never after ConnectionLost.
// The expired timeout is re-armed from the moment Timeout returns, so a
// handler that does nothing is called again a full period after it
// returned, however long it ran or waited to run. Timeout runs on the
// goroutine of the connection's timer, and may call any method of the
// transport, [SetTimeouts] and [AbortWithError] included.
type TimeoutHandler interface {
	// Timeout is called when the timeout of that kind expires.
	Timeout(kind TimeoutKind)
}

// SetTimeouts sets t's read and idle timeouts; 0 disables one. Each
// timeout's period starts at once. See [ReadTimeout] and [IdleTimeout] for
// what keeps each alive. The read timeout is held while reading is paused,
// and starts a full period again when reading resumes; it stops for good
// when the transport is closing or the peer's end of file was read. The
// idle timeout goes on while a Close waits to flush the queue, so it also
// bounds a Close to a peer that stopped reading. It leaves the frame
// timeout ([SetFrameTimeout]) alone. An idle timeout set for every
// connection with [WithIdleTimeout] still applies: SetTimeouts can make it
// shorter, not longer, nor switch it off.
//
// When a timeout expires, a protocol that implements [TimeoutHandler] gets
// Timeout; any other connection is aborted, and ConnectionLost receives a
// [*TimeoutError].
//
// SetTimeouts may be called from any goroutine, typically from
// ConnectionMade. It returns an error that matches [fs.ErrInvalid] (and
// changes nothing) when a duration is negative, [ErrNotSupported] for a
// transport not made by this package, and an error that matches
// [net.ErrClosed] once the connection is lost. A transport not made by
// this package that has a method SetTimeouts(read, idle time.Duration)
// error, as protoflowtest's does, gets the call instead.
func SetTimeouts(t Transport, read, idle time.Duration) error {
	switch s := t.(type) {
	case ownTransport: // conn; the loop backend's lconn (ltimer_linux.go)
		return s.setTimeouts(read, idle)
	case timeoutSetter:
		return s.SetTimeouts(read, idle)
	}
	return ErrNotSupported
}

// setTimeouts is SetTimeouts for the epoll and goroutine backends.
func (c *conn) setTimeouts(read, idle time.Duration) error {
	if read < 0 || idle < 0 {
		return fmt.Errorf("protoflow: negative timeout (read %v, idle %v): %w", read, idle, fs.ErrInvalid)
	}
	to, err := c.timeouts(read > 0 || idle > 0)
	if to == nil {
		return err // nil: nothing to disable, and a connection without timeouts stays small
	}
	return to.set(read, idle)
}

// SetFrameTimeout sets t's frame timeout, 0 to disable it: from then on, a
// frame whose first bytes have arrived must be complete within d, however
// slowly the rest trickles in, or the connection is aborted with a
// [*TimeoutError] of kind [FrameTimeout] (or its protocol's Timeout is
// called, as for the other timeouts). It is the defence against a peer
// that keeps the read and idle timeouts alive with a byte now and then
// but never finishes a frame (slowloris). It times the frames of a
// [wire.Framer] that [HostFramer] gave this transport, as generated
// protocols with framing have; the frames that begin after the call.
//
// A pause of reading by the protocol holds the frame timeout, and
// ResumeReading gives the frame under way a full period again; a pause
// for want of reassembly memory does not (see [WithReassemblyBudget]), and
// a frame timeout that expires then aborts the connection, handler or
// not. A frame timeout set for every connection with [WithFrameTimeout]
// still applies: SetFrameTimeout can make it shorter, not longer, nor
// switch it off.
//
// Like SetTimeouts, it may be called from any goroutine, typically from
// ConnectionMade, and returns an error that matches [fs.ErrInvalid] for a
// negative d, [ErrNotSupported] for a transport not made by this package,
// and one that matches [net.ErrClosed] once the connection is lost. A
// transport not made by this package that has a method SetFrameTimeout(d
// time.Duration) error, as protoflowtest's does, gets the call instead.
func SetFrameTimeout(t Transport, d time.Duration) error {
	switch s := t.(type) {
	case ownTransport: // conn; the loop backend's lconn (lframe_linux.go)
		return s.setFrameTimeout(d)
	case frameTimeoutSetter:
		return s.SetFrameTimeout(d)
	}
	return ErrNotSupported
}

// setFrameTimeout is SetFrameTimeout for the epoll and goroutine backends.
func (c *conn) setFrameTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("protoflow: negative frame timeout %v: %w", d, fs.ErrInvalid)
	}
	to, err := c.timeouts(d > 0)
	if to == nil {
		return err
	}
	return to.setFrame(d)
}

// timeouts returns c's timeouts, made if need be when enable is true, or
// nil and errClosed once the connection is dead, or nil and nil when
// there is nothing to disable.
func (c *conn) timeouts(enable bool) (*timeouts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st()&stDead != 0 {
		return nil, errClosed
	}
	to := c.to.Load()
	if to == nil && enable {
		to = newTimeouts(c)
		c.to.Store(to)
	}
	return to, nil
}

// startFloors gives a connection the timeouts that its options set for
// every connection ([WithIdleTimeout], [WithFrameTimeout]), after
// ConnectionMade: the idle period starts then, unless SetTimeouts started
// one in ConnectionMade.
func (c *conn) startFloors() {
	if c.opts.idleTimeout == 0 && c.opts.frameTimeout == 0 {
		return
	}
	if c.to.Load() != nil {
		return // made by the protocol in ConnectionMade, floors included
	}
	if to, _ := c.timeouts(true); to != nil {
		to.start()
	}
}

// AbortWithError closes t at once as [Transport.Abort] does, but
// ConnectionLost receives err; with a nil err it is Abort. Once the
// connection is dead (after Abort, or once a Close has flushed the queue)
// it does nothing. For a transport not made by this package it calls
// t.Abort, or t's own AbortWithError(err) method if it has one, as
// protoflowtest's transport does.
func AbortWithError(t Transport, err error) {
	switch c := t.(type) {
	case ownTransport:
		c.kill(err)
	case errorAborter:
		c.AbortWithError(err)
	default:
		t.Abort()
	}
}

// timeouts is the timeout state of one connection, made by the first
// SetTimeouts or SetFrameTimeout that enables one, or after ConnectionMade
// when the options set a timeout for every connection, so that a
// connection without timeouts carries nothing but the pointer conn.to.
//
// The read and write paths record activity with one atomic store of a
// monotonic clock reading each (no timer operation per message). One timer
// per connection, made on first use, calls fire at the earliest time a
// timeout could expire; fire compares the stamps with the periods and either
// handles the expiry or re-arms the timer for the remainder.
//
// Goroutines: fire runs on the timer's goroutine and exits when it has
// handled what expired and re-armed the timer (or not, once the connection is
// dead). lose calls stop before ConnectionLost, and stop waits until no fire
// is running or scheduled, so that neither a goroutine nor a timer of the
// connection outlives it.
//
// The frame timeout is timed from the stamp that the connection's
// Framer's host (HostFramer) stores when a frame begins (frameFrom), with no lock and no
// timer operation unless the timer is due later than the frame's end
// (dueHint): a stream whose every read ends inside a frame costs a clock
// reading and two atomic operations per frame.
//
// Lock order: to.mu may be held while taking c.mu, never the reverse; fire
// holds neither while it waits for the serializer or runs Timeout, so that
// a callback may call SetTimeouts (or anything else) without deadlock.
type timeouts struct {
	// Immutable after newTimeouts.
	c      *conn
	fireFn func() // fire, bound once

	// Stamps: monoNow readings, written with atomic stores.
	lastRead     atomic.Int64 // the last read that delivered data; by the reading goroutine
	lastWrite    atomic.Int64 // the last write that moved bytes to the socket; by writers and the flusher, with c.mu held
	periodStarts              // by set, ResumeReading (with c.mu held), the host's Partial and fire (in the serializer)
	resumed      atomic.Int64 // the last ResumeReading, from which a frame has a full period: with c.mu held

	framePeriod atomic.Int64 // the frame timeout in effect (frameLocked), for Partial; written with mu held
	dueHint     atomic.Int64 // due while scheduled, else never, for Partial; written with mu held

	mu         sync.Mutex
	settled    sync.Cond     // broadcast when a fire returns; L is &mu
	read, idle time.Duration // the periods SetTimeouts set; 0 is disabled
	frame      time.Duration // the period SetFrameTimeout set; 0 is disabled
	timer      *time.Timer   // made by the first arm
	due        int64         // when the timer fires, while scheduled
	scheduled  bool          // the timer is set and its fire has not yet started
	firing     int           // fires started and not yet returned (two only while one hands over to the next)
	stopped    bool          // the connection is dead: never arm again
}

func newTimeouts(c *conn) *timeouts {
	to := &timeouts{c: c}
	to.fireFn = to.fire
	to.settled.L = &to.mu
	to.framePeriod.Store(int64(c.opts.frameTimeout))
	to.dueHint.Store(never)
	return to
}

// effective returns the period in effect of a timeout that the protocol
// set to p and the options to floor for every connection: the shorter of
// the two that are enabled.
func effective(p, floor time.Duration) time.Duration {
	if p == 0 || floor > 0 && floor < p {
		return floor
	}
	return p
}

// periodsLocked returns the read, idle and frame periods in effect. to.mu
// must be held.
func (to *timeouts) periodsLocked() (read, idle, frame time.Duration) {
	o := to.c.opts
	return to.read, effective(to.idle, o.idleTimeout), effective(to.frame, o.frameTimeout)
}

// now is the time in the stamps' terms. time.Since reads only the
// monotonic clock: it is cheap enough for every read and write.
func (to *timeouts) now() int64 { return monoNow() } // the clock the read path's linger uses too

// noteRead records that a read delivered n bytes, for the Server's Stats
// and the timeouts. Only the read token's holder calls it: the count is a
// load and a store, not a locked add.
func (c *conn) noteRead(n int) {
	c.nread.Store(c.nread.Load() + int64(n))
	if to := c.to.Load(); to != nil {
		to.lastRead.Store(to.now())
	}
}

// noteWrite records that n bytes went to the socket, for the Server's
// Stats and the timeouts. c.mu must be held: it guards the count, which
// so costs nothing more than an add.
func (c *conn) noteWrite(n int) {
	c.written += int64(n)
	if to := c.to.Load(); to != nil {
		to.lastWrite.Store(to.now())
	}
}

// noteResumeLocked restarts the read period, and the frame under way's,
// when reading resumes. c.mu must be held, so that fire, which reads the
// reading state under c.mu, sees the new period whenever it sees reading
// resumed.
func (c *conn) noteResumeLocked() {
	if to := c.to.Load(); to != nil {
		now := to.now()
		to.readFrom.Store(now)
		to.resumed.Store(now)
	}
}

// set installs new read and idle periods, both starting now, and arms the
// timer for them.
func (to *timeouts) set(read, idle time.Duration) error {
	now := to.now()
	to.readFrom.Store(now)
	to.idleFrom.Store(now)
	to.mu.Lock()
	defer to.mu.Unlock()
	if to.stopped {
		return errClosed
	}
	to.read, to.idle = read, idle
	to.rescheduleLocked()
	return nil
}

// setFrame installs a new frame period, for the frames that begin from now
// on and the one under way, if its start was seen.
func (to *timeouts) setFrame(frame time.Duration) error {
	to.mu.Lock()
	defer to.mu.Unlock()
	if to.stopped {
		return errClosed
	}
	to.frame = frame
	_, _, eff := to.periodsLocked()
	to.framePeriod.Store(int64(eff))
	to.rescheduleLocked()
	return nil
}

// start begins the idle period of the timeouts the options set, at the end
// of ConnectionMade, and arms the timer.
func (to *timeouts) start() {
	to.idleFrom.Store(to.now())
	to.mu.Lock()
	defer to.mu.Unlock()
	if !to.stopped {
		to.rescheduleLocked()
	}
}

// frameBegun records that the connection's framer holds the start of a
// frame that began now, and makes sure the timer fires by the frame's
// end. Called by the callbacks (the host's Partial).
func (to *timeouts) frameBegun() {
	now := max(to.now(), 1) // 0 is "no frame"
	to.frameFrom.Store(now)
	p := to.framePeriod.Load()
	if p == 0 || to.dueHint.Load() <= addSat(now, time.Duration(p)) {
		// No frame timeout, or the timer fires by the frame's end and then
		// re-arms for the rest. A fire that has started has stored never in
		// dueHint first, and reads frameFrom after: one of the two sees
		// the other.
		return
	}
	to.mu.Lock()
	defer to.mu.Unlock()
	if !to.stopped {
		to.rescheduleLocked()
	}
}

// rescheduleLocked arms the timer for the next due, unless it fires soon
// enough already or a running fire will. to.mu must be held.
func (to *timeouts) rescheduleLocked() {
	if to.firing > 0 && !to.scheduled {
		return // the running fire re-arms for the new periods when it returns
	}
	due, ok := to.nextLocked()
	switch {
	case !ok:
		if to.scheduled && to.timer.Stop() {
			to.unscheduleLocked()
		}
		return
	case to.scheduled && to.due <= due:
		return // it fires soon enough, and re-arms for the rest
	case to.scheduled && !to.timer.Stop():
		return // its fire has started: it reads the new periods
	}
	to.armLocked(due)
}

// unscheduleLocked notes that the timer is not set, or its fire has
// started. to.mu must be held.
func (to *timeouts) unscheduleLocked() {
	to.scheduled = false
	to.dueHint.Store(never)
}

// armLocked makes the timer fire at due (in the stamps' terms). to.mu must
// be held, and the timer must not be scheduled.
func (to *timeouts) armLocked(due int64) {
	d := time.Duration(due - to.now())
	if to.timer == nil {
		to.timer = time.AfterFunc(d, to.fireFn)
	} else {
		to.timer.Reset(d)
	}
	to.due = due
	to.scheduled = true
	to.dueHint.Store(due)
}

// stop disarms the timer for good and waits until no fire is running. lose
// calls it, with the connection dead, before it delivers ConnectionLost: a
// fire may be waiting in the serializer for a callback to return, and
// finds the connection dead once it gets in.
func (to *timeouts) stop() {
	to.mu.Lock()
	defer to.mu.Unlock()
	to.stopped = true
	if to.scheduled && to.timer.Stop() {
		to.unscheduleLocked()
	}
	for to.scheduled || to.firing > 0 {
		to.settled.Wait()
	}
}

// readState is what the timeouts need of the connection's state.
type readState struct {
	now     int64
	reading bool // not paused (by the protocol or for memory), closing, dead or past the peer's end of file
	framing bool // a frame may still arrive: neither paused by the protocol, nor closing nor dead
	memWait bool // paused for want of reassembly memory
	dead    bool
}

// state takes the time, then the connection's state: a resume that the
// state does not show yet starts a read period after now.
func (to *timeouts) state() readState {
	s := readState{now: to.now()}
	c := to.c
	c.mu.Lock()
	st := c.st()
	s.reading = c.mayReadLocked()
	s.framing = st&(stStopRead|stReadPaused) == 0
	s.memWait = st&stMemWait != 0
	s.dead = st&stDead != 0
	c.mu.Unlock()
	return s
}

const never = math.MaxInt64

// addSat returns t+d, or never if that is later than never.
func addSat(t int64, d time.Duration) int64 {
	if int64(d) >= never-t {
		return never
	}
	return t + int64(d)
}

// dues are when each timeout expires, never when disabled or held.
type dues struct{ read, idle, frame int64 }

func (d dues) min() int64 { return min(d.read, d.idle, d.frame) }

// dueLocked returns when each timeout expires. While reading is stopped
// the read timeout cannot expire; its due is then a full period away,
// which is no later than it can be once reading resumes. The frame
// timeout is the same while the protocol pauses reading. to.mu must be
// held.
func (to *timeouts) dueLocked(s readState) dues {
	d := dues{never, never, never}
	read, idle, frame := to.periodsLocked()
	lastRead := to.lastRead.Load()
	if read > 0 {
		if s.reading {
			d.read = addSat(max(lastRead, to.readFrom.Load()), read)
		} else {
			d.read = addSat(s.now, read)
		}
	}
	if idle > 0 {
		d.idle = addSat(max(lastRead, to.lastWrite.Load(), to.idleFrom.Load()), idle)
	}
	if from := to.frameFrom.Load(); frame > 0 && from != 0 {
		if s.framing {
			d.frame = addSat(max(from, to.resumed.Load()), frame)
		} else {
			d.frame = addSat(s.now, frame)
		}
	}
	return d
}

// nextLocked returns when the timer should next fire, and false if no
// timeout is due or the connection is dead. to.mu must be held.
func (to *timeouts) nextLocked() (int64, bool) {
	s := to.state()
	if s.dead || to.stopped {
		return 0, false
	}
	due := to.dueLocked(s).min()
	return due, due != never
}

// expired returns the timeout that has expired, the earliest one if more
// have, or 0 if none has, with its period and whether the connection was
// waiting for reassembly memory.
func (to *timeouts) expired() (kind TimeoutKind, period time.Duration, memWait bool) {
	s := to.state()
	if s.dead {
		return 0, 0, false
	}
	to.mu.Lock()
	defer to.mu.Unlock()
	if to.stopped {
		return 0, 0, false
	}
	d := to.dueLocked(s)
	read, idle, frame := to.periodsLocked()
	switch first := d.min(); {
	case first > s.now:
		return 0, 0, false
	case d.read == first:
		return ReadTimeout, read, false
	case d.idle == first:
		return IdleTimeout, idle, false
	}
	return FrameTimeout, frame, s.memWait
}

// fire is the timer's function. It handles whatever has expired (aborting
// the connection with a *TimeoutError, or calling the protocol's Timeout
// inside the serializer) and re-arms the timer for the next due in settle.
//
// A frame timeout that expires while the connection waits for reassembly
// memory aborts it whether or not the protocol handles its timeouts: that
// memory is the server's to protect, and a handler that let the wait go
// on would let the peer hold it.
func (to *timeouts) fire() {
	to.mu.Lock()
	to.unscheduleLocked() // before expired reads the stamps: see frameBegun
	to.firing++
	to.mu.Unlock()
	defer to.settle() // also after runtime.Goexit in Timeout
	c := to.c
	for {
		kind, after, memWait := to.expired()
		if kind == 0 {
			return
		}
		h, ok := c.proto.(TimeoutHandler)
		if !ok || memWait {
			c.kill(&TimeoutError{Kind: kind, After: after, MemoryWait: memWait})
			return
		}
		// No lock is held here: the callback this waits for may call
		// SetTimeouts. Inside, look again: a read may have come meanwhile,
		// or the connection died.
		c.s.acquire(false)
		if kind, _, _ = to.expired(); kind != 0 {
			to.handled(kind, to.now, func() { c.call("Timeout", func() { h.Timeout(kind) }) })
		}
		c.s.release()
	}
}

// periodStarts are when each period of a connection's timeouts starts,
// monoNow readings written with atomic stores, for both timer
// implementations (timeouts, ltimeouts).
type periodStarts struct {
	readFrom  atomic.Int64 // the read period starts no earlier
	idleFrom  atomic.Int64 // the idle period starts no earlier
	frameFrom atomic.Int64 // when the frame held began, 0 if none
}

// handled runs timeout, the protocol's Timeout for an expired kind, and
// starts kind's period again once it returns (and, for a Timeout that
// ends its goroutine, when it was called), unless Timeout changed it:
// SetTimeouts, or a frame dropped (Partial(false)).
func (ps *periodStarts) handled(kind TimeoutKind, now func() int64, timeout func()) {
	from := &ps.frameFrom
	switch kind {
	case ReadTimeout:
		from = &ps.readFrom
	case IdleTimeout:
		from = &ps.idleFrom
	}
	start := now()
	from.Store(start)
	timeout()
	from.CompareAndSwap(start, now())
}

// settle ends a fire: it re-arms the timer for the next due, unless
// another fire is scheduled or the connection is dead, and wakes stop.
func (to *timeouts) settle() {
	to.mu.Lock()
	defer to.mu.Unlock()
	to.firing--
	if !to.scheduled && !to.stopped {
		if due, ok := to.nextLocked(); ok {
			to.armLocked(due)
		}
	}
	to.settled.Broadcast()
}
