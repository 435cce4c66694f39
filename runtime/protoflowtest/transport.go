package protoflowtest

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// transport is the protoflow.Transport of a Conn: the protocol's side of
// it. Its methods are safe for concurrent use and never wait for a
// callback.
type transport struct{ c *Conn }

var _ protoflow.Transport = (*transport)(nil)

// Write implements protoflow.Transport. It copies p to the peer when the
// peer reads and nothing is queued, and queues it otherwise.
func (t *transport) Write(p []byte) (int, error) {
	c := t.c
	c.mu.Lock()
	if c.closing || c.shutWrite || c.dead {
		c.mu.Unlock()
		return 0, errClosed
	}
	if len(p) == 0 {
		c.mu.Unlock()
		return 0, nil
	}
	n := 0
	if !c.stalled && len(c.queue) == 0 {
		c.received = append(c.received, p...)
		c.clock.lastWrite = c.clock.now
		c.broadcastLocked()
	} else {
		c.queue = append(c.queue, p...)
		n = c.transitionLocked()
	}
	c.mu.Unlock()
	c.notify(n)
	return len(p), nil
}

// WriteBufferSize implements protoflow.Transport.
func (t *transport) WriteBufferSize() int {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// SetWriteBufferLimits implements protoflow.Transport.
func (t *transport) SetWriteBufferLimits(high, low int) error {
	if high < low || low < 0 {
		return &protoflow.BufferLimitsError{High: high, Low: low}
	}
	c := t.c
	c.mu.Lock()
	c.high, c.low = high, low
	n := c.transitionLocked()
	c.mu.Unlock()
	c.notify(n)
	return nil
}

// PauseReading implements protoflow.Transport.
func (t *transport) PauseReading() error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing && !c.dead {
		c.readPaused = true
	}
	return nil
}

// ResumeReading implements protoflow.Transport. Bytes held meanwhile are
// delivered by the goroutine running a callback when it returns, or else
// by a pump goroutine.
func (t *transport) ResumeReading() error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readPaused && !c.closing && !c.dead {
		c.readPaused = false
		c.clock.readFrom = c.clock.now  // the read timeout starts a full period
		c.clock.frameFrom = c.clock.now // and so does the frame under way
		c.kickLocked()
	}
	return nil
}

// CloseWrite implements protoflow.Transport: the write side closes once
// the queue is flushed.
func (t *transport) CloseWrite() error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.shutWrite || c.dead {
		return errClosed
	}
	c.shutWrite = true
	if len(c.queue) == 0 {
		c.writeClosed = true
		c.broadcastLocked()
	}
	return nil
}

// Close implements protoflow.Transport.
func (t *transport) Close() error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

// closeLocked is Close with c.mu held.
func (c *Conn) closeLocked() error {
	if c.closing || c.dead {
		return errClosed
	}
	c.closing = true
	c.held = nil // reading stops: what was not delivered never will be
	c.eofDue = false
	if len(c.queue) == 0 {
		c.killLocked(nil)
	}
	c.kickLocked()
	return nil
}

// Abort implements protoflow.Transport.
func (t *transport) Abort() { t.AbortWithError(nil) }

// AbortWithError is what protoflow.AbortWithError calls: Abort, but
// ConnectionLost receives err.
func (t *transport) AbortWithError(err error) {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.killLocked(err)
	c.kickLocked()
}

// IsClosing implements protoflow.Transport.
func (t *transport) IsClosing() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.dead
}

// LocalAddr implements protoflow.Transport.
func (t *transport) LocalAddr() net.Addr { return localAddr }

// RemoteAddr implements protoflow.Transport.
func (t *transport) RemoteAddr() net.Addr { return remoteAddr }

// NetConn implements protoflow.Transport. There is no socket: the
// net.Conn it returns has the transport's addresses, and its other
// methods fail with errNoSocket.
func (t *transport) NetConn() net.Conn { return noSocket{} }

// SetTimeouts is what protoflow.SetTimeouts calls: it sets the read and
// idle timeouts on the Conn's clock, with protoflow.SetTimeouts's rules.
func (t *transport) SetTimeouts(read, idle time.Duration) error {
	if read < 0 || idle < 0 {
		return fmt.Errorf("protoflowtest: negative timeout (read %v, idle %v): %w", read, idle, fs.ErrInvalid)
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return errClosed
	}
	c.clock.set(read, idle)
	return nil
}

// SetFrameTimeout is what protoflow.SetFrameTimeout calls: it sets the
// frame timeout on the Conn's clock, with protoflow.SetFrameTimeout's
// rules. It times the frames of the Framer given to protoflow.HostFramer.
func (t *transport) SetFrameTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("protoflowtest: negative frame timeout %v: %w", d, fs.ErrInvalid)
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return errClosed
	}
	c.clock.frame = d
	return nil
}

// HostFramer is what protoflow.HostFramer calls: f then tells the Conn
// when it begins to hold a frame and when it holds none, which the frame
// timeout times on the Conn's clock. Its buffers are its own, as without
// a host: there is no reassembly budget in memory.
func (t *transport) HostFramer(f *wire.Framer) { f.SetHost(frameHost{t.c}) }

// frameHost is the wire.Host of a Framer given to HostFramer. Its methods
// run in the protocol's callbacks, when c.mu is not held.
type frameHost struct{ c *Conn }

// Buffer implements wire.Host: a buffer of its own, as a Framer without a
// host makes.
func (frameHost) Buffer(size, _ int) []byte { return make([]byte, 0, size) }

// Release implements wire.Host: the garbage collector takes the buffer.
func (frameHost) Release([]byte) {}

// Partial implements wire.Host: a frame begins now on the clock, or none
// is held.
func (h frameHost) Partial(begun bool) {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock.holding = begun
	if begun {
		c.clock.frameFrom = c.clock.now
	}
}

// network is the network name of the in-memory connection's addresses.
const network = "protoflowtest"

// addr is an address of an in-memory connection.
type addr string

func (addr) Network() string  { return network }
func (a addr) String() string { return string(a) }

var (
	localAddr  net.Addr = addr("local")
	remoteAddr net.Addr = addr("remote")
)

// errNoSocket is the error of noSocket's I/O methods.
var errNoSocket = errors.New("protoflowtest: an in-memory connection has no socket; use the Transport")

// noSocket is what NetConn returns: addresses, and no I/O.
type noSocket struct{}

func (noSocket) Read([]byte) (int, error)         { return 0, errNoSocket }
func (noSocket) Write([]byte) (int, error)        { return 0, errNoSocket }
func (noSocket) Close() error                     { return errNoSocket }
func (noSocket) LocalAddr() net.Addr              { return localAddr }
func (noSocket) RemoteAddr() net.Addr             { return remoteAddr }
func (noSocket) SetDeadline(time.Time) error      { return errNoSocket }
func (noSocket) SetReadDeadline(time.Time) error  { return errNoSocket }
func (noSocket) SetWriteDeadline(time.Time) error { return errNoSocket }
