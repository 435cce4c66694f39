package protoflow

import (
	"time"

	"github.com/protogen/protogen/runtime/wire"
)

// ownTransport is a transport made by this package, on any backend: the
// functions that act on a transport (SetTimeouts, SetFrameTimeout,
// HostFramer, AbortWithError) pass the call on to it, and otherwise to a
// foreign transport's method of the same name.
type ownTransport interface {
	setTimeouts(read, idle time.Duration) error
	setFrameTimeout(d time.Duration) error
	hostFramer(f *wire.Framer)
	kill(err error)
}

var _ ownTransport = (*conn)(nil)

// A transport not made by this package, such as protoflowtest's in-memory
// one, takes part in SetTimeouts, SetFrameTimeout, HostFramer and
// AbortWithError by implementing these methods; the functions pass the
// call on to it.
type (
	timeoutSetter interface {
		SetTimeouts(read, idle time.Duration) error
	}
	frameTimeoutSetter interface {
		SetFrameTimeout(d time.Duration) error
	}
	framerHoster interface {
		HostFramer(f *wire.Framer)
	}
	errorAborter interface {
		AbortWithError(err error)
	}
)
