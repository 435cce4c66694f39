package protoflow

import (
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
)

// errClosed is returned by Write, Close and CloseWrite once the transport is
// closing or lost. It matches net.ErrClosed, as the net package's own errors
// do.
var errClosed = fmt.Errorf("protoflow: transport is closed: %w", net.ErrClosed)

// conn is this package's Transport: one net.Conn driven for one Protocol.
//
// Goroutines: the reader goroutine (serve) runs from attach until after
// ConnectionLost; it reads, runs the protocol's callbacks and exits last. A
// flusher goroutine (flush) exists only while bytes are queued; it exits
// when the queue is empty or the connection is dead. Everything else runs on
// the goroutines of the transport's callers.
type conn struct {
	// Immutable after newConn.
	nc       net.Conn
	proto    Protocol
	opts     options
	raw      syscall.RawConn // nil: the portable path (blocking reads, writes on the flusher)
	readPool *sync.Pool      // read buffers of opts.readBufferSize bytes
	readFn   func(fd uintptr) bool
	writeFn  func(fd uintptr) bool
	flushFn  func(fd uintptr) bool
	done     chan struct{} // closed once ConnectionLost has returned and no goroutine of the connection is left

	s serializer

	// Atomic mirrors for the read path, which must not wait for mu. Written
	// with mu held.
	readPaused atomic.Bool // readingPaused
	stopRead   atomic.Bool // closing || dead

	// Owned by the reader goroutine.
	rd readResult

	// Owned by the goroutine in Write that holds mu and writes through.
	wt writeThrough

	// Owned by the flusher goroutine.
	fl   flushResult
	bufs [][]byte
	iov  []iovec

	flushers sync.WaitGroup // the flusher goroutine, if any

	mu            sync.Mutex
	changed       sync.Cond // broadcast when reading resumes or the connection dies; L is &mu
	q             writeQueue
	flushing      bool  // a flusher goroutine owns the socket's write side; true whenever q.size > 0
	closing       bool  // Close was called: flush, then close
	shutWrite     bool  // CloseWrite was called: flush, then shut the write side
	readingPaused bool  // PauseReading without ResumeReading
	dead          bool  // the socket is closed or being closed; ConnectionLost is due
	cause         error // why the connection died; nil for a clean close
}

type readResult struct {
	buf *[]byte
	n   int
	err error
}

type writeThrough struct {
	p   []byte
	n   int
	err error
}

type flushResult struct {
	transitions int   // water-mark transitions to deliver
	exit        bool  // the flusher is done; flushing is already false
	closeNow    bool  // the queue drained after Close: close the socket
	shutNow     bool  // the queue drained after CloseWrite: shut the write side
	err         error // writev failed
}

func newConn(nc net.Conn, p Protocol, o options) *conn {
	c := &conn{
		nc:       nc,
		proto:    p,
		opts:     o,
		raw:      rawConnOf(nc),
		readPool: readPoolFor(o.readBufferSize),
		done:     make(chan struct{}),
	}
	c.readFn = c.readCallback
	c.writeFn = c.writeCallback
	c.flushFn = c.flushCallback
	c.changed.L = &c.mu
	c.q.high, c.q.low = o.high, o.low
	c.s.init(c.deliverWriteState)
	if tcp := tcpConnOf(nc); tcp != nil {
		_ = tcp.SetNoDelay(o.noDelay)
	}
	return c
}

var readPools sync.Map // int (buffer size) → *sync.Pool

func readPoolFor(size int) *sync.Pool {
	if p, ok := readPools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := readPools.LoadOrStore(size, &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}})
	return p.(*sync.Pool)
}

// start runs ConnectionMade on the calling goroutine.
func (c *conn) start() {
	c.s.acquire(false)
	c.call("ConnectionMade", func() { c.proto.ConnectionMade(c) })
	c.s.release()
}

// serve is the body of the reader goroutine: it reads until the connection
// stops reading, waits for it to die, and delivers ConnectionLost.
func (c *conn) serve() {
	if c.raw != nil {
		c.readRawLoop()
	} else {
		c.readPortableLoop()
	}
	c.mu.Lock()
	for !c.dead {
		c.changed.Wait()
	}
	cause := c.cause
	c.mu.Unlock()
	c.flushers.Wait()
	c.s.acquire(true)
	c.call("ConnectionLost", func() { c.proto.ConnectionLost(cause) })
	c.s.release()
	close(c.done)
}

// call runs one protocol callback, turning a panic into the death of this
// connection alone.
func (c *conn) call(name string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			perr := &PanicError{Callback: name, Value: v, Stack: debug.Stack()}
			if l := c.opts.logger; l != nil {
				l.Error("protoflow: panic in protocol callback",
					"callback", name, "remote", c.nc.RemoteAddr().String(),
					"panic", fmt.Sprint(v), "stack", string(perr.Stack))
			}
			c.kill(perr)
		}
	}()
	fn()
}

// deliverWriteState is the serializer's delivery of one transition.
func (c *conn) deliverWriteState(pause bool) {
	if pause {
		c.call("PauseWriting", c.proto.PauseWriting)
	} else {
		c.call("ResumeWriting", c.proto.ResumeWriting)
	}
}

// kill marks the connection dead with cause (nil for a clean close), drops
// the queue and closes the socket. The first call wins. mu must not be held:
// closing the socket waits for I/O in progress, which may need mu.
func (c *conn) kill(cause error) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.markDeadLocked(cause)
	c.q.discard()
	c.mu.Unlock()
	c.closeSocket()
}

func (c *conn) markDeadLocked(cause error) {
	c.dead = true
	c.cause = cause
	c.stopRead.Store(true)
	c.changed.Broadcast()
}

// closeSocket closes the connection. For TLS and similar wrappers over a
// socket, the socket beneath is closed first so that a close alert can never
// block on a peer that stopped reading.
func (c *conn) closeSocket() {
	if inner, ok := c.nc.(interface{ NetConn() net.Conn }); ok {
		_ = inner.NetConn().Close()
	}
	_ = c.nc.Close()
}

// opError describes a failed system call on the socket the way the net
// package does, so that errors.Is finds the errno.
func (c *conn) opError(op string, err error) error {
	if _, ok := err.(syscall.Errno); !ok {
		return err
	}
	return &net.OpError{
		Op:     op,
		Net:    c.nc.LocalAddr().Network(),
		Source: c.nc.LocalAddr(),
		Addr:   c.nc.RemoteAddr(),
		Err:    os.NewSyscallError(op, err),
	}
}

// IsClosing implements [Transport.IsClosing].
func (c *conn) IsClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.dead
}

// LocalAddr implements [Transport.LocalAddr].
func (c *conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr implements [Transport.RemoteAddr].
func (c *conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// NetConn implements [Transport.NetConn].
func (c *conn) NetConn() net.Conn { return c.nc }
