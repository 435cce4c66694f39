//go:build !linux

package protoflow

import "time"

func skipOnLoop(t interface{ Skipf(string, ...any) }, why string) {}

type ltimeouts struct{}

func (*lconn) timeouts() *ltimeouts { return nil }

func isLoopConn(Transport) bool { return false }

func loopFDs() int { return 0 }

func loopsRetireWithin(time.Duration) bool { return true }
