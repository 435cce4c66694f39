package protoflow

import (
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/protogen/protogen/runtime/wire"
)

// lconn is the loop backend's Transport: one raw socket driven by one loop
// for one Protocol. See loop_linux.go for who owns what; in short, the
// loop owns lf, id and the descriptor's life, mu guards everything else
// that changes, and the rest is immutable once the connection is shared.
type lconn struct {
	core // first: lconnOf converts a *core back

	fd      int32  // immutable; closed by the loop only, which then sets stFdClosed
	slot    int32  // loop, written with mu held before the socket is registered: the connection's index in its loop's table, its tag in epoll events
	id      uint32 // loop, as slot: the registration's tag in epoll events, which tells a stale event from the slot's next connection
	pending uint8  // mu: transitions decided and not yet delivered by the loop
	lf      uint8  // loop: lfMade, lfLost, lfPaused
	rport   uint16 // immutable: the peer's port (TCP)
	raddr   [16]byte

	l     *loop    // immutable: the loop that runs the connection
	proto Protocol // immutable
	opts  *options // immutable; shared by a Server's connections

	mu      sync.Mutex                 // guards the state word's writes, pending, written, and x's fields
	x       atomic.Pointer[lconnExtra] // made once, on demand (extraLocked); never replaced
	written int64                      // mu: bytes written to the socket, for Server.Stats (noteWrite)
	nread   atomic.Int64               // loop: bytes read, for Server.Stats (noteRead); read by Stats without a lock

	framer *wire.Framer // the callbacks' (the loop's): the Framer HostFramer gave the connection, reset by finished

	list links[*lconn] // in the Server's list; guarded by Server.mu
}

// lconnExtra is what a connection needs only once it queues bytes, has
// timeouts, is asked for its NetConn or done channel, or panics after a
// clean close: an idle connection does without it.
type lconnExtra struct {
	q         writeQueue                // mu
	to        atomic.Pointer[ltimeouts] // stored with mu held, once
	done      chan struct{}             // mu: closed once ConnectionLost has returned
	nc        net.Conn                  // mu: Attach's connection, or the one NetConn made
	laddr     net.Addr                  // mu: LocalAddr, kept for after the close
	latePanic error                     // mu: the first callback panic after a clean death
}

// Loop-only flags of lconn.lf.
const (
	lfMade   = 1 << iota // ConnectionMade has run: events may be delivered
	lfLost               // ConnectionLost has started
	lfPaused             // the last transition delivered was PauseWriting
)

// newLconn makes the transport of socket fd, which is non-blocking and
// owned by the caller until it posts the connection to l.
func newLconn(fd int, p Protocol, o *options, l *loop, unix bool, raddr [16]byte, rport uint16) *lconn {
	c := &lconn{fd: int32(fd), proto: p, opts: o, l: l, raddr: raddr, rport: rport}
	// stPosted until the loop registers it: what the connection owes
	// before then, the registration delivers. No other goroutine knows c
	// yet: a plain store will do.
	st := stLoopConn | stPosted
	if unix {
		st |= stUnix
	}
	c.state.Store(uint32(st))
	return c
}

var _ ownTransport = (*lconn)(nil)

func (c *lconn) coreOf() *core         { return &c.core }
func (c *lconn) optionsOf() *options   { return c.opts }
func (c *lconn) setLocked(b connState) { c.state.Store(uint32(c.st() | b)) }
func (c *lconn) clearLocked(b connState) {
	c.state.Store(uint32(c.st() &^ b))
}

// extraLocked returns c.x, making it. c.mu must be held.
func (c *lconn) extraLocked() *lconnExtra {
	x := c.x.Load()
	if x == nil {
		x = &lconnExtra{}
		x.q.high, x.q.low = c.opts.high, c.opts.low
		c.x.Store(x)
	}
	return x
}

// oweLocked tells the loop it owes c work, posting c unless it is posted
// already. c.mu must be held.
func (c *lconn) oweLocked() {
	c.setLocked(stOwed)
	if c.st()&stPosted == 0 {
		c.setLocked(stPosted)
		c.l.post(loopTask{c: c})
	}
}

// clearPosted is the loop's receipt of c from its inbox.
func (c *lconn) clearPosted() {
	c.mu.Lock()
	c.clearLocked(stPosted)
	c.mu.Unlock()
}

