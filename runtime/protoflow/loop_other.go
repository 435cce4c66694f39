//go:build !linux

package protoflow

import (
	"context"
	"net"
	"unsafe"
)

// The loop backend is Linux-only (loop_linux.go): elsewhere these are its
// inert stand-ins.

// backendName is the backend of this process's connections.
const backendName = "goroutine"

const loopEnabled = false

// lconn has no instance outside Linux.
type lconn struct{ l *loop }

type loop struct{}

func (*loop) onLoop() bool                                 { return false }
func (*lconn) assistDrain(ctx context.Context) error       { return nil }
func lconnOf(*core) *lconn                                 { return nil }
func attachLoop(net.Conn, Protocol, *options) Transport    { return nil }
func (s *Server) serveLoop(net.Listener) (bool, error)     { return false, nil }
func (l *loopConnList) len() int                           { return 0 }
func (l *loopConnList) appendTo(c []Transport) []Transport { return c }
func (s *Server) addLoopStats(*Stats)                      {}

type loopConnList struct{}

// transport returns the transport whose core c is: a conn's.
func (c *core) transport() Transport { return (*conn)(unsafe.Pointer(c)) }

// flushCorkedAny is flushCorked for the transport whose core c is.
func (c *core) flushCorkedAny() { (*conn)(unsafe.Pointer(c)).flushCorked() }
