package protoflow

// Real-socket tests of SetTimeouts, TimeoutHandler and AbortWithError. Every
// test runs over each kind of connection and leaves no goroutine or timer
// behind. Periods are short (100-200ms) and deadlines generous (10s), and no
// test asserts an upper bound on when a timeout fires, so that they hold on a
// loaded machine.
//
// Helpers in this file start with "to".

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Helpers

// toHandler is a recorder that handles its timeouts: Timeout is recorded
// as the event "timeout", so the recorder checks that it never runs
// concurrently with another callback nor after ConnectionLost.
type toHandler struct {
	*recorder
	onTimeout func(h *toHandler, kind TimeoutKind) // set before use

	// Guarded by recorder.mu.
	kinds []TimeoutKind
	times []time.Time
}

func (h *toHandler) Timeout(kind TimeoutKind) {
	h.enter("timeout")
	defer h.leave()
	h.mu.Lock()
	h.kinds = append(h.kinds, kind)
	h.times = append(h.times, time.Now())
	h.mu.Unlock()
	if h.onTimeout != nil {
		h.onTimeout(h, kind)
	}
}

func (h *toHandler) timeouts() ([]TimeoutKind, []time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]TimeoutKind(nil), h.kinds...), append([]time.Time(nil), h.times...)
}

// toSetInMade makes r's ConnectionMade call SetTimeouts, as generated code
// does; the returned function reports its error.
func toSetInMade(r *recorder, read, idle time.Duration) func() error {
	var (
		mu  sync.Mutex
		err error
	)
	r.onMade = func(r *recorder) {
		e := SetTimeouts(r.Transport(), read, idle)
		mu.Lock()
		err = e
		mu.Unlock()
	}
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		return err
	}
}

// toCheckStopped fails t unless the connection's timer is stopped for good
// with no fire running: called once ConnectionLost has returned.
func toCheckStopped(t testing.TB, tr Transport) {
	t.Helper()
	if lc, ok := tr.(interface{ timerFiled() bool }); ok { // the loop backend
		if lc.timerFiled() {
			t.Errorf("the connection's timeouts are still in its loop's heap after ConnectionLost")
		}
		return
	}
	to := tr.(*conn).to.Load()
	if to == nil {
		return
	}
	to.mu.Lock()
	defer to.mu.Unlock()
	if !to.stopped || to.scheduled || to.firing != 0 {
		t.Errorf("timeouts after ConnectionLost: stopped %v, scheduled %v, firing %d; want true, false, 0", to.stopped, to.scheduled, to.firing)
	}
	if to.timer != nil && to.timer.Stop() {
		t.Errorf("the timer was still pending after ConnectionLost")
	}
}

// toActivity is what keeps a connection busy in a test.
type toActivity int

const (
	toSilent    toActivity = iota
	toPeerSends            // the peer writes a byte
	toWrites               // the transport writes a byte
)

func (a toActivity) String() string {
	return [...]string{"silent", "peer sends", "transport writes"}[a]
}

// toEvery does a every interval on a goroutine of its own until the
// returned function is called (once or more), which waits for the goroutine
// to exit.
//
// stop stops the activity and returns the longest gap there was between
// two of its steps (from the call on): on a loaded machine the goroutine
// may be starved for longer than a timeout's period, and then a timeout
// that expires is right to, so a test that expects the activity to keep
// the connection alive must not fail for it.
func toEvery(a toActivity, interval time.Duration, tr Transport, cli net.Conn) (stop func() (maxGap time.Duration)) {
	if a == toSilent {
		return func() time.Duration { return 0 }
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	var gap time.Duration // the longest gap; written by the goroutine, read after done
	go func() {           // exits when stop is called
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-quit:
				gap = max(gap, time.Since(last))
				return
			case <-tick.C:
			}
			switch a {
			case toPeerSends:
				// A pipe's write waits for the transport to read: bound it,
				// generously, as a TLS connection whose write deadline
				// passes is broken for good.
				_ = cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
				_, _ = cli.Write([]byte{'p'})
			case toWrites:
				_, _ = tr.Write([]byte{'w'})
			}
			now := time.Now()
			gap, last = max(gap, now.Sub(last)), now
		}
	}()
	var once sync.Once
	return func() time.Duration {
		once.Do(func() { close(quit) })
		<-done
		return gap
	}
}

