package contract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Run runs the contract suite over connections of kind k, one subtest per
// part of the contract.
func Run(t *testing.T, k Kind) {
	tests := []struct {
		name string
		fn   func(t *testing.T, k Kind)
	}{
		{"Lifecycle", testLifecycle},
		{"EOFKeepOpen", testEOFKeepOpen},
		{"CloseWrite", testCloseWrite},
		{"CloseFlushes", testCloseFlushes},
		{"Abort", testAbort},
		{"AbortWithError", testAbortWithError},
		{"PauseReadingHoldsData", testPauseReading},
		{"WaterMarksAndDrain", testWaterMarks},
		{"SetWriteBufferLimits", testSetWriteBufferLimits},
		{"DrainAtLoss", testDrainAtLoss},
		{"Panics", testPanics},
		{"PanicInConnectionLost", testPanicInConnectionLost},
		{"CallbacksNeverConcurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, k) })
	}
}

// attach connects r over a new connection of kind k. The cleanup aborts
// the transport, waits for ConnectionLost (so that no goroutine of the
// connection is left) and checks the contract.
func attach(t *testing.T, k Kind, r *Recorder) (protoflow.Transport, Peer) {
	t.Helper()
	tr, peer := k.Attach(t, r)
	t.Cleanup(func() {
		tr.Abort()
		waitFor(t, "ConnectionLost after the cleanup's Abort", r.IsLost)
		r.Check(t)
	})
	return tr, peer
}

// pattern returns n pseudo-random bytes determined by seed.
func pattern(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// checkEvents compares r's events, collapsed and without those dropped,
// with want.
func checkEvents(t *testing.T, r *Recorder, want []string, drop ...string) {
	t.Helper()
	if diff := cmp.Diff(want, r.EventsCollapsed(drop...)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// checkClosed checks the answers of a transport whose connection is lost:
// writes and closes fail with net.ErrClosed, Drain with
// ErrConnectionReset, and the rest does nothing.
func checkClosed(t *testing.T, k Kind, tr protoflow.Transport, r *Recorder) {
	t.Helper()
	if !tr.IsClosing() {
		t.Errorf("IsClosing = false after ConnectionLost")
	}
	if _, err := tr.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after the loss: %v, want net.ErrClosed", err)
	}
	if err := tr.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Close after the loss: %v, want net.ErrClosed", err)
	}
	err := tr.CloseWrite()
	if k.HalfClose && !errors.Is(err, net.ErrClosed) || !k.HalfClose && !errors.Is(err, protoflow.ErrNotSupported) {
		t.Errorf("CloseWrite after the loss: %v, want net.ErrClosed (or ErrNotSupported without half close)", err)
	}
	if err := tr.PauseReading(); err != nil {
		t.Errorf("PauseReading after the loss: %v, want nil", err)
	}
	if err := tr.ResumeReading(); err != nil {
		t.Errorf("ResumeReading after the loss: %v, want nil", err)
	}
	if err := tr.SetWriteBufferLimits(1, 0); err != nil {
		t.Errorf("SetWriteBufferLimits after the loss: %v, want nil", err)
	}
	if err := r.Drain(context.Background()); !errors.Is(err, protoflow.ErrConnectionReset) {
		t.Errorf("Drain after the loss: %v, want ErrConnectionReset", err)
	}
	tr.Abort()
	protoflow.AbortWithError(tr, errors.New("contract: too late"))
}

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

// testPauseReading: no DataReceived while reading is paused, from a
// callback or from another goroutine; the bytes held arrive once, in
// order, after ResumeReading; both calls are idempotent and do nothing once
// the transport is closing.
func testPauseReading(t *testing.T, k Kind) {
	r := NewRecorder()
	r.OnData = func(r *Recorder, p []byte) {
		if bytes.HasSuffix(p, []byte("stop;")) {
			if err := r.PauseReading(); err != nil {
				r.Violate("PauseReading in DataReceived: %v", err)
			}
		}
	}
	tr, peer := attach(t, k, r)
	peer.Send([]byte("hello;"))
	waitFor(t, "hello", func() bool { return string(r.Received()) == "hello;" })

	for range 2 {
		if err := tr.PauseReading(); err != nil {
			t.Fatalf("PauseReading: %v", err)
		}
	}
	peer.Send([]byte("held;"))
	peer.Settle()
	if got := string(r.Received()); got != "hello;" {
		t.Fatalf("received %q while reading was paused, want %q", got, "hello;")
	}
	for range 2 {
		if err := tr.ResumeReading(); err != nil {
			t.Fatalf("ResumeReading: %v", err)
		}
	}
	want := "hello;held;"
	waitFor(t, "the held bytes after ResumeReading", func() bool { return len(r.Received()) >= len(want) })

	// Paused from DataReceived: it takes effect before the next callback.
	peer.Send([]byte("stop;"))
	want += "stop;"
	waitFor(t, "stop", func() bool { return len(r.Received()) >= len(want) })
	peer.Send([]byte("after;"))
	peer.Settle()
	if got := string(r.Received()); got != want {
		t.Fatalf("received %q after PauseReading in DataReceived, want %q", got, want)
	}
	if !r.ReadingPaused() {
		t.Errorf("ReadingPaused = false after PauseReading in DataReceived")
	}
	if err := r.ResumeReading(); err != nil {
		t.Fatalf("ResumeReading: %v", err)
	}
	want += "after;"
	waitFor(t, "the held bytes after ResumeReading", func() bool { return len(r.Received()) >= len(want) })
	if got := string(r.Received()); got != want {
		t.Fatalf("received %q, want %q: bytes lost, repeated or reordered", got, want)
	}

	// Closing while paused: nothing more is delivered, and pausing or
	// resuming does nothing.
	if err := tr.PauseReading(); err != nil {
		t.Fatal(err)
	}
	peer.Send([]byte("never;"))
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 2 {
		if err := tr.ResumeReading(); err != nil {
			t.Errorf("ResumeReading after Close: %v, want nil", err)
		}
		if err := tr.PauseReading(); err != nil {
			t.Errorf("PauseReading after Close: %v, want nil", err)
		}
	}
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	if got := string(r.Received()); got != want {
		t.Errorf("received %q in all, want %q", got, want)
	}
}

// fillUntilPaused writes pieces of a pattern until the protocol has had
// pauses PauseWriting calls or a write fails, then a margin where the
// queue is not exact, and returns what it wrote.
func fillUntilPaused(t *testing.T, k Kind, tr protoflow.Transport, r *Recorder, pauses int, seed uint64) []byte {
	t.Helper()
	const limit = 256 << 20
	var sent []byte
	for i := uint64(0); r.Count("pause") < pauses; i++ {
		if len(sent) > limit {
			t.Fatalf("no PauseWriting after %d bytes to a stalled peer; queue %d", len(sent), tr.WriteBufferSize())
		}
		p := pattern(seed<<32|i, 16<<10)
		if _, err := tr.Write(p); err != nil {
			return sent
		}
		sent = append(sent, p...)
	}
	return append(sent, margin(t, k, tr, seed)...)
}

// margin writes 1 MiB more where the queue is not exact: a stalled TCP
// peer's kernel may still take some of the queue (window updates), which
// must not drain it to the low-water mark and resume writing before the
// test has seen the pause.
func margin(t *testing.T, k Kind, tr protoflow.Transport, seed uint64) []byte {
	t.Helper()
	if k.ExactQueue {
		return nil
	}
	p := pattern(seed<<32|1<<31, 1<<20)
	if _, err := tr.Write(p); err != nil {
		return nil
	}
	return p
}

// testWaterMarks: to a stalled peer, the queue grows until PauseWriting,
// above the high-water mark; Drain then waits (or returns its context's
// error) until the peer reads again, when ResumeWriting comes at the low
// mark or below and every drainer wakes.
func testWaterMarks(t *testing.T, k Kind) {
	const high, low = 64 << 10, 16 << 10
	var mu sync.Mutex
	var pauseAt, resumeAt []int
	r := NewRecorder()
	r.OnPause = func(r *Recorder) {
		mu.Lock()
		pauseAt = append(pauseAt, r.Transport().WriteBufferSize())
		mu.Unlock()
	}
	r.OnResume = func(r *Recorder) {
		mu.Lock()
		resumeAt = append(resumeAt, r.Transport().WriteBufferSize())
		mu.Unlock()
	}
	tr, peer := attach(t, k, r)
	if err := tr.SetWriteBufferLimits(high, low); err != nil {
		t.Fatal(err)
	}
	peer.Stall()
	var sent []byte
	for i := uint64(0); r.Count("pause") == 0; i++ {
		if len(sent) > 256<<20 {
			t.Fatalf("no PauseWriting after %d bytes to a stalled peer; queue %d", len(sent), tr.WriteBufferSize())
		}
		piece := 4 << 10
		if k.ExactQueue && tr.WriteBufferSize()+piece > high {
			piece = 1 // near the mark, byte by byte: the queue reaches it exactly
		}
		p := pattern(4<<32|i, piece)
		if _, err := tr.Write(p); err != nil {
			t.Fatalf("Write: %v", err)
		}
		sent = append(sent, p...)
		// Where only writes change the queue, PauseWriting comes exactly
		// with the Write that lifts it above the mark.
		if q := tr.WriteBufferSize(); k.ExactQueue && (q > high) != (r.Count("pause") == 1) {
			t.Fatalf("after a Write the queue holds %d bytes and PauseWriting has run %d times; want it to run once the queue exceeds %d", q, r.Count("pause"), high)
		}
	}
	if r.Count("pause") != 1 {
		t.Fatalf("PauseWriting %d times, want 1 (the Write that crossed the mark, on this goroutine)", r.Count("pause"))
	}
	sent = append(sent, margin(t, k, tr, 4)...)
	if !r.WritingPaused() {
		t.Errorf("WritingPaused = false after PauseWriting")
	}
	mu.Lock()
	if k.ExactQueue && pauseAt[0] <= high {
		t.Errorf("PauseWriting saw a queue of %d bytes, want above the high-water mark %d", pauseAt[0], high)
	}
	mu.Unlock()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Drain(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Drain with a cancelled context while paused: %v, want context.Canceled", err)
	}
	ctx, stop := context.WithTimeout(context.Background(), waitLimit)
	defer stop()
	const drainers = 4
	drained := make(chan error, drainers)
	for range drainers {
		go func() { drained <- r.Drain(ctx) }()
	}
	waitDrainers(t, drainers)
	peer.Unstall()
	for range drainers {
		if err := <-drained; err != nil {
			t.Errorf("Drain after the peer read again: %v, want nil", err)
		}
	}
	waitFor(t, "ResumeWriting", func() bool { return r.Count("resume") == 1 })
	if r.WritingPaused() {
		t.Errorf("WritingPaused = true after ResumeWriting")
	}
	mu.Lock()
	if resumeAt[0] > low {
		t.Errorf("ResumeWriting saw a queue of %d bytes, want the low-water mark %d or less", resumeAt[0], low)
	}
	mu.Unlock()
	if got := peer.Received(t, len(sent)); !bytes.Equal(got, sent) {
		t.Errorf("the peer read %d bytes, want the %d written, in order", len(got), len(sent))
	}
}

// waitDrainers waits until n goroutines are blocked in BaseProtocol.Drain:
// the only way to know, without sleeping, that they wait.
func waitDrainers(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d goroutines blocked in Drain", n), func() bool {
		buf := make([]byte, 1<<20)
		for {
			m := runtime.Stack(buf, true)
			if m < len(buf) {
				buf = buf[:m]
				break
			}
			buf = make([]byte, 2*len(buf))
		}
		k := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(header, "[select") && strings.Contains(g, "(*BaseProtocol).Drain(") {
				k++
			}
		}
		return k >= n
	})
}

