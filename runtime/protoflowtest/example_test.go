package protoflowtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

// upper answers each line with the line in capitals. Its framer keeps a
// line split across reads.
type upper struct {
	protoflow.BaseProtocol
	lines wire.Framer
}

func (u *upper) ConnectionMade(t protoflow.Transport) {
	u.BaseProtocol.ConnectionMade(t)
	u.lines.Init(wire.LineCodec{})
}

func (u *upper) DataReceived(p []byte) {
	_ = u.lines.Feed(p, func(line []byte) bool {
		_, _ = u.Transport().Write(append(bytes.ToUpper(line), '\n'))
		return true
	})
}

// A protocol's hooks, tested without a socket: each call runs the
// callbacks it causes before it returns, so nothing needs waiting for.
func Example() {
	c := protoflowtest.New(new(upper)) // ConnectionMade runs
	c.Feed([]byte("hello, wo"))        // DataReceived runs
	c.Feed([]byte("rld\nbye\n"))
	fmt.Printf("%q\n", c.ReadAll())

	c.FeedEOF() // EOFReceived returns false: the transport closes itself
	fmt.Println(c.Lost())
	// Output:
	// "HELLO, WORLD\nBYE\n"
	// true <nil>
}

// Run feeds one input to a new protocol and reports what it wrote and how
// its connection ended: one line per case of a table-driven test.
func ExampleRun() {
	r := protoflowtest.Run(func() *upper { return new(upper) }, []byte("ping\npon"))
	fmt.Printf("%q lost=%v\n", r.Written, r.Lost)
	// Output:
	// "PING\n" lost=false
}

// flow prints its flow-control callbacks.
type flow struct {
	protoflow.BaseProtocol
}

func (f *flow) PauseWriting() {
	f.BaseProtocol.PauseWriting()
	fmt.Println("PauseWriting with", f.Transport().WriteBufferSize(), "bytes queued")
}

func (f *flow) ResumeWriting() {
	f.BaseProtocol.ResumeWriting()
	fmt.Println("ResumeWriting with", f.Transport().WriteBufferSize(), "bytes queued")
}

// A peer that stops reading: the queue grows, PauseWriting comes above the
// high-water mark, and Drain waits until the peer has read enough for the
// queue to fall to the low one.
func ExampleConn_Stall() {
	p := new(flow)
	c := protoflowtest.New(p, protoflowtest.WithWriteBufferLimits(1000, 100))
	c.Stall()
	p.Transport().Write(make([]byte, 1500)) // PauseWriting runs here

	drained := make(chan error)
	go func() { drained <- p.Drain(context.Background()) }()
	fmt.Println("the peer took", c.Flush(1400), "bytes")
	fmt.Println("Drain:", <-drained)
	// Output:
	// PauseWriting with 1500 bytes queued
	// ResumeWriting with 100 bytes queued
	// the peer took 1400 bytes
	// Drain: <nil>
}

// impatient gives its peer 30 seconds to send something.
type impatient struct {
	protoflow.BaseProtocol
}

func (p *impatient) ConnectionMade(t protoflow.Transport) {
	p.BaseProtocol.ConnectionMade(t)
	_ = protoflow.SetTimeouts(t, 30*time.Second, 0)
}

func (p *impatient) ConnectionLost(err error) {
	p.BaseProtocol.ConnectionLost(err)
	fmt.Println("ConnectionLost:", err)
}

// Timeouts expire on the Conn's clock, which moves only with Advance: no
// test sleeps.
func ExampleConn_Advance() {
	c := protoflowtest.New(new(impatient))
	c.Advance(20 * time.Second)
	c.Feed([]byte("still here")) // a new period starts
	c.Advance(29 * time.Second)
	lost, _ := c.Lost()
	fmt.Println("at", c.Elapsed(), "lost:", lost)
	c.Advance(time.Second)
	// Output:
	// at 49s lost: false
	// ConnectionLost: protoflow: read timeout: nothing happened for 30s
}

// echoFrames writes back each frame it reads, behind a 2-byte length.
type echoFrames struct {
	protoflow.BaseProtocol
	frames wire.Framer
}

var codec = wire.LengthCodec{Size: 2}

func (e *echoFrames) ConnectionMade(t protoflow.Transport) {
	e.BaseProtocol.ConnectionMade(t)
	e.frames.Init(codec)
}

func (e *echoFrames) DataReceived(p []byte) {
	_ = e.frames.Feed(p, func(payload []byte) bool {
		_ = wire.WriteFrame(e.Transport(), codec, payload)
		return true
	})
}

// ReadFrame reads what the protocol wrote a frame at a time.
func ExampleConn_ReadFrame() {
	c := protoflowtest.New(new(echoFrames))
	in, _ := codec.AppendFrame(nil, []byte("one"))
	in, _ = codec.AppendFrame(in, []byte("two"))
	c.Feed(in[:7]) // the second frame is split across reads
	c.Feed(in[7:])
	for {
		payload, err := c.ReadFrame(codec)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%q\n", payload)
	}
	// Output:
	// "one"
	// "two"
	// protoflowtest: no complete frame written yet
}

// A peer's reset: ConnectionLost gets an error that matches ECONNRESET, as
// from a socket.
func ExampleConn_Reset() {
	c := protoflowtest.New(new(upper))
	c.Reset(nil)
	lost, err := c.Lost()
	fmt.Println(lost, errors.Is(err, syscall.ECONNRESET))
	// Output:
	// true true
}
