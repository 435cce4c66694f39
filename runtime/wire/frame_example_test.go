package wire_test

import (
	"fmt"
	"net"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// A Framer turns reads back into the lines the peer wrote, however the
// stream was cut up on the way. LineCodec accepts LF and CRLF lines.
func ExampleFramer() {
	f := wire.NewFramer(wire.LineCodec{Max: 1024})
	for _, read := range []string{"GET gree", "ting\r\nSET a 1\nQU", "IT\n"} {
		err := f.Feed([]byte(read), func(line []byte) bool {
			fmt.Printf("%q\n", line)
			return true
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("buffered:", f.Buffered())
	// Output:
	// "GET greeting"
	// "SET a 1"
	// "QUIT"
	// buffered: 0
}

// frWire is the wire format of the WriteFrame example: a 2-byte big-endian
// length, then at most 1 KiB of payload.
var frWire = wire.LengthCodec{Size: 2, Max: 1024}

// frPrinter prints the frames it receives. It is the shape of generated
// code: a protocol struct that holds a Framer by value, feeds it from
// DataReceived and aborts the connection on a framing error.
type frPrinter struct {
	protoflow.BaseProtocol
	frames wire.Framer
	done   chan struct{}
}

func (p *frPrinter) ConnectionMade(t protoflow.Transport) {
	p.BaseProtocol.ConnectionMade(t)
	p.frames.Init(&frWire) // a pointer: storing the codec allocates nothing
}

func (p *frPrinter) DataReceived(data []byte) {
	err := p.frames.Feed(data, func(payload []byte) bool {
		fmt.Printf("%q\n", payload)
		return true
	})
	if err != nil {
		fmt.Println(err)
		p.Transport().Abort()
	}
}

func (p *frPrinter) ConnectionLost(err error) {
	p.BaseProtocol.ConnectionLost(err)
	close(p.done)
}

// WriteFrame writes each frame with one Write, so frames from concurrent
// writers never mix; the peer decodes them with a Framer of the same codec.
// A protoflow.Transport is an io.Writer, as is a net.Conn.
func ExampleWriteFrame() {
	a, b := net.Pipe()
	p := &frPrinter{done: make(chan struct{})}
	if _, err := protoflow.Attach(b, p); err != nil {
		panic(err)
	}
	t, err := protoflow.Attach(a, new(protoflow.BaseProtocol))
	if err != nil {
		panic(err)
	}

	// A payload too big for the codec is refused before anything is
	// written.
	fmt.Println(wire.WriteFrame(t, frWire, make([]byte, 2000)))

	for _, msg := range []string{"hello", "framed", "world"} {
		if err := wire.WriteFrame(t, frWire, []byte(msg)); err != nil {
			panic(err)
		}
	}
	t.Close()
	<-p.done
	// Output:
	// wire: frame too large: size 2000 exceeds max 1024
	// "hello"
	// "framed"
	// "world"
}
