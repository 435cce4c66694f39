package contract

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

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
		if k.Async && k.ExactQueue && tr.WriteBufferSize() > high {
			settle(func() bool { return r.Count("pause") == 1 })
		}
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
	if k.Async {
		settle(func() bool { return r.Count("resume") == 1 })
	}
	if got := r.Count("resume"); got != 1 {
		t.Errorf("ResumeWriting %d times once the low-water mark was raised above the queue, want 1 before SetWriteBufferLimits returned", got)
	}
	if k.ExactQueue {
		if err := tr.SetWriteBufferLimits(0, 0); err != nil {
			t.Fatal(err)
		}
		if k.Async {
			settle(func() bool { return r.Count("pause") == 2 })
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

// settle waits, up to 10 s, for cond: for a transport that delivers
// transitions on its own thread (Kind.Async).
func settle(cond func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}
