package protoflow

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/protogen/protogen/runtime/wire"
)

// errClosed is returned by Write, Close and CloseWrite once the transport is
// closing or lost. It matches net.ErrClosed, as the net package's own errors
// do.
var errClosed = fmt.Errorf("protoflow: transport is closed: %w", net.ErrClosed)

// conn is this package's Transport: one net.Conn driven for one Protocol.
//
// Goroutines: on the goroutine backend the reader goroutine (run) lives
// from attach until after ConnectionLost; on the epoll backend a reader
// goroutine (readBurst) lives only while the socket has data, and the one
// that finds the connection dead delivers ConnectionLost. Either way only
// the holder of the read token reads or delivers ConnectionLost. A flusher
// goroutine (flush) exists only while bytes are queued; it exits when the
// queue is empty or the connection is dead. With timeouts set, the timer's
// goroutine (timeouts.fire) runs while one is due; lose waits for it before
// ConnectionLost. Everything else runs on the goroutines of the transport's
// callers.
//
// The read token (stToken) is the right to read the socket and, once the
// connection is dead, to deliver ConnectionLost: one goroutine has it at a
// time. It is taken with mu held, for a goroutine about to start or for the
// one taking it. The goroutine backend's reader holds it for the
// connection's life; on the epoll backend a reader goroutine holds it only
// while the socket has data, and gives it back in readBurst. A holder runs
// under withToken: if a callback ends it with runtime.Goexit, a new
// goroutine (takeOver) takes the token, delivers ConnectionLost and exits.
//
// Every flag of the connection's life is a bit of state (connState),
// written only with mu held.
type conn struct {
	core // the state word, the registered BaseProtocol and the cause of death

	// Immutable after newConn.
	nc      net.Conn
	proto   Protocol
	opts    *options        // shared by the connections of a Server
	raw     syscall.RawConn // nil: the portable path (blocking reads, writes on the flusher)
	readFn  func(fd uintptr) bool
	burstFn func() // readBurst, bound once: a go statement on it does not allocate
	writeFn func(fd uintptr) bool

	list   links[*conn] // in the Server's list; guarded by Server.mu
	poller *poller      // the epoll backend's poller, and this conn's id there
	pollID uint64

	framer atomic.Pointer[wire.Framer] // the Framer HostFramer gave this connection, reset by lose

	s  serializer
	to atomic.Pointer[timeouts] // made by the first SetTimeouts that enables one; stored with mu held

	// Bytes read, for Server.Stats: written by the read token's holder
	// only (noteRead), read by Stats without a lock.
	nread atomic.Int64

	// The close hand-off between closeSocket and a reader that runs a
	// callback inside its read (readRun): lock-free, for the reader sets
	// delivering around every message.
	delivering atomic.Bool // the reader runs a callback inside its RawConn.Read; written by the token holder
	closeOwed  atomic.Bool // closeSocket left the close to the reader, which was delivering

	// A callback runs corked: Write queues, and the callback's goroutine
	// writes the queue out when it returns (cork.go). Set and cleared only
	// by that goroutine, inside the serializer; read by Write with mu held.
	corked atomic.Bool

	// Owned by the holder of the read token.
	rd readerState

	// Owned by the goroutine that holds mu and writes through
	// (writeOutLocked): one with stFlushing clear.
	wt writeThrough

	// Owned by the flusher goroutine, and lent to the goroutine that holds
	// mu while stFlushing is clear, for a writev of corked bytes
	// (sendLocked); made by the first that needs it, so that a connection
	// that never queues does not carry it.
	fs *flushState

	// The flusher goroutine, if any, and the goroutine that marked the
	// connection dead until it has closed the socket: lose waits for them,
	// so that the socket is closed when ConnectionLost runs.
	socketUsers sync.WaitGroup

	mu      sync.Mutex    // guards the following, and every write to state
	changed chan struct{} // closed when reading resumes, Close is called or the connection dies; made by a waiter (waitChangeLocked)
	q       writeQueue
	done    chan struct{} // closed when stGone is set; made on demand by doneChan
	written int64         // bytes written to the socket, for Server.Stats (noteWrite)

	latePanic error // the first callback panic after a clean death (Close, Abort): ConnectionLost gets it, drainers got nil
}

