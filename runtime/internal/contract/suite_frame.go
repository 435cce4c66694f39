package contract

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// framePeriod is the frame timeout of the frame tests: long enough that a
// loaded machine does not stretch a test's steps past it where that
// matters, short enough that the real transports' tests stay quick.
const framePeriod = 200 * time.Millisecond

// framed is a Recorder whose data also goes through a wire.Framer that
// its transport hosts (protoflow.HostFramer), as a generated framed
// protocol's does, with a frame timeout (protoflow.SetFrameTimeout) set in
// ConnectionMade. It counts the frames.
type framed struct {
	*Recorder
	frames wire.Framer  // owned by the callbacks
	n      atomic.Int32 // frames received
}

// frameCodec frames the frame tests: a 4-byte length, then the payload.
var frameCodec = wire.LengthCodec{Size: 4, Max: 1 << 20}

// newFramed returns a framed with a frame timeout of period.
func newFramed(period time.Duration) *framed {
	f := &framed{Recorder: NewRecorder()}
	f.OnMade = func(r *Recorder) {
		f.frames.Init(frameCodec)
		protoflow.HostFramer(r.Transport(), &f.frames)
		if err := protoflow.SetFrameTimeout(r.Transport(), period); err != nil {
			r.Violate("SetFrameTimeout: %v", err)
		}
	}
	f.OnData = func(r *Recorder, p []byte) { f.feed(p) }
	return f
}

// feed passes p to the framer.
func (f *framed) feed(p []byte) {
	if err := f.frames.Feed(p, func([]byte) bool { f.n.Add(1); return true }); err != nil {
		protoflow.AbortWithError(f.Transport(), err)
	}
}

// Frames returns how many frames were received.
func (f *framed) Frames() int { return int(f.n.Load()) }

// framedHandler is a framed that handles its timeouts: it counts them.
type framedHandler struct {
	*framed
	timeouts atomic.Int32
}

func (h *framedHandler) Timeout(kind protoflow.TimeoutKind) {
	h.enter("timeout")
	defer h.leave()
	if kind != protoflow.FrameTimeout {
		h.Violate("Timeout(%v); only the frame timeout is set", kind)
	}
	h.timeouts.Add(1)
}

// frame returns a frame of n bytes of payload, all zeros.
func frame(n int) []byte {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, uint32(n))
	return b
}

// checkFrameTimeout checks that err is the frame timeout's *TimeoutError.
func checkFrameTimeout(t *testing.T, err error) {
	t.Helper()
	var te *protoflow.TimeoutError
	if !errors.As(err, &te) || te.Kind != protoflow.FrameTimeout || te.After != framePeriod {
		t.Fatalf("ConnectionLost(%v); want a frame timeout after %v", err, framePeriod)
	}
}

// testFrameTimeout is the slow drip: after a whole frame, the peer sends
// the start of another, then a byte every quarter period for two periods.
// Each byte is read, and the frame timeout ends the connection all the
// same: the frame is timed from its first byte, however the rest
// trickles.
func testFrameTimeout(t *testing.T, k Kind) {
	f := newFramed(framePeriod)
	_, peer := attach(t, k, f.Recorder)
	peer.Send(append(frame(10), frame(100)[:6]...))
	for range 8 {
		peer.Elapse(framePeriod / 4)
		peer.Send([]byte{0})
	}
	checkFrameTimeout(t, f.WaitLost(t))
	if n := f.Frames(); n != 1 {
		t.Errorf("%d frames received; want the first, whole one", n)
	}
	if n := len(f.Received()); n < 14+6+1 {
		t.Errorf("%d bytes received; want the drip to have been read", n)
	}
}

// testFrameTimeoutHandler: a TimeoutHandler hears of the frame timeout
// in place of the abort, again each period while the frame stays
// incomplete, and no more once it is complete.
func testFrameTimeoutHandler(t *testing.T, k Kind) {
	h := &framedHandler{framed: newFramed(framePeriod)}
	tr, peer := k.Attach(t, h)
	t.Cleanup(func() {
		tr.Abort()
		waitFor(t, "ConnectionLost after the cleanup's Abort", h.IsLost)
		h.Check(t)
	})
	whole := frame(50)
	peer.Send(whole[:20])
	peer.Elapse(2 * framePeriod)
	waitFor(t, "two Timeout calls", func() bool { return h.timeouts.Load() >= 2 })
	if h.IsLost() {
		t.Fatalf("the connection was lost (%v); a TimeoutHandler keeps it", h.WaitLost(t))
	}
	peer.Send(whole[20:])
	waitFor(t, "the frame", func() bool { return h.Frames() == 1 })
	n := h.timeouts.Load()
	peer.Elapse(3 * framePeriod)
	peer.Settle()
	if got := h.timeouts.Load(); got != n {
		t.Errorf("%d Timeout calls after the frame was complete; want none", got-n)
	}
}

// testFrameTimeoutPaused: a pause of reading by the protocol holds the
// frame timeout, and ResumeReading gives the frame under way a full
// period. The protocol pauses before its framer sees the frame begin.
func testFrameTimeoutPaused(t *testing.T, k Kind) {
	f := newFramed(framePeriod)
	f.OnData = func(r *Recorder, p []byte) {
		if err := r.Transport().PauseReading(); err != nil {
			r.Violate("PauseReading: %v", err)
		}
		f.feed(p)
	}
	tr, peer := attach(t, k, f.Recorder)
	peer.Send(frame(50)[:20])
	waitFor(t, "the start of the frame", func() bool { return f.Count("data") == 1 })
	peer.Elapse(3 * framePeriod)
	peer.Settle()
	if f.IsLost() {
		t.Fatalf("lost (%v) with reading paused; want the frame timeout held", f.WaitLost(t))
	}
	if err := tr.ResumeReading(); err != nil {
		t.Fatal(err)
	}
	peer.Elapse(framePeriod)
	checkFrameTimeout(t, f.WaitLost(t))
}
