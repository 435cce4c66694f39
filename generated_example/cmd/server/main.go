// Server runs one of the example servers built with protogen until it is
// interrupted (Ctrl-C) or terminated, then shuts down gracefully.
//
//	go build -o server ./generated_example/cmd/server
//	./server -addr 127.0.0.1:7070                   the key-value server
//	./server -addr 127.0.0.1:7070 -proto echo
//	./server -addr 127.0.0.1:7070 -proto kvbin
//	./server -addr 127.0.0.1:6380 -proto redis
//	./server -addr 127.0.0.1:11211 -proto memcached -m 64
//
// Build it first, or stop "go run ./generated_example/cmd/server" with
// Ctrl-C: killing go run by its process ID leaves the server it built
// running. Try the key-value server with the client beside it, which sends
// its standard input and prints the replies:
//
//	printf 'SET greeting hello world\nGET greeting\n' | go run ./generated_example/cmd/client -addr 127.0.0.1:7070
//
// Like redis-server and memcached, the examples hold a quiet connection, or
// a half-sent command, for as long as the peer likes, unless their spec
// sets a timeout (kvbin's does). A server facing the internet bounds both,
// and its connections, and reports what it does:
//
//	./server -proto redis -addr :6380 \
//		-idle-timeout 5m -frame-timeout 10s -max-conns 10000 \
//		-tls-cert cert.pem -tls-key key.pem -debug-addr 127.0.0.1:6060
//	curl -s 127.0.0.1:6060/debug/vars | jq .protoflow
//
// The flags are:
//
//	-addr host:port       the TCP address to listen on (default 127.0.0.1:7070);
//	                      an address with a slash is a Unix socket path
//	-proto kv|kvbin|echo|redis|memcached
//	                      the protocol to serve (default kv)
//	-m megabytes          memcached: the items' memory limit, as memcached's -m (default 64)
//	-I bytes              memcached: the largest value, as memcached's -I (default and most 1048576)
//	-grace duration       how long shutdown waits for queued replies (default 5s)
//	-idle-timeout duration
//	                      close a connection on which nothing was read or
//	                      written for this long (default 0: never); the
//	                      protocol may set a shorter one, not a longer one
//	-frame-timeout duration
//	                      close a connection whose frame (a kv line, a
//	                      kvbin frame, a redis command, a memcached
//	                      command with its data block) has begun and is
//	                      not complete within this long, however slowly it
//	                      trickles (default 0: as the spec says; kvbin's is
//	                      2s); echo has no frames
//	-max-conns n          serve at most n connections at once; at the limit
//	                      stop accepting until one ends (default 0: no limit)
//	-reassembly-budget bytes
//	                      the most memory all connections may hold in
//	                      frames split across reads (default 0: a quarter of
//	                      GOMEMLIMIT if set, else 32 MiB; -1: no limit)
//	-tls-cert file, -tls-key file
//	                      serve TLS with this PEM certificate (chain) and key
//	-debug-addr host:port serve the server's counters (protoflow.Stats) and
//	                      the Go runtime's memory statistics as JSON at
//	                      http://host:port/debug/vars (expvar), for
//	                      operators and monitoring, and the runtime's
//	                      profiles at /debug/pprof/; keep it off public
//	                      networks
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/protogen/protogen/generated_example/echo"
	"github.com/protogen/protogen/generated_example/kv"
	"github.com/protogen/protogen/generated_example/kvbin"
	"github.com/protogen/protogen/generated_example/memcached"
	"github.com/protogen/protogen/generated_example/redis"
	"github.com/protogen/protogen/runtime/protoflow"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
}

