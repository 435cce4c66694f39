package protoflow

import (
	"crypto/tls"
	"net"
)

// SetTCPNoDelay sets TCP_NODELAY on the TCP socket beneath t to on. It is
// aiohttp's tcp_nodelay: it looks through TLS (any connection with a
// NetConn method), leaves Unix sockets, pipes and other connections alone,
// does nothing when t is nil or has no connection, and ignores the error of
// a socket that is already closed.
func SetTCPNoDelay(t Transport, on bool) {
	if t == nil {
		return
	}
	if s, ok := t.(interface{ setNoDelay(bool) bool }); ok && s.setNoDelay(on) {
		return // the loop backend's socket: no net.Conn to make for it
	}
	if tcp := tcpConnOf(t.NetConn()); tcp != nil {
		_ = tcp.SetNoDelay(on)
	}
}

// tcpConnOf returns the *net.TCPConn beneath c, unwrapping TLS and other
// wrappers that expose NetConn, or nil.
func tcpConnOf(c net.Conn) *net.TCPConn {
	for range 8 { // wrappers are rarely nested; the bound stops a cycle
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case *tls.Conn:
			if v == nil {
				return nil
			}
			c = v.NetConn()
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// noDelayWanted reports whether ConnectionMade should turn TCP_NODELAY on
// for t: yes unless t is this package's transport created with
// WithNoDelay(false).
func noDelayWanted(t Transport) bool {
	if c, ok := t.(interface{ optionsOf() *options }); ok {
		if o := c.optionsOf(); o != nil {
			return o.noDelay
		}
	}
	return true
}
