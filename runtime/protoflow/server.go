package protoflow

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves connections accepted from listeners, each driven by a new
// protocol from its factory. It is asyncio's Server (create_server).
type Server struct {
	// Immutable after NewServer.
	factory func() Protocol
	opts    options
	quit    chan struct{} // closed when the server is shut down or closed
	slots   chan struct{} // WithMaxConns: one element per connection held; nil without a limit

	// The connection limit's waits, for Stats and the log.
	atLimit     atomic.Bool  // Serve waits for a slot, or has since it last found one free at once
	limitWaits  atomic.Int64 // waits for a slot, ever
	limitWaited atomic.Int64 // nanoseconds spent waiting for a slot, ever (waits in progress not included)

	accepted        atomic.Int64 // connections accepted, ever
	handshakeErrors atomic.Int64 // TLS handshakes that failed or timed out, ever

	mu          sync.Mutex
	closed      bool                      // Shutdown or Close was called
	listeners   map[net.Listener]struct{} // listeners Serve is accepting from
	conns       connList[*conn]           // connections not yet past ConnectionLost
	loopConns   loopConnList              // the loop backend's connections not yet past ConnectionLost
	handshaking map[net.Conn]struct{}     // accepted sockets whose TLS handshake runs (WithTLS)
	active      sync.WaitGroup            // one per connection in conns and loopConns, and per handshake

	// The connections lost, for Stats.
	closedStats               ClosedStats
	closedRead, closedWritten int64
}

// NewServer returns a server that gives each accepted connection the
// protocol returned by factory, configured by opts. The factory may return
// any protocol type, so that a generated constructor serves as it is:
// NewServer(chat.NewChatServer).
func NewServer[P Protocol](factory func() P, opts ...Option) *Server {
	s := &Server{
		factory:     func() Protocol { return factory() },
		opts:        buildOptions(opts),
		quit:        make(chan struct{}),
		listeners:   make(map[net.Listener]struct{}),
		handshaking: make(map[net.Conn]struct{}),
	}
	s.opts.server = s // a connection leaves the list through its shared options
	s.opts.budget = newBudget(s.opts.budgetBytes, s.opts.readBufferSize)
	if n := s.opts.maxConns; n > 0 {
		s.slots = make(chan struct{}, n)
	}
	return s
}

// Serve accepts connections from ln until the server is shut down or ln
// fails, and serves each: on Linux, a TCP or Unix connection on one of the
// event loops, which runs its protocol's callbacks (see the package
// documentation); otherwise, and with [WithBlockingCallbacks], on
// goroutines of its own, which run them and exit after ConnectionLost.
// Serve closes ln when
// it returns. After Shutdown or Close it returns [ErrServerClosed];
// otherwise it returns the error that stopped accepting. Temporary accept
// errors, such as running out of file descriptors, are retried with a
// growing pause. With [WithTLS], that goroutine first runs the TLS
// handshake; a connection whose handshake fails never reaches the
// protocol.
func (s *Server) Serve(ln net.Listener) error {
	if s.opts.err != nil {
		_ = ln.Close()
		return s.opts.err
	}
	if !s.track(ln) {
		_ = ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	if served, err := s.serveLoop(ln); served {
		return err
	}
	var backoff time.Duration
	for {
		if !s.acquireSlot() {
			return ErrServerClosed
		}
		nc, err := ln.Accept()
		if err != nil {
			s.releaseSlot()
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				if l := s.opts.logger; l != nil {
					l.Warn("protoflow: accept failed; retrying", "error", err, "delay", backoff)
				}
				select {
				case <-time.After(backoff):
				case <-s.quit:
				}
				continue
			}
			return err
		}
		backoff = 0
		s.accepted.Add(1)
		if s.opts.tls != nil {
			if !s.trackHandshake(nc) {
				_ = nc.Close()
				s.releaseSlot()
				return ErrServerClosed
			}
			go s.serveTLS(nc) // exits after the handshake fails, or after ConnectionLost
			continue
		}
		c := newConn(nc, s.factory(), &s.opts)
		if !s.add(c) {
			// Accepted as the server closed: c never starts.
			c.discard()
			s.releaseSlot()
			return ErrServerClosed
		}
		go c.run(false)
	}
}

