package echo_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/protogen/protogen/generated_example/echo"
	"github.com/protogen/protogen/runtime/protoflow"
)

// Echo is generated from echo.yaml; its hooks are in echo_hooks.go. Its
// constructor is the factory of a protoflow.Server.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := protoflow.NewServer(echo.NewEcho)
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "generated, then served")
	line, err := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)
	// Output: "generated, then served\n" <nil>
}
