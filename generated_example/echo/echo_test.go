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

func TestEchoRoundTrip(t *testing.T) {
	addr, _ := startEcho(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, size := range []int{1, 100, 1024, 64 * 1024, 1 << 20} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(rand.IntN(256))
		}
		go c.Write(msg) // a megabyte does not fit in the socket buffers
		got := make([]byte, size)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("size %d: echo differs", size)
		}
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
