package echo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startEcho(t *testing.T) (addr string, protocols chan *Echo) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	protocols = make(chan *Echo, 16)
	srv := protoflow.NewServer(func() *Echo {
		p := NewEcho()
		protocols <- p
		return p
	})
	go srv.Serve(ln) // ends with Shutdown below
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return ln.Addr().String(), protocols
}

// The hooks, without a socket: every byte comes back, in order, however
// the peer's writes were cut and however large they are.
func TestEchoRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	small := make([]byte, 300)
	for i := range small {
		small[i] = byte(rng.Uint32())
	}
	if got := protoflowtest.CheckSplits(t, NewEcho, small); !bytes.Equal(got.Written, small) || got.Lost {
		t.Errorf("echoed %d bytes (lost %v), want the %d sent", len(got.Written), got.Lost, len(small))
	}
	c := protoflowtest.New(NewEcho())
	defer c.Finish(t)
	for _, size := range []int{1, 100, 1024, 64 * 1024, 1 << 20} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		if err := c.Feed(msg); err != nil {
			t.Fatal(err)
		}
		if got := c.ReadAll(); !bytes.Equal(got, msg) {
			t.Fatalf("size %d: echoed %d bytes, equal %v", size, len(got), bytes.Equal(got, msg))
		}
	}
}

// The flow-control hooks, without a socket: while the peer does not read,
// the echoes queue until PauseWriting, which stops reading, so that what
// the peer sends meanwhile is held; once the peer reads, ResumeWriting
// reads again and the held bytes are echoed too.
func TestEchoPausesReading(t *testing.T) {
	p := NewEcho()
	c := protoflowtest.New(p)
	defer c.Finish(t)
	c.Stall()
	first := bytes.Repeat([]byte("a"), protoflow.DefaultHighWater+1)
	if err := c.Feed(first); err != nil {
		t.Fatal(err)
	}
	if !p.WritingPaused() || !p.ReadingPaused() {
		t.Fatalf("after echoing %d bytes to a stalled peer: writing paused %v, reading paused %v; want both", len(first), p.WritingPaused(), p.ReadingPaused())
	}
	if err := c.Feed([]byte("held")); err != nil {
		t.Fatal(err)
	}
	if got := p.Transport().WriteBufferSize(); got != len(first) {
		t.Errorf("queue = %d bytes while reading is paused, want %d: the held bytes were echoed", got, len(first))
	}
	c.Unstall()
	if p.WritingPaused() || p.ReadingPaused() {
		t.Errorf("after the peer read: writing paused %v, reading paused %v; want neither", p.WritingPaused(), p.ReadingPaused())
	}
	if got, want := c.ReadAll(), append(first, "held"...); !bytes.Equal(got, want) {
		t.Errorf("echoed %d bytes, want %d, in order", len(got), len(want))
	}
}

// A peer that writes much more than it reads: the echo server stops
// reading while its echoes back up, its queue stays within the high-water
// mark plus one read, TCP pushes back on the peer, and every byte comes
// back intact once the peer reads again.
func TestEchoBackPressure(t *testing.T) {
	addr, protocols := startEcho(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server := <-protocols
	const total = 64 << 20
	sent := sha256.New()
	writerDone := make(chan struct{})
	go func() { // writes total bytes, as fast as the server lets it
		defer close(writerDone)
		rng := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 32*1024)
		for n := 0; n < total; n += len(buf) {
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			sent.Write(buf)
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()

	// Stop reading until the server has paused, watching its queue.
	deadline := time.Now().Add(20 * time.Second)
	for !server.ReadingPaused() {
		if time.Now().After(deadline) {
			t.Fatal("the server never paused reading while the peer did not read")
		}
		time.Sleep(time.Millisecond)
	}
	maxQueued := 0
	for range 100 {
		if tr := server.Transport(); tr != nil {
			maxQueued = max(maxQueued, tr.WriteBufferSize())
		}
		time.Sleep(time.Millisecond)
	}
	if limit := protoflow.DefaultHighWater + protoflow.DefaultReadBufferSize; maxQueued > limit {
		t.Errorf("while paused the server queued up to %d bytes, want at most %d (high water + one read)", maxQueued, limit)
	}

	received := sha256.New()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	if n, err := io.CopyN(received, c, total); err != nil {
		t.Fatalf("after %d bytes: %v", n, err)
	}
	<-writerDone
	if !bytes.Equal(sent.Sum(nil), received.Sum(nil)) {
		t.Fatal("the echoed stream differs from the one sent")
	}
	t.Logf("64 MiB echoed; while paused the server queued up to %d bytes", maxQueued)
}