// wantLocked returns the events the socket should be registered for.
func (c *lconn) wantLocked() uint32 {
	var ev uint32
	st := c.st()
	if st&(stNoRead|stReadDone) == 0 {
		ev |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	if st&stFlushing != 0 {
		ev |= syscall.EPOLLOUT
	}
	return ev
}

// noteArmedLocked records the events the socket is registered for.
func (c *lconn) noteArmedLocked(ev uint32) {
	c.clearLocked(stArmIn | stArmOut)
	if ev&syscall.EPOLLIN != 0 {
		c.setLocked(stArmIn)
	}
	if ev&syscall.EPOLLOUT != 0 {
		c.setLocked(stArmOut)
	}
}

// rearmLocked brings the socket's registration in line with the state
// (reading, flushing): any goroutine may, with c.mu held. A socket the loop
// has not registered yet is registered by the loop with the state of then;
// one that hungUp took out goes back in when there is something to wait
// for.
func (c *lconn) rearmLocked() {
	st := c.st()
	if st&(stFdClosed|stDead) != 0 {
		return
	}
	want := c.wantLocked()
	switch {
	case st&stDetached != 0:
		if want == 0 {
			return
		}
		ev := syscall.EpollEvent{Events: want, Fd: c.slot, Pad: int32(c.idLocked())}
		if syscall.EpollCtl(c.l.epfd, syscall.EPOLL_CTL_ADD, int(c.fd), &ev) == nil {
			c.clearLocked(stDetached)
			c.setLocked(stInEpoll)
			c.noteArmedLocked(want)
		}
	case st&stInEpoll == 0:
		return
	default:
		var armed uint32
		if st&stArmIn != 0 {
			armed |= syscall.EPOLLIN | syscall.EPOLLRDHUP
		}
		if st&stArmOut != 0 {
			armed |= syscall.EPOLLOUT
		}
		if armed == want {
			return
		}
		ev := syscall.EpollEvent{Events: want, Fd: c.slot, Pad: int32(c.idLocked())}
		if syscall.EpollCtl(c.l.epfd, syscall.EPOLL_CTL_MOD, int(c.fd), &ev) == nil {
			c.noteArmedLocked(want)
		}
	}
}

// idLocked returns the registration's tag. The loop writes id and slot
// before it registers the socket, with mu held after: whoever sees
// stInEpoll or stDetached under mu sees them.
func (c *lconn) idLocked() uint32 { return c.id }

// Write implements [Transport.Write].
func (c *lconn) Write(p []byte) (int, error) {
	c.mu.Lock()
	st := c.st()
	if st&stNoWrite != 0 {
		c.mu.Unlock()
		return 0, errClosed
	}
	if len(p) == 0 {
		c.mu.Unlock()
		return 0, nil
	}
	took, transitions, err := c.corkWrite(p) // inside a corked callback of c (lcork_linux.go)
	if err == nil && took {
		c.mu.Unlock()
		if transitions > 0 {
			c.afterTransitions()
		}
		return len(p), nil
	}
	if err != nil {
		killed := c.killLocked(err)
		c.mu.Unlock()
		if killed {
			c.afterKill()
		}
		return 0, err
	}
	st = c.st()
	rest := p
	if st&stFlushing == 0 {
		// Nothing is queued: write through on this goroutine. mu keeps
		// writers in order, and the descriptor open (only a dead
		// connection's is closed).
		n, err := rawWrite(uintptr(c.fd), p)
		if err != nil && err != syscall.EAGAIN {
			err = c.opError("write", err)
			killed := c.killLocked(err)
			c.mu.Unlock()
			if killed {
				c.afterKill()
			}
			return 0, err
		}
		if n > 0 {
			c.noteWrite(n)
		}
		rest = p[n:]
	}
	if len(rest) > 0 {
		x := c.extraLocked()
		x.q.push(rest)
		if st&stFlushing == 0 {
			c.setLocked(stFlushing)
			c.rearmLocked()
		}
		transitions += c.transitionLocked()
	}
	c.mu.Unlock()
	if transitions > 0 {
		c.afterTransitions()
	}
	return len(p), nil
}

// transitionLocked checks the water marks after the queue changed; a
// transition flips stWritePaused at once (Drain follows it) and is owed to
// the protocol, which the loop delivers. c.mu must be held.
func (c *lconn) transitionLocked() int {
	x := c.x.Load()
	if x == nil {
		return 0
	}
	paused := c.writingPaused()
	if !x.q.crossed(paused) {
		return 0
	}
	if paused {
		c.clearLocked(stWritePaused)
	} else {
		c.setLocked(stWritePaused)
	}
	c.pending++
	c.oweLocked()
	return 1
}

// afterTransitions wakes the drainers of a registered BaseProtocol as soon
// as writing may resume. c.mu must not be held.
func (c *lconn) afterTransitions() {
	if b := c.base.Load(); b != nil && !c.writingPaused() {
		b.flowResumed(&c.core)
	}
}

// killLocked marks the connection dead with cause (nil for a clean close)
// and drops the queue; the first call wins, and when it returns true the
// caller calls afterKill once mu is released. c.mu must be held.
func (c *lconn) killLocked(cause error) bool {
	if c.st()&stDead == 0 {
		c.dropCorkLocked() // what the Writes would have sent through goes out first
	}
	if c.st()&stDead != 0 {
		// A panic after Close or Abort still reaches ConnectionLost; cause
		// stays as drainers saw it.
		if _, ok := cause.(*PanicError); ok && c.cause == nil {
			if x := c.extraLocked(); x.latePanic == nil {
				x.latePanic = cause
			}
		}
		return false
	}
	c.markDeadLocked(cause)
	return true
}

// markDeadLocked marks the connection dead and owes the loop its close and
// ConnectionLost. c.mu must be held.
func (c *lconn) markDeadLocked(cause error) {
	c.cause = cause // before stDead, which publishes it to deathErr
	if x := c.x.Load(); x != nil {
		x.q.discard()
	}
	c.clearLocked(stFlushing)
	c.setLocked(stDead)
	c.oweLocked()
}

// afterKill wakes the drainers of a connection just marked dead, and shuts
// its socket down: the peer sees the end at once, though the loop closes
// the descriptor only once the callback running now (this connection's,
// or another's) returns. c.mu must not be held.
func (c *lconn) afterKill() {
	c.mu.Lock()
	if c.st()&stFdClosed == 0 {
		_ = syscall.Shutdown(int(c.fd), syscall.SHUT_RDWR)
	}
	c.mu.Unlock()
	if b := c.base.Load(); b != nil {
		b.flowDied(&c.core)
	}
}

// kill marks the connection dead with cause; the loop closes it.
func (c *lconn) kill(cause error) {
	c.mu.Lock()
	killed := c.killLocked(cause)
	c.mu.Unlock()
	if killed {
		c.afterKill()
	}
}

// panicked kills the connection after a callback panicked with v (or
// called runtime.Goexit).
func (c *lconn) panicked(callback string, v any) {
	perr := &PanicError{Callback: callback, Value: v, Stack: debug.Stack()}
	if l := c.opts.logger; l != nil {
		l.Error("protoflow: panic in protocol callback",
			"callback", callback, "remote", fmt.Sprint(c.RemoteAddr()),
			"panic", fmt.Sprint(v), "stack", string(perr.Stack))
	}
	c.kill(perr)
}

// Close implements [Transport.Close].
func (c *lconn) Close() error {
	c.mu.Lock()
	if c.st()&stStopRead != 0 {
		c.mu.Unlock()
		return errClosed
	}
	c.setLocked(stClosing)
	transitions, killed := c.uncorkLocked() // the corked bytes go before the end
	if killed {
		c.mu.Unlock()
		c.afterKill()
		return nil
	}
	if c.st()&stFlushing != 0 {
		c.rearmLocked() // stop reading; the loop closes once the queue is out
		c.mu.Unlock()
		if transitions > 0 {
			c.afterTransitions()
		}
		return nil
	}
	c.markDeadLocked(nil)
	c.mu.Unlock()
	c.afterKill()
	return nil
}

// Abort implements [Transport.Abort].
func (c *lconn) Abort() { c.kill(nil) }

// CloseWrite implements [Transport.CloseWrite].
func (c *lconn) CloseWrite() error {
	c.mu.Lock()
	if c.st()&stNoWrite != 0 {
		c.mu.Unlock()
		return errClosed
	}
	c.setLocked(stShutWrite)
	transitions, killed := c.uncorkLocked() // the corked bytes go before the end
	if killed {
		c.mu.Unlock()
		c.afterKill()
		return nil
	}
	if transitions > 0 {
		defer c.afterTransitions()
	}
	if c.st()&stFlushing != 0 {
		c.mu.Unlock()
		return nil // the loop shuts the write side once the queue is out
	}
	c.setLocked(stShutDone)
	c.mu.Unlock()
	c.shutWrite()
	return nil
}

// shutWrite half closes the socket; an error kills the connection.
func (c *lconn) shutWrite() {
	c.mu.Lock()
	var err error
	if c.st()&stFdClosed == 0 {
		err = syscall.Shutdown(int(c.fd), syscall.SHUT_WR)
	}
	c.mu.Unlock()
	if err != nil {
		c.kill(c.opError("shutdown", err))
	}
}

// WriteBufferSize implements [Transport.WriteBufferSize].
func (c *lconn) WriteBufferSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	if x := c.x.Load(); x != nil {
		n = x.q.size
	}
	if c.corkedLocked() {
		n += len(c.l.cork)
	}
	return n
}

