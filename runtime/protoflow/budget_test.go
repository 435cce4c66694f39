package protoflow

// Real-socket tests of the reassembly budget (WithReassemblyBudget): a
// Server whose connections' framers borrow from their host (HostFramer),
// peers that send most of a big frame and stop, and what the budget then
// reserves, holds and makes wait. Over TCP, Unix sockets and TLS, on the backend
// the environment selects.
//
// Helpers in this file start with "bg".

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

// bgSnapshot is the budget's state at one moment.
type bgSnapshot struct {
	reserved, held int64
	waiting        int
}

// borrows reports whether c has a part in the budget: a buffer or a wait.
func (b *budget) borrows(c memConn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns[c] != nil
}

func (b *budget) snapshot() bgSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	waiting := 0
	for m := b.head; m != nil; m = m.next {
		waiting++
	}
	return bgSnapshot{b.reserved, b.held, waiting}
}

// bgServer is a Server of ftFramed protocols, made by set(i) for the i-th
// connection, which it keeps in order of ConnectionMade.
type bgServer struct {
	*ttServer
	mu     sync.Mutex
	protos []*ftFramed
}

func bgStart(t *testing.T, lk ttListenKind, set func(i int, t Transport) error, opts ...Option) *bgServer {
	t.Helper()
	s := &bgServer{}
	var made int
	factory := func() Protocol {
		s.mu.Lock()
		i := made
		made++
		s.mu.Unlock()
		p := newFtFramed(func(t Transport) error {
			if set != nil {
				return set(i, t)
			}
			return nil
		})
		s.mu.Lock()
		s.protos = append(s.protos, p)
		s.mu.Unlock()
		return p
	}
	s.ttServer = ttStartServer(t, lk, factory, opts...)
	return s
}

// proto returns the protocol of the i-th connection, once made.
func (s *bgServer) proto(t testing.TB, i int) *ftFramed {
	t.Helper()
	var p *ftFramed
	waitFor(t, 10*time.Second, fmt.Sprintf("connection %d", i), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.protos) > i {
			p = s.protos[i]
			return true
		}
		return false
	})
	waitFor(t, 10*time.Second, fmt.Sprintf("connection %d made", i), func() bool { return ttCount(p.recorder, "made") == 1 })
	return p
}

func (s *bgServer) budget() *budget { return s.opts.budget }

// waitBudget waits until the budget's state satisfies cond.
func (s *bgServer) waitBudget(t testing.TB, what string, cond func(bgSnapshot) bool) bgSnapshot {
	t.Helper()
	var snap bgSnapshot
	if !eventually(10*time.Second, func() bool { snap = s.budget().snapshot(); return cond(snap) }) {
		t.Fatalf("timed out waiting for %s; budget %+v", what, snap)
	}
	return snap
}

// bgMemWait reports whether p's connection waits for memory.
func bgMemWait(p *ftFramed) bool {
	return stateOf(p.Transport())&stMemWait != 0
}

// bgListenKinds are the listeners of the budget tests.
var bgListenKinds = ttListenKinds

// bgWrite writes p to c, failing t on an error.
func bgWrite(t testing.TB, c net.Conn, p []byte) {
	t.Helper()
	if err := ttWaitErr(t, "peer write", ttPeerWrite(c, p), 10*time.Second); err != nil {
		t.Fatalf("peer write: %v", err)
	}
}

