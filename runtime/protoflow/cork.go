package protoflow

import "syscall"

// Corking: one write system call per callback, not one per Write.
//
// A protocol that answers a read of sixteen pipelined requests with
// sixteen Writes would, written through one by one, make sixteen write
// system calls, each of which on loopback also runs the peer's receive
// path: the better part of a request's cost. So while a callback of the
// connection runs corked (callCorked: ConnectionMade, DataReceived,
// EOFReceived, PauseWriting and ResumeWriting), Write only queues what it
// is given, and when the callback returns its goroutine writes the queue
// out with one write or writev (uncork), as Netty flushes once per read
// and memcached writes once per read.
//
// Ownership. conn.corked is set and cleared only by the goroutine that runs
// a corked callback, inside the serializer, so at most one goroutine has
// it set at a time; everyone else reads it, Write with mu held. The bytes
// a corked Write queues live in the write queue (conn.q, under mu) like
// any other, so WriteBufferSize counts them and the water marks are
// decided from them exactly as before. What changes is the rule that the
// queue is empty whenever no flusher runs (stFlushing): it may now also
// hold corked bytes that no flusher is writing. Whoever holds mu with
// stFlushing clear owns the socket's write side, and every path that
// needs those bytes gone writes them out first, with writeOutLocked:
//
//   - uncork, when the corked callback returns;
//   - a Write that is not corked (from another goroutine, or after the
//     cork came off), which writes the queue and then its own bytes in one
//     call, so that no Write overtakes bytes queued before it;
//   - a corked Write that would lift the queue above corkLimit (the
//     high-water mark, at most maxCork): so a callback that writes much
//     hits the socket as it goes, as before, and the queue, not the cork,
//     decides PauseWriting, which still fires exactly when the queue rises
//     above the high-water mark;
//   - Close and CloseWrite, which then close or shut at once as before if
//     the socket took everything, and otherwise leave it to the flusher
//     that writeOutLocked started;
//   - killLocked (Abort, AbortWithError, a panic, a timeout), which writes
//     what the socket takes before it drops the rest, as the Writes would
//     have before it;
//   - SetWriteBufferLimits, whose new marks might otherwise pause writing
//     with nobody to drain the queue;
//   - Drain, which, if it is to wait, starts the flusher (flushCorked), so
//     that a Drain inside a callback never waits on bytes its own cork
//     holds.
//
// Whatever writeOutLocked cannot write it leaves queued with the flusher
// started, as Write always has. Writes from other goroutines keep their
// order with the callback's: everything goes through the one queue under
// mu. They may wait in the queue until the callback returns, as a write
// from another thread waits for the event loop in asyncio and Netty.
//
// The portable path (no file descriptor: TLS, pipes) always writes on the
// flusher goroutine, which batches by itself; nothing is corked there.

// maxCork bounds the bytes a corked callback holds back before it writes
// them: a few pooled chunks, far more than a read's replies usually take.
const maxCork = 4 * chunkSize

// corkLimitLocked is the most bytes a corked Write may leave queued
// without a flusher: never above the high-water mark, so that corking
// alone never pauses writing. c.mu must be held.
func (c *conn) corkLimitLocked() int { return min(c.q.high, maxCork) }

// callCorked runs callback name corked (see above): the Writes it makes
// are written out together when it returns. It must run inside the
// serializer; transitions the final write causes are delivered when the
// serializer is released.
func (c *conn) callCorked(name string, fn func()) {
	if c.raw == nil {
		c.call(name, fn)
		return
	}
	c.corked.Store(true)
	c.call(name, fn)
	c.uncork()
}

// uncork takes the cork off and writes out what the corked callback
// queued, unless a flusher already owns it or the connection is dead.
func (c *conn) uncork() {
	c.corked.Store(false)
	c.mu.Lock()
	if c.st()&stDead != 0 {
		c.mu.Unlock()
		return
	}
	transitions, err := c.writeOutCorkedLocked()
	c.mu.Unlock()
	if err != nil {
		c.closeDead(false)
		return
	}
	c.afterTransitions(transitions)
}