// SetWriteBufferLimits implements [Transport.SetWriteBufferLimits].
func (c *lconn) SetWriteBufferLimits(high, low int) error {
	if err := checkLimits(high, low); err != nil {
		return err
	}
	c.mu.Lock()
	x := c.extraLocked()
	x.q.high, x.q.low = high, low
	transitions := 0
	if c.st()&stDead == 0 {
		if c.corkedLocked() && len(c.l.cork) > c.corkLimitLocked() {
			// Corked bytes above the new marks: out now, so that a pause
			// they decide has the queue to end it.
			var killed bool
			if transitions, killed = c.uncorkLocked(); killed {
				c.mu.Unlock()
				c.afterKill()
				return nil
			}
		}
		transitions += c.transitionLocked()
	}
	c.mu.Unlock()
	if transitions > 0 {
		c.afterTransitions()
	}
	return nil
}

// PauseReading implements [Transport.PauseReading].
func (c *lconn) PauseReading() error {
	c.mu.Lock()
	if c.st()&stStopRead == 0 {
		c.setLocked(stReadPaused)
		c.rearmLocked()
	}
	c.mu.Unlock()
	return nil
}

// ResumeReading implements [Transport.ResumeReading].
func (c *lconn) ResumeReading() error {
	c.mu.Lock()
	if c.st()&(stStopRead|stReadPaused) == stReadPaused { // a wait for memory stays (memoryFree ends it)
		c.clearLocked(stReadPaused)
		c.noteResume()
		c.rearmLocked() // level-triggered: bytes that came meanwhile are reported at once
	}
	c.mu.Unlock()
	return nil
}

