package protoflow

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Default settings, as in asyncio.
const (
	DefaultHighWater      = 64 * 1024  // bytes queued above which PauseWriting is called
	DefaultLowWater       = 16 * 1024  // bytes queued at or below which ResumeWriting is called
	DefaultReadBufferSize = 256 * 1024 // largest read handed to DataReceived, as asyncio's max_size
)

// An Option configures a transport made by [Dial], [Attach] or a [Server].
// An invalid option (a negative timeout, water marks out of order) is
// reported by Dial or Attach, which then make no connection, or by the
// server's [Server.Serve], which then serves nothing: [NewServer] returns
// no error.
type Option func(*options)

type options struct {
	high, low      int
	noDelay        bool
	readBufferSize int
	logger         *slog.Logger
	idleTimeout    time.Duration // for every connection; see WithIdleTimeout
	frameTimeout   time.Duration // for every connection; see WithFrameTimeout
	budgetBytes    int64         // WithReassemblyBudget's value; NewServer makes budget from it
	maxConns       int           // WithMaxConns; 0 for no limit

	blockingCallbacks bool // WithBlockingCallbacks: not on the loop backend

	tls              *tls.Config   // WithTLS; nil for plain connections
	handshakeTimeout time.Duration // WithHandshakeTimeout
	err              error         // first invalid option, reported by Dial, Attach or Server.Serve

	// Set by the constructors, not by Options; kept here rather than in
	// each conn because the options are shared by a Server's connections.
	readPool *sync.Pool // read buffers of readBufferSize bytes
	server   *Server    // the Server whose list holds the connection; nil for Dial and Attach
	budget   *budget    // the Server's reassembly budget; nil for Dial and Attach

	// Tests only: run by closeDead before it closes the socket, to widen
	// the moment between a connection's death and its close.
	beforeClose func()
}

func buildOptions(opts []Option) options {
	o := options{
		high:             DefaultHighWater,
		low:              DefaultLowWater,
		noDelay:          true,
		readBufferSize:   DefaultReadBufferSize,
		handshakeTimeout: DefaultHandshakeTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.readPool = readPoolFor(o.readBufferSize)
	return o
}

// WithWriteBufferLimits sets the initial water marks; see
// [Transport.SetWriteBufferLimits]. A bad pair is an invalid option: a
// [*BufferLimitsError].
func WithWriteBufferLimits(high, low int) Option {
	return func(o *options) {
		if err := checkLimits(high, low); err != nil {
			o.fail(err)
			return
		}
		o.high, o.low = high, low
	}
}

// WithNoDelay sets TCP_NODELAY on TCP connections (default true, as in
// asyncio and Go). With false, Nagle's algorithm stays on, and
// [BaseProtocol.ConnectionMade] leaves it on.
func WithNoDelay(on bool) Option {
	return func(o *options) { o.noDelay = on }
}

// WithReadBufferSize sets the most bytes read from the socket at once, and so
// the largest slice passed to DataReceived (default 256 KiB, as asyncio
// reads). On Linux sockets the buffer is pooled and held only during a read
// and its DataReceived; a TLS connection or a pipe holds one for its life.
// Sizes below 1 are ignored.
func WithReadBufferSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readBufferSize = n
		}
	}
}

// WithLogger sets the logger for panics recovered from protocol callbacks and
// for accept errors. Without it nothing is logged; the panic still reaches
// ConnectionLost.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithIdleTimeout gives every connection an idle timeout of d (see
// [SetTimeouts]) from the end of ConnectionMade on. The protocol may set
// a shorter one with SetTimeouts, not a longer one, nor switch it off: an
// operator's bound holds whatever the protocol does. 0, the default, sets
// none; a negative d is an invalid option, with an error that matches
// [fs.ErrInvalid].
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			o.fail(fmt.Errorf("protoflow: WithIdleTimeout(%v): negative timeout: %w", d, fs.ErrInvalid))
			return
		}
		o.idleTimeout = d
	}
}

// WithFrameTimeout gives every connection a frame timeout of d (see
// [SetFrameTimeout]): a frame whose first bytes have arrived must be
// complete within d. The protocol may set a shorter one with
// SetFrameTimeout, not a longer one, nor switch it off. 0, the default,
// sets none; a negative d is an invalid option, with an error that
// matches [fs.ErrInvalid].
func WithFrameTimeout(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			o.fail(fmt.Errorf("protoflow: WithFrameTimeout(%v): negative timeout: %w", d, fs.ErrInvalid))
			return
		}
		o.frameTimeout = d
	}
}

