package protoflow

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pollEcho echoes what it reads.
type pollEcho struct{ BaseProtocol }

func (e *pollEcho) DataReceived(p []byte) { _, _ = e.Transport().Write(p) }

// TestPollerEmptiesAndRefills opens connections one at a time, so that the
// epoll backend's poller loses its last connection and is closed, then is
// started again, hundreds of times. Closing the poller's epoll file used to
// happen with pollMu held while the poller goroutine, dispatching an event
// inside its read of that file, waited for pollMu: Close waited for the
// read, and from then on the server accepted nothing and Shutdown hung.
func TestPollerEmptiesAndRefills(t *testing.T) {
	if !epollEnabled {
		t.Skip("the goroutine backend (PROTOFLOW_BACKEND=goroutine) has no poller")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(func() *pollEcho { return new(pollEcho) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // ends with Shutdown below
	deadline := time.Now().Add(60 * time.Second)
	for i := range 500 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(deadline)
		_, err = c.Write([]byte("ping"))
		if err == nil {
			_, err = io.ReadFull(c, make([]byte, 4))
		}
		c.Close()
		if err != nil {
			t.Fatalf("connection %d: %v (the server stopped answering)", i, err)
		}
		waitFor(t, 10*time.Second, "the poller to close with its last connection", func() bool {
			pollMu.Lock()
			defer pollMu.Unlock()
			return thePoller == nil
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
}
