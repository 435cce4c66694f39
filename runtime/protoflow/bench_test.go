package protoflow_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// BenchmarkDrainNotPaused is the cost of the back-pressure check on every
// write when the peer keeps up: it must not allocate.
func BenchmarkDrainNotPaused(b *testing.B) {
	var p protoflow.BaseProtocol
	t := &nullTransport{}
	p.ConnectionMade(t)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Drain(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// timeoutEcho is the example's echo with read and idle timeouts of a
// minute.
type timeoutEcho struct{ echo }

func (e *timeoutEcho) ConnectionMade(t protoflow.Transport) {
	e.echo.ConnectionMade(t)
	if err := protoflow.SetTimeouts(t, time.Minute, time.Minute); err != nil {
		// Else the benchmark, and CI's allocation guard over it, would
		// measure the path without timeouts and say nothing.
		panic(fmt.Sprintf("SetTimeouts: %v", err))
	}
}

// nullTransport is a Transport with no connection.
type nullTransport struct{ protoflow.Transport }

func (*nullTransport) NetConn() net.Conn { return nil }

// echoServer starts a server of the given kind on loopback and returns its
// address and a function that stops it.
func echoServer(b *testing.B, kind string) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	switch kind {
	case "protoflow":
		srv := protoflow.NewServer(func() protoflow.Protocol { return new(echo) })
		go srv.Serve(ln)
		return ln.Addr().String(), func() { srv.Close() }
	case "protoflow-timeouts": // each read and write also stamps the clock
		srv := protoflow.NewServer(func() protoflow.Protocol { return new(timeoutEcho) })
		go srv.Serve(ln)
		return ln.Addr().String(), func() { srv.Close() }
	case "netconn": // goroutine per connection, the plain Go baseline
		var wg sync.WaitGroup
		var mu sync.Mutex
		var conns []net.Conn
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, protoflow.DefaultReadBufferSize)
					for {
						n, err := c.Read(buf)
						if n > 0 {
							if _, werr := c.Write(buf[:n]); werr != nil {
								return
							}
						}
						if err != nil {
							return
						}
					}
				}()
			}
		}()
		return ln.Addr().String(), func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		}
	}
	b.Fatalf("unknown server kind %q", kind)
	return "", nil
}

// BenchmarkEcho is closed-loop ping-pong of 1 KiB messages over loopback
// TCP: one message per op, through the runtime and through a plain
// goroutine-per-connection net.Conn echo, in the same run.
func BenchmarkEcho(b *testing.B) {
	for _, kind := range []string{"protoflow", "protoflow-timeouts", "netconn"} {
		b.Run(kind, func(b *testing.B) {
			addr, stop := echoServer(b, kind)
			defer stop()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := make([]byte, 1024)
			reply := make([]byte, len(msg))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bulkSender writes total bytes in chunks from its own goroutine, with
// Drain after each write, then closes.
type bulkSender struct {
	protoflow.BaseProtocol
	total, chunk int
	done         chan error
}

func (s *bulkSender) ConnectionMade(t protoflow.Transport) {
	s.BaseProtocol.ConnectionMade(t)
	go func() { // exits after the last write
		buf := make([]byte, s.chunk)
		ctx := context.Background()
		for sent := 0; sent < s.total; sent += s.chunk {
			if _, err := t.Write(buf); err != nil {
				s.done <- err
				return
			}
			if err := s.Drain(ctx); err != nil {
				s.done <- err
				return
			}
		}
		s.done <- t.Close()
	}()
}

// BenchmarkBulk moves 64 MiB per op one way over loopback TCP: through
// Write and Drain in 64 KiB chunks, and through io.Copy on a plain
// net.Conn, in the same run.
func BenchmarkBulk(b *testing.B) {
	const total, chunk = 64 << 20, 64 << 10
	for _, kind := range []string{"protoflow", "iocopy"} {
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				server, client := loopbackPair(b)
				done := make(chan error, 1)
				switch kind {
				case "protoflow":
					s := &bulkSender{total: total, chunk: chunk, done: done}
					if _, err := protoflow.Attach(server, s); err != nil {
						b.Fatal(err)
					}
				case "iocopy":
					go func() {
						_, err := io.Copy(server, io.LimitReader(zeros{}, total))
						server.Close()
						done <- err
					}()
				}
				n, err := io.Copy(io.Discard, client)
				client.Close()
				if err != nil || n != total {
					b.Fatalf("received %d bytes, %v; want %d", n, err, total)
				}
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func loopbackPair(b *testing.B) (server, client net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		b.Fatal("accept failed")
	}
	return server, client
}
