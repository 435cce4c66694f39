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
)

// String returns "read timeout" or "idle timeout".
func (k TimeoutKind) String() string {
	switch k {
	case ReadTimeout:
		return "read timeout"
	case IdleTimeout:
		return "idle timeout"
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
	// After is its period: how long the connection was quiet.
	After time.Duration
}

// Error names the timeout and its period.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("protoflow: %s: nothing happened for %v", e.Kind, e.After)
}

// Timeout reports true: e is a timeout.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true, as [os.ErrDeadlineExceeded] does. It is part of
// [net.Error] and deprecated there.
func (e *TimeoutError) Temporary() bool { return true }

// Is reports whether target is [os.ErrDeadlineExceeded].
func (e *TimeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// TimeoutHandler is implemented by a [Protocol] that handles its timeouts
// itself. When a timeout set by [SetTimeouts] expires, Timeout is called
// instead of closing the connection, serialized with the connection's other
// callbacks: never concurrently with them, and never after ConnectionLost.
// The expired timeout is re-armed from that moment, so a handler that does
// nothing is called again after another full period. Timeout runs on the
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
// bounds a Close to a peer that stopped reading.
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
	if lc, ok := t.(interface {
		setTimeouts(read, idle time.Duration) error
	}); ok {
		return lc.setTimeouts(read, idle)
	}
	c, ok := t.(*conn)
	if !ok {
		if s, ok := t.(timeoutSetter); ok {
			return s.SetTimeouts(read, idle)
		}
		return ErrNotSupported
	}
	if read < 0 || idle < 0 {
		return fmt.Errorf("protoflow: negative timeout (read %v, idle %v): %w", read, idle, fs.ErrInvalid)
	}
	c.mu.Lock()
	if c.st()&stDead != 0 {
		c.mu.Unlock()
		return errClosed
	}
	to := c.to.Load()
	if to == nil {
		if read == 0 && idle == 0 {
			c.mu.Unlock()
			return nil // nothing to disable: a connection without timeouts stays small
		}
		to = newTimeouts(c)
		c.to.Store(to)
	}
	c.mu.Unlock()
	return to.set(read, idle)
}

// AbortWithError closes t at once as [Transport.Abort] does, but
// ConnectionLost receives err; with a nil err it is Abort. Once the
// connection is dead (after Abort, or once a Close has flushed the queue)
// it does nothing. For a transport not made by this package it calls
// t.Abort, or t's own AbortWithError(err) method if it has one, as
// protoflowtest's transport does.
func AbortWithError(t Transport, err error) {
	c, ok := t.(interface{ kill(error) })
	if !ok {
		if a, ok := t.(errorAborter); ok {
			a.AbortWithError(err)
			return
		}
		t.Abort()
		return
	}
	c.kill(err)
}

// timeouts is the timeout state of one connection, made by the first
// SetTimeouts that enables one, so that a connection without timeouts
// carries nothing but the pointer conn.to.
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
// Lock order: to.mu may be held while taking c.mu, never the reverse; fire
// holds neither while it waits for the serializer or runs Timeout, so that
// a callback may call SetTimeouts (or anything else) without deadlock.
type timeouts struct {
	// Immutable after newTimeouts.
	c      *conn
	fireFn func() // fire, bound once

	// Stamps: monoNow readings, written with atomic stores.
	lastRead  atomic.Int64 // the last read that delivered data; by the reading goroutine
	lastWrite atomic.Int64 // the last write that moved bytes to the socket; by writers and the flusher, with c.mu held
	readFrom  atomic.Int64 // the read period starts no earlier: by set, ResumeReading (with c.mu held) and fire
	idleFrom  atomic.Int64 // the idle period starts no earlier: by set and fire

	mu         sync.Mutex
	settled    sync.Cond     // broadcast when a fire returns; L is &mu
	read, idle time.Duration // the periods; 0 is disabled
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
	return to
}

// now is the time in the stamps' terms. time.Since reads only the
// monotonic clock: it is cheap enough for every read and write.
func (to *timeouts) now() int64 { return monoNow() } // the clock the read path's linger uses too

// noteRead records, for the timeouts, that a read delivered data.
func (c *conn) noteRead() {
	if to := c.to.Load(); to != nil {
		to.lastRead.Store(to.now())
	}
}

