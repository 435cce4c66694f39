package protoflow

// Real-socket tests of the frame timeout (SetFrameTimeout, WithFrameTimeout)
// and of the options that bound every connection's timeouts, over each
// kind of connection. As in timeout_test.go, periods are short, deadlines
// generous, and no test asserts an upper bound on when a timeout fires.
//
// Helpers in this file start with "ft".

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/wire"
)

// ftCodec is the framing of the tests: a 4-byte length, then the payload.
var ftCodec wire.Codec = wire.LengthCodec{Size: 4, Max: 1 << 20}

// ftFrame returns one frame of n bytes of payload.
func ftFrame(n int, fill byte) []byte {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, uint32(n))
	for i := range b[4:] {
		b[4+i] = fill
	}
	return b
}

// ftFramed is a recorder whose data also goes through a wire.Framer hosted
// by its transport, as a generated framed protocol's does; it counts the
// frames and their bytes.
type ftFramed struct {
	*recorder
	frames wire.Framer
	set    func(t Transport) error // run in ConnectionMade, after the framer is set up

	fmu       sync.Mutex
	setErr    error
	nFrames   int
	nPayload  int
	lastFrame []byte
}

func newFtFramed(set func(t Transport) error) *ftFramed {
	return &ftFramed{recorder: newRecorder(), set: set}
}

func (p *ftFramed) ConnectionMade(t Transport) {
	p.frames.Init(ftCodec)
	HostFramer(t, &p.frames)
	if p.set != nil {
		err := p.set(t)
		p.fmu.Lock()
		p.setErr = err
		p.fmu.Unlock()
	}
	p.recorder.ConnectionMade(t)
}

func (p *ftFramed) DataReceived(b []byte) {
	p.recorder.DataReceived(b)
	if err := p.frames.Feed(b, p.frame); err != nil {
		AbortWithError(p.Transport(), err)
	}
}

func (p *ftFramed) frame(payload []byte) bool {
	p.fmu.Lock()
	p.nFrames++
	p.nPayload += len(payload)
	p.lastFrame = append(p.lastFrame[:0], payload...)
	p.fmu.Unlock()
	return true
}

// counts returns the frames and payload bytes received.
func (p *ftFramed) counts() (frames, payload int) {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	return p.nFrames, p.nPayload
}

func (p *ftFramed) err() error {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	return p.setErr
}

// ftHandler is an ftFramed that handles its timeouts: it records them.
type ftHandler struct {
	*ftFramed
	kinds chan TimeoutKind
	reset bool // drop the frame under way on a frame timeout, as a protocol that gives up on a slow frame does
}

func (h *ftHandler) Timeout(kind TimeoutKind) {
	h.enter("timeout")
	defer h.leave()
	h.kinds <- kind
	if h.reset && kind == FrameTimeout {
		h.frames.Reset() // Partial(false): no frame under way
	}
}

// ftHalfFrame attaches a framed protocol that handles its timeouts and
// sets a frame timeout of p, on a connection of kind k, and sends the
// first 20 bytes of frame, a frame of 50. It returns the handler and the
// peer.
func ftHalfFrame(t *testing.T, k connKind, p time.Duration, frame []byte, reset bool) (*ftHandler, net.Conn) {
	t.Helper()
	f := newFtFramed(func(t Transport) error { return SetFrameTimeout(t, p) })
	h := &ftHandler{ftFramed: f, kinds: make(chan TimeoutKind, 100), reset: reset}
	_, cli := ttAttachAs(t, k, h, f.recorder)
	if err := f.err(); err != nil {
		t.Fatal(err)
	}
	if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, frame[:20]), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return h, cli
}

