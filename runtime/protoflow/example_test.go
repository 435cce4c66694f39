package protoflow_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/protogen/protogen/runtime/protoflow"
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
