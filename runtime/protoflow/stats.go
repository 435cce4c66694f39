package protoflow

import (
	"errors"
	"time"
)

// Stats is a snapshot of what a [Server] is doing, from [Server.Stats]:
// the state of its connections at the moment of the call, and counts since
// NewServer, which never go down. Its JSON form (snake_case names, and
// nanoseconds for LimitWaited) is what an expvar.Func publishes.
type Stats struct {
	// Open is the connections accepted whose ConnectionLost has not
	// returned, TLS handshakes under way aside.
	Open int `json:"open"`
	// Handshakes is the TLS handshakes under way (see [WithTLS]).
	Handshakes int `json:"handshakes"`
	// WritePaused is the open connections whose writing is paused: their
	// queue rose above the high-water mark and has not fallen to the low
	// one since.
	WritePaused int `json:"write_paused"`
	// ReadPaused is the open connections whose protocol paused reading.
	ReadPaused int `json:"read_paused"`
	// MemoryWait is the open connections whose reading is paused until
	// reassembly memory is free (see [WithReassemblyBudget]).
	MemoryWait int `json:"memory_wait"`
	// Backends is the open connections by the backend that drives them:
	// on Linux the loop backend unless [WithBlockingCallbacks] (the epoll
	// backend) or PROTOFLOW_BACKEND picks another; TLS connections use the
	// goroutine backend whatever it picks (see [WithTLS]).
	Backends BackendStats `json:"backends"`

	// Accepted is the connections accepted, ever (with TLS, the handshakes
	// begun).
	Accepted int64 `json:"accepted"`
	// HandshakeErrors is the TLS handshakes that failed or ran out of
	// time, ever: those connections never reached a protocol.
	HandshakeErrors int64 `json:"handshake_errors"`
	// Closed counts the connections whose ConnectionLost has returned, by
	// its cause.
	Closed ClosedStats `json:"closed"`
	// BytesRead is the bytes the connections read, open or closed, as
	// their protocols see them (inside TLS).
	BytesRead int64 `json:"bytes_read"`
	// BytesWritten is the bytes the connections wrote to their sockets,
	// open or closed, as their protocols see them (inside TLS).
	BytesWritten int64 `json:"bytes_written"`
	// LimitWaits is the times Serve stopped accepting at the connection
	// limit ([WithMaxConns]). No connection is refused at the limit: it
	// waits in the listen backlog.
	LimitWaits int64 `json:"limit_waits"`
	// LimitWaited is how long Serve stopped accepting at the limit, all
	// told: the waits that ended.
	LimitWaited time.Duration `json:"limit_waited_ns"`

	// Reassembly is the reassembly budget's state.
	Reassembly ReassemblyStats `json:"reassembly"`
}

// BackendStats counts open connections by backend (see the package
// documentation).
type BackendStats struct {
	// Loop is the loop backend's (the default on Linux).
	Loop int `json:"loop"`
	// Epoll is the epoll backend's: on Linux, connections with
	// WithBlockingCallbacks, and every one with PROTOFLOW_BACKEND=epoll.
	Epoll int `json:"epoll"`
	// Goroutine is the goroutine backend's: every connection elsewhere
	// and with PROTOFLOW_BACKEND=goroutine, and TLS connections.
	Goroutine int `json:"goroutine"`
}

// ClosedStats counts the connections closed, by the cause that
// ConnectionLost received.
type ClosedStats struct {
	// Clean is ConnectionLost(nil): an end of file, Close or Abort.
	Clean int64 `json:"clean"`
	// Error is any other error: a reset, a failed write, a frame too
	// large, AbortWithError.
	Error int64 `json:"error"`
	// Panic is a [*PanicError]: a callback panicked.
	Panic int64 `json:"panic"`
	// ReadTimeout is a [*TimeoutError] of kind [ReadTimeout].
	ReadTimeout int64 `json:"read_timeout"`
	// IdleTimeout is a [*TimeoutError] of kind [IdleTimeout].
	IdleTimeout int64 `json:"idle_timeout"`
	// FrameTimeout is a [*TimeoutError] of kind [FrameTimeout].
	FrameTimeout int64 `json:"frame_timeout"`
	// MemoryWait is the frame timeouts, among FrameTimeout, that expired
	// while the connection waited for reassembly memory.
	MemoryWait int64 `json:"memory_wait"`
}