// flushCorked starts the flusher for corked bytes, for a Drain that is
// about to wait: the queue must drain without waiting for the callback
// that may be the one draining.
func (c *conn) flushCorked() {
	c.mu.Lock()
	if c.q.size > 0 && c.st()&(stFlushing|stDead) == 0 {
		c.startFlushLocked()
	}
	c.mu.Unlock()
}

// writeOutLocked writes the queue and then p to the socket with one system
// call (write for a single buffer, writev for more), as far as the socket
// takes them, and queues what is left of p, starting the flusher if
// anything is left. It returns the water-mark transitions owed. On a write
// error the connection is marked dead with it (markDeadLocked): the caller
// must call closeDead after unlocking, and report the error.
//
// c.mu must be held, stFlushing and stDead clear, and c.raw set: then no
// flusher exists, so this goroutine owns the socket's write side.
func (c *conn) writeOutLocked(p []byte) (transitions int, err error) {
	if err := c.sendLocked(p); err != nil {
		// Dead before unlocking: a Close in between must not turn the
		// error into a clean close.
		err = c.opError("write", err)
		c.markDeadLocked(err)
		c.q.discard()
		return 0, err
	}
	if c.q.size > 0 {
		c.startFlushLocked()
	}
	return c.transitionLocked(), nil
}

// writeOutCorkedLocked writes out the bytes a corked callback queued, if
// any and no flusher writes them already; see writeOutLocked, whose
// contract it shares. c.mu must be held and stDead clear.
func (c *conn) writeOutCorkedLocked() (transitions int, err error) {
	if c.q.size == 0 || c.st()&stFlushing != 0 || c.raw == nil {
		return 0, nil
	}
	return c.writeOutLocked(nil)
}

// sendLocked is writeOutLocked's system call: it writes the queue and then
// p, drops from the queue what was written and queues the rest of p. It
// returns the error of the call, but not EAGAIN, which only means that
// the socket took nothing. With c.mu held and stFlushing clear it may
// borrow the flusher's iovec buffers (c.fs): no flusher uses them.
func (c *conn) sendLocked(p []byte) error {
	var bufs [][]byte
	if c.q.size == 0 {
		c.wt.p = p
	} else {
		if c.fs == nil {
			c.fs = &flushState{}
			c.fs.flushFn = c.flushCallback
		}
		bufs = c.q.appendTo(c.fs.bufs[:0])
		if len(p) > 0 {
			bufs = append(bufs, p)
		}
		c.fs.bufs = bufs
		if len(bufs) == 1 {
			c.wt.p = bufs[0]
		} else {
			c.wt.vec = true
		}
	}
	err := c.raw.Write(c.writeFn)
	n := int(c.wt.n)
	if err == nil {
		err = c.wt.err
	}
	c.wt = writeThrough{}
	if bufs != nil {
		clear(bufs) // the chunks go back to the pool: hold no reference
		c.fs.bufs = bufs[:0]
	}
	if err != nil && err != syscall.EAGAIN {
		return err
	}
	if n > 0 {
		c.noteWrite(n)
		fromQueue := min(n, c.q.size)
		c.q.consume(fromQueue)
		n -= fromQueue
	}
	if rest := p[n:]; len(rest) > 0 {
		c.q.push(rest)
	}
	return nil
}

// writeCallback is sendLocked's system call, run by RawConn.Write with
// c.mu held: a write of wt.p, or with wt.vec a writev of fs.bufs.
func (c *conn) writeCallback(fd uintptr) bool {
	var n int
	if c.wt.vec {
		n, c.fs.iov, c.wt.err = rawWritev(fd, c.fs.iov, c.fs.bufs)
	} else {
		n, c.wt.err = rawWrite(fd, c.wt.p)
	}
	c.wt.n = int32(n)
	return true
}