// ftTrickle writes p to c, then one byte every interval until the returned
// function is called, which waits for the writer to exit. The bytes are
// all zeros: a frame's payload, never its end.
func ftTrickle(c net.Conn, p []byte, interval time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() { // exits when stop is called or a write fails
		defer close(done)
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second)) // a pipe's write waits for the reader
		if _, err := c.Write(p); err != nil {
			return
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte{0}); err != nil {
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// ftTimedConn is a net.Conn that notes when each Write completed.
type ftTimedConn struct {
	net.Conn
	mu     sync.Mutex
	writes []time.Time
}

func (c *ftTimedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil {
		c.mu.Lock()
		c.writes = append(c.writes, time.Now())
		c.mu.Unlock()
	}
	return n, err
}

// dripsBefore returns how many Writes after the first completed before t.
func (c *ftTimedConn) dripsBefore(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for i, w := range c.writes {
		if i > 0 && w.Before(t) {
			n++
		}
	}
	return n
}

// TestFrameTimeoutTrickle is the slow drip: a peer sends the start of a
// frame, then a byte now and then, which keeps a read timeout of twice the
// frame timeout alive for good. The frame timeout ends it, a period or
// more after the frame's first byte; also alone, when no other timeout
// has the timer running.
func TestFrameTimeoutTrickle(t *testing.T) {
	const p = 150 * time.Millisecond
	for _, read := range []time.Duration{0, 2 * p} {
		t.Run(fmt.Sprintf("read timeout %v", read), func(t *testing.T) { ftTrickleCut(t, p, read) })
	}
}

func ftTrickleCut(t *testing.T, p, read time.Duration) {
	toEach(t, func(t *testing.T, k connKind) {
		r := newFtFramed(func(t Transport) error {
			if err := SetTimeouts(t, read, 0); err != nil {
				return err
			}
			return SetFrameTimeout(t, p)
		})
		_, cli := ttAttachAs(t, k, r, r.recorder)
		if err := r.err(); err != nil {
			t.Fatalf("setting the timeouts: %v", err)
		}
		start := time.Now()
		drips := &ftTimedConn{Conn: cli}
		stop := ftTrickle(drips, ftFrame(1000, 0)[:100], p/5)
		err := r.waitLost(t, 10*time.Second)
		cut := time.Now()
		lived := cut.Sub(start)
		stop()
		toCheckTimeoutErr(t, err, FrameTimeout, p)
		if lived < p {
			t.Errorf("cut %v after the frame began; want at least the frame timeout, %v", lived, p)
		}
		if n := ttCount(r.recorder, "data"); n < 2 {
			// The trickle must have been read, if it was sent in time: a
			// machine that starved the trickling goroutine sent none.
			if early := drips.dripsBefore(cut.Add(-p / 2)); early > 0 {
				t.Errorf("%d reads before the cut, though %d bytes trickled in over %v before it; want the trickle to have been read", n, early, p/2)
			} else {
				t.Logf("no byte trickled in over %v before the cut (the machine starved the writer): not judging the reads", p/2)
			}
		}
		r.check(t)
	})
}

// TestFrameTimeoutPerFrame checks that the frame timeout times each frame,
// not a stream of them: a peer that writes frames steadily for twice the
// period, every write ending inside a frame, so that the framer always
// holds part of one, is never cut. Each frame takes two writes 10 ms
// apart, which leaves the period a wide margin on a loaded machine.
func TestFrameTimeoutPerFrame(t *testing.T) {
	const p = 500 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newFtFramed(func(t Transport) error { return SetFrameTimeout(t, p) })
		_, cli := ttAttachAs(t, k, r, r.recorder)
		if err := r.err(); err != nil {
			t.Fatal(err)
		}
		var stream []byte
		for range 100 {
			stream = append(stream, ftFrame(296, 7)...) // 300 bytes a frame
		}
		// 299 bytes every 10 ms: every write but the last ends inside a
		// frame, and the stream lasts a second. A frame spans two writes,
		// so only a gap of a whole period between two may cut it: a
		// machine that starves this goroutine that long leaves nothing to
		// judge.
		last := time.Now()
		for off := 0; off < len(stream); off += 299 {
			if gap := time.Since(last); gap >= p/2 {
				t.Logf("the writes were starved for %v, over half the %v frame timeout: not judging whether a frame was cut", gap, p)
				return
			}
			last = time.Now()
			_ = cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := cli.Write(stream[off:min(off+299, len(stream))]); err != nil {
				t.Fatalf("peer write: %v", err)
			}
			toAlive(t, r.recorder, fmt.Sprintf("after %d of %d bytes", off, len(stream)))
			time.Sleep(10 * time.Millisecond)
		}
		waitFor(t, 10*time.Second, "every frame", func() bool { n, _ := r.counts(); return n == 100 })
		toAlive(t, r.recorder, "a steady stream of frames")
		r.check(t)
	})
}

