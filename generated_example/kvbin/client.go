package kvbin

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// ErrClosed is the error of requests on a client whose connection was
// closed cleanly.
var ErrClosed = errors.New("kvbin: connection closed")

// ServerError is an error reply.
type ServerError struct {
	Msg string // the server's message
}

// Error returns the server's message, prefixed with "kvbin: server: ".
func (e *ServerError) Error() string { return "kvbin: server: " + e.Msg }

// reply is one reply frame's payload, or why none will come.
type reply struct {
	frame []byte
	err   error
}

// Client is a connection to a kvbin server. Its methods are safe for
// concurrent use; concurrent requests are pipelined on the connection.
type Client struct {
	p *ClientProtocol
	t protoflow.Transport
}

// Dial connects to a server at address on network ("tcp" or "unix") and
// says hello.
func Dial(ctx context.Context, network, address string, opts ...protoflow.Option) (*Client, error) {
	p := NewClientProtocol()
	t, err := protoflow.Dial(ctx, network, address, p, opts...)
	if err != nil {
		return nil, err
	}
	c := &Client{p: p, t: t}
	body, err := c.call(ctx, request(opHello, Version, 0))
	if err == nil {
		err = expect(body, opHello)
	}
	if err != nil {
		t.Abort()
		return nil, fmt.Errorf("kvbin: hello: %w", err)
	}
	return c, nil
}

// Close says goodbye (quit) and closes the connection once the server has
// answered or ctx ends.
func (c *Client) Close(ctx context.Context) error {
	body, err := c.call(ctx, []byte{opQuit})
	c.t.Close()
	if err != nil {
		return err
	}
	return expect(body, opOK)
}

// Set stores value under key.
func (c *Client) Set(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	req := binary.BigEndian.AppendUint16(request(opSet, "", 2+len(key)+len(value)), uint16(len(key)))
	req = append(append(req, key...), value...)
	body, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	return expect(body, opOK)
}

// Get returns the value under key, and whether it exists.
func (c *Client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	body, err := c.call(ctx, request(opGet, key, 0))
	switch {
	case err != nil:
		return nil, false, err
	case len(body) > 0 && body[0] == opValue:
		return body[1:], true, nil
	}
	return nil, false, expect(body, opNotFound)
}

// Del deletes key and reports whether it existed.
func (c *Client) Del(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	body, err := c.call(ctx, request(opDel, key, 0))
	if err != nil {
		return false, err
	}
	if len(body) == 1 && body[0] == opOK {
		return true, nil
	}
	return false, expect(body, opNotFound)
}

// request returns a request payload: op, then s, with room for more bytes
// after them, so that a request is built in one buffer.
func request(op byte, s string, more int) []byte {
	return append(append(make([]byte, 0, 1+len(s)+more), op), s...)
}

// call writes one request frame (payload: an op and its body) and waits
// for its reply. The frame is queued at once (writes never block); Drain
// then holds the caller back while the server is not reading, and the
// reply arrives in order.
func (c *Client) call(ctx context.Context, payload []byte) ([]byte, error) {
	if len(payload) > MaxFrame {
		return nil, fmt.Errorf("kvbin: request of %d bytes is over the %d-byte frame limit", len(payload), MaxFrame)
	}
	p := c.p
	ch := make(chan reply, 1) // the reader never blocks on a caller that gave up
	p.mu.Lock()
	t := p.Transport()
	if p.lost != nil || t == nil {
		err := p.lost
		p.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return nil, err
	}
	// Under mu, so that the order of waiting is the order on the wire.
	p.waiting = append(p.waiting, ch)
	err := wire.WriteFrame(t, Codec, payload)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Drain fails on a lost connection too, but then the request's own
	// channel says why (onConnectionLost); only the context ends it here.
	if err := p.Drain(ctx); err != nil && ctx.Err() != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.frame, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func checkKey(key string) error {
	if key == "" || len(key) > math.MaxUint16 {
		return fmt.Errorf("kvbin: bad key of %d bytes: keys hold 1 to %d bytes", len(key), math.MaxUint16)
	}
	return nil
}

// expect turns a reply other than want into an error.
func expect(body []byte, want byte) error {
	switch {
	case len(body) > 0 && body[0] == want:
		return nil
	case len(body) > 0 && body[0] == opError:
		return &ServerError{Msg: string(body[1:])}
	}
	return fmt.Errorf("kvbin: unexpected reply %q", body)
}