// serveTLS runs the TLS handshake of an accepted socket, within the
// handshake timeout, and then serves the connection on this goroutine. A
// failed handshake closes the socket and gives its slot back; the
// protocol never sees it.
func (s *Server) serveTLS(raw net.Conn) {
	tc := tls.Server(raw, s.opts.tls)
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.handshakeTimeout)
	err := tc.HandshakeContext(ctx) // a cancelled context closes raw
	cancel()
	var c *conn
	if err == nil {
		c = newConn(tc, s.factory(), &s.opts)
		if !s.add(c) {
			c.discard() // the server closed meanwhile
			c = nil
		}
	} else {
		s.handshakeErrors.Add(1)
		if l := s.opts.logger; l != nil {
			l.Debug("protoflow: TLS handshake failed", "remote", raw.RemoteAddr().String(), "error", err)
		}
		_ = raw.Close()
	}
	s.untrackHandshake(raw) // after add: Shutdown waits for the one or the other
	if c == nil {
		s.releaseSlot()
		return
	}
	c.run(false)
}

// trackHandshake counts a socket whose handshake is about to run, so that
// Shutdown and Close end it and wait for it, unless the server is closed.
func (s *Server) trackHandshake(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handshaking[nc] = struct{}{}
	s.active.Add(1)
	return true
}

func (s *Server) untrackHandshake(nc net.Conn) {
	s.mu.Lock()
	delete(s.handshaking, nc)
	s.mu.Unlock()
	s.active.Done()
}

// acquireSlot takes a connection slot before an accept (WithMaxConns),
// waiting while the server is at its limit: the connections not accepted
// meanwhile wait in the kernel's backlog, which pushes back on new ones
// once full. It reports false if the server closed meanwhile.
func (s *Server) acquireSlot() bool {
	if s.trySlot() {
		return true
	}
	if s.atLimit.CompareAndSwap(false, true) {
		if l := s.opts.logger; l != nil {
			l.Warn("protoflow: at the connection limit; not accepting until a connection ends", "limit", cap(s.slots))
		}
	}
	s.limitWaits.Add(1)
	start := time.Now()
	defer func() { s.limitWaited.Add(int64(time.Since(start))) }()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-s.quit:
		return false
	}
}

// trySlot takes a connection slot if one is free at once, or there is no
// limit; the loop backend's accept loop asks it before each accept, and
// waits in acquireSlot, outside the listener's wait, when it reports
// false.
func (s *Server) trySlot() bool {
	if s.slots == nil {
		return true
	}
	select {
	case s.slots <- struct{}{}:
		if s.atLimit.CompareAndSwap(true, false) {
			if l := s.opts.logger; l != nil {
				l.Info("protoflow: below the connection limit again", "limit", cap(s.slots))
			}
		}
		return true
	default:
		return false
	}
}

// releaseSlot gives back a slot that acquireSlot or trySlot took.
func (s *Server) releaseSlot() {
	if s.slots != nil {
		<-s.slots
	}
}

// isTemporary reports errors that net/http also retries: the process or
// system is out of file descriptors, or the peer reset before accept.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Shutdown stops the server gracefully: it stops accepting, closes every
// connection after its queued bytes are flushed, and waits until every
// ConnectionLost has returned. If ctx ends first, it aborts the connections
// that are left, waits for their ConnectionLost, and returns ctx.Err(); that
// last wait is unbounded only if a protocol callback never returns.
func (s *Server) Shutdown(ctx context.Context) error {
	conns := s.stop()
	for _, c := range conns {
		_ = c.Close()
	}
	idle := make(chan struct{})
	go func() { // exits when the last connection's ConnectionLost returns
		s.active.Wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
	}
	for _, c := range s.stop() {
		c.Abort()
	}
	<-idle
	return ctx.Err()
}

// Close stops the server at once: it stops accepting, aborts every
// connection (dropping queued bytes), and waits until every ConnectionLost
// has returned.
func (s *Server) Close() error {
	for _, c := range s.stop() {
		c.Abort()
	}
	s.active.Wait()
	return nil
}

// stop marks the server closed, closes its listeners and the sockets
// whose TLS handshake runs, and returns the connections it still has.
func (s *Server) stop() []Transport {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.quit)
	}
	closers := make([]interface{ Close() error }, 0, len(s.listeners)+len(s.handshaking))
	for ln := range s.listeners {
		closers = append(closers, ln)
	}
	for nc := range s.handshaking {
		closers = append(closers, nc)
	}
	conns := s.loopConns.appendTo(s.conns.appendTo(make([]Transport, 0, s.conns.len()+s.loopConns.len())))
	s.mu.Unlock()
	for _, c := range closers {
		_ = c.Close()
	}
	return conns
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
	_ = ln.Close()
}

func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns.add(c)
	s.active.Add(1)
	return true
}

func (s *Server) remove(c *conn) {
	written, cause := c.lost()
	s.mu.Lock()
	s.conns.remove(c)
	s.closedStats.count(cause)
	s.closedRead += c.nread.Load()
	s.closedWritten += written
	s.mu.Unlock()
	s.releaseSlot()
	s.active.Done()
}