// toGaps records moments (mark) and reports the longest gap between them,
// and from the last to now (most). Safe for concurrent use.
type toGaps struct {
	mu   sync.Mutex
	last time.Time
	gap  time.Duration
}

func (g *toGaps) mark() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if !g.last.IsZero() {
		g.gap = max(g.gap, now.Sub(g.last))
	}
	g.last = now
}

func (g *toGaps) most() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last.IsZero() {
		return 0
	}
	return max(g.gap, time.Since(g.last))
}

// toCheckTimeoutErr fails t unless err is the *TimeoutError of kind after
// period, seen as a net.Error timeout and as os.ErrDeadlineExceeded.
func toCheckTimeoutErr(t testing.TB, err error, kind TimeoutKind, period time.Duration) {
	t.Helper()
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("ConnectionLost(%v); want a *TimeoutError", err)
	}
	if te.Kind != kind || te.After != period {
		t.Errorf("ConnectionLost(%v): Kind %v, After %v; want %v, %v", err, te.Kind, te.After, kind, period)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("ConnectionLost(%v): not a net.Error whose Timeout() is true", err)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("ConnectionLost(%v): errors.Is(err, os.ErrDeadlineExceeded) = false", err)
	}
}

// toAlive fails t if the connection is lost.
func toAlive(t testing.TB, r *recorder, what string) {
	t.Helper()
	select {
	case <-r.lostCh:
		t.Fatalf("%s: ConnectionLost(%v); want the connection alive; events %v", what, ttLost(t, r), r.eventsCopy())
	default:
	}
}

// toEach runs f over every kind of connection, in parallel.
func toEach(t *testing.T, f func(t *testing.T, k connKind)) {
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}

// ---------------------------------------------------------------------------
// Tests

func TestTimeoutKindString(t *testing.T) {
	for _, tc := range []struct {
		k    TimeoutKind
		want string
	}{
		{ReadTimeout, "read timeout"},
		{IdleTimeout, "idle timeout"},
		{0, "TimeoutKind(0)"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("TimeoutKind(%d).String() = %q; want %q", int(tc.k), got, tc.want)
		}
	}
	err := error(&TimeoutError{Kind: ReadTimeout, After: 100 * time.Millisecond})
	if got, want := err.Error(), "protoflow: read timeout: nothing happened for 100ms"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}

// TestTimeoutExpiry checks what keeps each timeout alive: activity for four
// periods, then silence. Each case ends with the timeout expiring and
// ConnectionLost receiving its *TimeoutError.
func TestTimeoutExpiry(t *testing.T) {
	const p = 150 * time.Millisecond
	for _, tc := range []struct {
		name       string
		read, idle time.Duration
		activity   toActivity
		pause      bool        // reading paused from ConnectionMade on
		alive      bool        // the activity keeps the connection alive
		want       TimeoutKind // what expires in the end
	}{
		{name: "read/silent", read: p, want: ReadTimeout},
		{name: "read/peer sends", read: p, activity: toPeerSends, alive: true, want: ReadTimeout},
		{name: "read/transport writes", read: p, activity: toWrites, want: ReadTimeout},
		{name: "idle/silent", idle: p, want: IdleTimeout},
		{name: "idle/transport writes", idle: p, activity: toWrites, alive: true, want: IdleTimeout},
		{name: "idle/peer sends", idle: p, activity: toPeerSends, alive: true, want: IdleTimeout},
		{name: "idle/reading paused", idle: p, pause: true, want: IdleTimeout},
		{name: "both/transport writes", read: p, idle: 2 * p, activity: toWrites, want: ReadTimeout},
		{name: "both/peer sends", read: 2 * p, idle: p, activity: toPeerSends, alive: true, want: IdleTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toEach(t, func(t *testing.T, k connKind) {
				r := newRecorder()
				setErr := toSetInMade(r, tc.read, tc.idle)
				if tc.pause {
					made := r.onMade
					r.onMade = func(r *recorder) {
						made(r)
						_ = r.PauseReading()
					}
				}
				// The peer's bytes keep a timeout alive only once the
				// transport reads them: a reader the machine starves is
				// measured too, as the sender is (toEvery).
				var delivered toGaps
				if tc.activity == toPeerSends {
					r.onData = func(*recorder, []byte) { delivered.mark() }
				}
				start := time.Now()
				tr, cli := ttAttachAs(t, k, r, r)
				if err := setErr(); err != nil {
					t.Fatalf("SetTimeouts: %v", err)
				}
				delivered.mark()
				sink := ttRead(cli, false, false) // the transport's writes must go somewhere (a pipe has no buffer)
				stop := toEvery(tc.activity, p/3, tr, cli)
				if tc.alive {
					time.Sleep(4 * p)
					gap := stop()
					if tc.activity == toPeerSends {
						gap = max(gap, delivered.most())
					}
					if gap < p/2 {
						toAlive(t, r, fmt.Sprintf("%v every %v for %v", tc.activity, p/3, 4*p))
					} else {
						t.Logf("the activity was starved for %v, over half the %v period: not judging whether it kept the connection alive", gap, p)
					}
				}
				err := r.waitLost(t, 10*time.Second)
				stop()
				period := tc.read
				if tc.want == IdleTimeout {
					period = tc.idle
				}
				toCheckTimeoutErr(t, err, tc.want, period)
				if d := time.Since(start); d < period {
					t.Errorf("expired %v after SetTimeouts; want at least a period (%v)", d, period)
				}
				ttClosePeer(cli)
				ttRecv(t, sink, 10*time.Second)
				r.check(t)
			})
		})
	}
}