// TestFrameTimeoutPaused checks that a pause of reading by the protocol
// holds the frame timeout, and that ResumeReading gives the frame under
// way a full period.
func TestFrameTimeoutPaused(t *testing.T) {
	const p = 100 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		r := newFtFramed(func(t Transport) error { return SetFrameTimeout(t, p) })
		_, cli := ttAttachAs(t, k, r, r.recorder)
		if err := r.err(); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, ftFrame(50, 1)[:20]), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the start of the frame", func() bool { return ttCount(r.recorder, "data") > 0 })
		if err := r.PauseReading(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(began); d >= p/2 {
			// The frame's period ran while this goroutine was starved,
			// before the pause that was to hold it.
			t.Logf("the frame began %v before the pause, over half the %v frame timeout: not judging the pause", d, p)
			return
		}
		time.Sleep(3 * p)
		toAlive(t, r.recorder, "reading paused for 3 frame timeouts")
		resumed := time.Now()
		if err := r.ResumeReading(); err != nil {
			t.Fatal(err)
		}
		err := r.waitLost(t, 10*time.Second)
		if d := time.Since(resumed); d < p {
			t.Errorf("cut %v after ResumeReading; want a full period (%v)", d, p)
		}
		toCheckTimeoutErr(t, err, FrameTimeout, p)
		r.check(t)
	})
}

// TestFrameTimeoutHandler checks that a TimeoutHandler hears of the frame
// timeout instead, again after each period while the frame stays
// incomplete, and no more once it is complete.
func TestFrameTimeoutHandler(t *testing.T) {
	const p = 80 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		frame := ftFrame(50, 1)
		h, cli := ftHalfFrame(t, k, p, frame, false)
		f := h.ftFramed
		for i := range 2 {
			select {
			case kind := <-h.kinds:
				if kind != FrameTimeout {
					t.Errorf("Timeout #%d: %v; want %v", i, kind, FrameTimeout)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no Timeout #%d within 10s", i)
			}
		}
		toAlive(t, f.recorder, "with a TimeoutHandler")
		if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, frame[20:]), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the frame", func() bool { n, _ := f.counts(); return n == 1 })
		for len(h.kinds) > 0 { // one may have come before the frame was complete
			<-h.kinds
		}
		time.Sleep(3 * p)
		if n := len(h.kinds); n > 0 {
			t.Errorf("%d Timeout calls after the frame was complete; want none", n)
		}
		f.check(t)
	})
}

// TestFrameTimeoutHandlerReset checks that a frame dropped by the handler
// stays dropped: the frame timeout's period, which starts again when
// Timeout returns, does not start for a frame that Timeout has dropped,
// and Timeout is not called again.
func TestFrameTimeoutHandlerReset(t *testing.T) {
	const p = 80 * time.Millisecond
	toEach(t, func(t *testing.T, k connKind) {
		h, _ := ftHalfFrame(t, k, p, ftFrame(50, 1), true)
		f := h.ftFramed
		select {
		case <-h.kinds:
		case <-time.After(10 * time.Second):
			t.Fatal("no Timeout within 10s")
		}
		time.Sleep(5 * p) // nothing should come: a longer wait only makes the check stricter
		if n := len(h.kinds); n > 0 {
			t.Errorf("%d Timeout calls after the frame was dropped by Reset; want none", n)
		}
		toAlive(t, f.recorder, "after the handler dropped the frame")
		f.check(t)
	})
}