// testSetWriteBufferLimits: bad pairs are refused with a
// *BufferLimitsError, and new limits apply at once: a transition they
// cause is delivered before SetWriteBufferLimits returns.
func testSetWriteBufferLimits(t *testing.T, k Kind) {
	r := NewRecorder()
	tr, peer := attach(t, k, r)
	for _, bad := range [][2]int{{1, 2}, {10, -1}, {-1, -1}, {-2, -1}} {
		err := tr.SetWriteBufferLimits(bad[0], bad[1])
		var le *protoflow.BufferLimitsError
		if !errors.As(err, &le) || le.High != bad[0] || le.Low != bad[1] {
			t.Errorf("SetWriteBufferLimits(%d, %d) = %v, want a *BufferLimitsError with those limits", bad[0], bad[1], err)
		}
	}
	if err := tr.SetWriteBufferLimits(64<<10, 16<<10); err != nil {
		t.Fatal(err)
	}
	peer.Stall()
	fillUntilPaused(t, k, tr, r, 1, 5)
	q := tr.WriteBufferSize()
	if err := tr.SetWriteBufferLimits(q+1<<20, q+1<<20); err != nil {
		t.Fatal(err)
	}
	if got := r.Count("resume"); got != 1 {
		t.Errorf("ResumeWriting %d times once the low-water mark was raised above the queue, want 1 before SetWriteBufferLimits returned", got)
	}
	if k.ExactQueue {
		if err := tr.SetWriteBufferLimits(0, 0); err != nil {
			t.Fatal(err)
		}
		if got := r.Count("pause"); got != 2 {
			t.Errorf("PauseWriting %d times once the high-water mark was set below the queue, want 2", got)
		}
	}
	peer.Unstall()
	waitFor(t, "the queue to drain", func() bool { return tr.WriteBufferSize() == 0 })
	waitFor(t, "as many ResumeWriting as PauseWriting", func() bool { return r.Count("resume") == r.Count("pause") })
}

