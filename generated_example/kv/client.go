package kv

import (
	"context"
	"errors"
	"fmt"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// ErrClosed is the error of requests on a client whose connection was
// closed cleanly.
var ErrClosed = errors.New("kv: connection closed")

// errUnexpected ends a connection to a peer that answers what nobody asked.
var errUnexpected = errors.New("kv: a reply that no request waits for")

// ServerError is an ERR reply.
type ServerError struct {
	Msg string // the server's message
}

// Error returns the server's message, prefixed with "kv: server: ".
func (e *ServerError) Error() string { return "kv: server: " + e.Msg }

// reply is one reply, or why none will come.
type reply struct {
	r   Reply
	err error
}

// clientCodec frames requests, as kv.yaml says.
var clientCodec wire.Codec = wire.LineCodec{Max: MaxLine}

// Client is a connection to a key-value server. Its methods are safe for
// concurrent use; concurrent requests are pipelined on the connection.
type Client struct {
	p *ClientProtocol
	t protoflow.Transport
}

// Dial connects to a server at address on network ("tcp" or "unix").
func Dial(ctx context.Context, network, address string, opts ...protoflow.Option) (*Client, error) {
	p := NewClientProtocol()
	t, err := protoflow.Dial(ctx, network, address, p, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{p: p, t: t}, nil
}

// Close closes the connection after the requests already written.
func (c *Client) Close() error { return c.t.Close() }

// Set stores value under key.
func (c *Client) Set(ctx context.Context, key, value string) error {
	_, err := expect[*OK](c.p.call(ctx, &Set{Key: []byte(key), Value: value}))
	return err
}

// Get returns the value under key, and whether it exists.
func (c *Client) Get(ctx context.Context, key string) (string, bool, error) {
	r, err := c.p.call(ctx, &Get{Key: []byte(key)})
	if _, missing := r.(*NotFound); missing {
		return "", false, nil
	}
	v, err := expect[*Value](r, err)
	if err != nil {
		return "", false, err
	}
	return v.Value, true, nil
}

// Del deletes key and reports whether it existed.
func (c *Client) Del(ctx context.Context, key string) (bool, error) {
	r, err := c.p.call(ctx, &Del{Key: []byte(key)})
	if _, missing := r.(*NotFound); missing {
		return false, nil
	}
	_, err = expect[*OK](r, err)
	return err == nil, err
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := expect[*Pong](c.p.call(ctx, &Ping{}))
	return err
}

// call writes one request and waits for its reply. The request is queued
// at once (writes never block); Drain then holds the caller back while the
// server is not reading, and the reply arrives in order.
func (p *ClientProtocol) call(ctx context.Context, req Request) (Reply, error) {
	line, err := req.Append(nil)
	if err != nil {
		return nil, err
	}
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
	err = wire.WriteFrame(t, clientCodec, line)
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
		return r.r, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// deliver hands a reply to the oldest waiting request; false means no
// request waits.
func (p *ClientProtocol) deliver(r reply) bool {
	p.mu.Lock()
	if len(p.waiting) == 0 {
		p.mu.Unlock()
		return false
	}
	ch := p.waiting[0]
	p.waiting = p.waiting[1:]
	p.mu.Unlock()
	ch <- r
	return true
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
	case *Err:
		return zero, &ServerError{Msg: r.Message}
	}
	return zero, fmt.Errorf("kv: unexpected reply %T", r)
}