// doneChan returns a channel closed once ConnectionLost has returned and no
// goroutine of the connection is left. It is made only when asked for: an
// idle connection should not carry it.
func (c *conn) doneChan() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.st()&stGone != 0 {
			close(c.done)
		}
	}
	return c.done
}

// writeThrough is one write system call of sendLocked, handed to
// writeCallback: a write of p, or with vec a writev of the buffers in
// fs.bufs.
type writeThrough struct {
	p   []byte
	err error
	n   int32 // at most a writev's, which Linux caps below 2 GiB
	vec bool
}

// flushState is the flusher's working state, handed from one flusher
// goroutine to its successor.
type flushState struct {
	fl      flushResult
	bufs    [][]byte
	wbuf    net.Buffers // portable path: the write in progress
	iov     []iovec
	flushFn func(fd uintptr) bool
}

// readerState is the read token holder's own state, handed from one holder
// to the next with the token, as flushState is from one flusher to its
// successor.
type readerState struct {
	tok         tokenOwner   // debug builds: the holder's goroutine, for checkToken
	run         readRunState // the readRun in progress, shared with readCallback
	lingerUntil int64        // epoll backend: the read deadline last set for lingering (monoNow), 0 if none
	burstEnd    int64        // epoll backend: when the last burst that read data ended (monoNow)
	gotData     bool         // epoll backend: the current burst has read data
	lostStarted bool         // ConnectionLost is being or has been delivered
	lent        bool         // the read being delivered borrowed the read allowance (budget.readBuf): a read buffer's size
}

type flushResult struct {
	transitions int   // water-mark transitions to deliver
	exit        bool  // the flusher is done; stFlushing is already clear
	closeNow    bool  // the queue drained after Close: close the socket
	shutNow     bool  // the queue drained after CloseWrite: shut the write side
	err         error // writev failed
}

func newConn(nc net.Conn, p Protocol, o *options) *conn {
	c := &conn{
		nc:    nc,
		proto: p,
		opts:  o,
		raw:   rawConnOf(nc),
	}
	c.readFn = c.readCallback
	c.burstFn = c.readBurst
	c.writeFn = c.writeCallback
	c.q.high, c.q.low = o.high, o.low
	c.s.init(c.deliverWriteState)
	if tcp := tcpConnOf(nc); tcp != nil {
		_ = tcp.SetNoDelay(o.noDelay)
	}
	// The goroutine that runs ConnectionMade and starts reading holds the
	// read token; on the epoll backend it gives it back when the socket is
	// drained. No other goroutine knows c yet: a plain store will do.
	c.state.Store(uint32(stToken))
	if c.raw != nil && epollEnabled {
		_ = pollRegister(c) // on error c stays with the goroutine backend
	}
	return c
}

// discard closes a connection that newConn made but nobody started, and
// takes it off the poller, which would otherwise keep it (and itself) alive
// for good.
func (c *conn) discard() {
	if c.epoll() {
		pollUnregister(c)
	}
	_ = c.nc.Close()
}

// epoll reports whether c is on the epoll backend (no reader goroutine
// while idle): whether it has a poller, which newConn sets before any other
// goroutine of c exists.
func (c *conn) epoll() bool { return c.poller != nil }

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

// start runs ConnectionMade on the calling goroutine, then starts the
// timeouts the options set for every connection.
func (c *conn) start() {
	c.s.acquire(false)
	c.callCorked("ConnectionMade", func() { c.proto.ConnectionMade(c) })
	c.s.release()
	c.startFloors()
}

// run is the body of the reader goroutine, which holds the read token:
// ConnectionMade unless it has run already, reading until the connection
// stops reading, then ConnectionLost once the connection is dead.
func (c *conn) run(made bool) {
	if !made {
		c.withToken(c.start)
	}
	if c.epoll() {
		c.readBurst()
		return
	}
	c.withToken(c.readLoop)
}