// testDrainAtLoss: drainers wake when the connection is lost: with nil
// after a clean loss (Abort), and with an error matching
// ErrConnectionLost and the cause after a reset.
func testDrainAtLoss(t *testing.T, k Kind) {
	for _, how := range []string{"abort", "reset"} {
		t.Run(how, func(t *testing.T) {
			r := NewRecorder()
			tr, peer := attach(t, k, r)
			peer.Stall()
			fillUntilPaused(t, k, tr, r, 1, 6)
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			const drainers = 4
			drained := make(chan error, drainers)
			for range drainers {
				go func() { drained <- r.Drain(ctx) }()
			}
			waitDrainers(t, drainers)
			if how == "abort" {
				tr.Abort()
			} else {
				peer.Reset()
			}
			lost := r.WaitLost(t)
			if how == "abort" && lost != nil {
				t.Errorf("ConnectionLost(%v) after Abort, want nil", lost)
			}
			for range drainers {
				err := <-drained
				switch {
				case lost == nil && err != nil:
					t.Errorf("Drain: %v, want nil after ConnectionLost(nil)", err)
				case lost != nil && (!errors.Is(err, protoflow.ErrConnectionLost) || !errors.Is(err, lost)):
					t.Errorf("Drain: %v, want an error matching ErrConnectionLost and %v", err, lost)
				}
			}
			t.Logf("ConnectionLost(%v)", lost)
			checkClosed(t, k, tr, r)
		})
	}
}