// TestTimeoutReadPaused checks that the read timeout is held while reading
// is paused and runs a full period from ResumeReading.
func TestTimeoutReadPaused(t *testing.T) {
	const p = 100 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newRecorder()
		setErr := toSetInMade(r, p, 0)
		ttAttachAs(t, k, r, r)
		if err := setErr(); err != nil {
			t.Fatalf("SetTimeouts: %v", err)
		}
		if err := r.PauseReading(); err != nil { // through BaseProtocol, as generated code does
			t.Fatal(err)
		}
		time.Sleep(3 * p)
		toAlive(t, r, "reading paused for 3 periods")
		resumed := time.Now()
		if err := r.ResumeReading(); err != nil {
			t.Fatal(err)
		}
		err := r.waitLost(t, 10*time.Second)
		if d := time.Since(resumed); d < p {
			t.Errorf("expired %v after ResumeReading; want a full period (%v)", d, p)
		}
		toCheckTimeoutErr(t, err, ReadTimeout, p)
		r.check(t)
	})
}

// TestTimeoutAfterEOF checks that the read timeout stops once the peer's
// end of file is read while the write side stays open: the longer idle
// timeout expires instead.
func TestTimeoutAfterEOF(t *testing.T) {
	const read, idle = 200 * time.Millisecond, time.Second
	for _, k := range append(append([]connKind(nil), streamKinds...), ttKinds("tls")...) {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder()
			r.keepOpen = true
			setErr := toSetInMade(r, read, idle)
			_, cli := ttAttachAs(t, k, r, r)
			if err := setErr(); err != nil {
				t.Fatalf("SetTimeouts: %v", err)
			}
			ttCloseWrite(t, cli)
			toCheckTimeoutErr(t, r.waitLost(t, 10*time.Second), IdleTimeout, idle)
			if ev := r.eventsCopy(); len(ev) != 3 || ev[1] != "eof" {
				t.Errorf("events %v; want made, eof, lost", ev)
			}
			r.check(t)
		})
	}
}

// TestTimeoutBoundsClose checks that the idle timeout ends a Close that
// waits to flush to a peer that does not read.
func TestTimeoutBoundsClose(t *testing.T) {
	const p = 150 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newRecorder()
		tr, cli := ttAttachAs(t, k, r, r)
		ttPinBuffers(cli, 128<<10)
		ttShrinkBuffers(tr, 64<<10)
		ttFillUntilPaused(t, tr, r, 1<<20)
		if err := SetTimeouts(tr, p, p); err != nil {
			t.Fatal(err)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		toCheckTimeoutErr(t, r.waitLost(t, 10*time.Second), IdleTimeout, p)
		r.check(t)
	})
}