// readLoop is the goroutine backend's reader: it reads until the
// connection stops reading, then delivers ConnectionLost once the
// connection is dead.
func (c *conn) readLoop() {
	if c.raw != nil {
		c.readRawLoop()
	} else {
		c.readPortableLoop()
	}
	c.lose()
}

// lose waits for the connection to die, its socket to be closed and the
// flusher to exit, then delivers ConnectionLost, unless it has started
// already.
func (c *conn) lose() {
	c.checkToken()
	if !c.rd.lostStarted {
		c.rd.lostStarted = true
		c.mu.Lock()
		for c.st()&stDead == 0 {
			c.waitChangeLocked()
		}
		c.mu.Unlock()
		c.socketUsers.Wait()
		if to := c.to.Load(); to != nil {
			// Before acquire: a fire waiting in the serializer must get in,
			// find the connection dead and return.
			to.stop()
		}
		c.s.acquire(true)
		// Read the cause only now: a callback that was running until acquire
		// returned may have panicked after a Close.
		c.mu.Lock()
		cause := c.cause
		if cause == nil {
			cause = c.latePanic
		}
		c.mu.Unlock()
		c.call("ConnectionLost", func() { c.proto.ConnectionLost(cause) })
		c.s.release()
	}
	if c.epoll() {
		pollUnregister(c)
	}
	if f := c.framer.Load(); f != nil {
		// No callback runs any more: the buffer of a frame left incomplete
		// goes back to the pool (and the budget) now.
		f.Reset()
	}
	if b := c.opts.budget; b != nil {
		b.drop(c) // after ConnectionLost, which may still give buffers back
	}
	c.mu.Lock()
	c.setLocked(stGone)
	if c.done != nil {
		close(c.done)
	}
	c.mu.Unlock()
	if s := c.opts.server; s != nil {
		s.remove(c)
	}
}

// errGoexit is the PanicError value for a callback that called
// runtime.Goexit.
var errGoexit = errors.New("protoflow: callback called runtime.Goexit")

// call runs one protocol callback, turning a panic (or runtime.Goexit) into
// the death of this connection alone.
func (c *conn) call(name string, fn func()) {
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		goexit := v == nil
		if goexit {
			v = errGoexit
		}
		perr := &PanicError{Callback: name, Value: v, Stack: debug.Stack()}
		if l := c.opts.logger; l != nil {
			l.Error("protoflow: panic in protocol callback",
				"callback", name, "remote", fmt.Sprint(c.nc.RemoteAddr()),
				"panic", fmt.Sprint(v), "stack", string(perr.Stack))
		}
		c.corked.Store(false) // the callback is over, if it was corked: this goroutine will not uncork
		c.kill(perr)
		if goexit {
			// This goroutine is ending inside the serializer; let others in.
			c.s.abandon()
		}
	}()
	fn()
	returned = true
}

// deliverWriteState is the serializer's delivery of one transition.
func (c *conn) deliverWriteState(pause bool) {
	if pause {
		c.callCorked("PauseWriting", c.proto.PauseWriting)
	} else {
		c.callCorked("ResumeWriting", c.proto.ResumeWriting)
	}
}

// kill marks the connection dead with cause (nil for a clean close), drops
// the queue and closes the socket. The first call wins. mu must not be held:
// closing the socket waits for I/O in progress, which may need mu.
func (c *conn) kill(cause error) {
	c.mu.Lock()
	killed := c.killLocked(cause)
	c.mu.Unlock()
	if killed {
		c.closeDead(false)
	}
}

// closeDead closes the socket of the connection the calling goroutine has
// just marked dead (markDeadLocked), then lets lose go on and starts it if
// it is owed. c.mu must not be held. Nothing between the marking and this
// call may run protocol code, which could end the goroutine
// (runtime.Goexit) and leave lose waiting.
func (c *conn) closeDead(graceful bool) {
	func() {
		// Deferred: on the portable path Close is the wrapper's code, and
		// a panic there that the caller recovers must not hang lose.
		defer c.socketUsers.Done()
		if h := c.opts.beforeClose; h != nil {
			h()
		}
		c.closeSocket(graceful)
	}()
	c.afterDeath()
}

