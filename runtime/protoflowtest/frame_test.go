package protoflowtest_test

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/internal/contract"
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

// framedRec is a Recorder whose data goes through a Framer that the
// transport hosts, with a frame timeout, as a generated framed protocol
// sets them up; it counts the frames.
type framedRec struct {
	*contract.Recorder
	frames wire.Framer
	n      int
}

func newFramedRec(period time.Duration) *framedRec {
	f := &framedRec{Recorder: contract.NewRecorder()}
	f.OnMade = func(r *contract.Recorder) {
		f.frames.Init(wire.LengthCodec{Size: 4, Max: 1 << 20})
		protoflow.HostFramer(r.Transport(), &f.frames)
		if err := protoflow.SetFrameTimeout(r.Transport(), period); err != nil {
			r.Violate("SetFrameTimeout: %v", err)
		}
	}
	f.OnData = func(r *contract.Recorder, p []byte) {
		if err := f.frames.Feed(p, func([]byte) bool { f.n++; return true }); err != nil {
			protoflow.AbortWithError(r.Transport(), err)
		}
	}
	return f
}

// lengthFrame returns a frame of n zero bytes.
func lengthFrame(n int) []byte {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, uint32(n))
	return b
}

// TestFrameTimeout: the frame timeout expires a period after a frame's
// first byte, to the nanosecond of the fake clock, however the rest
// trickles in; a whole frame, or none begun, starts nothing.
func TestFrameTimeout(t *testing.T) {
	const p = 2 * time.Second
	f := newFramedRec(p)
	c := protoflowtest.New(f)
	defer c.Finish(t)
	c.Advance(time.Hour)
	alive(t, c, "an hour without a frame")
	_ = c.Feed(lengthFrame(10))
	c.Advance(time.Hour)
	alive(t, c, "an hour after a whole frame")
	_ = c.Feed(lengthFrame(100)[:5]) // the frame begins at 2h; the drip is its payload
	for range 3 {
		c.Advance(p/4 - 1)
		_ = c.Feed([]byte{0})
	}
	c.Advance(p - 3*(p/4-1) - 1)
	alive(t, c, "a nanosecond before the period")
	c.Advance(1)
	lost, err := c.Lost()
	checkTimeoutErr(t, lost, err, protoflow.FrameTimeout, p)
	if got, want := c.Elapsed(), 2*time.Hour+p; got != want {
		t.Errorf("lost at %v; want %v", got, want)
	}
	if f.n != 1 {
		t.Errorf("%d frames; want 1", f.n)
	}
	f.Check(t)
}

// TestFrameTimeoutPausedAndHandled: a pause of reading holds the frame
// timeout and ResumeReading starts a full period; a handler is called
// each period while the frame stays incomplete, and no more once it is
// complete.
func TestFrameTimeoutPausedAndHandled(t *testing.T) {
	const p = time.Second
	f := newFramedRec(p)
	h := &handled{Recorder: f.Recorder}
	c := protoflowtest.New(struct {
		*framedRec
		protoflow.TimeoutHandler
	}{f, h})
	h.c = c
	defer c.Finish(t)
	whole := lengthFrame(20)
	_ = c.Feed(whole[:10])
	_ = c.Transport().PauseReading()
	c.Advance(time.Hour)
	if len(h.got) != 0 {
		t.Errorf("timeouts while paused: %v", h.got)
	}
	_ = c.Transport().ResumeReading()
	c.Advance(2*p + p/2)
	_ = c.Feed(whole[10:])
	c.Advance(time.Hour)
	want := []string{"frame timeout at 1h0m1s", "frame timeout at 1h0m2s"}
	if diff := cmp.Diff(want, h.got); diff != "" {
		t.Errorf("timeouts (-want +got):\n%s", diff)
	}
	if f.n != 1 {
		t.Errorf("%d frames; want 1", f.n)
	}
	f.Check(t)
}

// TestSetFrameTimeout: a negative period is refused, 0 disables, and a
// lost connection says so.
func TestSetFrameTimeout(t *testing.T) {
	f := newFramedRec(time.Second)
	c := protoflowtest.New(f)
	defer c.Finish(t)
	if err := protoflow.SetFrameTimeout(c.Transport(), -1); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("SetFrameTimeout(-1) = %v, want fs.ErrInvalid", err)
	}
	if err := protoflow.SetFrameTimeout(c.Transport(), 0); err != nil {
		t.Fatal(err)
	}
	_ = c.Feed(lengthFrame(10)[:5])
	c.Advance(1000 * time.Hour)
	alive(t, c, "frame timeout disabled")
	c.Transport().Abort()
	if err := protoflow.SetFrameTimeout(c.Transport(), time.Second); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetFrameTimeout after the loss = %v, want net.ErrClosed", err)
	}
}