// noteWrite records, for the timeouts, that bytes went to the socket.
func (c *conn) noteWrite() {
	if to := c.to.Load(); to != nil {
		to.lastWrite.Store(to.now())
	}
}

// noteResumeLocked restarts the read period when reading resumes. c.mu must
// be held, so that fire, which reads the reading state under c.mu, sees the
// new period whenever it sees reading resumed.
func (c *conn) noteResumeLocked() {
	if to := c.to.Load(); to != nil {
		to.readFrom.Store(to.now())
	}
}

// set installs new periods, both starting now, and arms the timer for them.
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
	if to.firing > 0 && !to.scheduled {
		return nil // the running fire re-arms for the new periods when it returns
	}
	due, ok := to.nextLocked()
	switch {
	case !ok:
		if to.scheduled && to.timer.Stop() {
			to.scheduled = false
		}
		return nil
	case to.scheduled && to.due <= due:
		return nil // it fires soon enough, and re-arms for the rest
	case to.scheduled && !to.timer.Stop():
		return nil // its fire has started: it reads the new periods
	}
	to.armLocked(due)
	return nil
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
		to.scheduled = false
	}
	for to.scheduled || to.firing > 0 {
		to.settled.Wait()
	}
}

// readState is what the timeouts need of the connection's state.
type readState struct {
	now     int64
	reading bool // not paused, closing, dead or past the peer's end of file
	dead    bool
}

// state takes the time, then the connection's state: a resume that the
// state does not show yet starts a read period after now.
func (to *timeouts) state() readState {
	s := readState{now: to.now()}
	c := to.c
	c.mu.Lock()
	s.reading = c.mayReadLocked()
	s.dead = c.st()&stDead != 0
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

// dueLocked returns when each timeout expires (never when disabled). While
// reading is stopped the read timeout cannot expire; its due is then a
// full period away, which is no later than it can be once reading resumes.
// to.mu must be held.
func (to *timeouts) dueLocked(s readState) (read, idle int64) {
	read, idle = never, never
	lastRead := to.lastRead.Load()
	if to.read > 0 {
		if s.reading {
			read = addSat(max(lastRead, to.readFrom.Load()), to.read)
		} else {
			read = addSat(s.now, to.read)
		}
	}
	if to.idle > 0 {
		idle = addSat(max(lastRead, to.lastWrite.Load(), to.idleFrom.Load()), to.idle)
	}
	return read, idle
}

// nextLocked returns when the timer should next fire, and false if no
// timeout is enabled or the connection is dead. to.mu must be held.
func (to *timeouts) nextLocked() (int64, bool) {
	s := to.state()
	if s.dead || to.stopped {
		return 0, false
	}
	read, idle := to.dueLocked(s)
	due := min(read, idle)
	return due, due != never
}

// expired returns the timeout that has expired, the earlier one if both
// have, or 0 if none has.
func (to *timeouts) expired() (TimeoutKind, time.Duration) {
	s := to.state()
	if s.dead {
		return 0, 0
	}
	to.mu.Lock()
	defer to.mu.Unlock()
	if to.stopped {
		return 0, 0
	}
	read, idle := to.dueLocked(s)
	switch {
	case read <= s.now && read <= idle:
		return ReadTimeout, to.read
	case idle <= s.now:
		return IdleTimeout, to.idle
	}
	return 0, 0
}

// fire is the timer's function. It handles whatever has expired (aborting
// the connection with a *TimeoutError, or calling the protocol's Timeout
// inside the serializer) and re-arms the timer for the next due in settle.
func (to *timeouts) fire() {
	to.mu.Lock()
	to.scheduled = false
	to.firing++
	to.mu.Unlock()
	defer to.settle() // also after runtime.Goexit in Timeout
	c := to.c
	for {
		kind, after := to.expired()
		if kind == 0 {
			return
		}
		h, ok := c.proto.(TimeoutHandler)
		if !ok {
			c.kill(&TimeoutError{Kind: kind, After: after})
			return
		}
		// No lock is held here: the callback this waits for may call
		// SetTimeouts. Inside, look again: a read may have come meanwhile,
		// or the connection died.
		c.s.acquire(false)
		if kind, _ = to.expired(); kind != 0 {
			if kind == ReadTimeout {
				to.readFrom.Store(to.now())
			} else {
				to.idleFrom.Store(to.now())
			}
			c.call("Timeout", func() { h.Timeout(kind) })
		}
		c.s.release()
	}
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