// afterDeath wakes the drainers of a registered BaseProtocol and, on the
// epoll backend, starts the goroutine that delivers ConnectionLost when no
// reader holds the token. c.mu must not be held.
func (c *conn) afterDeath() {
	if b := c.base.Load(); b != nil {
		b.flowDied(&c.core)
	}
	c.mu.Lock()
	owed := c.st()&stLoserOwed != 0
	c.clearLocked(stLoserOwed)
	c.mu.Unlock()
	if owed {
		go c.burstFn() // finds the connection dead and delivers ConnectionLost
	}
}

func (c *conn) coreOf() *core { return &c.core }

// killLocked is kill without closing the socket: when it returns true the
// caller must call closeDead after unlocking, or lose waits for good. c.mu
// must be held.
func (c *conn) killLocked(cause error) bool {
	if c.st()&stDead != 0 {
		// A panic after Close or Abort still reaches ConnectionLost; cause
		// stays as drainers saw it.
		if _, ok := cause.(*PanicError); ok && c.cause == nil && c.latePanic == nil {
			c.latePanic = cause
		}
		return false
	}
	if c.q.size > 0 && c.st()&stFlushing == 0 && c.raw != nil {
		// Corked bytes: write what the socket takes before dropping the
		// rest, as their Writes would have written it through (cork.go).
		_ = c.sendLocked(nil)
	}
	c.markDeadLocked(cause)
	c.q.discard()
	return true
}

// markDeadLocked marks the connection dead; the caller must call closeDead
// after unlocking. c.mu must be held.
func (c *conn) markDeadLocked(cause error) {
	set := stDead
	if c.st()&stToken == 0 {
		set |= stToken | stLoserOwed // taken for the goroutine afterDeath starts
	}
	c.socketUsers.Add(1) // Done by the caller's closeDead
	c.cause = cause      // before stDead, which publishes it to deathErr
	c.setLocked(set)
	c.broadcastLocked()
}

// closeSocket closes the connection. An abort closes the socket beneath TLS
// and similar wrappers first, so that a close alert can never block on a
// peer that stopped reading; a graceful close lets the wrapper say goodbye
// (crypto/tls bounds its close_notify with a deadline of its own).
//
// A reader that runs a callback inside its read holds a reference to the
// file descriptor, and net.Conn.Close waits for every reference: so while
// one does, the socket is only shut down here (the peer sees the end at
// once) and the reader closes it when it leaves the read (readRun).
func (c *conn) closeSocket(graceful bool) {
	if c.raw != nil {
		c.closeOwed.Store(true)
		if c.delivering.Load() {
			_ = c.raw.Control(shutdownSocket)
			return
		}
		if !c.closeOwed.CompareAndSwap(true, false) {
			return // the reader has closed it, or is closing it
		}
	}
	if inner, ok := c.nc.(interface{ NetConn() net.Conn }); ok && !graceful {
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
	return c.st()&stStopRead != 0 // without mu: generated code asks once per frame
}

// LocalAddr implements [Transport.LocalAddr].
func (c *conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr implements [Transport.RemoteAddr].
func (c *conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// NetConn implements [Transport.NetConn].
func (c *conn) NetConn() net.Conn { return c.nc }

// waitChangeLocked waits, with c.mu released meanwhile, until reading
// resumes, Close is called or the connection dies (broadcastLocked). c.mu
// must be held. It is a condition variable that costs a connection nothing
// until someone waits: a sync.Cond would add 56 bytes to every connection.
func (c *conn) waitChangeLocked() {
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	ch := c.changed
	c.mu.Unlock()
	<-ch
	c.mu.Lock()
}

// broadcastLocked wakes every waitChangeLocked. c.mu must be held.
func (c *conn) broadcastLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

func (c *conn) optionsOf() *options { return c.opts }

func (c *conn) listLinks() *links[*conn] { return &c.list }
