package protoflow

import (
	"syscall"
)

// Write implements [Transport.Write].
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.st()&stNoWrite != 0 {
		c.mu.Unlock()
		return 0, errClosed
	}
	if len(p) == 0 {
		c.mu.Unlock()
		return 0, nil
	}
	var transitions int
	switch st := c.st(); {
	case st&stFlushing != 0 || c.raw == nil:
		// A flusher owns the socket (or will: the portable path writes
		// only on the flusher): queue behind what it is writing.
		c.q.push(p)
		if st&stFlushing == 0 {
			c.startFlushLocked()
		}
		transitions = c.transitionLocked()
	case c.corked.Load() && c.q.size+len(p) <= c.corkLimitLocked():
		// Inside a corked callback: its goroutine writes the queue out
		// when the callback returns (cork.go).
		c.q.push(p)
		transitions = c.transitionLocked()
	default:
		// No flusher owns the socket: write through on this goroutine,
		// without waiting, after the corked bytes queued before, if any.
		// mu keeps writers in order.
		var err error
		transitions, err = c.writeOutLocked(p)
		if err != nil {
			c.mu.Unlock()
			c.closeDead(false)
			return 0, err
		}
	}
	c.mu.Unlock()
	c.afterTransitions(transitions)
	return len(p), nil
}

// startFlushLocked starts the flusher goroutine. c.mu must be held and
// stFlushing clear.
func (c *conn) startFlushLocked() {
	c.setLocked(stFlushing)
	c.socketUsers.Add(1)
	go c.flush()
}

// flush is the body of the flusher goroutine: it writes the queue to the
// socket until it is empty or the connection dies, delivers the water-mark
// transitions its progress causes, and finishes a Close or CloseWrite that
// waited for the queue. Only the flusher clears stFlushing, after it is done
// with its own state, so that a Write can never start a second flusher.
func (c *conn) flush() {
	defer c.socketUsers.Done()
	if c.fs == nil {
		c.fs = &flushState{}
		c.fs.flushFn = c.flushCallback
	}
	fs := c.fs
	for {
		fs.fl = flushResult{}
		if c.raw != nil {
			// flushCallback runs on this goroutine, so fs needs no lock.
			if err := c.raw.Write(fs.flushFn); err != nil && !fs.fl.exit {
				fs.fl.exit = true
				fs.fl.err = err
			}
		} else {
			c.flushPortable()
		}
		r := fs.fl
		if r.transitions > 0 && r.err == nil && !r.closeNow && !r.shutNow {
			// The delivery may run protocol code that blocks (Drain in a
			// hook): hand the socket to a successor first, so that the queue
			// keeps draining meanwhile. It owns c.fs now.
			c.socketUsers.Add(1)
			go c.flush()
			c.afterTransitions(r.transitions)
			return
		}
		if r.err != nil {
			c.kill(c.opError("writev", r.err))
		}
		// Close or shut the socket before the transitions are delivered:
		// a callback they run may end this goroutine (runtime.Goexit), and
		// the socket must not stay open for good.
		switch {
		case r.closeNow:
			c.closeDead(true)
		case r.shutNow:
			c.shutdownWrite()
		}
		c.afterTransitions(r.transitions)
		if !r.exit {
			continue
		}
		c.mu.Lock()
		if c.flushOwedLocked() { // a Write, Close or CloseWrite came meanwhile
			c.mu.Unlock()
			continue
		}
		c.clearLocked(stFlushing)
		c.mu.Unlock()
		return
	}
}

// flushOwedLocked reports whether the flusher has work left: bytes queued,
// or a Close or CloseWrite waiting for the queue to empty.
func (c *conn) flushOwedLocked() bool {
	st := c.st()
	return st&stDead == 0 && (c.q.size > 0 || st&stClosing != 0 || st&(stShutWrite|stShutDone) == stShutWrite)
}

// flushCallback writes the queue with writev, run by RawConn.Write. It
// returns false, to wait for writability, only when it has no transition
// to deliver: callbacks never run while the socket's write lock is held.
func (c *conn) flushCallback(fd uintptr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.finishFlushLocked() {
			return true
		}
		c.fs.bufs = c.q.appendTo(c.fs.bufs[:0])
		n, iov, err := rawWritev(fd, c.fs.iov, c.fs.bufs)
		c.fs.iov = iov
		clear(c.fs.bufs)
		if n > 0 {
			c.noteWrite(n)
			c.q.consume(n)
			c.fs.fl.transitions += c.transitionLocked()
		}
		switch {
		case err == syscall.EAGAIN:
			return c.fs.fl.transitions > 0
		case err != nil:
			c.fs.fl.exit = true
			c.fs.fl.err = err
			return true
		}
	}
}