// TestTimeoutHandler checks that a TimeoutHandler is called instead of
// closing, serialized with a DataReceived that outlasts the period, again
// after each further period, and never after ConnectionLost.
func TestTimeoutHandler(t *testing.T) {
	const p = 100 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newRecorder()
		h := &toHandler{recorder: r}
		setErr := make(chan error, 1)
		r.onData = func(r *recorder, _ []byte) {
			setErr <- SetTimeouts(r.Transport(), p, 0)
			time.Sleep(2 * p) // the read timeout expires meanwhile; Timeout must wait
		}
		tr, cli := ttAttachAs(t, k, h, r)
		if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, []byte("x")), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := ttWaitErr(t, "SetTimeouts", setErr, 10*time.Second); err != nil {
			t.Fatalf("SetTimeouts: %v", err)
		}
		waitFor(t, 10*time.Second, "three Timeout calls", func() bool { return ttCount(r, "timeout") >= 3 })
		toAlive(t, r, "with a TimeoutHandler")
		kinds, times := h.timeouts()
		for i, kind := range kinds {
			if kind != ReadTimeout {
				t.Errorf("Timeout #%d: %v; want %v", i, kind, ReadTimeout)
			}
			if i > 0 && times[i].Sub(times[i-1]) < p/2 {
				t.Errorf("Timeout #%d came %v after the one before; want about a period (%v)", i, times[i].Sub(times[i-1]), p)
			}
		}
		if ev := r.eventsCopy(); len(ev) < 3 || ev[1] != "data" || ev[2] != "timeout" {
			t.Errorf("events %v; want made, data, timeout, ...", ev)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.waitLost(t, 10*time.Second); err != nil {
			t.Errorf("ConnectionLost(%v) after Close; want nil", err)
		}
		r.check(t)
	})
}

// TestTimeoutHandlerSlow checks that the period starts again when Timeout
// returns: a handler that takes longer than the period is called again a
// full period after it returned, not at once (a period counted from when
// it was called would have run out while it ran). A busy machine that
// delays a call cannot shorten the gap either, which a period counted from
// when the timeout was seen could.
func TestTimeoutHandlerSlow(t *testing.T) {
	const p = 100 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newRecorder()
		h := &toHandler{recorder: r}
		var (
			mu   sync.Mutex
			ends []time.Time
		)
		h.onTimeout = func(*toHandler, TimeoutKind) {
			time.Sleep(3 * p / 2)
			mu.Lock()
			ends = append(ends, time.Now())
			mu.Unlock()
		}
		setErr := toSetInMade(r, p, 0)
		tr, _ := ttAttachAs(t, k, h, r)
		if err := setErr(); err != nil {
			t.Fatalf("SetTimeouts: %v", err)
		}
		waitFor(t, 10*time.Second, "three Timeout calls", func() bool { return ttCount(r, "timeout") >= 3 })
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.waitLost(t, 10*time.Second); err != nil {
			t.Errorf("ConnectionLost(%v) after Close; want nil", err)
		}
		_, starts := h.timeouts()
		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < len(starts) && i <= len(ends); i++ {
			if gap := starts[i].Sub(ends[i-1]); gap < p*9/10 {
				t.Errorf("Timeout #%d came %v after #%d returned; want a period (%v)", i, gap, i-1, p)
			}
		}
		r.check(t)
	})
}

// TestTimeoutHandlerBoth checks that a handler hears of both kinds, and
// that one it ignores keeps coming while the other is kept alive.
func TestTimeoutHandlerBoth(t *testing.T) {
	const p = 100 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newRecorder()
		h := &toHandler{recorder: r}
		setErr := toSetInMade(r, p, 3*p)
		tr, cli := ttAttachAs(t, k, h, r)
		if err := setErr(); err != nil {
			t.Fatalf("SetTimeouts: %v", err)
		}
		sink := ttRead(cli, false, false)
		waitFor(t, 10*time.Second, "Timeout of both kinds", func() bool {
			kinds, _ := h.timeouts()
			n := map[TimeoutKind]int{}
			for _, k := range kinds {
				n[k]++
			}
			return n[ReadTimeout] >= 2 && n[IdleTimeout] >= 2
		})
		// Writes keep the idle timeout alive: from now on only reads time out.
		stop := toEvery(toWrites, p/4, tr, cli)
		time.Sleep(p / 2)
		before, _ := h.timeouts()
		time.Sleep(4 * p)
		after, _ := h.timeouts()
		if gap := stop(); gap >= 3*p/2 {
			t.Logf("the writes were starved for %v, over half the %v idle period: not judging which timeouts expired", gap, 3*p)
		} else {
			for _, kind := range after[len(before):] {
				if kind != ReadTimeout {
					t.Errorf("Timeout(%v) while writing every %v", kind, p/4)
				}
			}
		}
		if len(after) == len(before) {
			t.Errorf("no Timeout in %v with a read timeout of %v", 4*p, p)
		}
		tr.Abort()
		if err := r.waitLost(t, 10*time.Second); err != nil {
			t.Errorf("ConnectionLost(%v) after Abort; want nil", err)
		}
		ttClosePeer(cli)
		ttRecv(t, sink, 10*time.Second)
		r.check(t)
	})
}

