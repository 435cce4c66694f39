package protoflow

import "time"

// A transport not made by this package, such as protoflowtest's in-memory
// one, takes part in SetTimeouts and AbortWithError by implementing these
// methods; the functions pass the call on to it.
type (
	timeoutSetter interface {
		SetTimeouts(read, idle time.Duration) error
	}
	errorAborter interface {
		AbortWithError(err error)
	}
)
