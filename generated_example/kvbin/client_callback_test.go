package kvbin

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// proxy answers each read, a key, with the value a Client gets for it
// from another server: a callback that calls a client and waits.
type proxy struct {
	protoflow.BaseProtocol
	c *Client
}

func (p *proxy) DataReceived(b []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, ok, err := get(ctx, p.c, string(b))
	switch {
	case err != nil:
		p.Transport().Write([]byte("error: " + err.Error()))
	case !ok:
		p.Transport().Write([]byte("missing"))
	default:
		p.Transport().Write(v)
	}
}

// A generated client called from a server's callback gets its reply,
// with one event loop for everything (GOMAXPROCS=1): the client's
// connection is kept off the loops, or its reply would wait for the very
// loop that the calling callback stalls.
func TestClientCalledFromCallback(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// The kvbin server stands for one in another process: it must not
	// share the one loop that the proxy's callback stalls.
	store := NewStore()
	store.set([]byte("k"), []byte("value"))
	backend := serve(t, "tcp", func() protoflow.Protocol { return store.Protocol() }, protoflow.WithBlockingCallbacks())
	c, err := Dial(context.Background(), "tcp", backend)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The proxy runs on the loop backend, Linux's default.
	proxyAddr := serve(t, "tcp", func() protoflow.Protocol { return &proxy{c: c} })
	pc, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.Write([]byte("k")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, len("value"))
	if _, err := io.ReadFull(pc, got); err != nil || string(got) != "value" {
		t.Fatalf("the proxy answered %q, %v; want \"value\"", got, err)
	}
}