// TestBudgetWaitsInOrder fills a 256 KiB budget with frames of 100 KiB:
// two reserve theirs, the next three wait with reading paused, holding a
// few kilobytes each beyond the budget; while they wait, every connection
// reads in small pieces; a frame that completes lets the oldest waiter
// in; in the end every frame arrives whole and nothing is left reserved.
func TestBudgetWaitsInOrder(t *testing.T) {
	const (
		budgetSize = 256 << 10
		payload    = 100 << 10
		clients    = 5
	)
	reservation := int64(frameSize(4 + payload)) // two fit, three do not
	for _, lk := range bgListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			s := bgStart(t, lk, nil, WithReassemblyBudget(budgetSize))
			frames := make([][]byte, clients)
			clis := make([]net.Conn, clients)
			for i := range clients {
				frames[i] = ftFrame(payload, byte('a'+i))
				clis[i] = lk.dial(t, s.addr)
				defer ttClosePeer(clis[i])
				bgWrite(t, clis[i], frames[i][:60<<10])
				p := s.proto(t, i)
				if i < 2 {
					snap := s.waitBudget(t, fmt.Sprintf("client %d's reservation", i), func(b bgSnapshot) bool {
						return b.reserved == int64(i+1)*reservation && b.waiting == 0
					})
					// The reserved frame's buffer is made whole at once: nothing
					// more is held than reserved. Pressure begins at half the
					// budget, before anyone waits.
					if snap.held != snap.reserved {
						t.Errorf("client %d: %d bytes held for %d reserved; want one buffer of the whole frame", i, snap.held, snap.reserved)
					}
					if got, want := s.budget().pressure.Load(), i == 1; got != want {
						t.Errorf("with %d of %d bytes reserved, pressure %v; want %v", snap.reserved, budgetSize, got, want)
					}
					continue
				}
				snap := s.waitBudget(t, fmt.Sprintf("client %d waiting", i), func(b bgSnapshot) bool { return b.waiting == i-1 })
				if !bgMemWait(p) {
					t.Errorf("client %d waits, but its connection's state is %v", i, stateOf(p.Transport()))
				}
				// The first waiter may hold what one full read brought;
				// those after it read 4 KiB at a time and hold 8 KiB.
				if over := snap.held - snap.reserved; over > int64(frameSize(4<<10+DefaultReadBufferSize))+int64(i-2)*8<<10 {
					t.Errorf("with %d waiting, %d bytes held beyond the reservations", i-1, over)
				}
			}

			// Under pressure, a newcomer's reads are small, though its frames
			// lie within them and borrow nothing.
			small := lk.dial(t, s.addr)
			defer ttClosePeer(small)
			var stream []byte
			for range 200 {
				stream = append(stream, ftFrame(200, 'z')...)
			}
			bgWrite(t, small, stream)
			sp := s.proto(t, clients)
			waitFor(t, 10*time.Second, "the small frames", func() bool { n, _ := sp.counts(); return n == 200 })
			if n := ttCount(sp.recorder, "data"); n < len(stream)/pressureReadSize {
				t.Errorf("%d bytes arrived in %d reads under pressure; want reads of at most %d bytes", len(stream), n, pressureReadSize)
			}
			if s.budget().borrows(sp.Transport().(memConn)) {
				t.Errorf("frames within reads borrowed from the budget")
			}

			// Client 0's frame completes: client 2, the oldest waiter, gets in.
			bgWrite(t, clis[0], frames[0][60<<10:])
			s.waitBudget(t, "client 2's turn", func(b bgSnapshot) bool { return b.waiting == 2 && b.reserved == 2*reservation })
			if bgMemWait(s.proto(t, 2)) || !bgMemWait(s.proto(t, 3)) || !bgMemWait(s.proto(t, 4)) {
				t.Errorf("after client 0's frame: waiting %v %v %v; want client 2 reading, 3 and 4 waiting",
					bgMemWait(s.proto(t, 2)), bgMemWait(s.proto(t, 3)), bgMemWait(s.proto(t, 4)))
			}

			for i := 1; i < clients; i++ {
				bgWrite(t, clis[i], frames[i][60<<10:])
			}
			for i := range clients {
				p := s.proto(t, i)
				waitFor(t, 10*time.Second, fmt.Sprintf("client %d's frame", i), func() bool { n, _ := p.counts(); return n == 1 })
				p.fmu.Lock()
				whole := bytes.Equal(p.lastFrame, frames[i][4:])
				p.fmu.Unlock()
				if !whole {
					t.Errorf("client %d's frame arrived corrupt", i)
				}
			}
			s.waitBudget(t, "nothing held", func(b bgSnapshot) bool { return b == bgSnapshot{} })
		})
	}
}

// bgHandler is an ftFramed that handles its timeouts by doing nothing.
type bgHandler struct{ *ftFramed }

func (bgHandler) Timeout(TimeoutKind) {}