// TestTimeoutHandlerCloses checks the calls a Timeout may make: abort with
// a cause, panic, and SetTimeouts.
func TestTimeoutHandlerCloses(t *testing.T) {
	const p = 50 * time.Millisecond
	errGone := errors.New("test: the peer is gone")
	for _, tc := range []struct {
		name  string
		on    func(h *toHandler, kind TimeoutKind)
		check func(t *testing.T, h *toHandler, err error)
	}{
		{
			name: "AbortWithError",
			on:   func(h *toHandler, _ TimeoutKind) { AbortWithError(h.Transport(), errGone) },
			check: func(t *testing.T, _ *toHandler, err error) {
				if !errors.Is(err, errGone) {
					t.Errorf("ConnectionLost(%v); want %v", err, errGone)
				}
			},
		},
		{
			name: "panic",
			on:   func(*toHandler, TimeoutKind) { panic(errGone) },
			check: func(t *testing.T, _ *toHandler, err error) {
				var pe *PanicError
				if !errors.As(err, &pe) || pe.Callback != "Timeout" || !errors.Is(err, errGone) {
					t.Errorf("ConnectionLost(%v); want a *PanicError in Timeout wrapping %v", err, errGone)
				}
			},
		},
		{
			// The read timeout disables the timeouts, and a goroutine sets an
			// idle timeout 3 periods later, which closes.
			name: "SetTimeouts",
			on: func(h *toHandler, kind TimeoutKind) {
				if kind == IdleTimeout {
					_ = h.Transport().Close()
					return
				}
				tr := h.Transport()
				_ = SetTimeouts(tr, 0, 0)
				go func() { // exits after one SetTimeouts
					time.Sleep(3 * p)
					_ = SetTimeouts(tr, 0, p)
				}()
			},
			check: func(t *testing.T, h *toHandler, err error) {
				if err != nil {
					t.Errorf("ConnectionLost(%v); want nil", err)
				}
				kinds, times := h.timeouts()
				if len(kinds) != 2 || kinds[0] != ReadTimeout || kinds[1] != IdleTimeout || times[1].Sub(times[0]) < 3*p {
					t.Errorf("Timeout calls %v at %v; want read, then idle at least %v later", kinds, times, 3*p)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toEach(t, func(t *testing.T, k connKind) {
				r := newRecorder()
				h := &toHandler{recorder: r, onTimeout: tc.on}
				setErr := toSetInMade(r, p, 0)
				_, cli := ttAttachAs(t, k, h, r)
				if err := setErr(); err != nil {
					t.Fatalf("SetTimeouts: %v", err)
				}
				sink := ttRead(cli, false, false)
				tc.check(t, h, r.waitLost(t, 10*time.Second))
				ttClosePeer(cli)
				ttRecv(t, sink, 10*time.Second)
				r.check(t)
			})
		})
	}
}

// TestTimeoutSetTimeouts checks SetTimeouts' errors and changes of period.
func TestTimeoutSetTimeouts(t *testing.T) {
	t.Run("foreign transport", func(t *testing.T) {
		if err := SetTimeouts(&fakeTransport{}, time.Second, 0); !errors.Is(err, ErrNotSupported) {
			t.Errorf("SetTimeouts(fakeTransport) = %v; want ErrNotSupported", err)
		}
	})
	toEach(t, func(t *testing.T, k connKind) {
		const p = 100 * time.Millisecond
		r := newRecorder()
		tr, _ := ttAttach(t, k, r)
		for _, d := range [][2]time.Duration{{-1, 0}, {0, -time.Second}, {-1, -1}} {
			if err := SetTimeouts(tr, d[0], d[1]); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("SetTimeouts(%v, %v) = %v; want an error matching fs.ErrInvalid", d[0], d[1], err)
			}
		}
		if err := SetTimeouts(tr, 0, 0); err != nil || hasTimeoutState(tr) {
			t.Errorf("SetTimeouts(0, 0) = %v, state made %v; want nil and no state", err, hasTimeoutState(tr))
		}
		// Disabled again before it expires: nothing happens.
		if err := SetTimeouts(tr, p, 0); err != nil {
			t.Fatal(err)
		}
		if err := SetTimeouts(tr, 0, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * p)
		toAlive(t, r, "timeouts disabled")
		// A long period, then a short one: the short one applies at once.
		if err := SetTimeouts(tr, time.Hour, time.Hour); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := SetTimeouts(tr, 0, p); err != nil {
			t.Fatal(err)
		}
		err := r.waitLost(t, 10*time.Second)
		toCheckTimeoutErr(t, err, IdleTimeout, p)
		if d := time.Since(start); d < p {
			t.Errorf("expired after %v; want at least %v", d, p)
		}
		ttWaitGone(t, tr, r)
		if err := SetTimeouts(tr, p, p); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SetTimeouts after ConnectionLost = %v; want an error matching net.ErrClosed", err)
		}
		toCheckStopped(t, tr)
		r.check(t)
	})
}

