package protoflowtest_test

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
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/internal/contract"
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

// TestWaterMarksExact checks asyncio's comparisons to the byte, as
// protoflow's TestTransportWaterMarksExact does over a Unix socket:
// PauseWriting only when the queue is strictly above high, ResumeWriting
// at low or below, whether the queue or the limits move, with Flush taking
// the queue a few bytes at a time.
func TestWaterMarksExact(t *testing.T) {
	var pauseAt, resumeAt []int
	r := contract.NewRecorder()
	r.OnPause = func(r *contract.Recorder) { pauseAt = append(pauseAt, r.Transport().WriteBufferSize()) }
	r.OnResume = func(r *contract.Recorder) { resumeAt = append(resumeAt, r.Transport().WriteBufferSize()) }
	c := protoflowtest.New(r, protoflowtest.WithWriteBufferLimits(100, 40))
	defer c.Finish(t)
	tr := c.Transport()
	write := func(n int) {
		t.Helper()
		if _, err := tr.Write(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	step := func(what string, wantQ, wantPauses, wantResumes int) {
		t.Helper()
		if got := tr.WriteBufferSize(); got != wantQ {
			t.Errorf("%s: WriteBufferSize = %d, want %d", what, got, wantQ)
		}
		if p, r := r.Count("pause"), r.Count("resume"); p != wantPauses || r != wantResumes {
			t.Errorf("%s: %d PauseWriting and %d ResumeWriting, want %d and %d", what, p, r, wantPauses, wantResumes)
		}
	}

	write(10)
	step("the peer reads", 0, 0, 0)
	if got := len(c.ReadAll()); got != 10 {
		t.Errorf("ReadAll returned %d bytes, want 10", got)
	}
	c.Stall()
	write(100)
	step("queue == high", 100, 0, 0)
	write(1)
	step("queue == high+1", 101, 1, 0)
	c.Flush(60)
	step("queue == low+1", 41, 1, 0)
	if got := len(c.ReadAll()); got != 60 {
		t.Errorf("ReadAll after Flush(60) returned %d bytes, want 60", got)
	}
	c.Flush(1)
	step("queue == low", 40, 1, 1)
	write(61)
	step("high+1 again", 101, 2, 1)
	if err := tr.SetWriteBufferLimits(101, 101); err != nil {
		t.Fatal(err)
	}
	step("low raised to the queue", 101, 2, 2)
	if err := tr.SetWriteBufferLimits(100, 0); err != nil {
		t.Fatal(err)
	}
	step("high lowered below the queue", 101, 3, 2)
	c.Unstall()
	step("the peer reads everything", 0, 3, 3)
	if diff := cmp.Diff([]int{101, 101, 101}, pauseAt); diff != "" {
		t.Errorf("queue sizes seen by PauseWriting (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{40, 101, 0}, resumeAt); diff != "" {
		t.Errorf("queue sizes seen by ResumeWriting (-want +got):\n%s", diff)
	}

	// asyncio: a high-water mark of zero pauses whenever the queue is not
	// empty.
	if err := tr.SetWriteBufferLimits(0, 0); err != nil {
		t.Fatal(err)
	}
	c.Stall()
	write(1)
	step("high 0", 1, 4, 3)
	c.Unstall()
	step("high 0, drained", 0, 4, 4)
	r.Check(t)
}

// TestDrainFromWriterGoroutine writes from a goroutine of its own, as a
// client does, and drains after each write: Drain waits while the peer is
// stalled and the queue is above the mark, and wakes once the peer reads.
// PauseWriting runs on the writer's goroutine.
func TestDrainFromWriterGoroutine(t *testing.T) {
	r := contract.NewRecorder()
	c := protoflowtest.New(r, protoflowtest.WithWriteBufferLimits(1000, 100))
	defer c.Finish(t)
	c.Stall()
	const pieces = 50
	wrote := make(chan int, pieces)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range pieces {
			if _, err := c.Transport().Write(bytes.Repeat([]byte{byte(i)}, 100)); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
			if err := r.Drain(context.Background()); err != nil {
				t.Errorf("Drain: %v", err)
				return
			}
			wrote <- i
		}
	})
	// The writer stops in Drain after the write that lifts the queue above
	// 1000 bytes: the 11th.
	for i := range 10 {
		if got := <-wrote; got != i {
			t.Fatalf("write %d done, want %d", got, i)
		}
	}
	waitFor(t, "PauseWriting", func() bool { return r.Count("pause") == 1 })
	if got := c.Transport().WriteBufferSize(); got != 1100 {
		t.Errorf("queue = %d while the writer drains, want 1100", got)
	}
	c.Flush(900)
	if r.Count("resume") != 0 {
		t.Errorf("ResumeWriting with 200 bytes queued, want it only at 100")
	}
	c.Flush(100)
	if r.Count("resume") != 1 {
		t.Errorf("no ResumeWriting once the queue fell to the low-water mark")
	}
	c.Unstall()
	wg.Wait()
	got := c.ReadAll()
	if len(got) != pieces*100 {
		t.Fatalf("the peer got %d bytes, want %d", len(got), pieces*100)
	}
	for i := range pieces {
		if got[i*100] != byte(i) || got[i*100+99] != byte(i) {
			t.Fatalf("piece %d out of order", i)
		}
	}
	r.Check(t)
}

// TestOtherGoroutines: Close, Abort and ResumeReading called from outside
// the callbacks make callbacks due, which a goroutine of the Conn
// delivers; Conn's methods wait for it.
func TestOtherGoroutines(t *testing.T) {
	t.Run("ResumeReading", func(t *testing.T) {
		r := contract.NewRecorder()
		c := protoflowtest.New(r)
		defer c.Finish(t)
		if err := c.Transport().PauseReading(); err != nil {
			t.Fatal(err)
		}
		if err := c.Feed([]byte("held")); err != nil {
			t.Fatal(err)
		}
		if got := r.Received(); len(got) != 0 {
			t.Fatalf("DataReceived(%q) while reading was paused", got)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.Transport().ResumeReading()
		}()
		<-done
		c.ReadAll() // waits for the delivery
		if got := string(r.Received()); got != "held" {
			t.Errorf("received %q after ResumeReading, want %q", got, "held")
		}
		r.Check(t)
	})
	t.Run("Close", func(t *testing.T) {
		r := contract.NewRecorder()
		c := protoflowtest.New(r)
		defer c.Finish(t)
		go func() { _ = c.Transport().Close() }()
		<-c.Done()
		if lost, err := c.Lost(); !lost || err != nil {
			t.Errorf("Lost() = %v, %v after Close, want true, nil", lost, err)
		}
		checkEvents(t, r, "made", "lost")
	})
	t.Run("Lost settles", func(t *testing.T) {
		r := contract.NewRecorder()
		c := protoflowtest.New(r)
		defer c.Finish(t)
		c.Transport().Abort() // from the test, outside any callback
		if lost, err := c.Lost(); !lost || err != nil {
			t.Errorf("Lost() = %v, %v right after Abort, want true, nil", lost, err)
		}
		if !r.IsLost() {
			t.Errorf("Lost returned before ConnectionLost had run")
		}
	})
}

// TestFeed checks the peer's side of the read path: pieces of the read
// buffer size, the bytes handed to DataReceived overwritten after the
// call, and the errors once the peer or the connection is done.
func TestFeed(t *testing.T) {
	var reads []string
	var kept []byte
	r := contract.NewRecorder()
	r.OnData = func(_ *contract.Recorder, p []byte) {
		reads = append(reads, string(p))
		kept = p // the contract forbids it: Feed overwrites p after the call
	}
	c := protoflowtest.New(r, protoflowtest.WithReadBufferSize(3))
	defer c.Finish(t)
	if err := c.Feed([]byte("abcdefgh")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"abc", "def", "gh"}, reads); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	if bytes.Contains(kept, []byte("gh")) {
		t.Errorf("the bytes of the last read are intact after the call: %q", kept)
	}
	if err := c.Feed(nil); err != nil || len(reads) != 3 {
		t.Errorf("Feed(nil) = %v and made %d reads, want nil and none", err, len(reads)-3)
	}
	r.KeepOpen = false
	if err := c.FeedEOF(); err != nil {
		t.Fatal(err)
	}
	if err := c.FeedEOF(); !errors.Is(err, protoflowtest.ErrLost) {
		t.Errorf("FeedEOF after the loss = %v, want ErrLost", err)
	}
	if err := c.Feed([]byte("x")); !errors.Is(err, protoflowtest.ErrLost) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Feed after the loss = %v, want ErrLost, which matches net.ErrClosed", err)
	}
	checkEvents(t, r, "made", "data", "eof", "lost")
	r.Check(t)
}

