package protoflowtest_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/internal/contract"
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
)

// timed is a Recorder that sets timeouts in ConnectionMade.
func timed(read, idle time.Duration) *contract.Recorder {
	r := contract.NewRecorder()
	r.OnMade = func(r *contract.Recorder) {
		if err := protoflow.SetTimeouts(r.Transport(), read, idle); err != nil {
			r.Violate("SetTimeouts: %v", err)
		}
	}
	return r
}

// handled is a Recorder that handles its timeouts: it records when each
// expired, on the Conn's clock, and calls onTimeout.
type handled struct {
	*contract.Recorder
	c         *protoflowtest.Conn
	onTimeout func(h *handled, kind protoflow.TimeoutKind)
	got       []string
}

func (h *handled) Timeout(kind protoflow.TimeoutKind) {
	h.got = append(h.got, kind.String()+" at "+h.c.Elapsed().String())
	if h.onTimeout != nil {
		h.onTimeout(h, kind)
	}
}

// checkTimeoutErr checks that err is the *TimeoutError of kind after
// period.
func checkTimeoutErr(t *testing.T, lost bool, err error, kind protoflow.TimeoutKind, period time.Duration) {
	t.Helper()
	var te *protoflow.TimeoutError
	if !lost || !errors.As(err, &te) || te.Kind != kind || te.After != period {
		t.Fatalf("Lost() = %v, %v; want a %v *TimeoutError after %v", lost, err, kind, period)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%v does not match os.ErrDeadlineExceeded", err)
	}
}

func alive(t *testing.T, c *protoflowtest.Conn, when string) {
	t.Helper()
	if lost, err := c.Lost(); lost {
		t.Fatalf("%s: the connection is lost (%v) at %v", when, err, c.Elapsed())
	}
}

// TestTimeoutRead: the read timeout expires after a whole period without
// data, to the nanosecond of the fake clock; data starts a new period;
// nothing happens after the loss.
func TestTimeoutRead(t *testing.T) {
	r := timed(10*time.Second, 0)
	c := protoflowtest.New(r)
	defer c.Finish(t)
	c.Advance(9 * time.Second)
	alive(t, c, "9s")
	_ = c.Feed([]byte("x"))
	c.Advance(10*time.Second - 1)
	alive(t, c, "a nanosecond before the period after the data")
	c.Advance(1)
	lost, err := c.Lost()
	checkTimeoutErr(t, lost, err, protoflow.ReadTimeout, 10*time.Second)
	if got := c.Elapsed(); got != 19*time.Second {
		t.Errorf("Elapsed = %v, want 19s", got)
	}
	c.Advance(time.Hour)
	if err := protoflow.SetTimeouts(c.Transport(), time.Second, 0); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetTimeouts after the loss = %v, want net.ErrClosed", err)
	}
	checkEvents(t, r, "made", "data", "lost")
	r.Check(t)
}

// TestTimeoutReadPaused: the read timeout is held while reading is
// paused, starts a full period when it resumes, and stops at EOF.
func TestTimeoutReadPaused(t *testing.T) {
	r := timed(10*time.Second, 0)
	c := protoflowtest.New(r)
	defer c.Finish(t)
	_ = c.Transport().PauseReading()
	c.Advance(time.Hour)
	alive(t, c, "paused for an hour")
	_ = c.Transport().ResumeReading()
	c.Advance(10*time.Second - 1)
	alive(t, c, "a nanosecond before the period after ResumeReading")
	c.Advance(1)
	lost, err := c.Lost()
	checkTimeoutErr(t, lost, err, protoflow.ReadTimeout, 10*time.Second)

	r = timed(10*time.Second, 0)
	r.KeepOpen = true
	c = protoflowtest.New(r)
	defer c.Finish(t)
	_ = c.FeedEOF()
	c.Advance(time.Hour)
	alive(t, c, "an hour after EOF")
	r.Check(t)
}

