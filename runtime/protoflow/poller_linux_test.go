package protoflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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
	// WithBlockingCallbacks: on the epoll backend when the loop backend is
	// the default too.
	srv := NewServer(func() *pollEcho { return new(pollEcho) }, WithBlockingCallbacks())
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
		if !pollerClosesWithin(10 * time.Second) {
			t.Fatalf("connection %d: the poller did not close with its last connection within 10s; it still has:\n%s", i, pollerConns())
		}
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

// pollerClosesWithin reports whether the poller closes within d.
func pollerClosesWithin(d time.Duration) bool {
	return eventually(d, func() bool {
		pollMu.Lock()
		defer pollMu.Unlock()
		return thePoller == nil
	})
}

// pollerConns describes the connections the poller still has, for a
// failure message.
func pollerConns() string {
	pollMu.Lock()
	var cs []*conn
	if p := thePoller; p != nil {
		for _, c := range p.conns {
			cs = append(cs, c)
		}
	}
	pollMu.Unlock()
	var b strings.Builder
	for _, c := range cs {
		c.mu.Lock()
		fmt.Fprintf(&b, "\t%T %v→%v: state=%v delivering=%v closeOwed=%v\n",
			c.proto, c.nc.LocalAddr(), c.nc.RemoteAddr(), c.st(),
			c.delivering.Load(), c.closeOwed.Load())
		c.mu.Unlock()
	}
	return b.String()
}

// gatedListener hands out its connections only once gate is closed, and
// its Close does not stop that: it lets a test have Serve accept a
// connection after the server has closed. entered receives when Accept is
// called, and so Serve has registered the listener.
type gatedListener struct {
	net.Listener
	gate    chan struct{}
	entered chan struct{} // buffered
}

func (l gatedListener) Accept() (net.Conn, error) {
	select {
	case l.entered <- struct{}{}:
	default:
	}
	<-l.gate
	return l.Listener.Accept()
}

func (l gatedListener) Close() error { return nil } // the test closes the inner listener

// TestServeDropsConnectionAcceptedAfterClose: a connection that Accept
// returns after Close has begun is closed at once and leaves nothing
// behind. newConn registers it with the poller, and Serve used to close
// only its socket: the poller kept it, and itself, for good.
func TestServeDropsConnectionAcceptedAfterClose(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	ln := gatedListener{inner, make(chan struct{}), make(chan struct{}, 1)}
	srv := NewServer(func() *pollEcho { return new(pollEcho) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // returns once the gate opens
	client, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	<-ln.entered // else Close could come first, and Serve would never accept
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	close(ln.gate)
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read %d bytes, %v; want io.EOF (the server closes the connection)", n, err)
	}
	if !pollerClosesWithin(time.Second) {
		t.Fatalf("the poller still has connections:\n%s", pollerConns())
	}
}
