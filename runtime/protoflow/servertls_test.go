package protoflow

// Real-socket tests of a Server with WithTLS: the handshake before
// ConnectionMade, handshakes that fail, stall or meet a Shutdown, and the
// connection limit held through a handshake. The TLS clients are
// crypto/tls's; generated_example/cmd/server's tests add openssl s_client
// and redis-cli.

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// stListen returns a TCP or Unix listener.
func stListen(t *testing.T, network string) net.Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// stServe serves ln with recorders that echo what they read, and the
// options; cleanup closes the server and checks Serve's result.
func stServe(t *testing.T, ln net.Listener, recs *ttRecorders, opts ...Option) *Server {
	t.Helper()
	s := NewServer(func() Protocol {
		r := newRecorder()
		r.onData = func(r *recorder, p []byte) { _, _ = r.Transport().Write(p) }
		recs.add(r)
		return r
	}, opts...)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-served:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve = %v; want ErrServerClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
	return s
}

// stDialTLS dials addr and completes a TLS handshake.
func stDialTLS(t *testing.T, addr net.Addr) *tls.Conn {
	t.Helper()
	c := tls.Client(ttDialPlain(t, addr), testTLSConfig(t))
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		c.Close()
		t.Fatalf("client handshake: %v", err)
	}
	_ = c.SetDeadline(time.Time{})
	return c
}

// TestServerTLS checks a TLS server end to end over TCP and Unix sockets:
// the handshake is complete when ConnectionMade runs, bytes go both ways,
// and the connection uses the goroutine backend.
func TestServerTLS(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			var recs ttRecorders
			s := stServe(t, stListen(t, network), &recs, WithTLS(testTLSConfig(t)))
			c := stDialTLS(t, s.listenerAddr(t))
			defer c.Close()
			r := recs.get(t, 0)
			tc, ok := r.Transport().NetConn().(*tls.Conn)
			if !ok || !tc.ConnectionState().HandshakeComplete {
				t.Fatalf("the transport's connection is %T; want a *tls.Conn whose handshake is complete", r.Transport().NetConn())
			}
			if r.Transport().(*conn).epoll() {
				t.Errorf("a TLS connection is on the epoll backend")
			}
			if got, want := s.Stats().Backends, (BackendStats{Goroutine: 1}); got != want {
				t.Errorf("Stats().Backends = %+v; want %+v: TLS uses the goroutine backend, and is counted there", got, want)
			}
			msg := ttPattern(1, 100<<10)
			go func() { _, _ = c.Write(msg) }()
			got := make([]byte, len(msg))
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("reading the echo: %v", err)
			}
			if d := ttDescribeDiff(got, msg); d != "equal" {
				t.Errorf("echo: %s", d)
			}
			r.check(t)
		})
	}
}

// listenerAddr returns the address of the one listener s serves.
func (s *Server) listenerAddr(t testing.TB) net.Addr {
	t.Helper()
	var addr net.Addr
	waitFor(t, 10*time.Second, "Serve to take the listener", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for ln := range s.listeners {
			addr = ln.Addr()
		}
		return addr != nil
	})
	return addr
}

// TestServerTLSHandshakeFails checks that a peer that is not a TLS client,
// and one that says nothing past the handshake timeout, are dropped
// without reaching the protocol, and counted.
func TestServerTLSHandshakeFails(t *testing.T) {
	var recs ttRecorders
	s := stServe(t, stListen(t, "tcp"), &recs, WithTLS(testTLSConfig(t)), WithHandshakeTimeout(100*time.Millisecond))
	addr := s.listenerAddr(t)

	plain := ttDialPlain(t, addr)
	defer plain.Close()
	if _, err := plain.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	silent := ttDialPlain(t, addr)
	defer silent.Close()
	for name, c := range map[string]net.Conn{"plain text": plain, "silence": silent} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("%s: the server did not close the socket: %v", name, err)
		}
	}
	// A failed handshake is counted before its socket leaves the set of
	// handshakes (serveTLS), and Stats reads the two apart: wait for both.
	waitFor(t, 10*time.Second, "two failed handshakes counted and none left", func() bool {
		st := s.Stats()
		return st.HandshakeErrors == 2 && st.Accepted == 2 && st.Handshakes == 0 && st.Open == 0
	})
	if n := len(recs.all()); n != 0 {
		t.Errorf("%d protocols made for failed handshakes; want none", n)
	}
	if st := s.Stats(); st.Handshakes != 0 || st.Open != 0 {
		t.Errorf("stats %+v; want no handshake and no connection left", st)
	}
}

// TestServerTLSShutdownDuringHandshake checks that Shutdown ends a
// handshake that would otherwise run for an hour, and that a connection
// limit counts a connection from its accept, through its handshake.
func TestServerTLSShutdownDuringHandshake(t *testing.T) {
	var recs ttRecorders
	ln := stListen(t, "tcp")
	s := NewServer(func() Protocol { r := newRecorder(); recs.add(r); return r },
		WithTLS(testTLSConfig(t)), WithHandshakeTimeout(time.Hour), WithMaxConns(1))
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	silent := ttDialPlain(t, ln.Addr())
	defer silent.Close()
	waitFor(t, 10*time.Second, "the handshake to start", func() bool { return s.Stats().Handshakes == 1 })
	second := ttDialPlain(t, ln.Addr())
	defer second.Close()
	waitFor(t, 10*time.Second, "a wait at the limit", func() bool { return s.Stats().LimitWaits == 1 })
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(t.Context()) }()
	if err := ttWaitErr(t, "Shutdown", done, 10*time.Second); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := ttWaitErr(t, "Serve", served, 10*time.Second); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v; want ErrServerClosed", err)
	}
	if n := len(recs.all()); n != 0 {
		t.Errorf("%d protocols made; want none", n)
	}
}

// TestWithTLSWithoutCertificate checks that a config without a
// certificate is refused.
func TestWithTLSWithoutCertificate(t *testing.T) {
	s := NewServer(func() Protocol { return newRecorder() }, WithTLS(&tls.Config{}))
	ln := stListen(t, "tcp")
	if err := s.Serve(ln); err == nil || !errors.Is(err, s.opts.err) {
		t.Errorf("Serve with a TLS config without a certificate = %v; want the option's error", err)
	}
}
