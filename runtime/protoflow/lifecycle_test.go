package protoflow

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// A callback that closes or aborts its transport and then panics still
// reports the panic to ConnectionLost.
func TestPanicAfterClose(t *testing.T) {
	for _, how := range []string{"Close", "Abort"} {
		t.Run(how, func(t *testing.T) {
			server, client := tcpPair(t)
			defer client.Close()
			r := newRecorder()
			r.onData = func(r *recorder, p []byte) {
				if how == "Close" {
					_ = r.Transport().Close()
				} else {
					r.Transport().Abort()
				}
				panic("after " + how)
			}
			if _, err := Attach(server, r); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			err := r.waitLost(t, 5*time.Second)
			var perr *PanicError
			if !errors.As(err, &perr) || perr.Value != "after "+how || perr.Callback != "DataReceived" {
				t.Fatalf("ConnectionLost(%v), want a *PanicError from DataReceived with value %q", err, "after "+how)
			}
			r.check(t)
		})
	}
}

// A panic after an Abort reaches ConnectionLost, but the connection died
// clean: Drain, asked after the panic and before ConnectionLost returns,
// gives nil, as it did to the drainers woken at the death.
func TestPanicAfterAbortLeavesDrainClean(t *testing.T) {
	server, client := tcpPair(t)
	defer client.Close()
	_ = server.(*net.TCPConn).SetWriteBuffer(4096) // so that writes queue
	r := newRecorder()
	r.onData = func(r *recorder, p []byte) {
		chunk := make([]byte, 64<<10)
		for i := 0; i < 1024 && !r.WritingPaused(); i++ { // the peer never reads
			_, _ = r.Transport().Write(chunk)
		}
		r.Transport().Abort()
		panic("after Abort")
	}
	var pausedAtLost bool
	var drainErr error
	r.onLost = func(r *recorder) { // before BaseProtocol.ConnectionLost: the transport is still set
		pausedAtLost = r.WritingPaused()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		drainErr = r.Drain(ctx)
	}
	if _, err := Attach(server, r, WithWriteBufferLimits(0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	err := r.waitLost(t, 5*time.Second)
	var perr *PanicError
	if !errors.As(err, &perr) || perr.Value != "after Abort" {
		t.Fatalf("ConnectionLost(%v), want a *PanicError with value %q", err, "after Abort")
	}
	if !pausedAtLost {
		t.Fatal("writing was not paused when the connection died: the test did not exercise Drain")
	}
	if drainErr != nil {
		t.Errorf("Drain after a panic that followed Abort = %v, want nil (the death was clean)", drainErr)
	}
	r.check(t)
}

// runtime.Goexit in a callback, as t.FailNow does, ends that connection
// with a PanicError instead of hanging it, and a Server still shuts down.
func TestGoexitInCallback(t *testing.T) {
	for _, callback := range []string{"ConnectionMade", "DataReceived", "PauseWriting"} {
		t.Run(callback, func(t *testing.T) {
			server, client := tcpPair(t)
			defer client.Close()
			_ = server.(*net.TCPConn).SetWriteBuffer(4096) // so that a write queues
			r := newRecorder()
			switch callback {
			case "ConnectionMade":
				r.onMade = func(*recorder) { runtime.Goexit() }
			case "DataReceived":
				r.onData = func(*recorder, []byte) { runtime.Goexit() }
			case "PauseWriting":
				r.onPause = func(*recorder) { runtime.Goexit() }
			}
			var tr Transport
			attached := make(chan struct{})
			go func() { // Goexit in ConnectionMade ends this goroutine
				defer close(attached)
				tr, _ = Attach(server, r, WithWriteBufferLimits(0, 0))
			}()
			<-attached
			switch callback {
			case "DataReceived":
				if _, err := client.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
			case "PauseWriting":
				writer := make(chan struct{})
				go func() { // may end in Goexit, delivering PauseWriting
					defer close(writer)
					_, _ = tr.Write(make([]byte, 1<<20))
				}()
				<-writer
			}
			err := r.waitLost(t, 5*time.Second)
			var perr *PanicError
			if !errors.As(err, &perr) || !errors.Is(err, errGoexit) || perr.Callback != callback {
				t.Fatalf("ConnectionLost(%v), want a *PanicError from %s matching errGoexit", err, callback)
			}
		})
	}
}

// runtime.Goexit in ConnectionLost still lets the connection finish (it
// leaves its server and the poller, and doneChan closes), also when an
// earlier Goexit ended the reader and ConnectionLost runs on the goroutine
// that took the read token over.
func TestGoexitInConnectionLost(t *testing.T) {
	for _, earlier := range []bool{false, true} {
		name := "alone"
		if earlier {
			name = "after a Goexit in DataReceived"
		}
		t.Run(name, func(t *testing.T) {
			server, client := tcpPair(t)
			defer client.Close()
			r := newRecorder()
			if earlier {
				r.onData = func(*recorder, []byte) { runtime.Goexit() }
			}
			r.onLost = func(*recorder) { runtime.Goexit() }
			tr, err := Attach(server, r)
			if err != nil {
				t.Fatal(err)
			}
			if earlier {
				_, err = client.Write([]byte("x"))
			} else {
				err = client.Close() // the end of stream closes the transport
			}
			if err != nil {
				t.Fatal(err)
			}
			c := tr.(testConn)
			select {
			case <-c.doneChan():
			case <-time.After(10 * time.Second):
				t.Fatalf("the connection never finished; events %v, state %v", r.eventsCopy(), c.coreOf().st())
			}
			if n := ttCount(r, "lost"); n != 1 {
				t.Errorf("ConnectionLost ran %d times, want once; events %v", n, r.eventsCopy())
			}
		})
	}
}

// A graceful Close on TLS sends close_notify, so that the peer can tell a
// clean close from a truncation: the peer's Read returns io.EOF.
func TestTLSCloseSendsCloseNotify(t *testing.T) {
	server, client := tlsPair(t)
	defer client.Close()
	r := newRecorder()
	tr, err := Attach(server, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "bye" {
		t.Fatalf("peer read %q, %v; want %q and a clean EOF (close_notify)", got, err, "bye")
	}
	if err := r.waitLost(t, 5*time.Second); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	if cs := client.(*tls.Conn).ConnectionState(); !cs.HandshakeComplete {
		t.Errorf("handshake state lost")
	}
	r.check(t)
}

// runtime.Goexit in the ResumeWriting that the flusher delivers as it
// drains the queue of a Close still closes the socket: the peer reads
// every byte and then the end, and ConnectionLost reports the Goexit.
func TestGoexitInResumeWritingAfterClose(t *testing.T) {
	server, client := tcpPair(t)
	defer client.Close()
	_ = server.(*net.TCPConn).SetWriteBuffer(4096) // so that the write queues
	r := newRecorder()
	r.onResume = func(*recorder) { runtime.Goexit() }
	tr, err := Attach(server, r, WithWriteBufferLimits(1024, 0))
	if err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20
	if _, err := tr.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, client)
	if err != nil || n != size {
		t.Fatalf("peer read %d bytes, then %v; want %d and the end (the socket closed)", n, err, size)
	}
	lost := r.waitLost(t, 5*time.Second)
	if !errors.Is(lost, errGoexit) {
		t.Errorf("ConnectionLost(%v), want the Goexit", lost)
	}
}

// withBeforeClose has f run between a connection's death and the close of
// its socket (options.beforeClose).
func withBeforeClose(f func()) Option { return func(o *options) { o.beforeClose = f } }

// The socket is closed by the time ConnectionLost runs, whoever closed the
// connection and however: from another goroutine (whose close comes a
// moment after it marks the connection dead, a moment widened here to
// 2 ms), from inside a callback (which leaves the close to the reader),
// after a queue, or after the peer's end of stream, over the raw path and
// TLS. Other windows are short, so each case runs several times.
func TestSocketClosedAtConnectionLost(t *testing.T) {
	const rounds = 10
	block := func(r *recorder, release chan struct{}) { r.onData = func(*recorder, []byte) { <-release } }
	tests := []struct {
		name  string
		setup func(r *recorder, release chan struct{})
		act   func(tr Transport, peer net.Conn, release chan struct{})
	}{
		{"Abort from another goroutine", nil, func(tr Transport, _ net.Conn, _ chan struct{}) { tr.Abort() }},
		{"Close from another goroutine", nil, func(tr Transport, _ net.Conn, _ chan struct{}) { _ = tr.Close() }},
		{"Close with bytes queued", nil, func(tr Transport, peer net.Conn, _ chan struct{}) {
			go func() { _, _ = io.Copy(io.Discard, peer) }() // ends when the test closes peer
			_, _ = tr.Write(make([]byte, 1<<20))
			_ = tr.Close()
		}},
		{"Abort while DataReceived blocks", block, func(tr Transport, peer net.Conn, release chan struct{}) {
			_, _ = peer.Write([]byte("x"))
			time.Sleep(time.Millisecond) // most often inside the callback by now
			tr.Abort()
			close(release)
		}},
		{"Abort inside DataReceived", func(r *recorder, _ chan struct{}) {
			r.onData = func(r *recorder, _ []byte) { r.Transport().Abort() }
		}, func(_ Transport, peer net.Conn, _ chan struct{}) { _, _ = peer.Write([]byte("x")) }},
		{"Goexit in DataReceived", func(r *recorder, _ chan struct{}) {
			r.onData = func(*recorder, []byte) { runtime.Goexit() }
		}, func(_ Transport, peer net.Conn, _ chan struct{}) { _, _ = peer.Write([]byte("x")) }},
		{"the peer's end of stream", nil, func(_ Transport, peer net.Conn, _ chan struct{}) { _ = peer.Close() }},
	}
	kinds := []struct {
		name string
		pair func(testing.TB) (net.Conn, net.Conn)
	}{{"tcp", tcpPair}, {"tls", tlsPair}}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				for range rounds {
					server, client := k.pair(t)
					release := make(chan struct{})
					r := newRecorder()
					var open atomic.Bool
					r.onLost = func(*recorder) { open.Store(!socketClosed(server)) }
					if tt.setup != nil {
						tt.setup(r, release)
					}
					tr, err := Attach(server, r, withBeforeClose(func() { time.Sleep(2 * time.Millisecond) }))
					if err != nil {
						t.Fatal(err)
					}
					tt.act(tr, client, release)
					r.waitLost(t, 5*time.Second)
					client.Close()
					if open.Load() {
						t.Fatalf("the socket was still open when ConnectionLost ran; events %v", r.eventsCopy())
					}
				}
			})
		}
	}
}