// IsClosing implements [Transport.IsClosing].
func (c *lconn) IsClosing() bool { return c.st()&stStopRead != 0 }

// RemoteAddr implements [Transport.RemoteAddr]: the peer's address as
// accept or Attach found it, kept for after the close.
func (c *lconn) RemoteAddr() net.Addr {
	if nc := c.netConnMade(); nc != nil {
		return nc.RemoteAddr()
	}
	return c.peerAddr()
}

// peerAddr is the peer's address as accept or Attach found it. It takes no
// lock: opError calls it with mu held.
func (c *lconn) peerAddr() net.Addr {
	if c.st()&stUnix != 0 {
		return &net.UnixAddr{Net: "unix"}
	}
	ip := net.IP(append([]byte(nil), c.raddr[:]...))
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return &net.TCPAddr{IP: ip, Port: int(c.rport)}
}

// LocalAddr implements [Transport.LocalAddr].
func (c *lconn) LocalAddr() net.Addr {
	if nc := c.netConnMade(); nc != nil {
		return nc.LocalAddr()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.extraLocked()
	if x.laddr == nil && c.st()&stFdClosed == 0 {
		if sa, err := syscall.Getsockname(int(c.fd)); err == nil {
			x.laddr = sockaddrToAddr(sa)
		}
	}
	if x.laddr == nil {
		if c.st()&stUnix != 0 {
			return &net.UnixAddr{Net: "unix"}
		}
		return &net.TCPAddr{}
	}
	return x.laddr
}

// netConnMade returns the connection Attach was given or NetConn made,
// if any: its addresses are the transport's.
func (c *lconn) netConnMade() net.Conn {
	x := c.x.Load()
	if x == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return x.nc
}

// sockaddrToAddr converts a socket address to the net package's form.
func sockaddrToAddr(sa syscall.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
}

// NetConn implements [Transport.NetConn]. The loop backend's sockets have
// no net.Conn of their own: the first call makes one, over a duplicate of
// the descriptor, for addresses and socket options. nil once the
// connection is closed, unless it was made before.
func (c *lconn) NetConn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.extraLocked()
	if x.nc == nil && c.st()&stFdClosed == 0 {
		fd, err := syscall.Dup(int(c.fd))
		if err != nil {
			return nil
		}
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), "protoflow-loop-conn")
		nc, err := net.FileConn(f) // a duplicate of its own
		_ = f.Close()
		if err != nil {
			return nil
		}
		x.nc = nc
	}
	return x.nc
}

// setNoDelay sets TCP_NODELAY without making a net.Conn; it reports
// whether it handled the call.
func (c *lconn) setNoDelay(on bool) bool {
	if c.st()&stUnix != 0 {
		return true
	}
	v := 0
	if on {
		v = 1
	}
	c.mu.Lock()
	if c.st()&stFdClosed == 0 {
		_ = syscall.SetsockoptInt(int(c.fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY, v)
	}
	c.mu.Unlock()
	return true
}

// opError describes a failed system call on the socket the way the net
// package does, so that errors.Is finds the errno.
func (c *lconn) opError(op string, err error) error {
	if _, ok := err.(syscall.Errno); !ok {
		return err
	}
	network := "tcp"
	if c.st()&stUnix != 0 {
		network = "unix"
	}
	return &net.OpError{Op: op, Net: network, Addr: c.peerAddr(), Err: os.NewSyscallError(op, err)}
}

// doneChan returns a channel closed once ConnectionLost has returned.
func (c *lconn) doneChan() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.extraLocked()
	if x.done == nil {
		x.done = make(chan struct{})
		if c.st()&stGone != 0 {
			close(x.done)
		}
	}
	return x.done
}
