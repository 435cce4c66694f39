package protoflow

import (
	"errors"
	"io"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"
)

// A reader delivers inside its RawConn.Read (readRun), where the socket
// holds a reference that net.Conn.Close waits for. These tests close the
// transport while a callback runs there, from the callback and from
// elsewhere: nothing may hang, the peer must see the end at once (not when
// the callback returns), and ConnectionLost must follow the callback.
func TestCloseWhileDataReceivedRuns(t *testing.T) {
	cases := []struct {
		name  string
		close func(tr Transport)
		fromC bool // close from inside DataReceived, else from the test goroutine
		want  error
	}{
		{"Abort from another goroutine", Transport.Abort, false, nil},
		{"Close from another goroutine", func(tr Transport) { _ = tr.Close() }, false, nil},
		{"Abort inside", Transport.Abort, true, nil},
		{"Close inside", func(tr Transport) { _ = tr.Close() }, true, nil},
	}
	for _, tc := range cases {
		for _, k := range connKinds {
			t.Run(tc.name+"/"+k.name, func(t *testing.T) {
				r := newRecorder()
				entered := make(chan struct{})
				release := make(chan struct{})
				r.onData = func(r *recorder, p []byte) {
					if tc.fromC {
						tc.close(r.Transport())
					}
					close(entered)
					<-release // the callback outlives the close
				}
				tr, cli := ttAttach(t, k, r)
				defer func() {
					select {
					case <-release:
					default:
						close(release)
					}
				}()
				if _, err := cli.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				select {
				case <-entered:
				case <-time.After(10 * time.Second):
					t.Fatal("DataReceived did not run")
				}
				if !tc.fromC {
					done := make(chan struct{})
					go func() { tc.close(tr); close(done) }()
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						t.Fatalf("%s blocked while DataReceived ran\n%s", tc.name, ttStacks())
					}
				}
				// The peer sees the end while the callback still runs.
				_ = cli.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.Copy(io.Discard, cli); err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, net.ErrClosed) {
					t.Fatalf("peer: %v, want end of stream while DataReceived runs", err)
				}
				select {
				case <-r.lostCh:
					t.Fatal("ConnectionLost ran while DataReceived was running")
				default:
				}
				close(release)
				if err := r.waitLost(t, 10*time.Second); err != tc.want {
					t.Errorf("ConnectionLost(%v), want %v", err, tc.want)
				}
				// The socket is closed by then, by whoever was left the close
				// (the reader, if a callback ran inside its read).
				if !socketClosed(tr.NetConn()) {
					t.Error("after ConnectionLost the socket is still open")
				}
				r.check(t)
			})
		}
	}
}

// An end of file that arrives with data while a lingering reader is busy
// raises no edge of its own in Go's netpoller, where the reader waits next.
// It must still be seen at once (the poller watches for the hang-up), not
// when the reader's linger runs out.
func TestEOFBehindDataWhileLingering(t *testing.T) {
	const conns = 9
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			var lat []time.Duration
			for range conns {
				lat = append(lat, eofLatency(t, k))
			}
			slices.Sort(lat)
			t.Logf("release to EOFReceived: %v", lat)
			if med := lat[conns/2]; med > readLinger/3 {
				t.Errorf("median %v from the callback's return to EOFReceived, want well under the linger time %v", med, readLinger)
			}
		})
	}
}

// eofLatency runs one connection: an echo to make its reader linger, then
// "b", in whose DataReceived the reader blocks while the peer sends "c" and
// closes its write side. It returns the time from the callback's return to
// EOFReceived.
func eofLatency(t *testing.T, k connKind) time.Duration {
	r := newRecorder()
	entered, release := make(chan struct{}), make(chan struct{})
	var released time.Time
	eof := make(chan time.Time, 1)
	r.onData = func(r *recorder, p []byte) {
		switch string(p) {
		case "a":
			_, _ = r.Transport().Write(p)
		case "b":
			close(entered)
			<-release
			released = time.Now()
		}
	}
	r.onEOF = func(*recorder) { eof <- time.Now() }
	_, cli := ttAttach(t, k, r)
	if _, err := cli.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	ttReadFull(t, cli, 1, 10*time.Second)
	if _, err := cli.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	<-entered
	if _, err := cli.Write([]byte("c")); err != nil {
		t.Fatal(err)
	}
	ttCloseWrite(t, cli)
	time.Sleep(10 * time.Millisecond) // both arrive while the reader is busy
	close(release)
	var at time.Time
	select {
	case at = <-eof:
	case <-time.After(10 * time.Second):
		t.Fatalf("no EOFReceived; events %v", r.eventsCopy())
	}
	if got := string(r.received()); got != "abc" {
		t.Fatalf("DataReceived got %q, want %q", got, "abc")
	}
	return at.Sub(released)
}

var hbShared int

// Bytes a peer in the same process writes happen before their delivery,
// for the race detector too: the transport's reads and writes carry its
// annotations in race builds (sysio_race.go). Without -race this checks
// only the value.
func TestReadHappensAfterPeerWrite(t *testing.T) {
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			got := make(chan int, 1)
			r.onData = func(r *recorder, p []byte) {
				select {
				case got <- hbShared:
				default:
				}
			}
			_, cli := ttAttach(t, k, r)
			go func() {
				hbShared = 42 // before the write: the data race detector must not flag DataReceived's read
				_, _ = cli.Write([]byte("x"))
			}()
			if v := <-got; v != 42 {
				t.Errorf("DataReceived saw %d, want 42", v)
			}
		})
	}
}

// hbQueued is hbShared for TestPeerReadHappensAfterQueuedWrite.
var hbQueued int

// TestPeerReadHappensAfterQueuedWrite is TestReadHappensAfterPeerWrite the
// other way round, for bytes that wait in the queue and leave through the
// flusher's writev: under -race, the peer's read of them must come after
// everything the writer did before its Write.
func TestPeerReadHappensAfterQueuedWrite(t *testing.T) {
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			tr, cli := ttAttach(t, k, newRecorder())
			big := make([]byte, 16<<20) // more than the socket buffers hold: the rest waits in the queue
			got := make(chan int, 1)
			started := make(chan struct{})
			go func() { // the peer, started before hbQueued is written; exits once it has read everything
				<-started
				if _, err := io.ReadFull(cli, make([]byte, len(big)+1)); err != nil {
					t.Error(err)
					got <- -1
					return
				}
				got <- hbQueued
			}()
			if _, err := tr.Write(big); err != nil {
				t.Fatal(err)
			}
			close(started) // before hbQueued is written: no ordering from here
			hbQueued = 7   // before the Write: the peer's read of hbQueued must not be flagged
			if _, err := tr.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if v := <-got; v != 7 {
				t.Errorf("the peer saw hbQueued = %d, want 7", v)
			}
		})
	}
}
