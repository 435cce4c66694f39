package protoflow

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// timerFiled reports whether c's timeouts are in its loop's heap. Call it
// only once ConnectionLost has returned: the loop then leaves them alone.
func (c *lconn) timerFiled() bool {
	to := c.timeouts()
	return to != nil && to.idx >= 0
}

// skipOnLoop skips a test of a behaviour the loop backend does not have
// by design, saying why.
func skipOnLoop(t interface{ Skipf(string, ...any) }, why string) {
	if loopEnabled {
		t.Skipf("loop backend: %s", why)
	}
}

// TestConnSizes holds the per-connection structs to their sizes: an idle
// connection of the loop backend is an lconn and its protocol (for the
// generated echo server a BaseProtocol and nothing else), and a bigger
// struct is a bigger bill at a million connections. Raise a limit only
// with the reason in the commit message.
func TestConnSizes(t *testing.T) {
	for _, s := range []struct {
		name      string
		size, max uintptr
	}{
		{"lconn (loop backend, every connection)", unsafe.Sizeof(lconn{}), 152},
		{"lconnExtra (loop backend, once it queues or has timeouts)", unsafe.Sizeof(lconnExtra{}), 120},
		{"ltimeouts (loop backend, with timeouts)", unsafe.Sizeof(ltimeouts{}), 112},
		{"conn (epoll and goroutine backends; debug builds add the token holder)", unsafe.Sizeof(conn{}), 512 + unsafe.Sizeof(tokenOwner{})},
		{"BaseProtocol (every generated protocol)", unsafe.Sizeof(BaseProtocol{}), 56},
	} {
		t.Logf("%s: %d bytes", s.name, s.size)
		if s.size > s.max {
			t.Errorf("%s is %d bytes, more than its %d", s.name, s.size, s.max)
		}
	}
}

// limits returns the water marks in force.
func (c *lconn) limits() (high, low int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if x := c.x.Load(); x != nil {
		return x.q.high, x.q.low
	}
	return c.opts.high, c.opts.low
}

// loopFDs is the most descriptors the loop backend holds besides its
// connections' sockets: an epoll instance and an eventfd per loop, and the
// duplicate of a listener that a Server waits on. 0 on other backends.
func loopFDs() int {
	if !loopEnabled {
		return 0
	}
	return 2*min(runtime.GOMAXPROCS(0), maxLoops) + 1
}

// isLoopConn reports whether tr is the loop backend's.
func isLoopConn(tr Transport) bool { _, ok := tr.(*lconn); return ok }

// TestLoopDoneWhenAskedDuringConnectionLost asks for a server connection's
// done channel while its ConnectionLost runs, on a connection that had
// made no extra state before: the channel, made then, closes once
// ConnectionLost has returned.
func TestLoopDoneWhenAskedDuringConnectionLost(t *testing.T) {
	if !loopEnabled {
		t.Skip("the loop backend's own test: it is not selected (PROTOFLOW_BACKEND)")
	}
	inLost, asked := make(chan struct{}), make(chan struct{})
	var recs ttRecorders
	s := ttStartServer(t, ttListenKinds[0], func() Protocol {
		r := newRecorder()
		r.onLost = func(*recorder) {
			close(inLost)
			<-asked // the test holds ConnectionLost until it has asked
		}
		recs.add(r)
		return r
	})
	cli := ttListenKinds[0].dial(t, s.addr)
	r := recs.get(t, 0)
	<-r.madeCh
	ttClosePeer(cli)
	select {
	case <-inLost:
	case <-time.After(10 * time.Second):
		t.Fatal("ConnectionLost not called within 10s of the peer's close")
	}
	done := r.Transport().(*lconn).doneChan()
	close(asked)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the done channel made during ConnectionLost is still open 10s after it returned")
	}
}

// loopsRetireWithin reports whether every loop has retired, closing its
// epoll and eventfd descriptors, within d: a loop retires a moment after
// its last connection's ConnectionLost has returned, on its own thread.
func loopsRetireWithin(d time.Duration) bool {
	return eventually(d, func() bool {
		loopsMu.Lock()
		defer loopsMu.Unlock()
		for _, l := range loops {
			if l != nil {
				return false
			}
		}
		return true
	})
}

// TestLoopTableDense checks that a loop files its connections in a dense
// table, not by descriptor: with the process's descriptors numbered in
// the hundreds, the connections of one loop take slots 0, 1, 2, ..., and
// a lost connection's slot goes to the next.
// A table by descriptor held 8 bytes per descriptor of the process in
// every loop (at 100,000 connections and 64 loops, half a kilobyte per
// connection).
func TestLoopTableDense(t *testing.T) {
	if !loopEnabled {
		t.Skip("the loop backend's own test: it is not selected (PROTOFLOW_BACKEND)")
	}
	for range 300 { // push the sockets' descriptors past 300
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
	}
	const n = 4
	var recs ttRecorders
	s := ttStartServer(t, ttListenKinds[0], func() Protocol {
		r := newRecorder()
		recs.add(r)
		return r
	})
	// One loop (GOMAXPROCS=1 when the connections are given out), so
	// that every connection shares one table: slots 0 to n-1, and the
	// slot of a lost connection is the next one's.
	// A loop left from an earlier test would hand out its free slots.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if !loopsRetireWithin(10 * time.Second) {
		t.Fatal("a loop of an earlier test still runs 10 s on")
	}
	clients := make([]net.Conn, n+1)
	slotOf := func(i int) int32 {
		t.Helper()
		clients[i] = ttListenKinds[0].dial(t, s.addr)
		t.Cleanup(func() { clients[i].Close() })
		r := recs.get(t, i)
		<-r.madeCh
		c := r.Transport().(*lconn)
		if !eventually(10*time.Second, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.st()&stInEpoll != 0 }) {
			t.Fatalf("connection %d not registered within 10s", i)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.fd < 300 {
			t.Fatalf("connection %d has descriptor %d: the test meant it past 300", i, c.fd)
		}
		return c.slot
	}
	for i := range n {
		if slot := slotOf(i); slot != int32(i) {
			t.Errorf("connection %d has slot %d, want %d: the table is not dense", i, slot, i)
		}
	}
	clients[1].Close()
	_ = recs.get(t, 1).waitLost(t, 10*time.Second) // its cause does not matter here
	// The loop frees the slot before it runs ConnectionLost: the next
	// connection registers after that, on the same loop.
	if slot := slotOf(n); slot != 1 {
		t.Errorf("the connection after one was lost has slot %d, want 1, the freed slot", slot)
	}
}
