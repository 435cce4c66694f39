package protoflow

import "syscall"

// Corking on the loop backend (see cork.go for the other backends): one
// write system call per callback, not one per Write.
//
// While the loop runs a corked callback of a connection (ConnectionMade,
// DataReceived, EOFReceived, PauseWriting, ResumeWriting: loop.callback),
// loop.cur names it, and a Write to it, from the callback or from any other
// goroutine, appends to the loop's cork buffer instead of writing through,
// as long as the socket's queue is empty and the cork stays within
// corkLimit; when the callback returns, the loop writes the cork out with
// one write (uncork). One buffer per loop serves all its connections: a
// loop runs one callback at a time, and an idle connection carries
// nothing for corking.
//
// Ownership. loop.cur is written by the loop only (an atomic, so that
// writers on other goroutines may read it); the cork buffer is guarded by
// the mu of the connection cur names while cur is set, and is the loop's,
// empty, while it is not. The cork is never left non-empty with
// stFlushing set: a Write that would take it past corkLimit writes it out
// first, and whatever the socket did not take goes to the queue, after
// which Writes queue as before. So the water marks, decided from the
// queue, never count corked bytes, and need not: corkLimit is at most the
// high-water mark, and corking alone never pauses writing.
//
// Everything that needs the corked bytes on the socket writes them first,
// with mu held (writeCorkLocked): uncork; a Write past corkLimit; Close
// and CloseWrite, which then close or shut as before; killLocked (Abort,
// AbortWithError, a panic, a timeout), which writes what the socket takes
// and drops the rest, as the Writes would have; SetWriteBufferLimits
// whose new marks are below the cork. WriteBufferSize counts the cork.

// corkLimitLocked is the most bytes the cork may hold: never above the
// high-water mark, so that corking alone never pauses writing. c.mu must
// be held.
func (c *lconn) corkLimitLocked() int {
	high := c.opts.high
	if x := c.x.Load(); x != nil {
		high = x.q.high
	}
	return min(high, maxCork)
}

// corkedLocked reports whether c's Writes are corked now: the loop runs a
// corked callback of c. c.mu must be held.
func (c *lconn) corkedLocked() bool { return c.l.cur.Load() == c }

// corkWrite appends p to the cork if c is corked, nothing is queued and p
// fits, writing the cork out first if p would take it past the limit. It
// reports whether it took p; if not, the caller writes p as an uncorked
// Write would (through, or to the queue). A write error is returned for
// the caller to kill c with. c.mu must be held.
func (c *lconn) corkWrite(p []byte) (took bool, transitions int, err error) {
	if !c.corkedLocked() || c.st()&stFlushing != 0 {
		return false, 0, nil
	}
	l := c.l
	if len(l.cork) == 0 && len(p) >= chunkSize {
		// A big Write gains nothing from a copy into the cork (64 KiB
		// ping-pong: 0.47 µs of user CPU per message through, 1.33 µs
		// corked): through at once, nothing being corked before it.
		return false, 0, nil
	}
	limit := c.corkLimitLocked()
	if len(l.cork)+len(p) > limit && len(l.cork) > 0 {
		if transitions, err = c.writeCorkLocked(); err != nil || c.st()&stFlushing != 0 {
			return false, transitions, err
		}
	}
	if len(p) > limit {
		return false, transitions, nil // too big to cork: through, at once
	}
	l.cork = append(l.cork, p...)
	return true, transitions, nil
}

// writeCorkLocked writes the cork out with one write, queues what the
// socket did not take (the loop writes it on EPOLLOUT), and empties the
// cork. It returns the transitions decided and a write error, for the
// caller to kill c with. c.mu must be held, c corked and stFlushing clear.
func (c *lconn) writeCorkLocked() (transitions int, err error) {
	l := c.l
	cork := l.cork
	if len(cork) == 0 {
		return 0, nil
	}
	l.cork = cork[:0]
	n, err := rawWrite(uintptr(c.fd), cork)
	if err != nil && err != syscall.EAGAIN {
		return 0, c.opError("write", err)
	}
	if n > 0 {
		c.noteWrite(n)
	}
	if n < len(cork) {
		x := c.extraLocked()
		x.q.push(cork[n:]) // copies: the cork's buffer is free again
		c.setLocked(stFlushing)
		c.rearmLocked()
		transitions = c.transitionLocked()
	}
	return transitions, nil
}

// uncorkLocked writes out the cork of c, if c is corked and holds any,
// before an end (Close, CloseWrite) decides from the queue. It returns
// the transitions decided; on a write error it has marked c dead, and
// reports killed for the caller to call afterKill once mu is released.
// c.mu must be held.
func (c *lconn) uncorkLocked() (transitions int, killed bool) {
	if !c.corkedLocked() || len(c.l.cork) == 0 || c.st()&(stFlushing|stDead) != 0 {
		return 0, false
	}
	transitions, err := c.writeCorkLocked()
	if err != nil {
		return transitions, c.killLocked(err)
	}
	return transitions, false
}

// dropCorkLocked writes what the socket takes of c's cork, without
// waiting, and drops the rest: a connection that dies with corked bytes
// sends what its Writes would have sent through. c.mu must be held.
func (c *lconn) dropCorkLocked() {
	if !c.corkedLocked() || len(c.l.cork) == 0 {
		return
	}
	if c.st()&(stFlushing|stFdClosed) == 0 {
		if n, _ := rawWrite(uintptr(c.fd), c.l.cork); n > 0 {
			c.noteWrite(n)
		}
	}
	c.l.cork = c.l.cork[:0]
}

// uncork ends the corked callback of c that just returned: the cork goes
// out with one write, and cur is cleared. The loop calls it.
func (l *loop) uncork(c *lconn) {
	c.mu.Lock()
	var transitions int
	var err error
	switch st := c.st(); {
	case len(l.cork) == 0 || st&stDead != 0:
	case st&stFlushing != 0:
		// Not expected (a Write past the limit writes the cork out before
		// it queues), but bytes accepted are never dropped: behind the
		// queue they go.
		c.extraLocked().q.push(l.cork)
		transitions = c.transitionLocked()
	default:
		transitions, err = c.writeCorkLocked()
	}
	l.cork = l.cork[:0]
	l.cur.Store(nil)
	killed := err != nil && c.killLocked(err)
	c.mu.Unlock()
	if killed {
		c.afterKill()
	}
	if transitions > 0 {
		c.afterTransitions()
	}
}