// TestBudgetFrameTimeoutWhileWaiting checks that a connection whose frame
// timeout expires while it waits for memory is aborted with a
// *TimeoutError that says so, although its protocol handles timeouts,
// and that one whose frame has its reservation just holds it.
func TestBudgetFrameTimeoutWhileWaiting(t *testing.T) {
	const p = 150 * time.Millisecond
	for _, lk := range bgListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var protos []*ftFramed
			factory := func() Protocol {
				mu.Lock()
				defer mu.Unlock()
				first := len(protos) == 0
				f := newFtFramed(func(t Transport) error {
					if first {
						return nil // the first holds its reservation for good
					}
					return SetFrameTimeout(t, p)
				})
				protos = append(protos, f)
				if first {
					return f
				}
				return bgHandler{f}
			}
			s := ttStartServer(t, lk, factory, WithReassemblyBudget(128<<10))
			holder := lk.dial(t, s.addr)
			defer ttClosePeer(holder)
			bgWrite(t, holder, ftFrame(100<<10, 1)[:50<<10])
			waitFor(t, 10*time.Second, "the first reservation", func() bool { return s.opts.budget.snapshot().reserved > 0 })
			waiter := lk.dial(t, s.addr)
			defer ttClosePeer(waiter)
			start := time.Now()
			bgWrite(t, waiter, ftFrame(100<<10, 2)[:50<<10])
			var w *ftFramed
			waitFor(t, 10*time.Second, "the second connection", func() bool {
				mu.Lock()
				defer mu.Unlock()
				if len(protos) == 2 {
					w = protos[1]
					return true
				}
				return false
			})
			err := w.waitLost(t, 10*time.Second)
			var te *TimeoutError
			if !errors.As(err, &te) || te.Kind != FrameTimeout || !te.MemoryWait || !errors.Is(err, ErrReassemblyBudget) {
				t.Fatalf("ConnectionLost(%v); want a frame *TimeoutError with MemoryWait, matching ErrReassemblyBudget", err)
			}
			if d := time.Since(start); d < p {
				t.Errorf("cut %v after its frame began; want at least %v", d, p)
			}
			mu.Lock()
			first := protos[0]
			mu.Unlock()
			toAlive(t, first.recorder, "the reservation's holder, without a frame timeout")
			// The connection leaves the budget after its ConnectionLost.
			waitFor(t, 10*time.Second, "none waiting", func() bool { return s.opts.budget.snapshot().waiting == 0 })
		})
	}
}

// TestBudgetReleasedOnLoss checks that a connection lost in the middle of
// a frame gives its reservation back, to the waiter behind it.
func TestBudgetReleasedOnLoss(t *testing.T) {
	for _, lk := range bgListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			s := bgStart(t, lk, nil, WithReassemblyBudget(128<<10))
			first := lk.dial(t, s.addr)
			bgWrite(t, first, ftFrame(100<<10, 1)[:50<<10])
			s.waitBudget(t, "the first reservation", func(b bgSnapshot) bool { return b.reserved > 0 })
			second := lk.dial(t, s.addr)
			defer ttClosePeer(second)
			bgWrite(t, second, ftFrame(100<<10, 2)[:50<<10])
			s.waitBudget(t, "the second waiting", func(b bgSnapshot) bool { return b.waiting == 1 })
			p0 := s.proto(t, 0)
			c0 := p0.Transport().(interface{ doneChan() <-chan struct{} })
			ttResetPeer(t, first)
			p0.waitLost(t, 10*time.Second)
			<-c0.doneChan() // lose (or the loop's finished) has finished
			if n := p0.frames.Buffered(); n != 0 {
				t.Errorf("the lost connection's framer still holds %d bytes; want it reset", n)
			}
			s.waitBudget(t, "the second's reservation", func(b bgSnapshot) bool { return b.waiting == 0 && b.reserved > 0 })
			if bgMemWait(s.proto(t, 1)) {
				t.Errorf("the second connection still waits")
			}
			bgWrite(t, second, ftFrame(100<<10, 2)[50<<10:])
			waitFor(t, 10*time.Second, "the second's frame", func() bool { n, _ := s.proto(t, 1).counts(); return n == 1 })
			s.waitBudget(t, "nothing held", func(b bgSnapshot) bool { return b == bgSnapshot{} })
		})
	}
}

