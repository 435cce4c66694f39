package protoflow

import "net"

// Protocol receives the events of one connection. It is asyncio's Protocol.
//
// The transport calls its methods in this order: ConnectionMade once, then
// DataReceived any number of times, then EOFReceived at most once, then
// ConnectionLost exactly once; nothing after ConnectionLost. PauseWriting and
// ResumeWriting come in strictly alternating pairs (pause first) between
// ConnectionMade and ConnectionLost.
//
// The methods of one connection's protocol never run concurrently, so state
// touched only from these methods needs no lock. They may call any method of
// the transport, including Write and Close, without deadlock. They should not
// block: while one runs, the connection's other events wait.
//
// A panic in any method is recovered: the connection is aborted and
// ConnectionLost receives a [*PanicError].
type Protocol interface {
	// ConnectionMade is called when the connection is ready, with the
	// transport to write to.
	ConnectionMade(t Transport)
	// DataReceived is called with bytes read from the peer. p is only valid
	// during the call; copy what must outlive it.
	DataReceived(p []byte)
	// EOFReceived is called when the peer closes its write side. Returning
	// false closes the transport (queued bytes are still flushed); returning
	// true keeps the write side open until the protocol closes it.
	EOFReceived() (keepOpen bool)
	// ConnectionLost is called exactly once when the connection is closed:
	// with nil after a clean close (EOF, Close or Abort), otherwise with the
	// cause. The socket is closed by then.
	ConnectionLost(err error)
	// PauseWriting is called when the transport's write buffer rises above
	// its high-water mark.
	PauseWriting()
	// ResumeWriting is called when the write buffer, after PauseWriting, has
	// drained to its low-water mark or below.
	ResumeWriting()
}

// Transport is the write side and the flow control of one connection. It is
// asyncio's Transport. Every method is safe for concurrent use.
type Transport interface {
	// Write queues p (it copies p) and never blocks: when nothing is queued
	// it writes through to the socket, and it queues whatever the socket did
	// not take. Inside the protocol's callbacks this package's transport
	// holds what is written until the callback returns, then writes it in
	// one system call. Once the transport is closing or lost, Write returns
	// an error that matches [net.ErrClosed].
	Write(p []byte) (int, error)
	// WriteBufferSize returns the number of bytes queued and not yet
	// written to the socket.
	WriteBufferSize() int
	// SetWriteBufferLimits sets the water marks (asyncio's defaults are 64
	// KiB and 16 KiB): PauseWriting is called when the queue rises above
	// high, ResumeWriting when it then falls to low or below. It returns a
	// [*BufferLimitsError] unless high >= low >= 0. The new limits take
	// effect at once.
	SetWriteBufferLimits(high, low int) error
	// PauseReading stops reading from the socket, so that TCP pushes back on
	// the peer; no DataReceived happens until ResumeReading. Bytes already
	// read are held and delivered after ResumeReading. Both methods are
	// idempotent and do nothing once the transport is closing. Called from
	// the protocol's callbacks they take effect before the next one; called
	// from another goroutine, a DataReceived already being dispatched may
	// still run.
	PauseReading() error
	// ResumeReading undoes PauseReading.
	ResumeReading() error
	// CloseWrite flushes the queue and then closes the write side (a TCP
	// half close); reading goes on. It returns [ErrNotSupported] when the
	// connection cannot half close.
	CloseWrite() error
	// Close stops reading, flushes the queue in the background and then
	// closes the connection; ConnectionLost(nil) follows. It does not block.
	Close() error
	// Abort drops the queue and closes the connection at once;
	// ConnectionLost(nil) follows.
	Abort()
	// IsClosing reports whether Close or Abort was called or the connection
	// is lost.
	IsClosing() bool
	// LocalAddr returns the local network address.
	LocalAddr() net.Addr
	// RemoteAddr returns the peer's network address.
	RemoteAddr() net.Addr
	// NetConn returns the underlying connection, for its addresses and
	// socket options. Reading from it or writing to it directly bypasses the
	// transport and corrupts the stream. End the connection with Close or
	// Abort, never by closing it: a callback may run while the transport
	// holds the socket inside a read, and net.Conn.Close waits until that
	// read returns, so closing it from a callback never returns. Do not put
	// it into blocking mode either (File then Fd does): the transport's
	// reads and writes assume a non-blocking socket.
	NetConn() net.Conn
}