// ReassemblyStats is the state of a Server's reassembly budget (see
// [WithReassemblyBudget]).
type ReassemblyStats struct {
	// Budget is the limit, in bytes; 0 for none.
	Budget int64 `json:"budget"`
	// Reserved is the bytes reserved for the frames under reassembly.
	Reserved int64 `json:"reserved"`
	// Held is the capacity of the buffers lent to framers: the memory the
	// frames take. It may exceed Reserved by what the waiting connections
	// hold, a few kilobytes each.
	Held int64 `json:"held"`
	// Waits is the times a connection had to wait for memory, ever.
	Waits int64 `json:"waits"`
}

// Stats returns a snapshot of the server's counters. It walks the open
// connections with the server's lock held, and takes each one's lock for
// a moment: call it when an operator asks, every second or so (an
// expvar.Func does), not for every request. The counters themselves cost a
// connection an atomic store of its own per read and an add under the lock
// it already holds per write, and nothing shared.
func (s *Server) Stats() Stats {
	st := Stats{
		Accepted:        s.accepted.Load(),
		HandshakeErrors: s.handshakeErrors.Load(),
		LimitWaits:      s.limitWaits.Load(),
		LimitWaited:     time.Duration(s.limitWaited.Load()),
	}
	s.mu.Lock()
	st.Open = s.conns.n
	st.Handshakes = len(s.handshaking)
	st.Closed = s.closedStats
	st.BytesRead, st.BytesWritten = s.closedRead, s.closedWritten
	for c := s.conns.head; c != nil; c = c.list.next {
		st.BytesRead += c.nread.Load()
		c.mu.Lock()
		st.BytesWritten += c.written
		flags := c.st()
		c.mu.Unlock()
		st.countFlags(flags)
		if c.epoll() {
			st.Backends.Epoll++
		} else {
			st.Backends.Goroutine++
		}
	}
	s.addLoopStats(&st)
	s.mu.Unlock()
	// After the connections: a connection is marked waiting after the
	// budget counts its wait, so the counts never show fewer waits than
	// connections waiting.
	st.Reassembly = s.opts.budget.stats()
	return st
}

// countFlags counts an open connection's pauses.
func (st *Stats) countFlags(flags connState) {
	if flags&stWritePaused != 0 {
		st.WritePaused++
	}
	if flags&stReadPaused != 0 {
		st.ReadPaused++
	}
	if flags&stMemWait != 0 {
		st.MemoryWait++
	}
}

// count adds a connection lost with cause to the counts.
func (cs *ClosedStats) count(cause error) {
	var te *TimeoutError
	switch cause.(type) {
	case nil:
		cs.Clean++
		return
	case *PanicError:
		cs.Panic++
		return
	}
	if !errors.As(cause, &te) {
		cs.Error++
		return
	}
	switch te.Kind {
	case ReadTimeout:
		cs.ReadTimeout++
	case IdleTimeout:
		cs.IdleTimeout++
	case FrameTimeout:
		cs.FrameTimeout++
		if te.MemoryWait {
			cs.MemoryWait++
		}
	default:
		cs.Error++
	}
}

// stats returns the budget's part of Stats.
func (b *budget) stats() ReassemblyStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ReassemblyStats{Budget: b.limit, Reserved: b.reserved, Held: b.held, Waits: b.waits}
}

// lost returns, once ConnectionLost has run, the bytes the connection
// wrote and the cause ConnectionLost received, for Stats.
func (c *conn) lost() (written int64, cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cause = c.cause
	if cause == nil {
		cause = c.latePanic
	}
	return c.written, cause
}
