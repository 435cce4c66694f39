package protoflow_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// lost is a protocol that reports how its connection ended.
type lost struct {
	protoflow.BaseProtocol
	err chan error
}

func (p *lost) ConnectionLost(err error) {
	p.BaseProtocol.ConnectionLost(err)
	p.err <- err
}

// Attach drives a protocol over a connection made elsewhere: here one end
// of a net.Pipe; a *tls.Conn, or a connection that another library
// accepted, works the same way. ConnectionMade has run when Attach
// returns, and the transport owns the connection from then on.
func ExampleAttach() {
	client, server := net.Pipe()
	if _, err := protoflow.Attach(server, new(echo)); err != nil {
		panic(err)
	}
	defer client.Close()
	fmt.Fprintln(client, "over a pipe")
	line, err := bufio.NewReader(client).ReadString('\n')
	fmt.Printf("%q %v\n", line, err)
	// Output: "over a pipe\n" <nil>
}

// timed sets a read timeout once connected, as generated code does for a
// spec's read_timeout.
type timed struct {
	lost
}

func (p *timed) ConnectionMade(t protoflow.Transport) {
	p.BaseProtocol.ConnectionMade(t)
	protoflow.SetTimeouts(t, 50*time.Millisecond, 0) // read timeout; no idle timeout
}

// SetTimeouts gives a connection a read timeout, an idle timeout, or both.
// When one expires the connection is aborted, and ConnectionLost receives a
// *TimeoutError, which is a net.Error whose Timeout method reports true
// and matches os.ErrDeadlineExceeded. (A protocol that implements
// TimeoutHandler is called instead, and decides.)
func ExampleSetTimeouts() {
	client, server := net.Pipe()
	defer client.Close()
	p := &timed{lost{err: make(chan error, 1)}}
	if _, err := protoflow.Attach(server, p); err != nil {
		panic(err)
	}
	// The client sends nothing.
	err := <-p.err
	var te *protoflow.TimeoutError
	fmt.Println(err)
	fmt.Println(errors.As(err, &te) && te.Kind == protoflow.ReadTimeout, errors.Is(err, os.ErrDeadlineExceeded))
	// Output:
	// protoflow: read timeout: nothing happened for 50ms
	// true true
}

// Shouter is what protogen generates for a protocol with state fields and
// the data_received and connection_lost hooks (see generated_example for
// real output): a struct that embeds BaseProtocol and holds the fields, a
// constructor, and protoflow.Protocol methods that run BaseProtocol's
// behaviour and then the hook methods, which you write in a file of your
// own in the same package.
type Shouter struct {
	protoflow.BaseProtocol

	lines int // a state field
}

// NewShouter is the generated constructor, which serves as the factory of a
// protoflow.Server.
func NewShouter() *Shouter { return &Shouter{} }

// DataReceived is generated: the base behaviour, then your hook.
func (p *Shouter) DataReceived(data []byte) {
	p.BaseProtocol.DataReceived(data)
	p.onDataReceived(data)
}

// ConnectionLost is generated: the base behaviour (which wakes every
// Drain), then your hook.
func (p *Shouter) ConnectionLost(err error) {
	p.BaseProtocol.ConnectionLost(err)
	p.onConnectionLost(err)
}

// onDataReceived is yours: a hook method in your file.
func (p *Shouter) onDataReceived(data []byte) {
	p.lines += strings.Count(string(data), "\n")
	p.Transport().Write([]byte(strings.ToUpper(string(data))))
}

// onConnectionLost is yours too.
func (p *Shouter) onConnectionLost(err error) {
	fmt.Printf("%d lines, then %v\n", p.lines, err)
}

// The shape of generated code: the generated type, served by a Server
// through its generated constructor, runs the hook methods you write.
func Example_generatedCode() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := protoflow.NewServer(NewShouter)
	go srv.Serve(ln)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	fmt.Fprint(c, "hello\n")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(reply)
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx) // waits for every ConnectionLost
	// Output:
	// HELLO
	// 1 lines, then <nil>
}

// lookup is a protocol whose callback blocks: it answers each line with
// what a slow store (here a sleep) says about it.
type lookup struct{ protoflow.BaseProtocol }

func (l *lookup) DataReceived(p []byte) {
	time.Sleep(10 * time.Millisecond) // a database call, say
	l.Transport().Write(bytes.ToUpper(p))
}

// A protocol whose callbacks block says so with WithBlockingCallbacks:
// its connections then run their callbacks on goroutines of their own
// (on Linux, the epoll backend) rather than on the event loops of the
// default backend, where a blocked callback would stall the other
// connections of its loop.
func ExampleWithBlockingCallbacks() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := protoflow.NewServer(func() protoflow.Protocol { return new(lookup) }, protoflow.WithBlockingCallbacks())
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Fprint(c, "key\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print(line)
	fmt.Println(srv.Stats().Backends.Loop, "connections on event loops")
	// Output:
	// KEY
	// 0 connections on event loops
}