// errBoom is what the panics of testPanics wrap.
var errBoom = errors.New("contract: boom")

// testPanics: a panic in any callback aborts the connection, and
// ConnectionLost gets a *PanicError naming the callback, with the value
// and the stack.
func testPanics(t *testing.T, k Kind) {
	hooks := []struct {
		name    string
		arm     func(r *Recorder, v error)
		trigger func(t *testing.T, tr protoflow.Transport, r *Recorder, peer Peer)
	}{
		{
			name:    "ConnectionMade",
			arm:     func(r *Recorder, v error) { r.OnMade = func(*Recorder) { panic(v) } },
			trigger: func(*testing.T, protoflow.Transport, *Recorder, Peer) {},
		},
		{
			name: "DataReceived",
			arm:  func(r *Recorder, v error) { r.OnData = func(*Recorder, []byte) { panic(v) } },
			trigger: func(_ *testing.T, _ protoflow.Transport, _ *Recorder, peer Peer) {
				peer.Send([]byte("boom"))
			},
		},
		{
			name: "EOFReceived",
			arm:  func(r *Recorder, v error) { r.OnEOF = func(*Recorder) { panic(v) } },
			trigger: func(_ *testing.T, _ protoflow.Transport, _ *Recorder, peer Peer) {
				peer.CloseWrite()
			},
		},
		{
			name: "PauseWriting",
			arm:  func(r *Recorder, v error) { r.OnPause = func(*Recorder) { panic(v) } },
			trigger: func(t *testing.T, tr protoflow.Transport, r *Recorder, peer Peer) {
				peer.Stall()
				fillUntilPaused(t, k, tr, r, 1, 7)
			},
		},
		{
			name: "ResumeWriting",
			arm:  func(r *Recorder, v error) { r.OnResume = func(*Recorder) { panic(v) } },
			trigger: func(t *testing.T, tr protoflow.Transport, r *Recorder, peer Peer) {
				peer.Stall()
				fillUntilPaused(t, k, tr, r, 1, 8)
				peer.Unstall()
			},
		},
	}
	for _, h := range hooks {
		t.Run(h.name, func(t *testing.T) {
			v := fmt.Errorf("panic in %s: %w", h.name, errBoom)
			r := NewRecorder()
			h.arm(r, v)
			tr, peer := attach(t, k, r)
			h.trigger(t, tr, r, peer)
			lost := r.WaitLost(t)
			var pe *protoflow.PanicError
			if !errors.As(lost, &pe) {
				t.Fatalf("ConnectionLost(%v), want a *PanicError", lost)
			}
			if pe.Callback != h.name {
				t.Errorf("PanicError.Callback = %q, want %q", pe.Callback, h.name)
			}
			if pe.Value != v {
				t.Errorf("PanicError.Value = %v, want %v", pe.Value, v)
			}
			if !errors.Is(lost, errBoom) {
				t.Errorf("errors.Is(%v, errBoom) = false: Unwrap does not reach the panic value", lost)
			}
			if !bytes.Contains(pe.Stack, []byte("(*Recorder)."+h.name)) {
				t.Errorf("PanicError.Stack does not show (*Recorder).%s:\n%s", h.name, pe.Stack)
			}
			peer.Unstall()
			peer.ReadToEOF(t)
			checkClosed(t, k, tr, r)
		})
	}
}

