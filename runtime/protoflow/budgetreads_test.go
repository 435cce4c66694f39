package protoflow

// The reassembly budget's read allowance (budget.readBuf): a crowd of
// connections whose first reads land at the same moment, before any frame
// is reserved, must not each keep a full read's bytes beyond the budget.

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// brCrowd is an ftFramed whose first DataReceived waits, before its framer
// sees the bytes, until every connection of the crowd has read: all their
// first reads are made before any of them asks the budget for memory,
// which is the moment a crowd of reader goroutines can reach when the
// scheduler runs them late (1,000 clients on the goroutine backend).
type brCrowd struct {
	*ftFramed
	crowd *brBarrier
	first bool // owned by the callbacks: the first DataReceived has run
}

func (p *brCrowd) DataReceived(b []byte) {
	if !p.first {
		p.first = true
		p.crowd.arrive()
	}
	p.ftFramed.DataReceived(b)
}

// brBarrier lets n goroutines through once all n have arrived, or once
// it gives up waiting (the test then fails on what it checks next).
type brBarrier struct {
	n       int32
	arrived atomic.Int32
	all     chan struct{}
	timeout time.Duration
}

func (b *brBarrier) arrive() {
	if b.arrived.Add(1) == b.n {
		close(b.all)
	}
	select {
	case <-b.all:
	case <-time.After(b.timeout):
	}
}

// TestBudgetCrowdReadsAtOnce has 48 connections send 48 KiB of a 128 KiB
// frame against a budget of 1 MiB, which reserves 7 such frames, and
// makes their first reads all land before any frame is reserved. Without
// the read allowance each of them read its 48 KiB at once, and the 41 that
// must wait kept those bytes beyond the budget (about 2 MiB); with it, one
// read at a time takes a full buffer and the others read 4 KiB, so what the
// waiters hold beyond the budget stays within the documented slack: one
// read buffer (plus the 4 KiB a framer kept, rounded up to its size class)
// and 8 KiB a waiter. Over TCP and Unix sockets, on the backend the
// environment selects; not over TLS, whose reads borrow nothing by design
// (each connection reads into a 16 KiB buffer of its own).
func TestBudgetCrowdReadsAtOnce(t *testing.T) {
	skipOnLoop(t, "its callbacks run inline on a few loop threads, so the crowd's barrier (a DataReceived that waits for the others' reads) would stall the loops; and a loop reads its connections in turn into one buffer per loop, so no crowd of first reads lands before the budget feels pressure")
	const (
		budgetSize = 1 << 20
		payload    = 128 << 10
		sent       = 48 << 10 // within a loopback socket's buffers: all there when reading starts
		clients    = 48
	)
	reservation := int64(frameSize(4 + payload))
	fit := int(budgetSize / reservation) // 7
	waiters := clients - fit
	for _, lk := range bgListenKinds {
		if lk.name == "tls" {
			continue // see the doc comment
		}
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			crowd := &brBarrier{n: clients, all: make(chan struct{}), timeout: 20 * time.Second}
			var mu sync.Mutex
			var protos []*brCrowd
			factory := func() Protocol {
				p := &brCrowd{crowd: crowd, ftFramed: newFtFramed(func(t Transport) error {
					return t.PauseReading() // until every client's bytes are in its socket
				})}
				mu.Lock()
				protos = append(protos, p)
				mu.Unlock()
				return p
			}
			s := ttStartServer(t, lk, factory, WithReassemblyBudget(budgetSize))
			bg := s.opts.budget
			for i := range clients {
				c := lk.dial(t, s.addr)
				defer ttClosePeer(c)
				bgWrite(t, c, ftFrame(payload, byte(i))[:sent])
			}
			waitFor(t, 10*time.Second, "every connection made", func() bool {
				mu.Lock()
				defer mu.Unlock()
				if len(protos) < clients {
					return false
				}
				for _, p := range protos {
					if ttCount(p.recorder, "made") != 1 {
						return false
					}
				}
				return true
			})
			mu.Lock()
			crowdProtos := append([]*brCrowd(nil), protos...)
			mu.Unlock()
			for _, p := range crowdProtos {
				if err := p.Transport().ResumeReading(); err != nil {
					t.Fatalf("ResumeReading: %v", err)
				}
			}

			var snap bgSnapshot
			if !eventually(20*time.Second, func() bool {
				snap = bg.snapshot()
				return snap.waiting == waiters && snap.reserved == int64(fit)*reservation
			}) {
				t.Fatalf("timed out waiting for %d frames reserved and %d connections waiting; budget %+v, %d first reads of %d",
					fit, waiters, snap, crowd.arrived.Load(), clients)
			}
			if n := crowd.arrived.Load(); n != clients {
				t.Fatalf("only %d of %d first reads met at the barrier: the crowd this test is about never formed", n, clients)
			}
			slack := int64(frameSize(4<<10+DefaultReadBufferSize)) + int64(waiters)*(8<<10)
			over := snap.held - snap.reserved
			t.Logf("%d frames reserved, %d waiting: %d bytes held beyond the reservations (slack %d)", fit, waiters, over, slack)
			if snap.held > budgetSize+slack {
				t.Errorf("%d bytes held (%d reserved, %d waiting); want at most the budget, %d, and a slack of %d",
					snap.held, snap.reserved, snap.waiting, budgetSize, slack)
			}
			if st := s.Stats().Reassembly; st.Held != snap.held {
				t.Errorf("Stats' reassembly held %d; the budget holds %d", st.Held, snap.held)
			}

			for _, p := range crowdProtos {
				p.Transport().Abort()
			}
			waitFor(t, 10*time.Second, "nothing held", func() bool { return bg.snapshot() == bgSnapshot{} })
			waitFor(t, 10*time.Second, "every read's loan given back", func() bool { return bg.readLent.Load() == 0 })
		})
	}
}

// TestBudgetReadLoanGoexit checks that the loan of a read whose
// DataReceived ends its goroutine with runtime.Goexit (t.FailNow, say) is
// given back: else each such connection would shrink the server's read
// allowance for good, until every read was small.
func TestBudgetReadLoanGoexit(t *testing.T) {
	for _, lk := range bgListenKinds {
		if lk.name == "tls" {
			continue // its reads borrow nothing
		}
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder()
			r.onData = func(*recorder, []byte) { runtime.Goexit() }
			s := ttStartServer(t, lk, func() Protocol { return r })
			c := lk.dial(t, s.addr)
			defer ttClosePeer(c)
			bgWrite(t, c, []byte("x"))
			if err := r.waitLost(t, 10*time.Second); !errors.Is(err, errGoexit) {
				t.Fatalf("ConnectionLost(%v); want a *PanicError matching errGoexit", err)
			}
			if n := s.opts.budget.readLent.Load(); n != 0 {
				t.Errorf("%d bytes still lent to reads after the connection's loss; want 0", n)
			}
		})
	}
}