// run serves until ctx ends, then shuts down.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:7070", "listen on `host:port` (or a Unix socket path)")
	proto := fs.String("proto", "kv", "serve `kv`, kvbin, echo, redis or memcached")
	mcMemory := fs.Int64("m", 64, "memcached: the items' memory limit in `megabytes`")
	mcItemMax := fs.Int("I", memcached.DefaultItemMax, "memcached: the largest value in `bytes`")
	grace := fs.Duration("grace", 5*time.Second, "how long shutdown waits for queued replies")
	idle := fs.Duration("idle-timeout", 0, "close a connection idle for this `long` (0: never)")
	frame := fs.Duration("frame-timeout", 0, "close a connection whose begun frame is not complete within this `long` (0: as the spec says)")
	maxConns := fs.Int("max-conns", 0, "serve at most `n` connections at once (0: no limit)")
	budget := fs.Int64("reassembly-budget", 0, "the most `bytes` of frames split across reads, all connections together (0: default, -1: no limit)")
	certFile := fs.String("tls-cert", "", "serve TLS with the PEM certificate chain in `file`")
	keyFile := fs.String("tls-key", "", "the PEM private key of -tls-cert, in `file`")
	debugAddr := fs.String("debug-addr", "", "serve counters and memory statistics at http://`host:port`/debug/vars")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := []protoflow.Option{
		protoflow.WithLogger(log),
		protoflow.WithIdleTimeout(*idle),
		protoflow.WithFrameTimeout(*frame),
		protoflow.WithMaxConns(*maxConns),
		protoflow.WithReassemblyBudget(*budget),
	}
	if *certFile != "" || *keyFile != "" {
		if *certFile == "" || *keyFile == "" {
			return errors.New("-tls-cert and -tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		opts = append(opts, protoflow.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
	}
	var srv *protoflow.Server
	switch *proto {
	case "kv":
		srv = protoflow.NewServer(kv.NewStore().Protocol, opts...)
	case "kvbin":
		srv = protoflow.NewServer(kvbin.NewStore().Protocol, opts...)
	case "echo":
		srv = protoflow.NewServer(echo.NewEcho, opts...)
	case "redis":
		srv = protoflow.NewServer(redis.NewDB().Protocol, opts...)
	case "memcached":
		if *mcMemory <= 0 || *mcItemMax <= 0 || *mcItemMax > memcached.DefaultItemMax {
			return fmt.Errorf("-m must be positive, and -I from 1 to %d", memcached.DefaultItemMax)
		}
		cache := memcached.NewCache(memcached.Config{Memory: *mcMemory << 20, ItemMax: *mcItemMax})
		srv = protoflow.NewServer(cache.Protocol, opts...)
	default:
		return fmt.Errorf("unknown -proto %q: use kv, kvbin, echo, redis or memcached", *proto)
	}
	network := "tcp"
	if strings.Contains(*addr, "/") {
		network = "unix"
	}
	ln, err := net.Listen(network, *addr)
	if err != nil {
		return err
	}
	if *debugAddr != "" {
		stopDebug, err := serveDebug(*debugAddr, srv, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopDebug()
	}
	log.Info("serving", "proto", *proto, "addr", ln.Addr().String(), "tls", *certFile != "")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // returns once Shutdown stops it
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", *grace)
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, protoflow.ErrServerClosed) {
		return serr
	}
	return err
}

// debugServer is the server whose Stats the expvar variable "protoflow"
// shows. expvar's variables are the process's: the variable is published
// once, and shows the server of the latest run (tests run several).
var (
	debugServer  atomic.Pointer[protoflow.Server]
	publishStats sync.Once
)

// serveDebug serves expvar's variables, protoflow's counters among them,
// at addr/debug/vars, and returns a function that stops it.
func serveDebug(addr string, srv *protoflow.Server, log *slog.Logger) (stop func(), err error) {
	debugServer.Store(srv)
	publishStats.Do(func() {
		expvar.Publish("protoflow", expvar.Func(func() any {
			if s := debugServer.Load(); s != nil {
				return s.Stats()
			}
			return nil
		}))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { // exits when stop closes the server
		defer close(done)
		_ = hs.Serve(ln)
	}()
	log.Info("serving counters", "url", "http://"+ln.Addr().String()+"/debug/vars")
	return func() {
		_ = hs.Close()
		<-done
	}, nil
}