// WithMaxConns limits a [Server] to n connections at once: at the limit
// it stops accepting until a connection's ConnectionLost has returned, and
// the connections that arrive meanwhile wait in the kernel's listen
// backlog (net.core.somaxconn), which refuses new ones once it is full, so
// that the server's memory and file descriptors stay bounded and no
// connection is lost for the wait. With [WithLogger], the server logs when
// it reaches the limit and when it is below it again; [Server.Stats]
// counts the waits and their time. A TLS connection holds its slot from
// the accept, through the handshake. n of 0 or less sets no limit, the
// default. It has no effect on [Dial] and [Attach].
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = max(n, 0) }
}

// WithBlockingCallbacks says that the protocol's callbacks may block (a
// database call, a file, a lock held elsewhere, a Drain waiting for a
// slow peer), so that the connections do not run on the loop backend.
//
// On Linux the loop backend, the default, runs the callbacks of many
// connections on one event loop's thread, as asyncio, Netty and gnet do:
// a callback that blocks stalls every connection of its loop until it
// returns (bench/cmd/compare's blocking-neighbour workload: a 2 ms block
// every 20 ms on one connection took the p99 latency of 64 others from
// 0.8 to 2.3 ms). With this option each connection's callbacks run on a
// goroutine of its own when data arrives (the epoll backend), and a
// blocked callback costs the others nothing; an idle connection then
// holds about 2 KiB instead of 0.3. It applies to a Server's connections
// and to those of Dial and Attach, and changes nothing on other systems,
// whose connections have a goroutine each already.
//
// A callback that waits for another connection of the same process must
// not wait for one on its own loop, which cannot run meanwhile: the
// connections of generated clients use this option for that reason (a
// client called from a callback then gets its reply), and so must a
// server that such a callback calls in the same process.
func WithBlockingCallbacks() Option {
	return func(o *options) { o.blockingCallbacks = true }
}

// DefaultHandshakeTimeout bounds a TLS handshake (see [WithTLS]) unless
// [WithHandshakeTimeout] sets another bound.
const DefaultHandshakeTimeout = 10 * time.Second

// WithTLS makes a [Server] serve TLS with cfg on every listener: each
// accepted socket is wrapped with [tls.Server], and its handshake runs on
// the connection's goroutine before ConnectionMade, within the handshake
// timeout ([WithHandshakeTimeout]); a failed or late handshake closes the
// socket without the protocol seeing it, and [Server.Stats] counts it.
// ConnectionMade can read the negotiated state from
// t.NetConn().(*tls.Conn).ConnectionState().
//
// A TLS connection uses the goroutine backend, on every system: crypto/tls
// decrypts in a blocking Read, which the epoll backend's non-blocking
// reads cannot drive. So each connection keeps a reader goroutine and a
// 16 KiB read buffer (a TLS record's most) for its life, besides crypto/
// tls's own record buffers, where an idle plain connection on Linux holds
// neither: an idle TLS connection costs about 42 KiB of resident memory,
// a plain one about 2 KiB on the epoll backend and 6 KiB on the goroutine
// backend (2,000 connections held after one echo; bench/cmd/hostile -mode
// idle), and 0.3 KiB on the loop backend (bench/cmd/compare's idle
// workload). Writes go through the flusher goroutine.
//
// cfg must have a certificate (Certificates, GetCertificate or
// GetConfigForClient), or it is an invalid option; nil serves plain
// connections, the default. Do not change cfg once the server serves. It
// has no effect on [Dial] and [Attach], which take any [net.Conn]: wrap it
// with tls.Client.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		if cfg != nil && len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
			o.fail(errors.New("protoflow: WithTLS: the config has no certificate (Certificates, GetCertificate or GetConfigForClient)"))
			return
		}
		o.tls = cfg
	}
}

// WithHandshakeTimeout bounds a TLS handshake (see [WithTLS]): a peer that
// has not completed it within d is dropped (default
// [DefaultHandshakeTimeout]). A d of 0 or less keeps the default.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.handshakeTimeout = d
		}
	}
}

// fail records the first invalid option.
func (o *options) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

func checkLimits(high, low int) error {
	if high < low || low < 0 {
		return &BufferLimitsError{High: high, Low: low}
	}
	return nil
}

// getenvBackend is PROTOFLOW_BACKEND, which picks the backend of the
// connections of this process: "loop", "epoll" or "goroutine" (Linux; see
// the package documentation). CI runs the tests under each.
func getenvBackend() string { return os.Getenv("PROTOFLOW_BACKEND") }