// testPanicInConnectionLost: a panic in ConnectionLost is contained, and
// nothing is delivered after it.
func testPanicInConnectionLost(t *testing.T, k Kind) {
	r := NewRecorder()
	r.OnLost = func(*Recorder) { panic(errBoom) }
	tr, peer := k.Attach(t, r)
	t.Cleanup(func() { r.Check(t) })
	tr.Abort()
	waitFor(t, "ConnectionLost", func() bool { return r.Count("lost") == 1 })
	peer.Send([]byte("late"))
	peer.Settle()
	if _, err := tr.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after the loss: %v, want net.ErrClosed", err)
	}
	checkEvents(t, r, []string{"made", "lost"})
}

// testConcurrent: writers on 8 goroutines, each draining after every
// write, while the peer sends (and DataReceived answers each read) and
// stalls and reads by turns: the callbacks
// never overlap (the Recorder checks), pauses and resumes alternate and
// balance, and every message arrives whole and in each writer's order.
func testConcurrent(t *testing.T, k Kind) {
	const writers, msgs, inbound = 8, 150, 256 << 10
	r := NewRecorder()
	r.OnMade = func(r *Recorder) { _ = r.Transport().SetWriteBufferLimits(32<<10, 8<<10) }
	// Each read is answered with a short message, so that writes from the
	// callbacks cross the water marks too.
	var acks sync.WaitGroup
	r.OnData = func(r *Recorder, p []byte) {
		if _, err := r.Transport().Write(message(writers, 0, 0)); err != nil {
			r.Violate("Write in DataReceived: %v", err)
		}
	}
	tr, peer := attach(t, k, r)
	in := pattern(9, inbound)
	acks.Go(func() { // the peer sends while the writers write
		for off := 0; off < len(in); off += 8 << 10 {
			peer.Send(in[off : off+8<<10])
		}
	})
	defer acks.Wait()

	size := func(w, seq int) int { return 1 + (w*7+seq*13)%2000 }
	total := 0
	for w := range writers {
		for seq := range msgs {
			total += 5 + size(w, seq)
		}
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitLimit)
	defer cancel()
	for w := range writers {
		wg.Go(func() {
			for seq := range msgs {
				if _, err := tr.Write(message(w, seq, size(w, seq))); err != nil {
					t.Errorf("writer %d: Write: %v", w, err)
					return
				}
				if err := r.Drain(ctx); err != nil {
					t.Errorf("writer %d: Drain: %v", w, err)
					return
				}
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	// Stall and unstall the peer by turns: each stall lasts until a pause
	// comes, and the next begins once writing has resumed, until the
	// writers are done.
	ended := func(cond func() bool) func() bool {
		return func() bool {
			select {
			case <-writersDone:
				return true
			default:
				return cond()
			}
		}
	}
	for turn := 1; !ended(func() bool { return false })(); turn++ {
		peer.Stall()
		waitFor(t, "a pause or the writers' end", ended(func() bool { return r.Count("pause") >= turn }))
		peer.Unstall()
		waitFor(t, "a resume or the writers' end", ended(func() bool { return r.Count("resume") >= turn }))
	}
	peer.Unstall()
	acks.Wait()
	waitFor(t, "the peer's bytes", func() bool { return len(r.Received()) == inbound })
	if !bytes.Equal(r.Received(), in) {
		t.Errorf("the protocol received the peer's bytes corrupted or reordered")
	}
	got := peer.Received(t, total+5*r.Count("data"))
	checkMessages(t, got, writers, msgs, size)
	waitFor(t, "as many ResumeWriting as PauseWriting", func() bool { return r.Count("resume") == r.Count("pause") })
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	t.Logf("%d pause/resume cycles", r.Count("pause"))
}

// message returns writer w's message seq: a header (writer, sequence,
// length) and n bytes of a pattern.
func message(w, seq, n int) []byte {
	b := []byte{byte(w)}
	b = binary.BigEndian.AppendUint16(b, uint16(seq))
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	return append(b, pattern(uint64(w)<<16|uint64(seq), n)...)
}

// checkMessages checks that stream holds every writer's messages, whole
// and in order.
func checkMessages(t *testing.T, stream []byte, writers, msgs int, size func(w, seq int) int) {
	t.Helper()
	next := make([]int, writers)
	for len(stream) > 0 {
		if len(stream) < 5 {
			t.Fatalf("a message header cut short: %d bytes left", len(stream))
		}
		w, seq, n := int(stream[0]), int(binary.BigEndian.Uint16(stream[1:])), int(binary.BigEndian.Uint16(stream[3:]))
		if w == writers && seq == 0 && n == 0 { // an answer to a read
			stream = stream[5:]
			continue
		}
		if w >= writers || seq != next[w] || n != size(w, seq) || len(stream) < 5+n {
			t.Fatalf("message header (writer %d, seq %d, length %d) out of order or corrupt; writer's next is %v", w, seq, n, next[min(w, writers-1)])
		}
		if !bytes.Equal(stream[5:5+n], pattern(uint64(w)<<16|uint64(seq), n)) {
			t.Fatalf("writer %d message %d corrupt", w, seq)
		}
		next[w]++
		stream = stream[5+n:]
	}
	for w, n := range next {
		if n != msgs {
			t.Errorf("writer %d: %d messages arrived, want %d", w, n, msgs)
		}
	}
}
