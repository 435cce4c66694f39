package protoflow

// Tests of Drain over this package's transport, where it follows the write
// state the transport decides: from inside callbacks (including hooks the
// flusher delivers), across the connection's death, in races with
// ConnectionLost, and under stress. They come from a concurrency review
// that found each of these hanging or returning the wrong result once.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func rvStack() string {
	buf := make([]byte, 64<<10)
	return string(buf[:runtime.Stack(buf, false)])
}

// R1: Drain called from the ResumeWriting hook, which the flusher goroutine
// delivers itself, after a Write from the hook crossed the high-water mark
// again: the only goroutine that can make the queue fall is the one waiting.
func TestDrainInResumeHookOnFlusher(t *testing.T) {
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			var once sync.Once
			type res struct {
				err       error
				took      time.Duration
				onFlusher bool
				paused    bool
			}
			ch := make(chan res, 1)
			r.onResume = func(r *recorder) {
				once.Do(func() {
					onFlusher := strings.Contains(rvStack(), "(*conn).flush(")
					_, _ = r.Transport().Write(make([]byte, 256<<10)) // > high: pause decided
					paused := r.WritingPaused()
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					defer cancel()
					start := time.Now()
					err := r.Drain(ctx)
					ch <- res{err, time.Since(start), onFlusher, paused}
				})
			}
			tr, cli := ttAttach(t, k, r)
			ttShrinkBuffers(tr, 64<<10)
			for !r.WritingPaused() {
				if _, err := tr.Write(make([]byte, 256<<10)); err != nil {
					t.Fatal(err)
				}
			}
			go func() { _, _ = io.Copy(io.Discard, cli) }() // the peer reads everything
			var got res
			select {
			case got = <-ch:
			case <-time.After(20 * time.Second):
				t.Fatalf("no ResumeWriting; events %v", r.eventsCopy())
			}
			t.Logf("hook on flusher goroutine: %v; WritingPaused after hook's Write: %v; Drain = %v after %v",
				got.onFlusher, got.paused, got.err, got.took)
			if got.err != nil {
				t.Errorf("Drain inside ResumeWriting (on flusher=%v) = %v after %v while the peer reads everything; want nil promptly",
					got.onFlusher, got.err, got.took)
			}
		})
	}
}

// R2: Drain inside DataReceived while writing is paused (decided), then the
// connection dies without ConnectionLost being able to run (the reader
// goroutine is the one blocked in Drain): Abort, or a peer reset that fails
// the flusher's writev.
func TestDrainInCallbackThenDeath(t *testing.T) {
	for _, how := range []string{"abort", "reset"} {
		for _, k := range streamKinds {
			t.Run(how+"/"+k.name, func(t *testing.T) {
				r := newRecorder()
				var once sync.Once
				type res struct {
					err  error
					took time.Duration
				}
				ch := make(chan res, 1)
				inDrain := make(chan struct{})
				r.onData = func(r *recorder, p []byte) {
					once.Do(func() {
						for !r.WritingPaused() {
							_, _ = r.Transport().Write(make([]byte, 256<<10))
						}
						_, _ = r.Transport().Write(make([]byte, 32<<20)) // stays above low: the peer does not read
						close(inDrain)
						ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
						defer cancel()
						start := time.Now()
						err := r.Drain(ctx)
						ch <- res{err, time.Since(start)}
					})
				}
				tr, cli := ttAttach(t, k, r)
				ttShrinkBuffers(tr, 64<<10)
				if _, err := cli.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				<-inDrain
				time.Sleep(100 * time.Millisecond) // let it block in Drain
				died := time.Now()
				if how == "abort" {
					tr.Abort()
				} else {
					ttResetPeer(t, cli)
				}
				got := <-ch
				t.Logf("Drain returned %v, %v after the %s (blocked %v in all)", got.err, time.Since(died), how, got.took)
				if time.Since(died) > time.Second {
					t.Errorf("Drain inside DataReceived returned %v only %v after the %s: the death never woke it",
						got.err, time.Since(died), how)
				}
			})
		}
	}
}

