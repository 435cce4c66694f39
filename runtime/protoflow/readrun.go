package protoflow

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// readMode says what a reader does when the socket has nothing more.
type readMode uint8

const (
	readDrain     readMode = iota // return: the epoll poller watches the socket
	readLingering                 // wait in Go's netpoller up to readLinger, then return (epoll backend)
	readWait                      // wait in Go's netpoller for as long as it takes (goroutine backend)
)

// readRunState is the state of one readRun, shared with readCallback.
// Owned by the holder of the read token (in readerState).
type readRunState struct {
	err   error // the read's error, if ended
	mode  readMode
	read  bool // a read system call was made
	ended bool // a read found the end of file or failed (err): reading is over
}

// readRun reads the socket and delivers what it reads, all within one
// RawConn.Read call, until the socket is drained (as mode says) or reading
// stops.
//
// Staying inside one call is what spares a system call per message. Each
// new RawConn.Read makes Go's netpoller forget the readiness it has seen,
// so its first read must look, and after a message that usually finds
// nothing (EAGAIN). Within one call, a short read is followed at once by a
// wait in the netpoller, which any byte that arrived since the read ends.
//
// The price: the file descriptor holds a reference while a callback runs
// inside the call, and closing a net.Conn waits for every reference. So
// closeSocket leaves the close to this reader when it runs a callback
// (delivering), and the reader closes the socket when it leaves the call
// (closeIfOwed; withToken does it if a callback ends the goroutine).
func (c *conn) readRun(mode readMode) (ended bool) {
	c.checkToken()
	err := c.rawReadCall(mode)
	if err != nil && !c.rd.run.read && errors.Is(err, os.ErrDeadlineExceeded) {
		// The linger deadline of an earlier burst has passed, or the
		// poller woke a reader that has left since (readable), and Go
		// refuses even a read that would not wait: clear it and read.
		c.rd.lingerUntil = 0
		_ = c.nc.SetReadDeadline(time.Time{})
		err = c.rawReadCall(mode)
	}
	c.closeIfOwed()
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Only this package sets read deadlines: the linger ran out, or
		// the poller woke the reader to report a hang-up (and set more,
		// so readBurst reads on), in any mode and even during the retry
		// above.
		return false
	default:
		c.readFailed(err) // the socket closed beneath the wait, most likely
		return true
	}
	switch {
	case !c.rd.run.ended:
	case c.rd.run.err != nil:
		c.readFailed(c.opError("read", c.rd.run.err))
	default:
		c.eof()
	}
	return c.rd.run.ended
}

// rawReadCall is one RawConn.Read call running readCallback.
func (c *conn) rawReadCall(mode readMode) error {
	c.rd.run = readRunState{mode: mode}
	if mode == readLingering {
		c.moveLinger()
	}
	return c.raw.Read(c.readFn)
}

// readCallback is readRun's body, run by RawConn.Read: it reads, delivers,
// and reads again while more may be waiting. Returning false waits in Go's
// netpoller for the socket to become readable, then runs it again.
func (c *conn) readCallback(fd uintptr) bool {
	r := &c.rd.run
	for {
		if c.st()&stNoRead != 0 { // without mu: once per read
			return true
		}
		pool := c.opts.budget.readPool(c.opts.readPool) // small buffers while the server is short of reassembly memory
		b := pool.Get().(*[]byte)
		buf := *b
		n, err := rawRead(fd, buf)
		r.read = true
		if err == syscall.EAGAIN {
			pool.Put(b)
			return r.mode == readDrain // else wait
		}
		if err != nil || n == 0 {
			pool.Put(b)
			r.ended, r.err = true, err
			return true
		}
		c.noteRead(n)
		c.rd.gotData = true
		c.delivering.Store(true)
		c.deliver((*b)[:n])
		c.delivering.Store(false)
		pool.Put(b)
		switch {
		case c.st()&stNoRead != 0:
			return true
		case n == len(buf) || c.st()&stHup != 0: // without mu: once per read
			// More may be waiting, and no new edge will say so: a full
			// buffer, or a peer that has hung up (its end of file comes
			// only from a read of its own).
			continue
		case r.mode == readDrain:
			// A short read means the socket was drained: what arrives
			// later raises a new edge for the poller.
			return true
		case r.mode == readWait:
			// Read until EAGAIN: an end of file that came with the data
			// raises no edge of its own, and nothing else watches for it.
			continue
		}
		// Lingering: wait in the netpoller straight away. Bytes that
		// arrive from now on raise an edge there; the end of file, which
		// may already be here, the poller reports (pollWatchHup), setting
		// stHup and then a deadline in the past. Looking at stHup after
		// moving the deadline means neither can be missed.
		c.moveLinger()
		if c.st()&stHup != 0 {
			continue
		}
		return false
	}
}

// pokeDeadline is a read deadline in the past, which wakes a reader waiting
// in Go's netpoller.
var pokeDeadline = time.Unix(1, 0)

// moveLinger keeps the read deadline of a lingering reader readLinger
// ahead, moving it at most every readLinger/2: setting it is a timer
// operation, too dear for every message.
func (c *conn) moveLinger() {
	if now := monoNow(); now+int64(readLinger/2) > c.rd.lingerUntil {
		c.rd.lingerUntil = now + int64(readLinger)
		_ = c.nc.SetReadDeadline(monoEpoch.Add(time.Duration(c.rd.lingerUntil)))
	}
}

// closeIfOwed closes the socket if closeSocket left the close to this
// reader because it was running a callback inside its read.
func (c *conn) closeIfOwed() {
	c.delivering.Store(false)
	if c.closeOwed.Load() && c.closeOwed.CompareAndSwap(true, false) {
		_ = c.nc.Close()
	}
}
