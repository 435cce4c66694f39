package protoflow

import (
	"crypto/tls"
	"errors"
	"io"
	"time"
)

// readRawLoop is the goroutine backend's reader for a socket with file
// descriptor access: it waits for readability without holding a buffer,
// and does not read at all while reading is paused, so that unread bytes
// stay in the kernel and TCP pushes back on the peer.
func (c *conn) readRawLoop() {
	for c.waitReadable() {
		if c.readRun(readWait) {
			return
		}
	}
}

// portableReadBufferSize caps the buffer a connection on the portable path
// holds for its life; tlsReadBufferSize is the cap for TLS, whose Read
// returns at most one record's plaintext.
const (
	portableReadBufferSize = 64 * 1024
	tlsReadBufferSize      = 16 * 1024
)

// readPortableLoop reads any net.Conn with blocking reads into a buffer of
// its own, which it holds while a read waits.
func (c *conn) readPortableLoop() {
	c.checkToken()
	// A blocking read holds its buffer while it waits: keep it modest. TLS
	// returns at most one 16 KiB record per read anyway.
	size := min(c.opts.readBufferSize, portableReadBufferSize)
	if _, ok := c.nc.(*tls.Conn); ok {
		size = min(size, tlsReadBufferSize)
	}
	buf := make([]byte, size)
	for c.waitReadable() {
		n, err := c.nc.Read(buf[:c.opts.budget.readSize(len(buf))])
		if n > 0 {
			c.noteRead(n)
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
	if c.st()&stNoRead == 0 { // without mu: the read path asks once per read
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for st := c.st(); st&stStopRead == 0 && st&stPaused != 0; st = c.st() {
		c.waitChangeLocked()
	}
	return c.st()&stStopRead == 0
}

// deliver hands bytes read to DataReceived, holding them while reading is
// paused and dropping them once the transport is closing.
func (c *conn) deliver(p []byte) {
	c.checkToken()
	for c.waitReadable() {
		c.s.acquire(false)
		// A transition delivered in acquire, or another goroutine meanwhile,
		// may have closed the transport or paused reading.
		switch st := c.st(); { // without mu: once per read
		case st&stStopRead != 0:
			c.s.release()
			return
		case st&stPaused != 0:
			c.s.release()
			continue
		}
		c.callCorked("DataReceived", func() { c.proto.DataReceived(p) })
		c.s.release()
		return
	}
}

// eof handles the peer's end of stream: EOFReceived decides whether the
// write side stays open.
func (c *conn) eof() {
	c.checkToken()
	c.mu.Lock()
	c.setLocked(stReadDone)
	c.mu.Unlock()
	keepOpen := false
	c.s.acquire(false)
	if c.st()&stStopRead == 0 {
		c.callCorked("EOFReceived", func() { keepOpen = c.proto.EOFReceived() })
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
	c.kill(err) // kill leaves a dead connection's cause as it is
}

// PauseReading implements [Transport.PauseReading].
func (c *conn) PauseReading() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st()&stStopRead == 0 {
		c.setLocked(stReadPaused)
	}
	return nil
}

// ResumeReading implements [Transport.ResumeReading]. Reading stays paused
// while the connection waits for reassembly memory.
func (c *conn) ResumeReading() error {
	c.mu.Lock()
	if c.st()&(stStopRead|stReadPaused) != stReadPaused {
		c.mu.Unlock()
		return nil
	}
	c.clearLocked(stReadPaused)
	c.noteResumeLocked()
	c.resumeLocked()
	return nil
}

// resumeLocked lets reading go on after a pause ended, and unlocks c.mu.
// On the epoll backend no goroutine waits while reading is paused, and
// bytes that arrived meanwhile raise no new edge: it starts a reader. c.mu
// must be held.
func (c *conn) resumeLocked() {
	c.broadcastLocked()
	spawn := c.epoll() && c.takeTokenLocked()
	c.mu.Unlock()
	if spawn {
		go c.burstFn()
	}
}

// The epoll backend. A reader goroutine exists only while the socket has
// data: the poller starts one when the socket becomes readable, and it
// reads until the socket is drained, then gives the read token back.

// readable is called by the poller when c's socket has a new edge; hup
// says the peer has hung up or the socket failed, gone that the socket
// failed or hung up both ways.
func (c *conn) readable(hup, gone bool) {
	c.mu.Lock()
	if hup {
		c.setLocked(stHup) // before the reader is woken or started, which reads it
	}
	if c.st()&stToken != 0 {
		c.setLocked(stMore) // the reader reads again before it exits
		c.mu.Unlock()
		if hup {
			// A lingering reader may be waiting in Go's netpoller for an
			// edge that will not come: a read deadline in the past wakes
			// it (readRun reads on after it).
			_ = c.nc.SetReadDeadline(pokeDeadline)
		}
		return
	}
	spawn := c.takeTokenLocked()
	idle := !spawn && c.st()&stStopRead == 0 // paused, or past the peer's end: nobody reads
	if idle && !gone {
		pollWatchGone(c)
	}
	c.mu.Unlock()
	switch {
	case spawn:
		go c.burstFn()
	case idle && gone:
		go c.lostUnread() // exits once the connection is dead, or at once
	}
}

// takeTokenLocked takes the read token for a new reader goroutine if one
// should read now. c.mu must be held.
func (c *conn) takeTokenLocked() bool {
	if c.st()&(stToken|stNoRead|stReadDone) != 0 {
		return false
	}
	c.setLocked(stToken)
	return true
}

// mayReadLocked reports whether the socket should be read now: reading is
// neither paused nor over. c.mu must be held.
func (c *conn) mayReadLocked() bool {
	return c.st()&(stNoRead|stReadDone) == 0
}

// monoEpoch is the origin of monoNow.
var monoEpoch = time.Now()

// monoNow returns monotonic nanoseconds since monoEpoch.
func monoNow() int64 { return int64(time.Since(monoEpoch)) }

// readLinger is how long an epoll-backend reader that has drained its
// socket waits in Go's netpoller for more before it exits: a connection in
// active use keeps the latency of a parked reader goroutine (one wake-up,
// where the poller would add a second), and an idle one gives its
// goroutine back soon after.
const readLinger = 50 * time.Millisecond

// readBurst is the body of a reader goroutine on the epoll backend, which
// holds the read token: it reads until the socket is drained and, for a
// connection in active use, has stayed quiet for readLinger, then gives the
// token back, or delivers ConnectionLost if the connection is dead.
func (c *conn) readBurst() { c.withToken(c.burst) }

// burst is readBurst's work.
func (c *conn) burst() {
	// Only a connection whose previous burst ended a moment ago lingers: it
	// is in active use, and its next message is likely near. A connection
	// that wakes from idleness reads what came and gives its goroutine back
	// at once, so that a crowd of mostly idle connections never holds a
	// crowd of lingering goroutines (and their stacks).
	mode := readDrain
	if monoNow()-c.rd.burstEnd < int64(readLinger) {
		mode = readLingering
		pollWatchHup(c)
	}
	c.rd.gotData = false
	for {
		c.readRun(mode)
		c.mu.Lock()
		switch st := c.st(); {
		case st&stDead != 0:
			c.mu.Unlock()
			c.lose()
			return
		case st&stMore != 0 && c.mayReadLocked():
			c.clearLocked(stMore)
			c.mu.Unlock()
			continue
		}
		c.rd.tok.unbind()
		c.clearLocked(stMore | stToken)
		if c.rd.gotData { // a burst that read nothing (after ConnectionMade, say) says nothing of use
			c.rd.burstEnd = monoNow() // before the token is free: the next holder reads it
		}
		// With mu held: the next holder, which a ResumeReading may start at
		// once, must not have its pollWatchHup undone by this late re-arm.
		switch {
		case c.mayReadLocked(): // else ResumeReading, or nobody, starts the next reader
			pollRearm(c)
		case c.st()&stStopRead == 0:
			pollWatchGone(c) // paused, or past the peer's end: still hear of a reset
		}
		c.mu.Unlock()
		return
	}
}