// R2b: the same through Server.Shutdown: its deadline aborts the connection,
// but Shutdown cannot return until the callback's Drain gives up on its own.
func TestDrainShutdownHangsOnDrainInCallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inDrain := make(chan struct{})
	var once sync.Once
	srv := NewServer(func() *recorder {
		r := newRecorder()
		r.onData = func(r *recorder, p []byte) {
			for !r.WritingPaused() {
				_, _ = r.Transport().Write(make([]byte, 256<<10))
			}
			once.Do(func() { close(inDrain) })
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			_ = r.Drain(ctx)
		}
		return r
	})
	go func() { _ = srv.Serve(ln) }()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	_, _ = cli.Write([]byte("x"))
	<-inDrain
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = srv.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown(300ms) = %v after %v", err, took)
	if took > 2*time.Second {
		t.Errorf("Shutdown with a 300ms deadline took %v: the Abort at the deadline did not wake the Drain in DataReceived", took)
	}
}

// R3: Drain's fast path loads fast, then flow; ConnectionLost swaps flow to
// nil before it clears fast. A Drain overlapping both returns nil, although
// writing was paused (decided) and the connection was lost with a cause.
func TestDrainFastPathVsLost(t *testing.T) {
	cause := errors.New("boom")
	var nils, lostErrs, resets int
	deadline := time.Now().Add(time.Second) // the race showed within milliseconds
	for iter := 0; time.Now().Before(deadline) && nils == 0; iter++ {
		var b BaseProtocol
		c := &conn{}
		b.ConnectionMade(c)
		c.mu.Lock()
		c.setLocked(stWritePaused) // decided: paused; PauseWriting not delivered yet
		c.mu.Unlock()
		const n = 4
		results := make(chan error, n)
		start := make(chan struct{})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for range n {
			go func() { <-start; results <- b.Drain(ctx) }()
		}
		lostDone := make(chan struct{})
		go func() { <-start; runtime.Gosched(); b.ConnectionLost(cause); close(lostDone) }()
		close(start)
		for range n {
			err := <-results
			switch {
			case err == nil:
				nils++
			case errors.Is(err, ErrConnectionLost) && errors.Is(err, cause):
				lostErrs++
			case errors.Is(err, ErrConnectionReset):
				resets++
			default:
				t.Fatalf("unexpected %v", err)
			}
		}
		<-lostDone
		cancel()
	}
	t.Logf("Drain results: %d nil, %d ConnectionLostError, %d ErrConnectionReset", nils, lostErrs, resets)
	if nils > 0 {
		t.Errorf("Drain returned nil %d times while writing was paused and the connection was lost with a cause", nils)
	}
}

// R4: WritingPaused loads flow, then fast. Between ConnectionLost's swap of
// flow and its update of fast, it reports the callback state instead of the
// decided one: true, false, true.
func TestDrainWritingPausedGlitchAtLost(t *testing.T) {
	glitches := 0
	deadline := time.Now().Add(time.Second) // the race showed on the first try
	for time.Now().Before(deadline) && glitches == 0 {
		var b BaseProtocol
		c := &conn{}
		b.ConnectionMade(c)
		c.mu.Lock()
		c.setLocked(stWritePaused) // decided paused; b.paused false
		c.mu.Unlock()
		var stop atomic.Bool
		sawFalse := make(chan bool, 1)
		go func() {
			seen := false
			for !stop.Load() {
				if !b.WritingPaused() {
					seen = true
				}
			}
			sawFalse <- seen
		}()
		runtime.Gosched()
		b.ConnectionLost(nil)
		stop.Store(true)
		if <-sawFalse {
			glitches++
		}
		if !b.WritingPaused() {
			t.Fatal("WritingPaused false after ConnectionLost")
		}
	}
	if glitches > 0 {
		t.Errorf("WritingPaused() read false during ConnectionLost although it was true before and after")
	}
}