// TestTimeoutServer checks timeouts set in ConnectionMade on a Server's
// connections.
func TestTimeoutServer(t *testing.T) {
	const p = 100 * time.Millisecond
	for _, lk := range ttListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			var recs ttRecorders
			s := ttStartServer(t, lk, func() Protocol {
				r := newRecorder()
				toSetInMade(r, p, 0)
				recs.add(r)
				return r
			})
			cli := lk.dial(t, s.addr)
			defer ttClosePeer(cli)
			if _, err := cli.Write([]byte("hello")); err != nil { // also completes a TLS handshake
				t.Fatal(err)
			}
			r := recs.get(t, 0)
			toCheckTimeoutErr(t, r.waitLost(t, 10*time.Second), ReadTimeout, p)
			if got := string(r.received()); got != "hello" {
				t.Errorf("received %q; want %q", got, "hello")
			}
			r.check(t)
		})
	}
}

// TestAbortWithError checks the cause ConnectionLost receives.
func TestAbortWithError(t *testing.T) {
	errCause := errors.New("test: protocol error")
	wrapped := fmt.Errorf("test: frame 3: %w", errCause)
	t.Run("foreign transport", func(t *testing.T) {
		f := &fakeTransport{}
		AbortWithError(f, errCause)
		if got := f.Calls(); len(got) != 1 || got[0] != "Abort" {
			t.Errorf("calls %v; want [Abort]", got)
		}
	})
	for _, tc := range []struct {
		name  string
		err   error
		close bool // Close first: the connection is dead before AbortWithError
		want  error
	}{
		{name: "cause", err: errCause, want: errCause},
		{name: "wrapped", err: wrapped, want: errCause},
		{name: "timeout", err: &TimeoutError{Kind: IdleTimeout, After: time.Second}, want: os.ErrDeadlineExceeded},
		{name: "nil", err: nil, want: nil},
		{name: "after close", err: errCause, close: true, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toEach(t, func(t *testing.T, k connKind) {
				r := newRecorder()
				tr, cli := ttAttach(t, k, r)
				sink := ttRead(cli, false, false)
				if tc.close {
					_ = tr.Close()
					ttRecv(t, sink, 10*time.Second) // the close is done: the peer saw EOF
				}
				AbortWithError(tr, tc.err)
				err := r.waitLost(t, 10*time.Second)
				switch {
				case tc.want == nil && err != nil:
					t.Errorf("ConnectionLost(%v); want nil", err)
				case tc.want != nil && !errors.Is(err, tc.want):
					t.Errorf("ConnectionLost(%v); want an error matching %v", err, tc.want)
				}
				if !tr.IsClosing() {
					t.Error("IsClosing() = false after AbortWithError")
				}
				if !tc.close {
					ttClosePeer(cli)
					ttRecv(t, sink, 10*time.Second)
				}
				r.check(t)
			})
		})
	}
}

