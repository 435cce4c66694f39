package protoflow

// Real-socket tests of WithMaxConns, over each kind of listener.

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMaxConns connects three times the limit's clients at once: the
// server holds at most the limit, and as served clients leave, the others
// get in, until every one has been served. Meanwhile the server's file
// descriptors stay bounded, the waits are counted, and the log says when
// the server reached the limit and, once it accepts without waiting, that
// it is below it again. The kinds run one at a time, so that the
// descriptors counted are theirs.
func TestMaxConns(t *testing.T) {
	const limit, clients = 2, 6
	for _, lk := range ttListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			var logs ttLockedBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			var recs ttRecorders
			s := ttStartServer(t, lk, func() Protocol {
				r := newRecorder()
				recs.add(r)
				return r
			}, WithMaxConns(limit), WithLogger(log))

			// Sample the connections held while the test runs.
			var most atomic.Int64
			quit, sampled := make(chan struct{}), make(chan struct{})
			go func() { // exits when quit is closed
				defer close(sampled)
				for {
					if n := int64(s.Stats().Open); n > most.Load() {
						most.Store(n)
					}
					select {
					case <-quit:
						return
					case <-time.After(time.Millisecond):
					}
				}
			}()
			defer func() { close(quit); <-sampled }()

			fds0, fdsOK := openFDs()
			clis := make([]net.Conn, clients)
			for i := range clis {
				clis[i] = lk.dial(t, s.addr)
				defer ttClosePeer(clis[i])
				// A TLS client's handshake needs the server: do not wait for it.
				go func(c net.Conn) {
					_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
					_, _ = c.Write([]byte("hi"))
				}(clis[i])
			}
			waitFor(t, 10*time.Second, "the first connections", func() bool { return len(recs.all()) == limit })
			waitFor(t, 10*time.Second, "a wait at the limit", func() bool { return s.Stats().LimitWaits > 0 })
			if n := s.Stats().Open; n != limit {
				t.Errorf("%d connections held at the limit; want %d", n, limit)
			}
			if fds, ok := openFDs(); ok && fdsOK {
				// The clients' sockets are this process's too; the server
				// holds only its limit's share, and on the loop backend
				// the loops' own descriptors, which no client adds to.
				if extra, most := fds-fds0, clients+limit+2+loopFDs(); extra > most {
					t.Errorf("%d more descriptors with %d clients and a limit of %d; want at most %d", extra, clients, limit, most)
				}
			}

			// The served leave, one by one from the first; the others get in.
			served := 0
			for served < clients {
				waitFor(t, 10*time.Second, fmt.Sprintf("connection %d", served), func() bool { return len(recs.all()) > served })
				r := recs.get(t, served)
				waitFor(t, 10*time.Second, fmt.Sprintf("connection %d's data", served), func() bool { return string(r.received()) == "hi" })
				// Which client it is, the server cannot say; the test closes
				// the server's side.
				r.Transport().Abort()
				r.waitLost(t, 10*time.Second)
				served++
			}
			if m := most.Load(); m > limit {
				t.Errorf("the server held %d connections at once; want at most %d", m, limit)
			}
			if st := s.Stats(); st.LimitWaited <= 0 || st.Accepted != clients {
				t.Errorf("stats %+v; want time counted at the limit, and %d accepted", st, clients)
			}
			// One more client is accepted at once: the accept after it finds
			// a slot free without waiting. The server gives a connection's
			// slot back after its ConnectionLost has returned: wait until
			// only the slot of the accept under way is held, or the accept
			// after the last client could still find none free and wait.
			waitFor(t, 10*time.Second, "the served connections' slots", func() bool { return len(s.slots) == 1 })
			last := lk.dial(t, s.addr)
			defer ttClosePeer(last)
			go func() { _ = last.SetWriteDeadline(time.Now().Add(10 * time.Second)); _, _ = last.Write([]byte("hi")) }()
			waitFor(t, 10*time.Second, "the log lines", func() bool {
				l := logs.String()
				return strings.Contains(l, "at the connection limit") && strings.Contains(l, "below the connection limit again")
			})
			for _, r := range recs.all() {
				r.check(t)
			}
		})
	}
}

// TestMaxConnsShutdown checks that a Serve waiting for a slot returns at
// Shutdown, and that Shutdown ends the connections it holds.
func TestMaxConnsShutdown(t *testing.T) {
	var recs ttRecorders
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(func() Protocol { r := newRecorder(); recs.add(r); return r }, WithMaxConns(1))
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c1 := ttDialPlain(t, ln.Addr())
	defer c1.Close()
	c2 := ttDialPlain(t, ln.Addr())
	defer c2.Close()
	waitFor(t, 10*time.Second, "Serve waiting at the limit", func() bool { return s.Stats().LimitWaits == 1 })
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if err != ErrServerClosed {
			t.Errorf("Serve = %v; want ErrServerClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if n := len(recs.all()); n != 1 {
		t.Errorf("%d connections made; want 1", n)
	}
}
