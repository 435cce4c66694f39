package protoflowtest

import (
	"math"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// clock is a Conn's fake clock and the timeouts that protoflow.SetTimeouts
// and protoflow.SetFrameTimeout set on it. Times are durations since New.
// Every field is guarded by Conn.mu.
type clock struct {
	now        time.Duration
	read, idle time.Duration // the periods; 0 is disabled
	frame      time.Duration // the frame timeout's period; 0 is disabled

	lastRead  time.Duration // the last DataReceived
	lastWrite time.Duration // the last byte the peer took
	readFrom  time.Duration // the read period starts no earlier: SetTimeouts, ResumeReading, a handled read timeout
	idleFrom  time.Duration // the idle period starts no earlier: SetTimeouts, a handled idle timeout

	// The frame under way, as the hosted Framer reports it (frameHost):
	// holding is set while it holds the start of a frame, which began at
	// frameFrom (or was given a full period again then: ResumeReading, a
	// handled frame timeout).
	holding   bool
	frameFrom time.Duration
}

const never = time.Duration(math.MaxInt64)

// set installs new periods, both starting now.
func (k *clock) set(read, idle time.Duration) {
	k.read, k.idle = read, idle
	k.readFrom, k.idleFrom = k.now, k.now
}

// addSat returns t+d, or never if that overflows.
func addSat(t, d time.Duration) time.Duration {
	if d >= never-t {
		return never
	}
	return t + d
}

// nextLocked returns the timeout that expires first and when, or 0 if
// none can, as protoflow's do: the read timeout only while the protocol
// may read (not paused, closing, or past EOF); the frame timeout only
// while the hosted Framer holds the start of a frame and reading is
// neither paused by the protocol nor over (closing); on a tie, the read
// timeout, then the idle one. c.mu must be held.
func (c *Conn) nextLocked() (protoflow.TimeoutKind, time.Duration) {
	k := &c.clock
	if c.dead {
		return 0, 0
	}
	read, idle, frame := never, never, never
	if k.read > 0 && c.mayReadLocked() {
		read = addSat(max(k.lastRead, k.readFrom), k.read)
	}
	if k.idle > 0 {
		idle = addSat(max(k.lastRead, k.lastWrite, k.idleFrom), k.idle)
	}
	if k.frame > 0 && k.holding && !c.readPaused && !c.closing {
		frame = addSat(k.frameFrom, k.frame)
	}
	switch first := min(read, idle, frame); {
	case first == never:
		return 0, 0
	case read == first:
		return protoflow.ReadTimeout, read
	case idle == first:
		return protoflow.IdleTimeout, idle
	}
	return protoflow.FrameTimeout, frame
}

// Advance moves the Conn's clock forward by d, and the timeouts set with
// [protoflow.SetTimeouts] and [protoflow.SetFrameTimeout] expire on the
// way, each at its time and in order, on the calling goroutine: a protocol that implements
// [protoflow.TimeoutHandler] gets Timeout (and its timeout starts a new
// period then, so Advance(3*period) calls a handler that does nothing three
// times), any other is aborted with a [*protoflow.TimeoutError], and
// ConnectionLost follows before Advance returns. Nothing else happens on
// the clock: no timer runs between calls, and no test sleeps.
//
// A negative d is taken as 0.
func (c *Conn) Advance(d time.Duration) {
	c.drive(func() {
		target := addSat(c.clock.now, max(d, 0))
		for {
			kind, due := c.nextLocked()
			if kind == 0 || due > target {
				break
			}
			c.clock.now = max(c.clock.now, due)
			c.expireLocked(kind)
			c.pumpLocked()
		}
		c.clock.now = target
	})
}

// expireLocked handles the expiry of the timeout kind at the clock's
// time. c.mu must be held, with the right to run callbacks.
func (c *Conn) expireLocked(kind protoflow.TimeoutKind) {
	k := &c.clock
	period := k.read
	switch kind {
	case protoflow.IdleTimeout:
		period = k.idle
	case protoflow.FrameTimeout:
		period = k.frame
	}
	if c.handler == nil {
		c.killLocked(&protoflow.TimeoutError{Kind: kind, After: period})
		return
	}
	switch kind {
	case protoflow.ReadTimeout:
		k.readFrom = k.now
	case protoflow.IdleTimeout:
		k.idleFrom = k.now
	case protoflow.FrameTimeout:
		k.frameFrom = k.now // the frame still under way gets a full period
	}
	c.callLocked("Timeout", func() { c.handler.Timeout(kind) })
}

// Elapsed returns how far the Conn's clock has moved since New.
func (c *Conn) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clock.now
}