// R5: pause and resume decided while DataReceived runs are all delivered,
// in order, after it; WritingPaused inside the hooks reports the decided
// state, which may already be the opposite of the callback being delivered
// (documented on WritingPaused).
func TestDrainWritingPausedInsideHooks(t *testing.T) {
	skipOnLoop(t, "the queue drains on the loop, which a blocked DataReceived holds up (a callback that blocks stalls its loop)")
	const high, low = 64 << 10, 16 << 10
	r := newRecorder()
	gates := make(chan chan struct{}, 4)
	inData := make(chan struct{}, 4)
	var mu sync.Mutex
	var seen []string
	r.onData = func(r *recorder, p []byte) {
		g := <-gates
		inData <- struct{}{}
		<-g
	}
	r.onPause = func(r *recorder) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("pause(WritingPaused=%v)", r.WritingPaused()))
		mu.Unlock()
	}
	r.onResume = func(r *recorder) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("resume(WritingPaused=%v)", r.WritingPaused()))
		mu.Unlock()
	}
	srv, cli := unixPair(t)
	ttShrinkConn(srv, 32<<10)
	_ = cli.(*net.UnixConn).SetReadBuffer(32 << 10)
	tr, err := Attach(srv, r, WithWriteBufferLimits(high, low))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { tr.Abort(); cli.Close(); <-r.lostCh }()
	var reading atomic.Bool
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if !reading.Load() {
				time.Sleep(time.Millisecond)
				continue
			}
			if _, err := cli.Read(buf); err != nil {
				return
			}
		}
	}()
	block := func() chan struct{} {
		g := make(chan struct{})
		gates <- g
		_, _ = cli.Write([]byte("x"))
		<-inData
		return g
	}
	// Phase A: pause and resume decided while DataReceived runs.
	g := block()
	reading.Store(true)
	_, _ = tr.Write(make([]byte, 1<<20))
	waitFor(t, 10*time.Second, "queue drained", func() bool { return tr.WriteBufferSize() == 0 })
	close(g)
	waitFor(t, 10*time.Second, "resume", func() bool { return ttCount(r, "resume") == 1 })
	// Phase B: pause, resume, pause decided while DataReceived runs.
	g = block()
	_, _ = tr.Write(make([]byte, 1<<20))
	waitFor(t, 10*time.Second, "queue drained", func() bool { return tr.WriteBufferSize() == 0 })
	reading.Store(false)
	time.Sleep(20 * time.Millisecond)
	_, _ = tr.Write(make([]byte, 1<<20))
	close(g)
	waitFor(t, 10*time.Second, "pause", func() bool { return ttCount(r, "pause") == 3 })
	reading.Store(true)
	waitFor(t, 10*time.Second, "resume", func() bool { return ttCount(r, "resume") == 3 })
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 6 {
		t.Errorf("hooks ran %d times, want 3 pauses and 3 resumes: %v", len(seen), seen)
	}
	r.check(t) // strictly alternating, never concurrent
	t.Logf("hooks saw: %v", seen)
}

// wrapProto is a decorator protocol: it forwards everything to an inner
// protocol that embeds BaseProtocol, so the transport cannot find the
// BaseProtocol (c.base == nil), yet BaseProtocol.ConnectionMade gets *conn.
type wrapProto struct{ in *recorder }

func (w *wrapProto) ConnectionMade(t Transport) { w.in.ConnectionMade(t) }
func (w *wrapProto) DataReceived(p []byte)      { w.in.DataReceived(p) }
func (w *wrapProto) EOFReceived() bool          { return w.in.EOFReceived() }
func (w *wrapProto) ConnectionLost(err error)   { w.in.ConnectionLost(err) }
func (w *wrapProto) PauseWriting()              { w.in.PauseWriting() }
func (w *wrapProto) ResumeWriting()             { w.in.ResumeWriting() }