// TestFeedAfterEOF: the peer cannot send after its own EOF, and a
// protocol that keeps its write side open writes on.
func TestFeedAfterEOF(t *testing.T) {
	r := contract.NewRecorder()
	r.KeepOpen = true
	c := protoflowtest.New(r)
	defer c.Finish(t)
	if err := c.FeedEOF(); err != nil {
		t.Fatal(err)
	}
	if err := c.Feed([]byte("x")); !errors.Is(err, protoflowtest.ErrFedEOF) {
		t.Errorf("Feed after FeedEOF = %v, want ErrFedEOF", err)
	}
	if err := c.FeedEOF(); !errors.Is(err, protoflowtest.ErrFedEOF) {
		t.Errorf("second FeedEOF = %v, want ErrFedEOF", err)
	}
	if _, err := c.Transport().Write([]byte("bye")); err != nil {
		t.Fatalf("Write after EOFReceived kept it open: %v", err)
	}
	if err := c.Transport().CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, closed := string(c.ReadAll()), c.WriteClosed(); got != "bye" || !closed {
		t.Errorf("the peer got %q, write side closed %v; want %q, true", got, closed, "bye")
	}
	if lost, _ := c.Lost(); lost {
		t.Errorf("the connection is lost after both half closes; it ends with Close")
	}
	r.Check(t)
}

