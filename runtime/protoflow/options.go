package protoflow

import (
	"log/slog"
	"os"
	"sync"
)

// Default settings, as in asyncio.
const (
	DefaultHighWater      = 64 * 1024  // bytes queued above which PauseWriting is called
	DefaultLowWater       = 16 * 1024  // bytes queued at or below which ResumeWriting is called
	DefaultReadBufferSize = 256 * 1024 // largest read handed to DataReceived, as asyncio's max_size
)

// An Option configures a transport made by [Dial], [Attach] or a [Server].
type Option func(*options)

type options struct {
	high, low      int
	noDelay        bool
	readBufferSize int
	logger         *slog.Logger
	err            error // first invalid option, reported by the constructor

	// Set by the constructors, not by Options; kept here rather than in
	// each conn because the options are shared by a Server's connections.
	readPool *sync.Pool // read buffers of readBufferSize bytes
	server   *Server    // the Server whose list holds the connection; nil for Dial and Attach

	// Tests only: run by closeDead before it closes the socket, to widen
	// the moment between a connection's death and its close.
	beforeClose func()
}

func buildOptions(opts []Option) options {
	o := options{
		high:           DefaultHighWater,
		low:            DefaultLowWater,
		noDelay:        true,
		readBufferSize: DefaultReadBufferSize,
	}
	for _, opt := range opts {
		opt(&o)
	}
	o.readPool = readPoolFor(o.readBufferSize)
	return o
}

// WithWriteBufferLimits sets the initial water marks; see
// [Transport.SetWriteBufferLimits]. A bad pair makes the constructor fail
// with a [*BufferLimitsError].
func WithWriteBufferLimits(high, low int) Option {
	return func(o *options) {
		if err := checkLimits(high, low); err != nil {
			if o.err == nil {
				o.err = err
			}
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
