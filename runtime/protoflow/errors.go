package protoflow

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Test for them with [errors.Is]; the messages are not part
// of the API.
var (
	// ErrConnectionReset is returned by [BaseProtocol.Drain] when the protocol
	// has no transport: it was never connected, or the connection is lost.
	// It is aiohttp's ClientConnectionResetError, and it also matches
	// [syscall.ECONNRESET], as that class is a ConnectionResetError.
	ErrConnectionReset error = &resetError{}

	// ErrConnectionLost is matched by the error that [BaseProtocol.Drain]
	// returns when the connection is lost with a cause while it waits. The
	// same error also matches that cause. See [ConnectionLostError].
	ErrConnectionLost = errors.New("protoflow: connection lost")

	// ErrNotSupported is returned by a transport that cannot do what was
	// asked, such as [Transport.CloseWrite] on a connection without half
	// close, or PauseReading on a transport that cannot pause.
	// [BaseProtocol] ignores it when it forwards PauseReading and
	// ResumeReading, as aiohttp ignores NotImplementedError.
	ErrNotSupported = errors.New("protoflow: operation not supported by this transport")

	// ErrServerClosed is returned by [Server.Serve] after [Server.Shutdown]
	// or [Server.Close].
	ErrServerClosed = errors.New("protoflow: server closed")

	// ErrReassemblyBudget is matched by the [*TimeoutError] that
	// ConnectionLost receives when a connection's frame timeout expires
	// while it waits for reassembly memory (see [WithReassemblyBudget]).
	ErrReassemblyBudget = errors.New("protoflow: waited for reassembly memory")
)

// resetError is the type of ErrConnectionReset.
type resetError struct{}

func (*resetError) Error() string { return "protoflow: connection reset: not connected" }

// Is reports a match with syscall.ECONNRESET, so that code written against
// the net package's errors recognizes a lost connection.
func (*resetError) Is(target error) bool { return target == syscall.ECONNRESET }

// ConnectionLostError is what [BaseProtocol.Drain] returns when the
// connection is lost with a cause while it waits: aiohttp's
// ConnectionError("Connection lost") raised from that cause. It matches both
// [ErrConnectionLost] and Err with [errors.Is].
type ConnectionLostError struct {
	// Err is the cause passed to ConnectionLost. It is never nil.
	Err error
}

// Error returns "protoflow: connection lost: " and the cause's message.
func (e *ConnectionLostError) Error() string {
	return "protoflow: connection lost: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ConnectionLostError) Unwrap() error { return e.Err }

// Is reports whether target is ErrConnectionLost.
func (e *ConnectionLostError) Is(target error) bool { return target == ErrConnectionLost }

// PanicError is the cause given to [Protocol.ConnectionLost] when a callback
// of the protocol panicked. The connection was aborted; other connections
// are not affected.
type PanicError struct {
	// Callback names the protocol method that panicked, such as
	// "DataReceived".
	Callback string
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, as from [runtime/debug.Stack].
	Stack []byte
}

// Error names the callback and the panic value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("protoflow: panic in %s: %v", e.Callback, e.Value)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// BufferLimitsError reports a bad pair given to SetWriteBufferLimits or
// [WithWriteBufferLimits]: the limits must satisfy high >= low >= 0.
type BufferLimitsError struct {
	High, Low int // the limits given
}

// Error states the rule and the limits given.
func (e *BufferLimitsError) Error() string {
	return fmt.Sprintf("protoflow: write buffer limits: high (%d) must be >= low (%d) must be >= 0", e.High, e.Low)
}