// TestReset: the peer's reset loses the connection with the cause, or
// with ECONNRESET, drops the queue, and ends the write side.
func TestReset(t *testing.T) {
	r := contract.NewRecorder()
	c := protoflowtest.New(r)
	c.Stall()
	if _, err := c.Transport().Write([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	c.Reset(nil)
	lost, err := c.Lost()
	if !lost || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Lost() = %v, %v after Reset(nil), want true and an error matching ECONNRESET", lost, err)
	}
	c.Unstall()
	if got := c.ReadAll(); len(got) != 0 || !c.WriteClosed() {
		t.Errorf("the peer got %q after the reset, write side closed %v; want nothing, true", got, c.WriteClosed())
	}
	c.Reset(errors.New("a second reset"))
	if _, err2 := c.Lost(); err2 != err {
		t.Errorf("a second Reset changed the cause to %v", err2)
	}
	c.Finish(t)
	r.Check(t)
}

// TestReadFrame reads frames written with a codec, and waits for one
// written from another goroutine.
func TestReadFrame(t *testing.T) {
	codec := wire.LengthCodec{Size: 2}
	p := contract.NewRecorder()
	c := protoflowtest.New(p)
	defer c.Finish(t)
	tr := c.Transport()
	if _, err := c.ReadFrame(codec); !errors.Is(err, protoflowtest.ErrNoFrame) {
		t.Errorf("ReadFrame with nothing written = %v, want ErrNoFrame", err)
	}
	for _, s := range []string{"one", "", "three"} {
		if err := wire.WriteFrame(tr, codec, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = tr.Write([]byte{0, 7, 'p'}) // the start of a frame
	for _, want := range []string{"one", "", "three"} {
		got, err := c.ReadFrame(codec)
		if err != nil || string(got) != want {
			t.Errorf("ReadFrame = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := c.ReadFrame(codec); !errors.Is(err, protoflowtest.ErrNoFrame) {
		t.Errorf("ReadFrame with part of a frame = %v, want ErrNoFrame", err)
	}

	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = tr.Write([]byte("artial"))
		cancel()
	}()
	if got, err := c.AwaitFrame(wait, codec); string(got) != "partial" || err != nil {
		t.Errorf("AwaitFrame = %q, %v; want %q", got, err, "partial")
	}
	<-ctx.Done()
	if _, err := c.AwaitFrame(ctx, codec); !errors.Is(err, context.Canceled) {
		t.Errorf("AwaitFrame with an ended context = %v, want context.Canceled", err)
	}

	_, _ = tr.Write([]byte{0, 5, 'x'})
	if err := tr.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AwaitFrame(wait, codec); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadFrame with part of a frame before EOF = %v, want io.ErrUnexpectedEOF", err)
	}
	c.ReadAll()
	if _, err := c.ReadFrame(codec); !errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame at EOF = %v, want io.EOF", err)
	}
	small := protoflowtest.New(contract.NewRecorder())
	defer small.Finish(t)
	_, _ = small.Transport().Write([]byte{0xff, 0xff})
	if _, err := small.ReadFrame(wire.LengthCodec{Size: 2, Max: 10}); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Errorf("ReadFrame of a frame over the codec's Max = %v, want ErrFrameTooLarge", err)
	}
}

// TestGoexitInCallback: a callback that ends its goroutine (t.FailNow)
// aborts the connection with a *PanicError, and ConnectionLost is still
// delivered, by a goroutine of the Conn.
func TestGoexitInCallback(t *testing.T) {
	r := contract.NewRecorder()
	r.OnData = func(*contract.Recorder, []byte) { runtime.Goexit() }
	c := protoflowtest.New(r)
	defer c.Finish(t)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		_ = c.Feed([]byte("x"))
		t.Error("Feed returned after runtime.Goexit in DataReceived")
	}()
	<-fed
	lost, err := c.Lost()
	var pe *protoflow.PanicError
	if !lost || !errors.As(err, &pe) || pe.Callback != "DataReceived" || !strings.Contains(pe.Error(), "Goexit") {
		t.Fatalf("Lost() = %v, %v; want a *PanicError for runtime.Goexit in DataReceived", lost, err)
	}
	if err := c.Feed([]byte("y")); !errors.Is(err, protoflowtest.ErrLost) {
		t.Errorf("Feed after the loss = %v, want ErrLost", err)
	}
	r.Check(t)
}

