package kvbin

import (
	"context"
	"errors"
	"fmt"

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

// clientCodec frames requests, as kvbin.yaml says.
var clientCodec wire.Codec = wire.LengthCodec{Size: 4, Max: MaxFrame}

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
	if _, err := expect[*Welcome](c.call(ctx, &Hello{Version: Version})); err != nil {
		t.Abort()
		return nil, fmt.Errorf("kvbin: hello: %w", err)
	}
	return c, nil
}

// Close says goodbye (quit) and closes the connection once the server has
// answered or ctx ends.
func (c *Client) Close(ctx context.Context) error {
	_, err := expect[*OK](c.call(ctx, &Quit{}))
	c.t.Close()
	return err
}

// Set stores value under key.
func (c *Client) Set(ctx context.Context, key string, value []byte) error {
	_, err := expect[*OK](c.call(ctx, &Set{Key: []byte(key), Value: value}))
	return err
}

// Get returns the value under key, and whether it exists.
func (c *Client) Get(ctx context.Context, key string) ([]byte, bool, error) {
	r, err := c.call(ctx, &Get{Key: []byte(key)})
	if _, missing := r.(*NotFound); missing {
		return nil, false, nil
	}
	v, err := expect[*Value](r, err)
	if err != nil {
		return nil, false, err
	}
	return v.Value, true, nil
}

// Del deletes key and reports whether it existed.
func (c *Client) Del(ctx context.Context, key string) (bool, error) {
	r, err := c.call(ctx, &Del{Key: []byte(key)})
	if _, missing := r.(*NotFound); missing {
		return false, nil
	}
	_, err = expect[*OK](r, err)
	return err == nil, err
}

// call writes one request frame and waits for its reply. The frame is
// queued at once (writes never block); Drain then holds the caller back
// while the server is not reading, and the reply arrives in order.
func (c *Client) call(ctx context.Context, req Request) (Reply, error) {
	payload, err := req.Append(nil)
	if err != nil {
		return nil, err
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
	err = wire.WriteFrame(t, clientCodec, payload)
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
		if r.err != nil {
			return nil, r.err
		}
		return DecodeReply(r.frame)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// expect returns the reply r as a T, or an error: the call's, the
// server's, or one for a reply of another kind.
func expect[T Reply](r Reply, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	switch r := r.(type) {
	case T:
		return r, nil
	case *Error:
		return zero, &ServerError{Msg: r.Message}
	}
	return zero, fmt.Errorf("kvbin: unexpected reply %T", r)
}
