package protoflow_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// echo writes back whatever it receives.
type echo struct {
	protoflow.BaseProtocol
}

func (e *echo) DataReceived(p []byte) {
	e.Transport().Write(p) // copies p; never blocks
}

// An echo server in a few lines: a protocol type that embeds BaseProtocol,
// a Server that makes one per connection, and a listener.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := protoflow.NewServer(func() protoflow.Protocol { return new(echo) })
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprint(c, "hello, protoflow")
	reply := make([]byte, len("hello, protoflow"))
	io.ReadFull(c, reply)
	fmt.Println(string(reply))
	// Output: hello, protoflow
}

// A Server serves each connection with a new protocol from its factory.
// Shutdown stops accepting, closes each connection once its queued bytes
// are flushed, and waits for every ConnectionLost; Serve then returns
// ErrServerClosed.
func ExampleServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := protoflow.NewServer(func() *echo { return new(echo) },
		protoflow.WithWriteBufferLimits(256<<10, 64<<10))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "ping")
	line, err := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println("Shutdown:", srv.Shutdown(ctx))
	fmt.Println("Serve:", <-served)
	// Output:
	// "ping\n" <nil>
	// Shutdown: <nil>
	// Serve: protoflow: server closed
}

// greeter is a client protocol: once connected it sends a line, and it
// hands each line it receives to a channel.
type greeter struct {
	protoflow.BaseProtocol
	lines   wire.Framer
	replies chan string
}

func (g *greeter) ConnectionMade(t protoflow.Transport) {
	g.BaseProtocol.ConnectionMade(t)
	g.lines.Init(wire.LineCodec{Max: 1024})
	wire.WriteFrame(t, wire.LineCodec{}, []byte("hello, server"))
}

func (g *greeter) DataReceived(data []byte) {
	err := g.lines.Feed(data, func(line []byte) bool {
		g.replies <- string(line) // line is valid only during the call
		return true
	})
	if err != nil {
		g.Transport().Abort()
	}
}

// Dial connects a protocol to a server: here, the greeter to an echo
// server. ConnectionMade has run when Dial returns.
func ExampleDial() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := protoflow.NewServer(func() *echo { return new(echo) })
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g := &greeter{replies: make(chan string, 1)}
	t, err := protoflow.Dial(ctx, "tcp", ln.Addr().String(), g)
	if err != nil {
		panic(err)
	}
	defer t.Close()
	fmt.Println(<-g.replies)
	// Output: hello, server
}

// A goroutine that writes a stream calls Drain after each Write. Drain
// returns at once while writing is not paused, and otherwise waits until
// the peer has read enough (ResumeWriting), so the queue never holds much
// more than the high-water mark, however slow the peer. Here the peer is
// the other end of a net.Pipe, which buffers nothing.
func ExampleBaseProtocol_Drain() {
	client, server := net.Pipe()
	p := new(protoflow.BaseProtocol) // a protocol that only writes
	const high, low = 16 << 10, 4 << 10
	t, err := protoflow.Attach(client, p, protoflow.WithWriteBufferLimits(high, low))
	if err != nil {
		panic(err)
	}
	read := make(chan int64)
	go func() {
		n, _ := io.Copy(io.Discard, server) // the peer reads until Close
		read <- n
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	chunk := make([]byte, 4<<10)
	most := 0
	for range 256 { // 1 MiB
		if _, err := t.Write(chunk); err != nil {
			panic(err)
		}
		most = max(most, t.WriteBufferSize())
		if err := p.Drain(ctx); err != nil {
			panic(err)
		}
	}
	t.Close() // flushes the queue, then closes
	fmt.Println("the peer read", <-read, "bytes")
	fmt.Println("never more than high+chunk queued:", most <= high+len(chunk))
	// Output:
	// the peer read 1048576 bytes
	// never more than high+chunk queued: true
}
