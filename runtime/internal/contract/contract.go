// Package contract is the suite of tests that every transport of
// protoflow passes: the real ones over TCP, Unix sockets and pipes, on both
// backends (runtime/protoflow's tests), and the in-memory one of
// runtime/protoflowtest (its tests), so that the fake cannot drift from
// the real thing. It checks the callback order, the water marks and Drain,
// the holding of data while reading is paused, the semantics of Close,
// Abort, CloseWrite and EOF, the containment of panics, the errors of the
// calls made after the end, and the frame timeout of a hosted framer.
//
// A transport takes part through a [Kind], which connects a protocol to
// a [Peer]: the far end, which a test drives.
package contract

import (
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// waitLimit bounds every wait for a condition: long enough for a loaded
// machine, short enough to fail a hung test.
const waitLimit = 10 * time.Second

// Kind is a kind of connection the suite runs over.
type Kind struct {
	Name string
	// Attach connects p over a new connection, runs ConnectionMade, and
	// returns the transport that p got and the connection's far end. It
	// registers with t the cleanup that ends both.
	Attach func(t *testing.T, p protoflow.Protocol) (protoflow.Transport, Peer)
	// HalfClose is set when each end can close its write side alone
	// (CloseWrite): not for a net.Pipe.
	HalfClose bool
	// ExactQueue is set when a stalled peer takes nothing more at all, so
	// that only the protocol's writes change the transport's queue: a Unix
	// socket whose buffer is full, a pipe, the in-memory transport. TCP
	// may still take bytes after it stalled (window updates).
	ExactQueue bool
	// Async is set when PauseWriting and ResumeWriting that a call from
	// outside the protocol's callbacks decides are delivered a moment
	// later by the transport's own thread rather than before the call
	// returns: the loop backend, whose loop runs every callback. The
	// suite then waits for them (bounded) where it would look at once.
	Async bool
}

// Peer is the far end of a connection under test. Its methods are safe
// for concurrent use.
type Peer interface {
	// Send has the peer write p, in order after what it sent before. It
	// does not wait for the transport to read it.
	Send(p []byte)
	// CloseWrite closes the peer's write side after what it sent: the
	// transport reads EOF. A peer without half close closes altogether.
	CloseWrite()
	// Stall makes the peer stop reading before it returns, so that the
	// transport's writes back up; Unstall makes it read everything again.
	Stall()
	Unstall()
	// Received waits until the peer has read at least n bytes, or the
	// stream's end, and returns everything it has read so far.
	Received(t testing.TB, n int) []byte
	// ReadToEOF waits until the peer sees the end of the stream, by EOF or
	// by a reset, and returns everything it read.
	ReadToEOF(t testing.TB) []byte
	// Reset makes the peer vanish abruptly: a reset where the kind has
	// one, a close with unread data otherwise.
	Reset()
	// Elapse lets d pass on the transport's clock: over sockets it
	// sleeps, as time passes there by itself; over the in-memory
	// transport it moves the fake clock, and the timeouts due on the way
	// expire before it returns. Tests still wait for what should follow.
	Elapse(d time.Duration)
	// Settle gives the transport a moment to act on what the peer sent,
	// before a test checks that something did not happen. Over sockets it
	// waits briefly: that can let a broken transport pass by luck, never
	// fail a correct one. Over the in-memory transport, which acts before
	// Send returns, it does nothing.
	Settle()
}
