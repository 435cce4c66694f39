package protoflowtest_test

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/protogen/protogen/runtime/internal/contract"
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestContract runs over the in-memory transport the contract suite that
// protoflow's tests run over TCP, Unix sockets and pipes.
func TestContract(t *testing.T) {
	contract.Run(t, contract.Kind{
		Name: "protoflowtest",
		Attach: func(t *testing.T, p protoflow.Protocol) (protoflow.Transport, contract.Peer) {
			c := protoflowtest.New(p)
			return c.Transport(), &fakePeer{c: c}
		},
		HalfClose:  true,
		ExactQueue: true,
	})
}

// fakePeer is the contract's Peer over a Conn.
type fakePeer struct {
	c   *protoflowtest.Conn
	mu  sync.Mutex
	got []byte // what ReadAll returned so far
}

func (p *fakePeer) Send(b []byte) { _ = p.c.Feed(b) }
func (p *fakePeer) CloseWrite()   { _ = p.c.FeedEOF() }
func (p *fakePeer) Stall()        { p.c.Stall() }
func (p *fakePeer) Unstall()      { p.c.Unstall() }
func (p *fakePeer) Reset()        { p.c.Reset(nil) }
func (p *fakePeer) Settle()       {} // Feed delivers before it returns

func (p *fakePeer) Elapse(d time.Duration) { p.c.Advance(d) }

func (p *fakePeer) Received(t testing.TB, n int) []byte {
	t.Helper()
	return p.read(t, func(got []byte) bool { return len(got) >= n || p.c.WriteClosed() })
}

func (p *fakePeer) ReadToEOF(t testing.TB) []byte {
	t.Helper()
	return p.read(t, func([]byte) bool { return p.c.WriteClosed() })
}

// read collects what the protocol writes until done holds: writers on
// other goroutines may still be writing.
func (p *fakePeer) read(t testing.TB, done func(got []byte) bool) []byte {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	waitFor(t, "the protocol's bytes", func() bool {
		p.got = append(p.got, p.c.ReadAll()...)
		return done(p.got)
	})
	return append([]byte(nil), p.got...)
}

// waitFor polls cond every millisecond until it holds, and fails t if it
// does not within 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
