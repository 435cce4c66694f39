package contract

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
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
		{"FrameTimeout", testFrameTimeout},
		{"FrameTimeoutHandler", testFrameTimeoutHandler},
		{"FrameTimeoutPaused", testFrameTimeoutPaused},
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
