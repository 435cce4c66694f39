package contract

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/protogen/protogen/runtime/protoflow"
)

// testLifecycle: ConnectionMade, the bytes in order, the peer's EOF,
// EOFReceived returning false closes the transport, ConnectionLost(nil),
// and nothing after it, whatever the peer does.
func testLifecycle(t *testing.T, k Kind) {
	r := NewRecorder()
	tr, peer := attach(t, k, r)
	if got := r.Events(); len(got) != 1 || got[0] != "made" {
		t.Fatalf("events after Attach: %v, want [made]", got)
	}
	if r.Transport() != tr {
		t.Errorf("ConnectionMade got another transport than the one returned")
	}
	peer.Send([]byte("hello, "))
	peer.Send([]byte("contract"))
	waitFor(t, "the peer's bytes", func() bool { return string(r.Received()) == "hello, contract" })
	peer.CloseWrite()
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v) after the peer's EOF, want nil", err)
	}
	checkEvents(t, r, []string{"made", "data", "eof", "lost"})
	checkClosed(t, k, tr, r)
	if k.HalfClose {
		peer.Send([]byte("late"))
		peer.Settle()
	}
	if got := string(r.Received()); got != "hello, contract" {
		t.Errorf("received %q in all, want %q", got, "hello, contract")
	}
}

// testEOFKeepOpen: EOFReceived returning true keeps the write side open
// until the protocol closes it.
func testEOFKeepOpen(t *testing.T, k Kind) {
	if !k.HalfClose {
		t.Skipf("%s: the peer cannot close its write side alone", k.Name)
	}
	r := NewRecorder()
	r.KeepOpen = true
	r.OnEOF = func(r *Recorder) {
		if _, err := r.Transport().Write([]byte("from-eof;")); err != nil {
			r.Violate("Write in EOFReceived: %v", err)
		}
	}
	tr, peer := attach(t, k, r)
	peer.Send([]byte("hello"))
	waitFor(t, "hello", func() bool { return string(r.Received()) == "hello" })
	peer.CloseWrite()
	waitFor(t, "EOFReceived", func() bool { return r.Count("eof") == 1 })
	if tr.IsClosing() {
		t.Errorf("IsClosing = true after EOFReceived returned true")
	}
	if _, err := tr.Write([]byte("after-eof")); err != nil {
		t.Fatalf("Write after EOFReceived kept the connection open: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := string(peer.ReadToEOF(t)); got != "from-eof;after-eof" {
		t.Errorf("the peer read %q, want %q then EOF", got, "from-eof;after-eof")
	}
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	checkEvents(t, r, []string{"made", "data", "eof", "lost"})
}

// testCloseWrite: CloseWrite flushes the queue and then closes the write
// side only; reading goes on. Without half close it is ErrNotSupported and
// harms nothing.
func testCloseWrite(t *testing.T, k Kind) {
	r := NewRecorder()
	tr, peer := attach(t, k, r)
	if !k.HalfClose {
		if err := tr.CloseWrite(); !errors.Is(err, protoflow.ErrNotSupported) {
			t.Fatalf("CloseWrite without half close: %v, want ErrNotSupported", err)
		}
		if _, err := tr.Write([]byte("still open")); err != nil {
			t.Fatalf("Write after an unsupported CloseWrite: %v", err)
		}
		if got := string(peer.Received(t, len("still open"))); got != "still open" {
			t.Errorf("the peer read %q, want %q", got, "still open")
		}
		return
	}
	data := pattern(1, 256<<10)
	if _, err := tr.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := tr.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	if _, err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after CloseWrite: %v, want net.ErrClosed", err)
	}
	if err := tr.CloseWrite(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second CloseWrite: %v, want net.ErrClosed", err)
	}
	if tr.IsClosing() {
		t.Errorf("IsClosing = true after CloseWrite: the read side is open")
	}
	if got := peer.ReadToEOF(t); !bytes.Equal(got, data) {
		t.Fatalf("the peer read %d bytes, want the %d written, then EOF", len(got), len(data))
	}
	peer.Send([]byte("after"))
	waitFor(t, "the bytes sent after the half close", func() bool { return string(r.Received()) == "after" })
	peer.CloseWrite()
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	checkEvents(t, r, []string{"made", "data", "eof", "lost"}, "pause", "resume")
}

// testCloseFlushes: Close stops reading, refuses writes, flushes what is
// queued even to a peer that reads only later, and then loses the
// connection cleanly.
func testCloseFlushes(t *testing.T, k Kind) {
	r := NewRecorder()
	tr, peer := attach(t, k, r)
	peer.Stall()
	data := pattern(2, 1<<20)
	if _, err := tr.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !tr.IsClosing() {
		t.Errorf("IsClosing = false after Close")
	}
	if _, err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
	if err := tr.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	// The peer sends nothing now: a TCP socket closed with unread bytes
	// resets the connection, and the peer may lose what it had not read.
	peer.Unstall()
	if got := peer.ReadToEOF(t); !bytes.Equal(got, data) {
		t.Fatalf("the peer read %d bytes, want the %d written, then EOF", len(got), len(data))
	}
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	checkEvents(t, r, []string{"made", "lost"}, "pause", "resume")
	checkClosed(t, k, tr, r)
}

// testAbort: Abort drops the queue and loses the connection cleanly, once.
func testAbort(t *testing.T, k Kind) {
	r := NewRecorder()
	tr, peer := attach(t, k, r)
	peer.Stall()
	data := pattern(3, 1<<20)
	if _, err := tr.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	tr.Abort()
	if !tr.IsClosing() {
		t.Errorf("IsClosing = false after Abort")
	}
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v) after Abort, want nil", err)
	}
	peer.Unstall()
	if got := peer.ReadToEOF(t); !bytes.HasPrefix(data, got) {
		t.Errorf("the peer read %d bytes that are not a prefix of those written", len(got))
	}
	checkEvents(t, r, []string{"made", "lost"}, "pause", "resume")
	checkClosed(t, k, tr, r)
}

// testAbortWithError: ConnectionLost gets the cause given.
func testAbortWithError(t *testing.T, k Kind) {
	r := NewRecorder()
	tr, peer := attach(t, k, r)
	cause := errors.New("contract: the cause")
	protoflow.AbortWithError(tr, cause)
	if err := r.WaitLost(t); err != cause {
		t.Errorf("ConnectionLost(%v), want the cause given to AbortWithError", err)
	}
	peer.ReadToEOF(t)
	checkClosed(t, k, tr, r)
}