// flushPortable writes the queue with blocking writes, for connections
// without a file descriptor to poll. It returns after one write, or when
// the flusher is done.
func (c *conn) flushPortable() {
	c.mu.Lock()
	if c.finishFlushLocked() {
		c.mu.Unlock()
		return
	}
	c.fs.bufs = c.q.appendTo(c.fs.bufs[:0])
	c.mu.Unlock()
	// Writers may push more while this write blocks: push never changes
	// the bytes these slices cover, and discard does not recycle them.
	c.fs.wbuf = c.fs.bufs
	n, err := c.fs.wbuf.WriteTo(c.nc)
	clear(c.fs.bufs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > 0 {
		c.noteWrite(int(n))
	}
	if c.st()&stDead == 0 {
		c.q.consume(int(n))
		c.fs.fl.transitions += c.transitionLocked()
	}
	if err != nil {
		c.fs.fl.exit = true
		c.fs.fl.err = err
	}
}

// finishFlushLocked ends a round of the flusher when the connection is dead
// or the queue is empty, noting what a pending Close or CloseWrite needs.
// It reports whether the round is over.
func (c *conn) finishFlushLocked() bool {
	switch st := c.st(); {
	case st&stDead != 0:
	case c.q.size > 0:
		return false
	case st&stClosing != 0:
		c.markDeadLocked(nil)
		c.fs.fl.closeNow = true
	case st&(stShutWrite|stShutDone) == stShutWrite:
		c.setLocked(stShutDone)
		c.fs.fl.shutNow = true
	}
	c.fs.fl.exit = true
	return true
}

// shutdownWrite half closes the socket; an error kills the connection.
func (c *conn) shutdownWrite() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok {
		return
	}
	if err := cw.CloseWrite(); err != nil {
		c.kill(err)
	}
}

// CloseWrite implements [Transport.CloseWrite].
func (c *conn) CloseWrite() error {
	if _, ok := c.nc.(interface{ CloseWrite() error }); !ok {
		return ErrNotSupported
	}
	c.mu.Lock()
	if c.st()&stNoWrite != 0 {
		c.mu.Unlock()
		return errClosed
	}
	c.setLocked(stShutWrite)
	transitions, err := c.writeOutCorkedLocked()
	if err != nil {
		c.mu.Unlock()
		c.closeDead(false)
		return errClosed
	}
	defer c.afterTransitions(transitions)
	if c.st()&stFlushing != 0 || c.raw == nil {
		// The flusher shuts the write side after the queue; on the portable
		// path it also takes the TLS close_notify, which may block.
		if c.st()&stFlushing == 0 {
			c.startFlushLocked()
		}
		c.mu.Unlock()
		return nil
	}
	c.setLocked(stShutDone)
	c.mu.Unlock()
	c.shutdownWrite()
	return nil
}

// Close implements [Transport.Close].
func (c *conn) Close() error {
	c.mu.Lock()
	if c.st()&stStopRead != 0 {
		c.mu.Unlock()
		return errClosed
	}
	c.setLocked(stClosing)
	c.broadcastLocked()
	transitions, err := c.writeOutCorkedLocked()
	if err != nil {
		c.mu.Unlock()
		c.closeDead(false)
		return errClosed
	}
	defer c.afterTransitions(transitions)
	if c.st()&stFlushing != 0 || c.raw == nil {
		// The flusher closes the socket after the queue; on the portable
		// path it also sends the TLS close_notify, which may block.
		if c.st()&stFlushing == 0 {
			c.startFlushLocked()
		}
		c.mu.Unlock()
		return nil
	}
	c.markDeadLocked(nil)
	c.mu.Unlock()
	c.closeDead(true)
	return nil
}

// Abort implements [Transport.Abort].
func (c *conn) Abort() { c.kill(nil) }

// WriteBufferSize implements [Transport.WriteBufferSize].
func (c *conn) WriteBufferSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.size
}

// SetWriteBufferLimits implements [Transport.SetWriteBufferLimits].
func (c *conn) SetWriteBufferLimits(high, low int) error {
	if err := checkLimits(high, low); err != nil {
		return err
	}
	c.mu.Lock()
	c.q.high, c.q.low = high, low
	transitions := 0
	if c.st()&stDead == 0 {
		if c.q.size > c.corkLimitLocked() {
			// Corked bytes above the new marks: write them out now, so
			// that a pause they decide has a flusher to end it (cork.go).
			var err error
			if transitions, err = c.writeOutCorkedLocked(); err != nil {
				c.mu.Unlock()
				c.closeDead(false)
				return nil
			}
		}
		transitions += c.transitionLocked()
	}
	c.mu.Unlock()
	c.afterTransitions(transitions)
	return nil
}

// transitionLocked checks the water marks after the queue changed and
// returns the number of transitions (0 or 1) the protocol is owed. The
// decided state, stWritePaused, is what Drain follows at once.
func (c *conn) transitionLocked() int {
	paused := c.writingPaused()
	if !c.q.crossed(paused) {
		return 0
	}
	if paused {
		c.clearLocked(stWritePaused)
	} else {
		c.setLocked(stWritePaused)
	}
	return 1
}

// afterTransitions delivers n transitions (see serializer.notify) and, if
// writing may resume, wakes the drainers of an embedded BaseProtocol at
// once: they need not wait for the ResumeWriting callback, which may have
// to wait for another callback to return. c.mu must not be held.
func (c *conn) afterTransitions(n int) {
	if n == 0 {
		return
	}
	if b := c.base.Load(); b != nil && !c.writingPaused() {
		b.flowResumed(&c.core)
	}
	c.s.notify(n)
}
