package protoflow

import (
	"context"
	"net"
)

// Dial connects to address on the named network ("tcp", "tcp4", "tcp6",
// "unix", and the others of [net.Dialer]) and attaches p to the connection,
// as asyncio's create_connection does. ConnectionMade has run when Dial
// returns.
func Dial(ctx context.Context, network, address string, p Protocol, opts ...Option) (Transport, error) {
	o := buildOptions(opts)
	if o.err != nil {
		return nil, o.err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return attach(nc, p, &o), nil
}

// Attach drives an existing connection, such as a [crypto/tls.Conn] or one
// end of a [net.Pipe], with p. ConnectionMade runs on the calling goroutine
// before Attach returns; reading then goes on until ConnectionLost, on an
// event loop for a TCP or Unix connection on Linux (unless
// [WithBlockingCallbacks]), else on a goroutine of its own. The transport owns nc from then on. If an option is
// invalid, Attach returns its error and leaves nc alone.
func Attach(nc net.Conn, p Protocol, opts ...Option) (Transport, error) {
	o := buildOptions(opts)
	if o.err != nil {
		return nil, o.err
	}
	return attach(nc, p, &o), nil
}

func attach(nc net.Conn, p Protocol, o *options) Transport {
	if t := attachLoop(nc, p, o); t != nil {
		return t
	}
	c := newConn(nc, p, o)
	c.withToken(c.start) // hands the token on if ConnectionMade ends this goroutine
	go c.run(true)
	return c
}
