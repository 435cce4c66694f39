package protoflow

import (
	"time"

	"github.com/protogen/protogen/runtime/wire"
)

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
