package protoflow

import (
	"errors"
	"io"
	"syscall"
)

// readRawLoop reads a socket through its file descriptor: it waits for
// readability without holding a buffer, takes a pooled buffer only for the
// read itself and for DataReceived, and does not read at all while reading
// is paused, so that unread bytes stay in the kernel and TCP pushes back on
// the peer.
func (c *conn) readRawLoop() {
	for c.waitReadable() {
		c.rd = readResult{}
		if err := c.raw.Read(c.readFn); err != nil {
			c.readFailed(err)
			return
		}
		b := c.rd.buf
		if b == nil {
			continue // paused or stopped while waiting for readability
		}
		n, err := c.rd.n, c.rd.err
		if n > 0 {
			c.deliver((*b)[:n])
		}
		c.readPool.Put(b)
		switch {
		case err != nil:
			c.readFailed(c.opError("read", err))
			return
		case n == 0:
			c.eof()
			return
		}
	}
}

// readCallback is the raw read, run by RawConn.Read; returning false waits
// for readability.
func (c *conn) readCallback(fd uintptr) bool {
	if c.readPaused.Load() || c.stopRead.Load() {
		return true
	}
	b := c.readPool.Get().(*[]byte)
	n, err := rawRead(fd, *b)
	if err == syscall.EAGAIN {
		c.readPool.Put(b)
		return false
	}
	c.rd = readResult{buf: b, n: n, err: err}
	return true
}

// readPortableLoop reads any net.Conn with blocking reads into a buffer of
// its own, which it holds while a read waits.
func (c *conn) readPortableLoop() {
	buf := make([]byte, c.opts.readBufferSize)
	for c.waitReadable() {
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.deliver(buf[:n])
		}
		switch {
		case errors.Is(err, io.EOF):
			c.eof()
			return
		case err != nil:
			c.readFailed(err)
			return
		}
	}
}

// waitReadable blocks while reading is paused and reports whether reading
// should go on.
func (c *conn) waitReadable() bool {
	if !c.readPaused.Load() && !c.stopRead.Load() {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.readingPaused && !c.closing && !c.dead {
		c.changed.Wait()
	}
	return !c.closing && !c.dead
}

// deliver hands bytes read to DataReceived, holding them while reading is
// paused and dropping them once the transport is closing.
func (c *conn) deliver(p []byte) {
	for c.waitReadable() {
		c.s.acquire(false)
		// A transition delivered in acquire, or another goroutine meanwhile,
		// may have closed the transport or paused reading.
		switch {
		case c.stopRead.Load():
			c.s.release()
			return
		case c.readPaused.Load():
			c.s.release()
			continue
		}
		c.call("DataReceived", func() { c.proto.DataReceived(p) })
		c.s.release()
		return
	}
}

// eof handles the peer's end of stream: EOFReceived decides whether the
// write side stays open.
func (c *conn) eof() {
	keepOpen := false
	c.s.acquire(false)
	if !c.stopRead.Load() {
		c.call("EOFReceived", func() { keepOpen = c.proto.EOFReceived() })
	}
	c.s.release()
	if !keepOpen {
		_ = c.Close()
	}
}

// readFailed ends the connection after a read error, unless the connection
// is already dead: then the error is only the socket closing beneath the
// read.
func (c *conn) readFailed(err error) {
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if !dead {
		c.kill(err)
	}
}

// PauseReading implements [Transport.PauseReading].
func (c *conn) PauseReading() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing && !c.dead {
		c.readingPaused = true
		c.readPaused.Store(true)
	}
	return nil
}

// ResumeReading implements [Transport.ResumeReading].
func (c *conn) ResumeReading() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readingPaused && !c.closing && !c.dead {
		c.readingPaused = false
		c.readPaused.Store(false)
		c.changed.Broadcast()
	}
	return nil
}