// TestBudgetBigFrameAlone checks that a frame bigger than the whole budget
// is taken when nothing else is reserved, rather than never.
func TestBudgetBigFrameAlone(t *testing.T) {
	s := bgStart(t, ttListenKinds[0], nil, WithReassemblyBudget(64<<10))
	c := ttListenKinds[0].dial(t, s.addr)
	defer ttClosePeer(c)
	frame := ftFrame(300<<10, 9)
	bgWrite(t, c, frame)
	p := s.proto(t, 0)
	waitFor(t, 10*time.Second, "the frame", func() bool { n, _ := p.counts(); return n == 1 })
	s.waitBudget(t, "nothing held", func(b bgSnapshot) bool { return b == bgSnapshot{} })
}

// TestBudgetOptions checks the default budget, its derivation from the Go
// memory limit, and that a negative budget sets no limit.
func TestBudgetOptions(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	debug.SetMemoryLimit(1 << 62) // not math.MaxInt64: a limit is set
	if got := DefaultReassemblyBudget(); got != 1<<60 {
		t.Errorf("DefaultReassemblyBudget with a limit of 2^62 = %d; want a quarter", got)
	}
	debug.SetMemoryLimit(1<<63 - 1)
	if got := DefaultReassemblyBudget(); got != defaultBudget {
		t.Errorf("DefaultReassemblyBudget without a limit = %d; want %d", got, defaultBudget)
	}
	for _, tc := range []struct {
		opt  []Option
		want int64
	}{
		{nil, defaultBudget},
		{[]Option{WithReassemblyBudget(0)}, defaultBudget},
		{[]Option{WithReassemblyBudget(1 << 20)}, 1 << 20},
		{[]Option{WithReassemblyBudget(-1)}, 0},
	} {
		s := NewServer(func() Protocol { return newRecorder() }, tc.opt...)
		if got := s.opts.budget.limit; got != tc.want {
			t.Errorf("NewServer(%d options): budget %d; want %d", len(tc.opt), got, tc.want)
		}
	}
	s := bgStart(t, ttListenKinds[0], nil, WithReassemblyBudget(-1))
	for i := range 3 {
		c := ttListenKinds[0].dial(t, s.addr)
		defer ttClosePeer(c)
		bgWrite(t, c, ftFrame(1<<20, 1)[:600<<10])
		s.waitBudget(t, fmt.Sprintf("frame %d counted", i), func(b bgSnapshot) bool { return b.reserved == int64(i+1)*int64(frameSize(4+1<<20)) })
	}
	if snap := s.budget().snapshot(); snap.waiting != 0 {
		t.Errorf("without a limit, %d connections wait", snap.waiting)
	}
}

// TestBudgetQueue drives the budget's queue without sockets: waiters leave
// it from the middle and the end, and the oldest that fits goes first.
func TestBudgetQueue(t *testing.T) {
	b := newBudget(100<<10, DefaultReadBufferSize) // one frame of 64 KiB fits, two do not
	conns := make([]*conn, 5)
	for i := range conns {
		conns[i] = &conn{opts: &options{budget: b}}
	}
	dropped := make(map[*conn]bool) // dead: their state no longer matters
	drop := func(c *conn) {
		dropped[c] = true
		b.drop(c)
	}
	waiting := func() []int {
		var w []int
		for i, c := range conns {
			if dropped[c] {
				continue
			}
			c.mu.Lock()
			if c.st()&stMemWait != 0 {
				w = append(w, i)
			}
			c.mu.Unlock()
		}
		return w
	}
	check := func(what string, want []int) {
		t.Helper()
		got := waiting()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: waiting %v; want %v", what, got, want)
		}
		if snap := b.snapshot(); snap.waiting != len(want) {
			t.Errorf("%s: the budget counts %d waiting; want %d", what, snap.waiting, len(want))
		}
	}
	for _, c := range conns {
		if got := b.lend(c, 8<<10, 64<<10); c == conns[0] && got != 64<<10 {
			t.Errorf("the first frame's buffer is %d bytes; want the whole frame, %d", got, 64<<10)
		}
	}
	check("four frames after the first", []int{1, 2, 3, 4})
	drop(conns[2])
	check("the middle one gone", []int{1, 3, 4})
	b.giveBack(conns[0], 64<<10)
	check("the first frame done", []int{3, 4})
	drop(conns[4])
	check("the last one gone", []int{3})
	drop(conns[1])
	check("the second one's reservation free", nil)
	if snap := b.snapshot(); snap.reserved != 64<<10 {
		t.Errorf("reserved %d; want one frame's", snap.reserved)
	}
}
