package protoflow

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/protogen/protogen/runtime/wire"
)

// Issue 15's defences on the loop backend: the frame timeout, the
// reassembly budget and the timeouts the options set for every
// connection. The loop runs the callbacks, so the framer a connection
// hosts (HostFramer) is the loop's to use; what other goroutines do to
// it (the budget's wake-ups, SetFrameTimeout) goes through c.mu and, for
// the timer heap, the loop's inbox (stRetime, oweLocked).

// hostFramer is HostFramer for a loop connection.
func (c *lconn) hostFramer(f *wire.Framer) {
	f.SetHost((*lframeHost)(c))
	c.framer = f
}

// lframeHost is an lconn seen as the wire.Host of its framer, as frameHost
// is a conn.
type lframeHost lconn

// Buffer implements [wire.Host.Buffer] (see hostBuffer).
func (h *lframeHost) Buffer(size, frame int) []byte {
	c := (*lconn)(h)
	return hostBuffer(c.opts, c, size, frame)
}

// Release implements [wire.Host.Release] (see hostRelease).
func (h *lframeHost) Release(buf []byte) {
	c := (*lconn)(h)
	hostRelease(c.opts, c, buf)
}

// Partial implements [wire.Host.Partial]: it starts or ends the frame's
// period for the frame timeout. A connection without timeouts pays two
// loads.
func (h *lframeHost) Partial(begun bool) {
	to := (*lconn)(h).timeouts()
	switch {
	case to == nil:
	case begun:
		to.frameBegun()
	default:
		to.frameFrom.Store(0)
	}
}

// frameBegun records that a frame began now, and has the loop file the
// connection again if its heap entry is due later than the frame's end
// (dueHint): otherwise the entry comes due first and the loop looks at
// the frame then. Called by the callbacks (the host's Partial), which run
// on the loop, but for an Attach's ConnectionMade: so the filing goes
// through the inbox, as SetTimeouts' does.
func (to *ltimeouts) frameBegun() {
	now := max(monoNow(), 1) // 0 is "no frame"
	to.frameFrom.Store(now)
	p := to.framePeriod.Load()
	if p == 0 || to.dueHint.Load() <= addSat(now, time.Duration(p)) {
		return
	}
	c := to.c
	c.mu.Lock()
	if c.st()&stDead == 0 {
		c.setLocked(stRetime)
		c.oweLocked()
	}
	c.mu.Unlock()
}

// setFrameTimeout is SetFrameTimeout for a loop connection.
func (c *lconn) setFrameTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("protoflow: negative frame timeout %v: %w", d, fs.ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st()&stDead != 0 {
		return errClosed
	}
	to := c.timeouts()
	if to == nil {
		if d == 0 {
			return nil // nothing to disable: a connection without timeouts stays small
		}
		to = newLtimeouts(c)
		c.extraLocked().to.Store(to)
	}
	to.frame = d
	_, _, eff := to.periodsLocked()
	to.framePeriod.Store(int64(eff))
	c.setLocked(stRetime)
	c.oweLocked()
	return nil
}

// startFloors gives a connection the timeouts its options set for every
// connection ([WithIdleTimeout], [WithFrameTimeout]) once ConnectionMade
// has returned: the idle period starts then, unless the protocol made the
// timeouts in ConnectionMade (the options bound them anyway). Run by the
// loop, which files the connection in its heap at once.
func (c *lconn) startFloors() {
	o := c.opts
	if o.idleTimeout == 0 && o.frameTimeout == 0 {
		return
	}
	c.mu.Lock()
	if c.st()&stDead != 0 || c.timeouts() != nil {
		c.mu.Unlock()
		return
	}
	to := newLtimeouts(c)
	to.idleFrom.Store(monoNow())
	c.extraLocked().to.Store(to)
	c.mu.Unlock()
	c.l.retime(c)
}

// waitForMemory pauses reading until memoryFree, unless reading is over:
// the socket leaves EPOLLIN, so that TCP pushes back on the peer, and
// keeps EPOLLHUP and EPOLLERR, so that a reset still ends it at once.
// Called with the budget's mu held, by the connection's DataReceived
// (its framer's Buffer) on the loop.
func (c *lconn) waitForMemory() {
	c.mu.Lock()
	if c.st()&stStopRead == 0 {
		c.setLocked(stMemWait)
		c.rearmLocked()
	}
	c.mu.Unlock()
}

// memoryFree ends waitForMemory's pause: level-triggered, bytes that came
// meanwhile are reported at once. Called with the budget's mu held, from
// any goroutine (another connection's frame completing, or its loss).
func (c *lconn) memoryFree() {
	c.mu.Lock()
	if c.st()&stMemWait != 0 {
		c.clearLocked(stMemWait)
		c.rearmLocked()
	}
	c.mu.Unlock()
}