// R6: with a decorator protocol, Drain inside a callback waits for
// ResumeWriting, which cannot be delivered while that callback runs.
func TestDrainInCallbackWrappedProtocol(t *testing.T) {
	r := newRecorder()
	type res struct {
		err  error
		took time.Duration
	}
	ch := make(chan res, 1)
	var once sync.Once
	r.onData = func(r *recorder, p []byte) {
		once.Do(func() {
			for !r.WritingPaused() {
				_, _ = r.Transport().Write(make([]byte, 256<<10))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			err := r.Drain(ctx)
			ch <- res{err, time.Since(start)}
		})
	}
	srv, cli := tcpPair(t)
	ttShrinkConn(srv, 64<<10)
	tr, err := Attach(srv, &wrapProto{r})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { tr.Abort(); cli.Close(); <-r.lostCh }()
	go func() { _, _ = io.Copy(io.Discard, cli) }()
	_, _ = cli.Write([]byte("x"))
	got := <-ch
	t.Logf("Drain = %v after %v (queue now %d)", got.err, got.took, tr.WriteBufferSize())
	if got.err != nil {
		t.Errorf("Drain inside DataReceived of a wrapped protocol = %v after %v with the peer reading everything", got.err, got.took)
	}
}

// R8: stress of drainers on other goroutines against writers, the flusher,
// SetWriteBufferLimits, slow callbacks, and a random Abort: every drainer
// returns promptly after ConnectionLost, and a lone writer's Drain never
// returns nil with the queue above high.
func TestDrainStressDrainers(t *testing.T) {
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			for iter := range 3 {
				rvStressOnce(t, k, iter)
			}
		})
	}
}

func rvStressOnce(t *testing.T, k connKind, iter int) {
	r := newRecorder()
	r.onData = func(r *recorder, p []byte) { time.Sleep(time.Duration(len(p)%3) * time.Millisecond) }
	r.onPause = func(r *recorder) { time.Sleep(200 * time.Microsecond) }
	r.onResume = func(r *recorder) { time.Sleep(200 * time.Microsecond) }
	tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(64<<10, 16<<10))
	ttShrinkBuffers(tr, 32<<10)
	stopPeer := make(chan struct{})
	go func() { // slow reader + occasional writer (to make DataReceived run)
		buf := make([]byte, 8<<10)
		for i := 0; ; i++ {
			select {
			case <-stopPeer:
				return
			default:
			}
			_ = cli.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			if _, err := cli.Read(buf); err != nil {
				var ne net.Error
				if !(errors.As(err, &ne) && ne.Timeout()) {
					return
				}
			}
			if i%7 == 0 {
				_ = cli.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
				_, _ = cli.Write([]byte("ping"))
			}
		}
	}()
	defer close(stopPeer)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var drainDone atomic.Int32
	var lostAt atomic.Int64
	var late atomic.Int64
	const writers = 6
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := bytes.Repeat([]byte{byte(w)}, 7000+w*1000)
			for {
				if _, err := tr.Write(p); err != nil {
					return
				}
				err := r.Drain(ctx)
				if la := lostAt.Load(); la != 0 {
					if d := int64(time.Since(time.Unix(0, la))); d > late.Load() {
						late.Store(d)
					}
				}
				if err != nil {
					if errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("drainer hit its deadline: events %v state %s", ttEventsWithout(r, "data"), ttState(tr))
					}
					return
				}
				drainDone.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !tr.IsClosing(); i++ {
			if i%2 == 0 {
				_ = tr.SetWriteBufferLimits(32<<10, 8<<10)
			} else {
				_ = tr.SetWriteBufferLimits(96<<10, 48<<10)
			}
			time.Sleep(time.Duration(i%5) * 100 * time.Microsecond)
		}
	}()
	time.Sleep(time.Duration(150+iter*60) * time.Millisecond)
	if iter%2 == 0 {
		tr.Abort()
	} else {
		ttResetPeer(t, cli)
	}
	<-r.lostCh
	lostAt.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("writers/drainers still blocked 5s after ConnectionLost\n%s", ttStacks())
	}
	r.check(t)
	if drainDone.Load() == 0 {
		t.Logf("iter %d: no Drain completed before the loss", iter)
	}
}

// R9: fast path cost with this package's transport (flow set).
func BenchmarkReviewDrainNotPausedConn(b *testing.B) {
	var p BaseProtocol
	c := &conn{}
	p.ConnectionMade(c)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Drain(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// R9b: decided resumed but the ResumeWriting callback is still pending
// (b.paused true): Drain takes the mutex path.
func BenchmarkReviewDrainResumePending(b *testing.B) {
	var p BaseProtocol
	c := &conn{}
	p.ConnectionMade(c)
	p.PauseWriting()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Drain(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
