//go:build !linux

package protoflow

import (
	"context"
	"net"
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