// TestTimeoutClosedEarly closes connections with timeouts in every way, at
// random moments around the expiry of a 1ms period with a handler (so that
// Timeout and ConnectionLost race), and checks that Timeout never follows
// ConnectionLost and that no timer or goroutine is left.
func TestTimeoutClosedEarly(t *testing.T) {
	closers := []struct {
		name string
		do   func(tr Transport, cli net.Conn)
	}{
		{"Abort", func(tr Transport, _ net.Conn) { tr.Abort() }},
		{"Close", func(tr Transport, _ net.Conn) { _ = tr.Close() }},
		{"AbortWithError", func(tr Transport, _ net.Conn) { AbortWithError(tr, io.ErrUnexpectedEOF) }},
		{"peer closes", func(_ Transport, cli net.Conn) { ttClosePeer(cli) }},
	}
	toEach(t, func(t *testing.T, k connKind) {
		for i := range 40 {
			cl := closers[i%len(closers)]
			handler := i/len(closers)%2 == 0
			r := newRecorder()
			var p Protocol = r
			if handler {
				p = &toHandler{recorder: r}
			}
			period := time.Millisecond
			if i >= 32 {
				period = time.Hour // never fires: stop must cancel a pending timer
			}
			setErr := toSetInMade(r, period, 2*period)
			tr, cli := ttAttachAs(t, k, p, r)
			if err := setErr(); err != nil {
				t.Fatalf("SetTimeouts: %v", err)
			}
			sink := ttRead(cli, false, false)
			time.Sleep(time.Duration(i%5) * 500 * time.Microsecond)
			cl.do(tr, cli)
			r.waitLost(t, 10*time.Second)
			ttWaitGone(t, tr, r)
			toCheckStopped(t, tr)
			ttClosePeer(cli)
			ttRecv(t, sink, 10*time.Second)
			r.check(t)
			if t.Failed() {
				t.Fatalf("iteration %d (%s, handler %v, period %v)", i, cl.name, handler, period)
			}
		}
	})
}

// BenchmarkTimeoutStamp is what the bookkeeping adds to each read and each
// write: the byte counts for Stats, and an atomic load when no timeout is
// set, or a monotonic clock reading with an atomic store when one is.
func BenchmarkTimeoutStamp(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "on"}[on], func(b *testing.B) {
			c := &conn{opts: &options{}}
			if on {
				c.to.Store(newTimeouts(c))
			}
			b.ReportAllocs()
			for b.Loop() {
				c.noteRead(1)
				c.noteWrite(1)
			}
		})
	}
}

// A huge read period ("practically never") next to a short idle timeout on
// a silent connection: the idle timeout must still expire (the due times
// saturate instead of overflowing).
func TestTimeoutHugeReadIdleStillExpires(t *testing.T) {
	const p = 100 * time.Millisecond
	r := newRecorder()
	setErr := toSetInMade(r, math.MaxInt64, p)
	ttAttachAs(t, connKinds[0], r, r)
	if err := setErr(); err != nil {
		t.Fatalf("SetTimeouts: %v", err)
	}
	select {
	case <-r.lostCh:
		err := ttLost(t, r)
		toCheckTimeoutErr(t, err, IdleTimeout, p)
	case <-time.After(20 * p):
		t.Fatalf("idle timeout of %v did not expire in %v with read timeout MaxInt64", p, 20*p)
	}
}

// A handler that, on its first timeout, switches to a "practically never"
// read timeout: the running fire re-checks and finds the overflowed read due
// expired, and calls Timeout(ReadTimeout) again at once, in a loop.
func TestTimeoutHugeFromHandlerDoesNotSpin(t *testing.T) {
	const p = 100 * time.Millisecond
	h := &toHandler{recorder: newRecorder()}
	h.onTimeout = func(h *toHandler, kind TimeoutKind) {
		kinds, _ := h.timeouts()
		switch len(kinds) {
		case 1:
			_ = SetTimeouts(h.Transport(), math.MaxInt64, 0)
		case 1000:
			AbortWithError(h.Transport(), nil) // end the spin
		}
	}
	setErr := toSetInMade(h.recorder, 0, p)
	ttAttachAs(t, connKinds[0], h, h.recorder)
	if err := setErr(); err != nil {
		t.Fatalf("SetTimeouts: %v", err)
	}
	time.Sleep(5 * p)
	kinds, times := h.timeouts()
	if len(kinds) > 1 {
		t.Errorf("%d Timeout calls in %v after SetTimeouts(MaxInt64, 0) from Timeout: %v ... %v (%v from first to last)",
			len(kinds), times[len(times)-1].Sub(times[0]), kinds[0], kinds[len(kinds)-1], times[len(times)-1].Sub(times[0]))
	}
}

// hasTimeoutState reports whether tr carries timeout state.
func hasTimeoutState(tr Transport) bool {
	if c, ok := tr.(*conn); ok {
		return c.to.Load() != nil
	}
	return tr.(interface{ timeouts() *ltimeouts }).timeouts() != nil
}