// TestPanicAfterClose: a panic after a clean close still reaches
// ConnectionLost, as over the real transport.
func TestPanicAfterClose(t *testing.T) {
	r := contract.NewRecorder()
	r.OnData = func(r *contract.Recorder, p []byte) {
		_ = r.Transport().Close()
		panic("after close")
	}
	c := protoflowtest.New(r)
	defer c.Finish(t)
	_ = c.Feed([]byte("x"))
	_, err := c.Lost()
	var pe *protoflow.PanicError
	if !errors.As(err, &pe) || pe.Value != "after close" {
		t.Errorf("ConnectionLost(%v), want the *PanicError of the panic after Close", err)
	}
	r.Check(t)
}

// TestNetConn: there is no socket, and nothing pretends there is one.
func TestNetConn(t *testing.T) {
	c := protoflowtest.New(contract.NewRecorder())
	defer c.Finish(t)
	tr := c.Transport()
	nc := tr.NetConn()
	if nc.LocalAddr() != tr.LocalAddr() || nc.RemoteAddr() != tr.RemoteAddr() {
		t.Errorf("NetConn's addresses differ from the transport's")
	}
	if tr.LocalAddr().Network() != "protoflowtest" || tr.LocalAddr().String() == tr.RemoteAddr().String() {
		t.Errorf("addresses %v, %v", tr.LocalAddr(), tr.RemoteAddr())
	}
	if _, err := nc.Write([]byte("x")); err == nil {
		t.Errorf("NetConn().Write succeeded")
	}
	if got := c.ReadAll(); len(got) != 0 {
		t.Errorf("NetConn().Write reached the peer: %q", got)
	}
}

// TestNewPanicsOnBadLimits: a test with bad limits is a bug in the test.
func TestNewPanicsOnBadLimits(t *testing.T) {
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), "high (1) must be >= low (2)") {
			t.Errorf("New with limits (1, 2) did not panic with the limits' error: %v", v)
		}
	}()
	protoflowtest.New(contract.NewRecorder(), protoflowtest.WithWriteBufferLimits(1, 2))
}

// leaker starts a goroutine in ConnectionMade that outlives the
// connection until release is closed.
type leaker struct {
	protoflow.BaseProtocol
	release chan struct{}
}

func (l *leaker) ConnectionMade(t protoflow.Transport) {
	l.BaseProtocol.ConnectionMade(t)
	go func() { <-l.release }()
}

// failRecorder records a test's failures instead of failing it.
type failRecorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *failRecorder) Helper() {}
func (f *failRecorder) Error(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprint(args...))
}
func (f *failRecorder) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *failRecorder) failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errors...)
}

// TestFinishFindsLeaks: Finish ends the connection and fails the test for
// a goroutine the protocol left behind.
func TestFinishFindsLeaks(t *testing.T) {
	l := &leaker{release: make(chan struct{})}
	c := protoflowtest.New(l)
	f := &failRecorder{TB: t}
	c.Finish(f)
	close(l.release)
	got := f.failures()
	if len(got) != 1 || !strings.Contains(got[0], "leaker") {
		t.Errorf("Finish reported %q, want the leaked goroutine of (*leaker).ConnectionMade", got)
	}
	if lost, _ := c.Lost(); !lost {
		t.Errorf("Finish did not end the connection")
	}

	clean := protoflowtest.New(contract.NewRecorder())
	f = &failRecorder{TB: t}
	clean.Finish(f)
	if got := f.failures(); len(got) != 0 {
		t.Errorf("Finish of a connection that leaves nothing reported %q", got)
	}
}

func checkEvents(t *testing.T, r *contract.Recorder, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, r.EventsCollapsed()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
