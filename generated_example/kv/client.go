package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/protogen/protogen/runtime/protoflow"
)

// ErrClosed is the error of requests on a client whose connection was
// closed cleanly.
var ErrClosed = errors.New("kv: connection closed")

// ServerError is an ERR reply.
type ServerError struct {
	Msg string // the server's message
}

// Error returns the server's message, prefixed with "kv: server: ".
func (e *ServerError) Error() string { return "kv: server: " + e.Msg }

// reply is one reply line, or why none will come.
type reply struct {
	line string
	err  error
}

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
	if err := checkKey(key); err != nil {
		return err
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("kv: value holds a line break")
	}
	line, err := c.p.call(ctx, "SET "+key+" "+value+"\n")
	if err != nil {
		return err
	}
	return expect(line, "OK")
}

// Get returns the value under key, and whether it exists.
func (c *Client) Get(ctx context.Context, key string) (string, bool, error) {
	if err := checkKey(key); err != nil {
		return "", false, err
	}
	line, err := c.p.call(ctx, "GET "+key+"\n")
	if err != nil {
		return "", false, err
	}
	if v, ok := strings.CutPrefix(line, "VALUE "); ok {
		return v, true, nil
	}
	return "", false, expect(line, "NOT_FOUND")
}

// Del deletes key and reports whether it existed.
func (c *Client) Del(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	line, err := c.p.call(ctx, "DEL "+key+"\n")
	if err != nil {
		return false, err
	}
	if line == "OK" {
		return true, nil
	}
	return false, expect(line, "NOT_FOUND")
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	line, err := c.p.call(ctx, "PING\n")
	if err != nil {
		return err
	}
	return expect(line, "PONG")
}

// call writes one request and waits for its reply. The request is queued
// at once (writes never block); Drain then holds the caller back while the
// server is not reading, and the reply arrives in order.
func (p *ClientProtocol) call(ctx context.Context, request string) (string, error) {
	ch := make(chan reply, 1) // the reader never blocks on a caller that gave up
	p.mu.Lock()
	t := p.Transport()
	if p.lost != nil || t == nil {
		err := p.lost
		p.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return "", err
	}
	// Under mu, so that the order of waiting is the order on the wire.
	p.waiting = append(p.waiting, ch)
	_, err := t.Write([]byte(request))
	p.mu.Unlock()
	if err != nil {
		return "", err
	}
	// Drain fails on a lost connection too, but then the request's own
	// channel says why (onConnectionLost); only the context ends it here.
	if err := p.Drain(ctx); err != nil && ctx.Err() != nil {
		return "", err
	}
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// deliver hands a reply to the oldest waiting request; false means no
// request waits.
func (p *ClientProtocol) deliver(line string) bool {
	p.mu.Lock()
	if len(p.waiting) == 0 {
		p.mu.Unlock()
		return false
	}
	ch := p.waiting[0]
	p.waiting = p.waiting[1:]
	p.mu.Unlock()
	ch <- reply{line: line}
	return true
}

func checkKey(key string) error {
	if key == "" || strings.ContainsAny(key, " \r\n") {
		return fmt.Errorf("kv: bad key %q: keys are non-empty and hold no space or line break", key)
	}
	return nil
}

// expect turns a reply other than want into an error.
func expect(line, want string) error {
	if line == want {
		return nil
	}
	if msg, ok := strings.CutPrefix(line, "ERR "); ok {
		return &ServerError{Msg: msg}
	}
	return fmt.Errorf("kv: unexpected reply %q", line)
}
