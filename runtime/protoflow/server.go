package protoflow

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Server serves connections accepted from listeners, each driven by a new
// protocol from its factory. It is asyncio's Server (create_server).
type Server struct {
	// Immutable after NewServer.
	factory func() Protocol
	opts    options
	quit    chan struct{} // closed when the server is shut down or closed

	mu        sync.Mutex
	closed    bool                      // Shutdown or Close was called
	listeners map[net.Listener]struct{} // listeners Serve is accepting from
	conns     connList                  // connections not yet past ConnectionLost
	loopConns loopConnList              // the loop backend's connections not yet past ConnectionLost
	active    sync.WaitGroup            // one per connection in conns and loopConns
}

// NewServer returns a server that gives each accepted connection the
// protocol returned by factory, configured by opts. The factory may return
// any protocol type, so that a generated constructor serves as it is:
// NewServer(chat.NewChatServer).
func NewServer[P Protocol](factory func() P, opts ...Option) *Server {
	s := &Server{
		factory:   func() Protocol { return factory() },
		opts:      buildOptions(opts),
		quit:      make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
	}
	s.opts.server = s // a connection leaves the list through its shared options
	return s
}

// Serve accepts connections from ln until the server is shut down or ln
// fails, and serves each on a goroutine of its own, which runs its
// protocol's callbacks and exits after ConnectionLost. Serve closes ln when
// it returns. After Shutdown or Close it returns [ErrServerClosed];
// otherwise it returns the error that stopped accepting. Temporary accept
// errors, such as running out of file descriptors, are retried with a
// growing pause.
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
		nc, err := ln.Accept()
		if err != nil {
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
		c := newConn(nc, s.factory(), &s.opts)
		if !s.add(c) {
			// Accepted as the server closed: c never starts.
			c.discard()
			return ErrServerClosed
		}
		go c.run(false)
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

// stop marks the server closed, closes its listeners and returns the
// connections it still has.
func (s *Server) stop() []Transport {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.quit)
	}
	lns := make([]net.Listener, 0, len(s.listeners))
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	conns := s.loopConns.appendTo(s.conns.appendTo(make([]Transport, 0, s.conns.n+s.loopConns.len())))
	s.mu.Unlock()
	for _, ln := range lns {
		_ = ln.Close()
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
	s.mu.Lock()
	s.conns.remove(c)
	s.mu.Unlock()
	s.active.Done()
}

// connList is an intrusive list of a server's connections: a map would cost
// an idle connection about a hundred bytes more.
type connList struct {
	head *conn
	n    int
}

func (l *connList) add(c *conn) {
	c.next = l.head
	if l.head != nil {
		l.head.prev = c
	}
	l.head = c
	l.n++
}

func (l *connList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	l.n--
}

func (l *connList) appendTo(conns []Transport) []Transport {
	for c := l.head; c != nil; c = c.next {
		conns = append(conns, c)
	}
	return conns
}
