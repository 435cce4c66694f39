package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/protogen/protogen/generated_example/kv"
	"github.com/protogen/protogen/runtime/protoflow"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serveKV serves the key-value protocol on network and returns the address.
func serveKV(t *testing.T, network, addr string) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := protoflow.NewServer(kv.NewStore().Protocol)
	go srv.Serve(ln) // ends with Shutdown
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return ln.Addr().String()
}

// The README's request, over TCP and a Unix socket: the client sends it,
// closes its write side, and prints every reply until the server closes.
func TestClient(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		addr := "127.0.0.1:0"
		if network == "unix" {
			addr = filepath.Join(t.TempDir(), "kv.sock")
		}
		addr = serveKV(t, network, addr)
		var stdout, stderr bytes.Buffer
		err := run([]string{"-addr", addr}, strings.NewReader("SET greeting hello world\nGET greeting\n"), &stdout, &stderr)
		if err != nil || stdout.String() != "OK\nVALUE hello world\n" {
			t.Errorf("%s: client = %v, printed %q; want nil and %q\n%s", network, err, stdout.String(), "OK\nVALUE hello world\n", stderr.String())
		}
	}
}

// A server started in the background a moment after the client, as the
// README does it: the client tries again while the connection is refused,
// and gives up on other errors, and at -wait.
func TestDialRetries(t *testing.T) {
	addr := serveKV(t, "tcp", "127.0.0.1:0")
	refusals := 2
	calls := 0
	c, err := dial(func(timeout time.Duration) (net.Conn, error) {
		calls++
		if refusals > 0 {
			refusals--
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		return net.DialTimeout("tcp", addr, timeout)
	}, 10*time.Second)
	if err != nil || calls != 3 {
		t.Fatalf("dial after two refusals: %v after %d tries, want a connection after 3", err, calls)
	}
	c.Close()

	calls = 0
	_, err = dial(func(time.Duration) (net.Conn, error) {
		calls++
		return nil, &net.DNSError{Err: "no such host", Name: "nowhere", IsNotFound: true}
	}, 10*time.Second)
	if err == nil || calls != 1 {
		t.Errorf("dial to an unknown host: %v after %d tries, want the error at once", err, calls)
	}

	calls = 0
	start := time.Now()
	_, err = dial(func(time.Duration) (net.Conn, error) {
		calls++
		return nil, syscall.ECONNREFUSED
	}, 3*retryEvery)
	if !errors.Is(err, syscall.ECONNREFUSED) || calls < 2 || time.Since(start) > 10*time.Second {
		t.Errorf("dial refused until -wait: %v after %d tries", err, calls)
	}
}

// A server that does not answer, and one that is not there: errors, within
// -wait.
func TestClientErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // accepts one connection, and never answers
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	var stdout, stderr bytes.Buffer
	err = run([]string{"-addr", ln.Addr().String(), "-wait", "100ms"}, strings.NewReader("PING\n"), &stdout, &stderr)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("a silent server: run = %v, want a timeout", err)
	}
	if c := <-accepted; c != nil {
		c.Close()
	}
	ln.Close()
	if err := run([]string{"-addr", ln.Addr().String(), "-wait", "200ms"}, strings.NewReader(""), &stdout, &stderr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("no server: run = %v, want the connection refused, after -wait", err)
	}
}
