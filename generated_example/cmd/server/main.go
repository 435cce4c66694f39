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
// The flags are:
//
//	-addr host:port       the TCP address to listen on (default 127.0.0.1:7070);
//	                      an address with a slash is a Unix socket path
//	-proto kv|kvbin|echo|redis|memcached
//	                      the protocol to serve (default kv)
//	-m megabytes          memcached: the items' memory limit, as memcached's -m (default 64)
//	-I bytes              memcached: the largest value, as memcached's -I (default and most 1048576)
//	-grace duration       how long shutdown waits for queued replies (default 5s)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	network := "tcp"
	if strings.Contains(*addr, "/") {
		network = "unix"
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var srv *protoflow.Server
	switch *proto {
	case "kv":
		srv = protoflow.NewServer(kv.NewStore().Protocol, protoflow.WithLogger(log))
	case "kvbin":
		srv = protoflow.NewServer(kvbin.NewStore().Protocol, protoflow.WithLogger(log))
	case "echo":
		srv = protoflow.NewServer(echo.NewEcho, protoflow.WithLogger(log))
	case "redis":
		srv = protoflow.NewServer(redis.NewDB().Protocol, protoflow.WithLogger(log))
	case "memcached":
		if *mcMemory <= 0 || *mcItemMax <= 0 || *mcItemMax > memcached.DefaultItemMax {
			return fmt.Errorf("-m must be positive, and -I from 1 to %d", memcached.DefaultItemMax)
		}
		cache := memcached.NewCache(memcached.Config{Memory: *mcMemory << 20, ItemMax: *mcItemMax})
		srv = protoflow.NewServer(cache.Protocol, protoflow.WithLogger(log))
	default:
		return fmt.Errorf("unknown -proto %q: use kv, kvbin, echo, redis or memcached", *proto)
	}
	ln, err := net.Listen(network, *addr)
	if err != nil {
		return err
	}
	log.Info("serving", "proto", *proto, "addr", ln.Addr().String())
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
