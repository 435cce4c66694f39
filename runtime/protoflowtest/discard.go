package protoflowtest

import (
	"net"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Discard is a Transport that takes every write at once and sends it
// nowhere, counting its bytes: for benchmarks of a protocol's own work per
// message (framing, decoding, dispatch, the hooks, encoding), without a
// socket's or [Conn]'s. Writing never pauses; Close and Abort only make
// IsClosing true; it has no addresses and no net.Conn. Its zero value is
// ready. Not safe for concurrent use: a benchmark drives one connection
// from one goroutine.
type Discard struct {
	// Written is the number of bytes written.
	Written int64
	closing bool
}

var _ protoflow.Transport = (*Discard)(nil)

// Write counts p and returns len(p).
func (d *Discard) Write(p []byte) (int, error) {
	d.Written += int64(len(p))
	return len(p), nil
}

// WriteBufferSize returns 0: nothing is ever queued.
func (d *Discard) WriteBufferSize() int { return 0 }

// SetWriteBufferLimits does nothing.
func (d *Discard) SetWriteBufferLimits(high, low int) error { return nil }

// PauseReading does nothing: the benchmark feeds the protocol itself.
func (d *Discard) PauseReading() error { return nil }

// ResumeReading does nothing.
func (d *Discard) ResumeReading() error { return nil }

// CloseWrite does nothing.
func (d *Discard) CloseWrite() error { return nil }

// Close makes IsClosing true.
func (d *Discard) Close() error {
	d.closing = true
	return nil
}

// Abort makes IsClosing true.
func (d *Discard) Abort() { d.closing = true }

// IsClosing reports whether Close or Abort was called.
func (d *Discard) IsClosing() bool { return d.closing }

// LocalAddr returns nil.
func (d *Discard) LocalAddr() net.Addr { return nil }

// RemoteAddr returns nil.
func (d *Discard) RemoteAddr() net.Addr { return nil }

// NetConn returns nil.
func (d *Discard) NetConn() net.Conn { return nil }