// TestTimeoutIdle: the idle timeout expires when nothing was read or taken
// by the peer for a period; writes that stay queued do not count; and it
// bounds a Close to a peer that stopped reading.
func TestTimeoutIdle(t *testing.T) {
	r := timed(0, 10*time.Second)
	c := protoflowtest.New(r)
	defer c.Finish(t)
	c.Advance(5 * time.Second)
	_, _ = c.Transport().Write([]byte("taken"))
	c.Advance(10*time.Second - 1)
	alive(t, c, "a nanosecond before the period after a write")
	c.Stall()
	_, _ = c.Transport().Write([]byte("queued"))
	if err := c.Transport().Close(); err != nil {
		t.Fatal(err)
	}
	alive(t, c, "Close with bytes queued")
	c.Advance(1)
	lost, err := c.Lost()
	checkTimeoutErr(t, lost, err, protoflow.IdleTimeout, 10*time.Second)
	r.Check(t)
}

// TestTimeoutHandler: a protocol that handles its timeouts gets Timeout at
// each expiry, and the expired timeout starts a new period then; read
// before idle on a tie.
func TestTimeoutHandler(t *testing.T) {
	h := &handled{Recorder: timed(10*time.Second, 15*time.Second)}
	c := protoflowtest.New(h)
	h.c = c
	defer c.Finish(t)
	c.Advance(30 * time.Second)
	alive(t, c, "a handler that does nothing")
	want := []string{"read timeout at 10s", "idle timeout at 15s", "read timeout at 20s", "read timeout at 30s", "idle timeout at 30s"}
	if diff := cmp.Diff(want, h.got); diff != "" {
		t.Errorf("timeouts (-want +got):\n%s", diff)
	}

	h.got = nil
	h.onTimeout = func(h *handled, kind protoflow.TimeoutKind) {
		if kind == protoflow.IdleTimeout {
			protoflow.AbortWithError(h.Transport(), errors.New("idle"))
		}
	}
	c.Advance(time.Hour)
	if diff := cmp.Diff([]string{"read timeout at 40s", "idle timeout at 45s"}, h.got); diff != "" {
		t.Errorf("timeouts until the handler aborts (-want +got):\n%s", diff)
	}
	if lost, err := c.Lost(); !lost || err == nil || err.Error() != "idle" {
		t.Errorf("Lost() = %v, %v; want the handler's cause", lost, err)
	}
	h.Check(t)
}

// TestTimeoutHandlerPanics: a panic in Timeout is a *PanicError too.
func TestTimeoutHandlerPanics(t *testing.T) {
	h := &handled{Recorder: timed(time.Second, 0)}
	h.onTimeout = func(*handled, protoflow.TimeoutKind) { panic("in Timeout") }
	c := protoflowtest.New(h)
	h.c = c
	defer c.Finish(t)
	c.Advance(time.Minute)
	_, err := c.Lost()
	var pe *protoflow.PanicError
	if !errors.As(err, &pe) || pe.Callback != "Timeout" {
		t.Errorf("ConnectionLost(%v), want a *PanicError in Timeout", err)
	}
	if len(h.got) != 1 {
		t.Errorf("Timeout ran %d times, want once: nothing after the loss", len(h.got))
	}
	h.Check(t)
}

// TestSetTimeouts: negative periods are refused and change nothing; zero
// disables.
func TestSetTimeouts(t *testing.T) {
	r := timed(10*time.Second, 0)
	c := protoflowtest.New(r)
	defer c.Finish(t)
	if err := protoflow.SetTimeouts(c.Transport(), -1, 0); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("SetTimeouts(-1, 0) = %v, want fs.ErrInvalid", err)
	}
	c.Advance(10 * time.Second)
	lost, err := c.Lost()
	checkTimeoutErr(t, lost, err, protoflow.ReadTimeout, 10*time.Second)

	c = protoflowtest.New(timed(10*time.Second, 10*time.Second))
	defer c.Finish(t)
	if err := protoflow.SetTimeouts(c.Transport(), 0, 0); err != nil {
		t.Fatal(err)
	}
	c.Advance(1000 * time.Hour)
	alive(t, c, "timeouts disabled")
}