// TestTimeoutFloors checks the options that bound every connection's
// timeouts: they apply without the protocol asking, the protocol cannot
// lengthen them or switch them off, and it can shorten them.
func TestTimeoutFloors(t *testing.T) {
	const p = 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		opt  Option
		set  func(t Transport) error
		data []byte // the peer sends it at once
		want TimeoutKind
		per  time.Duration // the period the *TimeoutError reports
	}{
		{"idle/none set", WithIdleTimeout(p), nil, nil, IdleTimeout, p},
		{"idle/switched off", WithIdleTimeout(p), func(t Transport) error { return SetTimeouts(t, 0, 0) }, nil, IdleTimeout, p},
		{"idle/longer", WithIdleTimeout(p), func(t Transport) error { return SetTimeouts(t, 0, time.Hour) }, nil, IdleTimeout, p},
		{"idle/shorter", WithIdleTimeout(time.Hour), func(t Transport) error { return SetTimeouts(t, 0, p) }, nil, IdleTimeout, p},
		{"frame/none set", WithFrameTimeout(p), nil, ftFrame(10, 0)[:5], FrameTimeout, p},
		{"frame/switched off", WithFrameTimeout(p), func(t Transport) error { return SetFrameTimeout(t, 0) }, ftFrame(10, 0)[:5], FrameTimeout, p},
		{"frame/longer", WithFrameTimeout(p), func(t Transport) error { return SetFrameTimeout(t, time.Hour) }, ftFrame(10, 0)[:5], FrameTimeout, p},
		{"frame/shorter", WithFrameTimeout(time.Hour), func(t Transport) error { return SetFrameTimeout(t, p) }, ftFrame(10, 0)[:5], FrameTimeout, p},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toEach(t, func(t *testing.T, k connKind) {
				r := newFtFramed(tc.set)
				_, cli := ttAttachAs(t, k, r, r.recorder, tc.opt)
				if err := r.err(); err != nil {
					t.Fatal(err)
				}
				if tc.data != nil {
					if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, tc.data), 10*time.Second); err != nil {
						t.Fatal(err)
					}
				}
				toCheckTimeoutErr(t, r.waitLost(t, 10*time.Second), tc.want, tc.per)
				r.check(t)
			})
		})
	}
}

// TestFrameTimeoutErrors checks SetFrameTimeout's and the options' errors,
// and that a frame timeout alone does not make a connection carry
// timeouts until it is set.
func TestFrameTimeoutErrors(t *testing.T) {
	if err := SetFrameTimeout(&fakeTransport{}, time.Second); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SetFrameTimeout(fakeTransport) = %v; want ErrNotSupported", err)
	}
	var f wire.Framer
	HostFramer(&fakeTransport{}, &f) // leaves f on its own: its Feed makes its buffers
	f.Init(ftCodec)
	if err := f.Feed(ftFrame(10<<10, 1)[:9<<10], func([]byte) bool { return true }); err != nil || f.Buffered() != 9<<10 {
		t.Errorf("a Framer HostFramer left alone: Feed = %v, Buffered() = %d", err, f.Buffered())
	}
	for _, opt := range []Option{WithIdleTimeout(-time.Second), WithFrameTimeout(-1)} {
		s, c := net.Pipe()
		if _, err := Attach(s, newRecorder(), opt); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Attach with a negative timeout option = %v; want an error matching fs.ErrInvalid", err)
		}
		s.Close()
		c.Close()
	}
	r := newRecorder()
	tr, _ := ttAttach(t, connKinds[0], r)
	if err := SetFrameTimeout(tr, -1); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("SetFrameTimeout(-1) = %v; want an error matching fs.ErrInvalid", err)
	}
	if err := SetFrameTimeout(tr, 0); err != nil || hasTimeoutState(tr) {
		t.Errorf("SetFrameTimeout(0) = %v, timeout state made %v; want nil and none", err, hasTimeoutState(tr))
	}
	tr.Abort()
	ttWaitGone(t, tr, r)
	if err := SetFrameTimeout(tr, time.Second); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetFrameTimeout after ConnectionLost = %v; want an error matching net.ErrClosed", err)
	}
}

func TestFrameTimeoutErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *TimeoutError
		want string
	}{
		{&TimeoutError{Kind: FrameTimeout, After: time.Second}, "protoflow: frame timeout: a frame was not complete within 1s"},
		{&TimeoutError{Kind: FrameTimeout, After: 2 * time.Second, MemoryWait: true}, "protoflow: frame timeout: a frame was not complete within 2s, waiting for reassembly memory"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q; want %q", got, tc.want)
		}
		if got, want := errors.Is(tc.err, ErrReassemblyBudget), tc.err.MemoryWait; got != want {
			t.Errorf("errors.Is(%v, ErrReassemblyBudget) = %v; want %v", tc.err, got, want)
		}
	}
	if got := FrameTimeout.String(); got != "frame timeout" {
		t.Errorf("FrameTimeout.String() = %q", got)
	}
}
