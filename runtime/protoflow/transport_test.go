package protoflow

// Real-socket tests of the transport (conn): flow control against slow and
// vanishing peers, close/abort storms, panics, server shutdown, half close,
// read pausing, exact water marks, Dial/Attach and re-entrant callbacks.
// Every test runs over each applicable kind of connection and leaves no
// goroutine behind (TestMain runs goleak).
//
// Helpers in this file start with "tt" so that they cannot collide with
// those of the package's other test files.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ---------------------------------------------------------------------------
// Helpers

// ttAttach attaches r to the server side of a fresh pair of kind k and
// returns the transport and the raw peer. Cleanup aborts the transport,
// closes the peer and waits until every goroutine of the connection is gone.
func ttAttach(t *testing.T, k connKind, r *recorder, opts ...Option) (Transport, net.Conn) {
	t.Helper()
	return ttAttachAs(t, k, r, r, opts...)
}

// ttAttachAs is ttAttach for any protocol p that reports to r. Cleanup
// also checks that the connection's timeouts, if any, have stopped, and
// that r saw no violation of the contract.
func ttAttachAs(t *testing.T, k connKind, p Protocol, r *recorder, opts ...Option) (Transport, net.Conn) {
	t.Helper()
	srv, cli := k.pair(t)
	tr, err := Attach(srv, p, opts...)
	if err != nil {
		srv.Close()
		cli.Close()
		t.Fatalf("Attach: %v", err)
	}
	t.Cleanup(func() {
		tr.Abort()
		ttClosePeer(cli)
		ttWaitGone(t, tr, r)
		toCheckStopped(t, tr)
		r.check(t)
	})
	return tr, cli
}

// ttWaitGone waits until the transport's reader and flusher goroutines have
// exited, which happens right after ConnectionLost returns.
func ttWaitGone(t testing.TB, tr Transport, r *recorder) {
	t.Helper()
	select {
	case <-tr.(interface{ doneChan() <-chan struct{} }).doneChan():
	case <-time.After(10 * time.Second):
		t.Errorf("connection goroutines still running 10s after Abort; events %v\n%s", r.eventsCopy(), ttStacks())
	}
}

// ttClosePeer closes a raw peer. For TLS the socket beneath goes first, so
// that a close alert can never block on a transport that stopped reading.
func ttClosePeer(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		tc.NetConn().Close()
	}
	c.Close()
}

// ttCloseWrite half closes a raw peer (TCP, Unix or TLS).
func ttCloseWrite(t testing.TB, c net.Conn) {
	t.Helper()
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("%T has no CloseWrite", c)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatalf("peer CloseWrite: %v", err)
	}
}

// ttResetPeer makes the peer vanish as abruptly as its kind allows: an RST
// for TCP (also beneath TLS), a close with unread data for Unix sockets and
// pipes.
func ttResetPeer(t testing.TB, c net.Conn) {
	t.Helper()
	raw := c
	if tc, ok := c.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		if err := tcp.SetLinger(0); err != nil {
			t.Fatalf("SetLinger(0): %v", err)
		}
	}
	raw.Close()
}

// ttCount returns how many times r saw event.
func ttCount(r *recorder, event string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countLocked(event)
}

// ttEventsWithout returns r's events without the ones listed.
func ttEventsWithout(r *recorder, drop ...string) []string {
	var out []string
	for _, e := range r.eventsCopy() {
		keep := true
		for _, d := range drop {
			if e == d {
				keep = false
			}
		}
		if keep && (len(out) == 0 || out[len(out)-1] != e || e != "data") {
			out = append(out, e) // runs of "data" collapse to one
		}
	}
	return out
}

// ttPattern returns n pseudo-random bytes determined by seed.
func ttPattern(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// ttStacks returns the stacks of all goroutines.
func ttStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// ttWaitGoroutines waits until at least n goroutines match: the only way to
// know, without sleeping, that goroutines are blocked where a test needs
// them.
func ttWaitGoroutines(t testing.TB, what string, n int, match func(header, stack string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k := 0
		for _, g := range strings.Split(ttStacks(), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if match(header, g) {
				k++
			}
		}
		if k >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d goroutines %s; found %d\n%s", n, what, k, ttStacks())
		}
		time.Sleep(time.Millisecond)
	}
}

// ttPeerResult is what a peer read before EOF or an error.
type ttPeerResult struct {
	n    int64
	sum  [sha256.Size]byte
	data []byte // only when kept
	err  error  // nil at EOF
}

// ttRead reads c until EOF or an error on a goroutine of its own. keep keeps
// the bytes; slow reads in small pieces with an occasional pause.
func ttRead(c net.Conn, keep, slow bool) <-chan ttPeerResult {
	ch := make(chan ttPeerResult, 1)
	go func() {
		h := sha256.New()
		var res ttPeerResult
		var kept bytes.Buffer
		buf := make([]byte, 64<<10)
		for i := 0; ; i++ {
			p := buf
			if slow {
				p = buf[:1+(i*4099)%(16<<10)]
			}
			n, err := c.Read(p)
			h.Write(p[:n])
			res.n += int64(n)
			if keep {
				kept.Write(p[:n])
			}
			if err != nil {
				if err != io.EOF {
					res.err = err
				}
				break
			}
			if slow && i%512 == 511 {
				time.Sleep(200 * time.Microsecond) // only slows the peer down
			}
		}
		copy(res.sum[:], h.Sum(nil))
		res.data = kept.Bytes()
		ch <- res
	}()
	return ch
}

// ttRecv waits for a peer's result.
func ttRecv(t testing.TB, ch <-chan ttPeerResult, d time.Duration) ttPeerResult {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(d):
		t.Fatalf("peer did not see EOF within %v\n%s", d, ttStacks())
	}
	panic("unreachable")
}

// ttReadFull reads exactly n bytes from c within d.
func ttReadFull(t testing.TB, c net.Conn, n int, d time.Duration) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	b := make([]byte, n)
	if k, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("peer read %d of %d bytes: %v (got %q)", k, n, err, b[:min(k, 64)])
	}
	return b
}

// ttReadToEOF reads c until EOF within d.
func ttReadToEOF(t testing.TB, c net.Conn, d time.Duration) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("peer read %d bytes, then %v; want EOF", len(b), err)
	}
	return b
}

// ttPeerWrite writes p to c on a goroutine of its own (a pipe's write only
// returns once the transport has read it) and returns the error channel.
func ttPeerWrite(c net.Conn, p []byte) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := c.Write(p)
		ch <- err
	}()
	return ch
}

func ttWaitErr(t testing.TB, what string, ch <-chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("%s did not return within %v\n%s", what, d, ttStacks())
	}
	return nil
}

// ttKinds returns the connKinds whose names are listed.
func ttKinds(names ...string) []connKind {
	var out []connKind
	for _, k := range connKinds {
		for _, n := range names {
			if k.name == n {
				out = append(out, k)
			}
		}
	}
	return out
}

// ttShrinkBuffers caps the kernel's send buffer beneath the transport (TCP,
// also beneath TLS, and Unix sockets), so that flow control engages after
// kilobytes rather than megabytes. Use at least 64 KiB, and leave the
// peer's receive buffer alone: on loopback, buffers below the MSS (64 KiB)
// stall TCP for whole seconds.
func ttShrinkBuffers(tr Transport, n int) { ttShrinkConn(tr.NetConn(), n) }

// ttShrinkConn is ttShrinkBuffers for a connection not yet attached.
func ttShrinkConn(c net.Conn, n int) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if b, ok := c.(interface{ SetWriteBuffer(int) error }); ok {
		_ = b.SetWriteBuffer(n)
	}
}

// ttPinBuffers fixes the kernel's receive and send buffers of a TCP
// connection (also beneath TLS) at n bytes, which stops the kernel from
// growing them (up to 32 MiB and 4 MiB here) to swallow a whole stream.
// Keep n above the loopback MSS (64 KiB).
func ttPinBuffers(c net.Conn, n int) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(n)
		_ = tcp.SetWriteBuffer(n)
	}
}

// ttState describes the transport's internal flow-control state, for
// failure messages.
func ttState(tr Transport) string {
	c, ok := tr.(*conn)
	if !ok {
		return fmt.Sprintf("queue size %d, state %v", tr.WriteBufferSize(), tr.(testConn).coreOf().st())
	}
	c.mu.Lock()
	qs := fmt.Sprintf("queue size %d, state %v", c.q.size, c.st())
	c.mu.Unlock()
	c.s.mu.Lock()
	ss := fmt.Sprintf("serializer running %v, pending %d, paused %v, lost %v", c.s.running, c.s.pending, c.s.paused, c.s.lost)
	c.s.mu.Unlock()
	return qs + "; " + ss
}

// ttLost returns the error ConnectionLost got; it must have run.
func ttLost(t testing.TB, r *recorder) error {
	t.Helper()
	select {
	case <-r.lostCh:
	default:
		t.Fatalf("ConnectionLost has not run; events %v", r.eventsCopy())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lostErr
}

// ttDescribeDiff locates the first difference between got and want and says
// whether the bytes found there were sent earlier (duplicated), later
// (skipped ahead) or never.
func ttDescribeDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	if i == len(got) && i == len(want) {
		return "equal"
	}
	if i == len(got) || i == len(want) {
		return fmt.Sprintf("equal for %d bytes, then one ends (got %d, want %d bytes)", i, len(got), len(want))
	}
	probe := got[i:min(i+64, len(got))]
	where := "bytes never sent"
	if j := bytes.Index(want, probe); j >= 0 && j < i {
		where = fmt.Sprintf("a repeat of the bytes at offset %d", j)
	} else if j > i {
		where = fmt.Sprintf("the bytes at offset %d (%d bytes skipped)", j, j-i)
	}
	return fmt.Sprintf("first difference at offset %d of %d: got %s", i, len(want), where)
}

// ttListenKind is a kind of listener for Server tests.
type ttListenKind struct {
	name   string
	listen func(t testing.TB) net.Listener
	dial   func(t testing.TB, addr net.Addr) net.Conn // the TLS handshake is left to the first read or write
}

var ttListenKinds = []ttListenKind{
	{
		name: "tcp",
		listen: func(t testing.TB) net.Listener {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return ln
		},
		dial: ttDialPlain,
	},
	{
		name: "unix",
		listen: func(t testing.TB) net.Listener {
			ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
			if err != nil {
				t.Fatal(err)
			}
			return ln
		},
		dial: ttDialPlain,
	},
	{
		name: "tls",
		listen: func(t testing.TB) net.Listener {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return tls.NewListener(ln, testTLSConfig(t))
		},
		dial: func(t testing.TB, addr net.Addr) net.Conn {
			return tls.Client(ttDialPlain(t, addr), testTLSConfig(t))
		},
	},
}

func ttDialPlain(t testing.TB, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial(addr.Network(), addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ttServer is a Server serving one listener on a goroutine.
type ttServer struct {
	*Server
	addr    net.Addr
	done    chan struct{}
	serveEr error // set before done is closed
}

func ttStartServer(t *testing.T, lk ttListenKind, factory func() Protocol, opts ...Option) *ttServer {
	t.Helper()
	ln := lk.listen(t)
	s := &ttServer{Server: NewServer(factory, opts...), addr: ln.Addr(), done: make(chan struct{})}
	go func() {
		s.serveEr = s.Serve(ln)
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Close()
		if err := s.wait(t); !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s
}

func (s *ttServer) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-s.done:
		return s.serveEr
	case <-time.After(10 * time.Second):
		t.Fatalf("Serve did not return\n%s", ttStacks())
	}
	return nil
}

// ttRecorders collects the recorders a server's factory made.
type ttRecorders struct {
	mu   sync.Mutex
	recs []*recorder
}

func (rs *ttRecorders) add(r *recorder) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.recs = append(rs.recs, r)
	return len(rs.recs) - 1
}

func (rs *ttRecorders) all() []*recorder {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]*recorder(nil), rs.recs...)
}

func (rs *ttRecorders) get(t testing.TB, i int) *recorder {
	t.Helper()
	var r *recorder
	waitFor(t, 10*time.Second, fmt.Sprintf("connection %d", i), func() bool {
		all := rs.all()
		if len(all) > i {
			r = all[i]
			return true
		}
		return false
	})
	return r
}

// ttLockedBuffer is a bytes.Buffer safe for a logger on other goroutines.
type ttLockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *ttLockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *ttLockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ttCheckClosedErrors checks what every method returns once the transport
// is closed or lost.
func ttCheckClosedErrors(t *testing.T, k connKind, tr Transport) {
	t.Helper()
	if _, err := tr.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after close: got %v, want an error matching net.ErrClosed", err)
	}
	if err := tr.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: got %v, want an error matching net.ErrClosed", err)
	}
	wantCW := net.ErrClosed
	if k.name == "pipe" {
		wantCW = ErrNotSupported
	}
	if err := tr.CloseWrite(); !errors.Is(err, wantCW) {
		t.Errorf("CloseWrite after close: got %v, want an error matching %v", err, wantCW)
	}
	if !tr.IsClosing() {
		t.Errorf("IsClosing after close = false, want true")
	}
	if err := tr.PauseReading(); err != nil {
		t.Errorf("PauseReading after close: %v, want nil (no-op)", err)
	}
	if err := tr.ResumeReading(); err != nil {
		t.Errorf("ResumeReading after close: %v, want nil (no-op)", err)
	}
	tr.Abort() // no-op, and no second ConnectionLost
}

// ---------------------------------------------------------------------------
// Flusher hand-off

// ttMsg is message seq of writer w: a 7-byte header (writer, sequence
// number, length) and a body derived from all three, so that a peer can
// tell a torn, duplicated, dropped or reordered message.
func ttMsg(w, seq, n int) []byte {
	b := make([]byte, 7+n)
	b[0] = byte(w)
	binary.BigEndian.PutUint32(b[1:], uint32(seq))
	binary.BigEndian.PutUint16(b[5:], uint16(n))
	for i := range n {
		b[7+i] = byte(w*31 + seq + i)
	}
	return b
}

// ttCheckMsgs reads messages from c until EOF and checks that every writer's
// messages arrive whole and in order, want of them per writer; size gives a
// message's body length. slow slows the reader down now and then.
func ttCheckMsgs(c net.Conn, writers, want int, size func(w, seq int) int, slow bool) <-chan error {
	ch := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(c, 1024)
		defer func() {
			// After an error, go on reading so that the transport can
			// still flush and close.
			_, _ = io.Copy(io.Discard, br)
		}()
		next := make([]int, writers)
		hdr := make([]byte, 7)
		for got := 0; ; got++ {
			if _, err := io.ReadFull(br, hdr); err != nil {
				if err == io.EOF && got == writers*want {
					err = nil
				} else {
					err = fmt.Errorf("after %d of %d messages: %w", got, writers*want, err)
				}
				ch <- err
				return
			}
			w, seq, n := int(hdr[0]), int(binary.BigEndian.Uint32(hdr[1:])), int(binary.BigEndian.Uint16(hdr[5:]))
			if w >= writers || seq != next[w] || n != size(w, seq) {
				ch <- fmt.Errorf("message %d: header says writer %d, seq %d, %d bytes; want writer < %d and its next seq (%v): stream corrupt (bytes duplicated, dropped or reordered)", got, w, seq, n, writers, next)
				return
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(br, body); err != nil {
				ch <- fmt.Errorf("message %d body: %w", got, err)
				return
			}
			if !bytes.Equal(append(hdr, body...), ttMsg(w, seq, n)) {
				ch <- fmt.Errorf("message %d (writer %d, seq %d): body corrupt", got, w, seq)
				return
			}
			next[w]++
			if slow && got%32 == 31 {
				time.Sleep(100 * time.Microsecond) // only slows the peer down
			}
		}
	}()
	return ch
}

// TestTransportFlusherHandoff makes the flusher goroutine exit and a new one
// start over and over (the queue empties, then a Write queues again), with
// water marks at 0 so that nearly every flusher has a transition to deliver
// as it exits. Every message must arrive whole and in its writer's order,
// every transition must be delivered (strict alternation, no panic from
// BaseProtocol), and under -race the hand-off must be free of data races.
//
// Regression test: an exiting flusher used to read its result after a new
// flusher had reset it, go on as a second flusher, and send the queue twice
// (duplicated and dropped bytes on TLS and pipes, lost transitions on
// sockets).
func TestTransportFlusherHandoff(t *testing.T) {
	const writers = 4
	msgs := 4000
	if testing.Short() {
		msgs = 800
	}
	size := func(w, seq int) int { return 1 + (w*977+seq*131)%1500 }
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			msgs := msgs
			if k.name == "pipe" || k.name == "tls" {
				// The portable path queues every write, so each drained
				// message is a pause/resume cycle, and the recorder's
				// checks cost time linear in the events so far.
				msgs /= 4
			}
			r := newRecorder()
			tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(0, 0))
			ttShrinkBuffers(tr, 64<<10)
			ttPinBuffers(cli, 128<<10)
			peer := ttCheckMsgs(cli, writers, msgs, size, true)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for seq := range msgs {
						if _, err := tr.Write(ttMsg(w, seq, size(w, seq))); err != nil {
							t.Errorf("writer %d: Write: %v", w, err)
							return
						}
						if w%2 == 0 {
							// Half the writers drain, the others do not.
							ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
							err := r.Drain(ctx)
							cancel()
							if err != nil {
								t.Errorf("writer %d: Drain: %v (events %d pause, %d resume; %s)", w, err, ttCount(r, "pause"), ttCount(r, "resume"), ttState(tr))
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			if err := tr.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := ttWaitErr(t, "peer", peer, 20*time.Second); err != nil {
				t.Errorf("peer: %v", err)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			if p, q := ttCount(r, "pause"), ttCount(r, "resume"); p != q || p == 0 {
				t.Errorf("PauseWriting %d times, ResumeWriting %d times; want equal and > 0", p, q)
			}
			t.Logf("%d pause/resume cycles", ttCount(r, "pause"))
			r.check(t)
		})
	}
}

// ---------------------------------------------------------------------------
// 1. Slow reader, fast writer

// TestTransportSlowReaderFastWriter moves a large stream from a writer
// goroutine that writes and drains to a peer that reads slowly: the bytes
// arrive intact, writing pauses and resumes many times, and the queue never
// holds more than the high-water mark plus one write.
func TestTransportSlowReaderFastWriter(t *testing.T) {
	total := 256 << 20
	if testing.Short() {
		total = 16 << 20
	}
	const (
		chunk = 64 << 10
		high  = 128 << 10
		low   = 32 << 10
	)
	src := ttPattern(1, 1<<20+chunk)
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			size := total
			if k.name == "pipe" || k.name == "tls" {
				size = total / 4 // the portable path costs more per byte under -race
			}
			// One pause/resume cycle moves at least high-low bytes through
			// the queue; ask for a sixteenth of the cycles that allows (the
			// kernel's buffers and the scheduler take the rest).
			minCycles := size / (high - low) / 16

			r := newRecorder()
			tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(high, low))
			ttShrinkBuffers(tr, 64<<10)
			ttPinBuffers(cli, 128<<10)
			start := time.Now()
			peer := ttRead(cli, false, true)

			type writerResult struct {
				sum       [sha256.Size]byte
				maxQueue  int
				overshoot int    // samples above high+chunk
				state     string // internal state at the first overshoot
				err       error
			}
			wch := make(chan writerResult, 1)
			go func() {
				var res writerResult
				defer func() { wch <- res }()
				h := sha256.New()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				for off := 0; off < size; off += chunk {
					i := (off / chunk * 7919) % (len(src) - chunk)
					p := src[i : i+chunk]
					if _, err := tr.Write(p); err != nil {
						res.err = fmt.Errorf("Write at offset %d: %w", off, err)
						return
					}
					h.Write(p)
					q := tr.WriteBufferSize()
					res.maxQueue = max(res.maxQueue, q)
					if q > high+chunk {
						if res.overshoot == 0 {
							res.state = fmt.Sprintf("queue %d after write #%d, protocol paused %v, %d pause and %d resume so far; %s",
								q, off/chunk, r.WritingPaused(), ttCount(r, "pause"), ttCount(r, "resume"), ttState(tr))
						}
						res.overshoot++
					}
					if err := r.Drain(ctx); err != nil {
						res.err = fmt.Errorf("Drain at offset %d: %w", off, err)
						return
					}
				}
				copy(res.sum[:], h.Sum(nil))
				if err := tr.Close(); err != nil {
					res.err = fmt.Errorf("Close: %w", err)
				}
			}()

			var w writerResult
			select {
			case w = <-wch:
			case <-time.After(2 * time.Minute):
				t.Fatalf("writer stuck; events %d pause %d resume\n%s", ttCount(r, "pause"), ttCount(r, "resume"), ttStacks())
			}
			if w.err != nil {
				t.Fatalf("writer: %v", w.err)
			}
			res := ttRecv(t, peer, time.Minute)
			if res.err != nil || res.n != int64(size) {
				t.Fatalf("peer read %d bytes, then %v; want %d bytes, then EOF", res.n, res.err, size)
			}
			if res.sum != w.sum {
				t.Errorf("sha256 at the peer %x, want %x", res.sum, w.sum)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			pauses, resumes := ttCount(r, "pause"), ttCount(r, "resume")
			if pauses != resumes {
				t.Errorf("PauseWriting %d times, ResumeWriting %d times; want equal", pauses, resumes)
			}
			if pauses < minCycles {
				t.Errorf("%d pause/resume cycles, want at least %d", pauses, minCycles)
			}
			if w.maxQueue > high+chunk {
				t.Errorf("WriteBufferSize reached %d (%d samples above %d), want at most high+one write = %d; first: %s", w.maxQueue, w.overshoot, high+chunk, high+chunk, w.state)
			}
			t.Logf("%d MiB in %v, %d pause/resume cycles, max queue %d", size>>20, time.Since(start).Round(time.Millisecond), pauses, w.maxQueue)
			r.check(t)
		})
	}
}

// ttFillUntilPaused writes until the protocol is told to pause writing, then
// queues extra bytes more, far more than the kernel can still take, so that
// writing cannot resume while the peer does not read.
func ttFillUntilPaused(t testing.TB, tr Transport, r *recorder, extra int) {
	t.Helper()
	p := make([]byte, 64<<10)
	for written := 0; !r.WritingPaused(); written += len(p) {
		if written > 256<<20 {
			t.Fatalf("wrote %d bytes to a peer that does not read and writing never paused", written)
		}
		if _, err := tr.Write(p); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if _, err := tr.Write(make([]byte, extra)); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// TestTransportDrainSeesDeferredPause pins down, without relying on the
// scheduler, the interleaving behind the overshoot that
// TestTransportSlowReaderFastWriter used to observe: ResumeWriting is still
// running on the flusher goroutine (here: slow; in the wild: preempted) when
// the writer it woke writes past the high-water mark again. That writer's
// PauseWriting has to wait until ResumeWriting returns; Drain must wait all
// the same, or a loop of Write and Drain is no longer bounded by the
// high-water mark (it was not while Drain followed only the callbacks).
func TestTransportDrainSeesDeferredPause(t *testing.T) {
	const (
		chunk  = 64 << 10
		high   = 128 << 10
		low    = 32 << 10
		writes = 64
	)
	p := ttPattern(11, chunk)
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			held, gate := make(chan struct{}), make(chan struct{})
			var once sync.Once
			var heldFlusher atomic.Bool
			r := newRecorder()
			r.onResume = func(*recorder) {
				once.Do(func() { // only the first ResumeWriting is slow
					buf := make([]byte, 64<<10)
					heldFlusher.Store(bytes.Contains(buf[:runtime.Stack(buf, false)], []byte("(*conn).flush(")))
					close(held) // BaseProtocol.ResumeWriting has released the drainer
					select {
					case <-gate:
					case <-time.After(10 * time.Second):
					}
				})
			}
			tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(high, low))
			ttShrinkBuffers(tr, 64<<10)
			peer := ttRead(cli, false, true)

			var finished atomic.Bool
			maxQueue := 0
			werr := make(chan error, 1)
			go func() {
				defer finished.Store(true)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				for range writes {
					if _, err := tr.Write(p); err != nil {
						werr <- err
						return
					}
					maxQueue = max(maxQueue, tr.WriteBufferSize())
					if err := r.Drain(ctx); err != nil {
						werr <- err
						return
					}
				}
				werr <- tr.Close()
			}()
			// Wait until the first ResumeWriting is held, then, if it holds
			// the flusher, until the writer is either blocked in Drain (the
			// bound holds) or done. (A transport that wakes drainers as soon
			// as it decides to resume may have the writer deliver that
			// ResumeWriting itself, from its next Write: then the writer is
			// the one held, and there is nothing to race.)
			select {
			case <-held:
			case <-time.After(10 * time.Second):
				t.Fatalf("no ResumeWriting; events %v", r.eventsCopy())
			}
			if heldFlusher.Load() {
				ttWaitGoroutines(t, "writer blocked in Drain or done", 1, func(header, stack string) bool {
					if finished.Load() {
						return true
					}
					blocked := strings.Contains(header, "[select") || strings.Contains(header, "[chan receive") ||
						strings.Contains(header, "[sync.") || strings.Contains(header, "[semacquire")
					return blocked && strings.Contains(stack, "(*BaseProtocol).Drain(")
				})
			} else {
				t.Logf("the first ResumeWriting ran on another goroutine than the flusher; nothing to race")
			}
			close(gate)
			if err := ttWaitErr(t, "writer", werr, time.Minute); err != nil {
				t.Fatalf("writer: %v", err)
			}
			if res := ttRecv(t, peer, time.Minute); res.err != nil || res.n != writes*chunk {
				t.Errorf("peer read %d bytes, then %v; want %d, then EOF", res.n, res.err, writes*chunk)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			if maxQueue > high+chunk {
				t.Errorf("WriteBufferSize reached %d while PauseWriting waited behind a running ResumeWriting, want at most high+one write = %d: Drain returned nil with the queue above high", maxQueue, high+chunk)
			}
			r.check(t)
		})
	}
}

// ---------------------------------------------------------------------------
// 2. Peer reset while drainers wait

// TestTransportResetWhileDraining pauses writing, parks drainers, and makes
// the peer vanish: every Drain returns at once with an error that matches
// ErrConnectionLost and ConnectionLost's (non-nil) cause.
func TestTransportResetWhileDraining(t *testing.T) {
	const drainers = 8
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			tr, cli := ttAttach(t, k, r)
			ttShrinkBuffers(tr, 64<<10)
			ttFillUntilPaused(t, tr, r, 8<<20)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			type result struct {
				err error
				at  time.Time
			}
			results := make(chan result, drainers)
			for range drainers {
				go func() {
					err := r.Drain(ctx)
					results <- result{err, time.Now()}
				}()
			}
			ttWaitGoroutines(t, "blocked in Drain", drainers, func(header, stack string) bool {
				return strings.Contains(header, "[select") && strings.Contains(stack, "(*BaseProtocol).Drain(")
			})

			reset := time.Now()
			ttResetPeer(t, cli)
			var got []result
			for range drainers {
				select {
				case res := <-results:
					got = append(got, res)
				case <-time.After(5 * time.Second):
					t.Fatalf("Drain still blocked 5s after the peer reset; events %v\n%s", r.eventsCopy(), ttStacks())
				}
			}
			lost := r.waitLost(t, 5*time.Second)
			if lost == nil {
				t.Errorf("ConnectionLost(nil) after a peer reset, want the cause")
			}
			for i, res := range got {
				if d := res.at.Sub(reset); d > 100*time.Millisecond {
					t.Errorf("drainer %d returned %v after the reset, want within 100ms", i, d)
				}
				switch {
				case lost == nil:
					if res.err != nil {
						t.Errorf("drainer %d: got %v, want nil after ConnectionLost(nil)", i, res.err)
					}
				case !errors.Is(res.err, ErrConnectionLost) || !errors.Is(res.err, lost):
					t.Errorf("drainer %d: got %v, want an error matching ErrConnectionLost and %v", i, res.err, lost)
				}
			}
			t.Logf("cause: %v", lost)

			// After the loss, Drain fails at once and writes are refused.
			if err := r.Drain(ctx); !errors.Is(err, ErrConnectionReset) {
				t.Errorf("Drain after the loss: got %v, want ErrConnectionReset", err)
			}
			ttCheckClosedErrors(t, k, tr)
			r.check(t)
		})
	}
}

// ttFailingConn passes the first allow bytes written to the connection
// beneath, then fails every write with errTTInjected.
type ttFailingConn struct {
	net.Conn
	mu    sync.Mutex
	allow int
	gate  chan struct{} // if set, the failing write waits until it is closed (waitGate)
}

var errTTInjected = errors.New("injected write failure")

func (f *ttFailingConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	k := min(len(p), f.allow)
	f.allow -= k
	f.mu.Unlock()
	if k == 0 {
		f.waitGate()
		return 0, errTTInjected
	}
	n, err := f.Conn.Write(p[:k])
	if err == nil && k < len(p) {
		f.waitGate()
		err = errTTInjected
	}
	return n, err
}

// waitGate waits for the gate, if any, for at most 10 s: a setup that
// never opens it then fails its test's checks instead of hanging it.
func (f *ttFailingConn) waitGate() {
	if f.gate == nil {
		return
	}
	select {
	case <-f.gate:
	case <-time.After(10 * time.Second):
	}
}

// TestTransportWriteErrorNotLostToClose makes a flush fail after part of the
// queue went out, with the part that went out enough to resume writing, so
// that ResumeWriting runs on the flusher between the failed write and the
// connection's death, and calls Close there. ConnectionLost must still get
// the write error. (It used to get nil: the flusher cleared "flushing"
// before it killed the connection, so a Close in between, here from
// ResumeWriting, in the wild from EOFReceived after the reader saw EOF
// behind a reset, as TestTransportResetWhileDraining/tls did now and then,
// closed "cleanly" and dropped the queued bytes without a trace.)
func TestTransportWriteErrorNotLostToClose(t *testing.T) {
	const (
		allow = 16 << 10
		total = 48 << 10
	)
	srv, cli := net.Pipe()
	r := newRecorder()
	var closeErr error
	// The flush fails only once PauseWriting has run: the Write that paused
	// delivers it after unlocking, and a flusher that failed first would
	// have the connection dead before the pause, let alone the resume.
	gate := make(chan struct{})
	r.onPause = func(*recorder) { close(gate) }
	r.onResume = func(r *recorder) { closeErr = r.Transport().Close() }
	tr, err := Attach(&ttFailingConn{Conn: srv, allow: allow, gate: gate}, r, WithWriteBufferLimits(40<<10, 32<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tr.Abort()
		cli.Close()
		ttWaitGone(t, tr, r)
	})
	peer := ttRead(cli, false, false)
	if _, err := tr.Write(make([]byte, total)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	lost := r.waitLost(t, 10*time.Second)
	res := ttRecv(t, peer, 10*time.Second)
	if res.n != allow {
		t.Fatalf("peer read %d bytes, want %d (the setup did not fail the flush)", res.n, allow)
	}
	if ttCount(r, "resume") != 1 {
		t.Fatalf("ResumeWriting %d times, want 1 (the setup did not resume writing); events %v lost %v", ttCount(r, "resume"), r.eventsCopy(), lost)
	}
	if !errors.Is(lost, errTTInjected) {
		t.Errorf("ConnectionLost(%v), and Close in ResumeWriting returned %v, although the flush failed with %v and %d of %d queued bytes never reached the peer; want ConnectionLost to get the write error",
			lost, closeErr, errTTInjected, total-res.n, total)
	}
	r.check(t)
}

// ---------------------------------------------------------------------------
// 3. Close/Abort/Write storms

// TestTransportCloseAbortWriteStorm calls Write, Close and Abort from 64
// goroutines at once: ConnectionLost runs exactly once, at most one Close
// succeeds, every failed call reports net.ErrClosed, and without Abort every
// accepted byte reaches the peer.
func TestTransportCloseAbortWriteStorm(t *testing.T) {
	const goroutines, ops = 64, 16
	rounds := 8
	if testing.Short() {
		rounds = 2
	}
	payload := ttPattern(3, 8<<10)
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			for round := range rounds {
				withAbort := round%2 == 1
				r := newRecorder()
				tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(16<<10, 4<<10))
				peer := ttRead(cli, false, false)

				start := make(chan struct{})
				var wg sync.WaitGroup
				var closeOK, written atomic.Int64
				for g := range goroutines {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						for i := range ops {
							switch {
							case (g+i)%ops == ops-1:
								if err := tr.Close(); err == nil {
									closeOK.Add(1)
								} else if !errors.Is(err, net.ErrClosed) {
									t.Errorf("Close: got %v, want nil or net.ErrClosed", err)
								}
							case withAbort && g%16 == 5 && i == ops/2:
								tr.Abort()
							default:
								n, err := tr.Write(payload[:1+(g*131+i*17)%len(payload)])
								written.Add(int64(n))
								if err != nil && !errors.Is(err, net.ErrClosed) {
									t.Errorf("Write: got %v, want nil or net.ErrClosed", err)
								}
							}
						}
					}()
				}
				close(start)
				wg.Wait()

				if err := r.waitLost(t, 10*time.Second); err != nil {
					t.Errorf("round %d: ConnectionLost(%v), want nil", round, err)
				}
				res := ttRecv(t, peer, 10*time.Second)
				if got := closeOK.Load(); got > 1 || (!withAbort && got != 1) {
					t.Errorf("round %d: %d calls of Close returned nil, want exactly one (at most one with Abort)", round, got)
				}
				if !withAbort && (res.err != nil || res.n != written.Load()) {
					t.Errorf("round %d: peer read %d bytes, then %v; want the %d bytes written, then EOF", round, res.n, res.err, written.Load())
				}
				ttCheckClosedErrors(t, k, tr)
				ttWaitGone(t, tr, r)
				if n := ttCount(r, "lost"); n != 1 {
					t.Errorf("round %d: ConnectionLost ran %d times, want once", round, n)
				}
				r.check(t)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 4. A panicking hook

var errTTBoom = errors.New("boom")

// TestTransportPanicInHook makes one connection's hook panic: that
// connection is aborted with a *PanicError carrying the value and the
// stack, the logger records it, and the server goes on serving its other
// connections and new ones.
func TestTransportPanicInHook(t *testing.T) {
	hooks := []struct {
		name    string
		arm     func(r *recorder, v error)
		trigger func(t *testing.T, c net.Conn)
	}{
		{
			name: "ConnectionMade",
			arm:  func(r *recorder, v error) { r.onMade = func(*recorder) { panic(v) } },
			trigger: func(t *testing.T, c net.Conn) {
				_ = ttPeerWrite(c, []byte("x")) // TLS: lets the handshake start
			},
		},
		{
			name: "DataReceived",
			arm: func(r *recorder, v error) {
				r.onData = func(_ *recorder, p []byte) {
					if bytes.Contains(p, []byte("boom")) {
						panic(v)
					}
				}
			},
			trigger: func(t *testing.T, c net.Conn) { _ = ttPeerWrite(c, []byte("boom")) },
		},
		{
			name: "EOFReceived",
			arm:  func(r *recorder, v error) { r.onEOF = func(*recorder) { panic(v) } },
			trigger: func(t *testing.T, c net.Conn) {
				if _, err := c.Write([]byte("x")); err != nil { // TLS: completes the handshake
					t.Fatal(err)
				}
				ttCloseWrite(t, c)
			},
		},
		{
			name: "PauseWriting",
			arm: func(r *recorder, v error) {
				r.onMade = func(r *recorder) { ttShrinkBuffers(r.Transport(), 64<<10) }
				r.onData = func(r *recorder, p []byte) {
					if bytes.Contains(p, []byte("flood")) {
						_, _ = r.Transport().Write(make([]byte, 4<<20))
					}
				}
				r.onPause = func(*recorder) { panic(v) }
			},
			trigger: func(t *testing.T, c net.Conn) { _ = ttPeerWrite(c, []byte("flood")) },
		},
	}
	for _, lk := range ttListenKinds {
		for _, h := range hooks {
			t.Run(lk.name+"/"+h.name, func(t *testing.T) {
				panicValue := fmt.Errorf("hook %s: %w", h.name, errTTBoom)
				var logs ttLockedBuffer
				var recs ttRecorders
				factory := func() Protocol {
					r := newRecorder()
					r.onData = func(r *recorder, p []byte) { _, _ = r.Transport().Write(p) } // echo
					if recs.add(r) == 1 {
						h.arm(r, panicValue)
					}
					return r
				}
				srv := ttStartServer(t, lk, factory,
					WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
					WithWriteBufferLimits(8<<10, 0))
				echo := func(c net.Conn, msg string) {
					t.Helper()
					if _, err := c.Write([]byte(msg)); err != nil {
						t.Fatalf("echo write: %v", err)
					}
					if got := string(ttReadFull(t, c, len(msg), 10*time.Second)); got != msg {
						t.Fatalf("echo: got %q, want %q", got, msg)
					}
				}

				healthy := lk.dial(t, srv.addr)
				defer healthy.Close()
				echo(healthy, "ping-1")
				recs.get(t, 0)

				bad := lk.dial(t, srv.addr)
				defer ttClosePeer(bad)
				badRec := recs.get(t, 1)
				h.trigger(t, bad)

				lost := badRec.waitLost(t, 10*time.Second)
				var pe *PanicError
				if !errors.As(lost, &pe) {
					t.Fatalf("ConnectionLost(%v), want a *PanicError", lost)
				}
				if pe.Callback != h.name {
					t.Errorf("PanicError.Callback = %q, want %q", pe.Callback, h.name)
				}
				if pe.Value != panicValue {
					t.Errorf("PanicError.Value = %v, want %v", pe.Value, panicValue)
				}
				if !errors.Is(lost, errTTBoom) {
					t.Errorf("errors.Is(%v, errTTBoom) = false, want true (Unwrap sees the panic value)", lost)
				}
				if len(pe.Stack) == 0 || !bytes.Contains(pe.Stack, []byte("(*recorder)."+h.name)) {
					t.Errorf("PanicError.Stack does not show (*recorder).%s:\n%s", h.name, pe.Stack)
				}
				// The panicking connection is closed.
				_ = bad.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.Copy(io.Discard, bad); err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Errorf("the panicking connection is still open: %v", err)
					}
				}

				// The others are served.
				echo(healthy, "ping-2")
				fresh := lk.dial(t, srv.addr)
				defer fresh.Close()
				echo(fresh, "ping-3")

				logged := logs.String()
				for _, want := range []string{"panic in protocol callback", "callback=" + h.name, "boom", "stack="} {
					if !strings.Contains(logged, want) {
						t.Errorf("log lacks %q:\n%s", want, logged)
					}
				}

				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				for i, r := range recs.all() {
					if i != 1 {
						if err := r.waitLost(t, time.Second); err != nil {
							t.Errorf("connection %d: ConnectionLost(%v), want nil", i, err)
						}
					}
					r.check(t)
				}
			})
		}
	}
}

// ---------------------------------------------------------------------------
// 5. Server.Shutdown

// TestTransportServerShutdown checks that Shutdown flushes every queued byte
// before closing, and that at its deadline it aborts what is left, returns
// the context's error, and has run every ConnectionLost.
func TestTransportServerShutdown(t *testing.T) {
	const conns = 6
	size := 2 << 20
	if testing.Short() {
		size = 1 << 20
	}
	payload := ttPattern(5, size)
	wantSum := sha256.Sum256(payload)
	// queueing writes payload from ConnectionMade to a peer that is not
	// reading yet, so that most of it stays queued.
	queueing := func(recs *ttRecorders) func() Protocol {
		return func() Protocol {
			r := newRecorder()
			r.onMade = func(r *recorder) {
				ttShrinkBuffers(r.Transport(), 64<<10)
				_, _ = r.Transport().Write(payload)
			}
			recs.add(r)
			return r
		}
	}
	waitQueued := func(t *testing.T, recs *ttRecorders) []*recorder {
		t.Helper()
		var all []*recorder
		waitFor(t, 10*time.Second, "every connection to queue its payload", func() bool {
			all = recs.all()
			if len(all) < conns {
				return false
			}
			for _, r := range all {
				tr := r.Transport()
				if tr == nil || tr.WriteBufferSize() == 0 {
					return false
				}
			}
			return true
		})
		return all
	}

	for _, lk := range ttListenKinds {
		t.Run(lk.name+"/flush", func(t *testing.T) {
			var recs ttRecorders
			srv := ttStartServer(t, lk, queueing(&recs))
			var peers []net.Conn
			for range conns {
				c := lk.dial(t, srv.addr)
				defer c.Close()
				ttPinBuffers(c, 128<<10)
				peers = append(peers, c)
			}
			all := waitQueued(t, &recs)
			transports := make([]Transport, len(all))
			for i, r := range all {
				transports[i] = r.Transport()
			}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- srv.Shutdown(ctx) }()
			waitFor(t, 10*time.Second, "Shutdown to close every connection", func() bool {
				for _, tr := range transports {
					if !tr.IsClosing() {
						return false
					}
				}
				return true
			})
			// Only now do the peers start reading.
			var reads []<-chan ttPeerResult
			for _, c := range peers {
				reads = append(reads, ttRead(c, false, false))
			}
			if err := ttWaitErr(t, "Shutdown", done, 30*time.Second); err != nil {
				t.Errorf("Shutdown: %v, want nil", err)
			}
			for i, ch := range reads {
				res := ttRecv(t, ch, 10*time.Second)
				if res.err != nil || res.n != int64(size) || res.sum != wantSum {
					t.Errorf("peer %d read %d bytes (sum ok: %v), then %v; want all %d bytes, then EOF", i, res.n, res.sum == wantSum, res.err, size)
				}
			}
			for i, r := range all {
				select {
				case <-r.lostCh:
				default:
					t.Errorf("connection %d: Shutdown returned before ConnectionLost", i)
					continue
				}
				if err := ttLost(t, r); err != nil {
					t.Errorf("connection %d: ConnectionLost(%v), want nil", i, err)
				}
				r.check(t)
			}
			if err := srv.wait(t); !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		})

		t.Run(lk.name+"/deadline", func(t *testing.T) {
			var recs ttRecorders
			srv := ttStartServer(t, lk, queueing(&recs))
			for range conns {
				c := lk.dial(t, srv.addr) // never reads
				defer ttClosePeer(c)
				ttPinBuffers(c, 128<<10)
			}
			all := waitQueued(t, &recs)

			const timeout = 200 * time.Millisecond
			start := time.Now() // before the deadline is set, so that elapsed >= timeout
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := srv.Shutdown(ctx)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: got %v, want context.DeadlineExceeded", err)
			}
			if elapsed < timeout || elapsed > timeout+5*time.Second {
				t.Errorf("Shutdown took %v, want about %v", elapsed, timeout)
			}
			for i, r := range all {
				select {
				case <-r.lostCh:
				default:
					t.Errorf("connection %d: Shutdown returned before ConnectionLost", i)
					continue
				}
				if err := ttLost(t, r); err != nil {
					t.Errorf("connection %d: ConnectionLost(%v), want nil (aborted)", i, err)
				}
				r.check(t)
			}
			if err := srv.wait(t); !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 6. Half close

// TestTransportHalfClose checks CloseWrite on the transport and a half close
// by the peer, with EOFReceived keeping the write side open or not; a pipe
// cannot half close.
func TestTransportHalfClose(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		r := newRecorder()
		tr, cli := ttAttach(t, ttKinds("pipe")[0], r)
		if err := tr.CloseWrite(); !errors.Is(err, ErrNotSupported) {
			t.Fatalf("CloseWrite on a pipe: got %v, want ErrNotSupported", err)
		}
		// The transport is unharmed.
		if _, err := tr.Write([]byte("still open")); err != nil {
			t.Fatalf("Write after CloseWrite failed with ErrNotSupported: %v", err)
		}
		if got := string(ttReadFull(t, cli, len("still open"), 10*time.Second)); got != "still open" {
			t.Errorf("peer read %q, want %q", got, "still open")
		}
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := r.waitLost(t, 10*time.Second); err != nil {
			t.Errorf("ConnectionLost(%v), want nil", err)
		}
		r.check(t)
	})

	for _, k := range ttKinds("tcp", "unix", "tls") {
		t.Run(k.name+"/transport-closes-write", func(t *testing.T) {
			r := newRecorder()
			tr, cli := ttAttach(t, k, r)
			data := ttPattern(6, 1<<20)
			if _, err := tr.Write(data); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if err := tr.CloseWrite(); err != nil {
				t.Fatalf("CloseWrite: %v", err)
			}
			if _, err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after CloseWrite: got %v, want net.ErrClosed", err)
			}
			if err := tr.CloseWrite(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second CloseWrite: got %v, want net.ErrClosed", err)
			}
			if tr.IsClosing() {
				t.Errorf("IsClosing after CloseWrite = true, want false: the read side is open")
			}
			// The peer gets every queued byte, then EOF.
			if got := ttReadToEOF(t, cli, 10*time.Second); !bytes.Equal(got, data) {
				t.Fatalf("peer read %d bytes (equal: false), want the %d queued, then EOF", len(got), len(data))
			}
			// The peer can still send, and the protocol receives it.
			if _, err := cli.Write([]byte("after")); err != nil {
				t.Fatalf("peer Write after EOF: %v", err)
			}
			waitFor(t, 10*time.Second, "the protocol to receive the peer's bytes", func() bool {
				return string(r.received()) == "after"
			})
			// The peer closes too: EOFReceived (false) closes the transport.
			ttCloseWrite(t, cli)
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			if diff := cmp.Diff([]string{"made", "data", "eof", "lost"}, ttEventsWithout(r, "pause", "resume")); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			r.check(t)
		})

		t.Run(k.name+"/peer-closes-write/keep-open", func(t *testing.T) {
			r := newRecorder()
			r.keepOpen = true
			r.onEOF = func(r *recorder) {
				if _, err := r.Transport().Write([]byte("from-eof;")); err != nil {
					r.violate("Write in EOFReceived: %v", err)
				}
			}
			tr, cli := ttAttach(t, k, r)
			if _, err := cli.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "hello", func() bool { return string(r.received()) == "hello" })
			ttCloseWrite(t, cli)
			// Returned, not only entered: its Write must come before this
			// test's Write and Close, which would otherwise race it.
			waitFor(t, 10*time.Second, "EOFReceived to return", func() bool { return ttCount(r, "eof") == 1 && r.inside.Load() == 0 })
			if tr.IsClosing() {
				t.Errorf("IsClosing after EOFReceived returned true = true, want false")
			}
			if _, err := tr.Write([]byte("after-eof")); err != nil {
				t.Fatalf("Write after EOFReceived kept the connection open: %v", err)
			}
			if err := tr.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := string(ttReadToEOF(t, cli, 10*time.Second)); got != "from-eof;after-eof" {
				t.Errorf("peer read %q, want %q then EOF", got, "from-eof;after-eof")
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			if diff := cmp.Diff([]string{"made", "data", "eof", "lost"}, r.eventsCopy()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			r.check(t)
		})

		t.Run(k.name+"/peer-closes-write/close", func(t *testing.T) {
			r := newRecorder()
			tr, cli := ttAttach(t, k, r)
			ttShrinkBuffers(tr, 64<<10)
			data := ttPattern(7, 1<<20)
			if _, err := tr.Write(data); err != nil { // queued: the peer is not reading yet
				t.Fatalf("Write: %v", err)
			}
			ttCloseWrite(t, cli)
			waitFor(t, 10*time.Second, "EOFReceived", func() bool { return ttCount(r, "eof") == 1 })
			waitFor(t, 10*time.Second, "the transport to close itself", tr.IsClosing)
			// Closing flushes first: every queued byte, then EOF.
			if got := ttReadToEOF(t, cli, 10*time.Second); !bytes.Equal(got, data) {
				t.Errorf("peer read %d bytes (equal: false), want the %d queued, then EOF", len(got), len(data))
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			if diff := cmp.Diff([]string{"made", "eof", "lost"}, ttEventsWithout(r, "pause", "resume")); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			r.check(t)
		})
	}
}

// ---------------------------------------------------------------------------
// 7. PauseReading and ResumeReading

// ttWriteUntilStalled writes data in pieces, each with a write deadline of
// stall, and returns how many bytes went through before a piece could not
// be written within stall.
func ttWriteUntilStalled(t testing.TB, c net.Conn, data []byte, piece int, stall time.Duration) int {
	t.Helper()
	defer c.SetWriteDeadline(time.Time{})
	off := 0
	for off < len(data) {
		_ = c.SetWriteDeadline(time.Now().Add(stall))
		n, err := c.Write(data[off:min(off+piece, len(data))])
		off += n
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return off
			}
			t.Fatalf("peer Write after %d bytes: %v", off, err)
		}
	}
	t.Fatalf("the peer wrote all %d bytes while the transport did not read: no back-pressure", len(data))
	return off
}

// TestTransportPauseReading pauses reading at the socket: no DataReceived
// while paused, the peer's writes stall, and after ResumeReading every byte
// arrives once and in order. Both calls are idempotent and do nothing once
// the transport is closing.
func TestTransportPauseReading(t *testing.T) {
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			tr, cli := ttAttach(t, k, r, WithReadBufferSize(16<<10))
			if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, []byte("hello")), 10*time.Second); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "hello", func() bool { return string(r.received()) == "hello" })

			for i := range 2 {
				if err := tr.PauseReading(); err != nil {
					t.Fatalf("PauseReading #%d: %v", i+1, err)
				}
			}
			sent := ttPattern(8, 64<<20)
			n := ttWriteUntilStalled(t, cli, sent, 32<<10, 250*time.Millisecond)
			if got := r.received(); string(got) != "hello" {
				t.Fatalf("received %d bytes while reading was paused", len(got)-len("hello"))
			}
			dataEvents := ttCount(r, "data")

			for i := range 2 {
				if err := tr.ResumeReading(); err != nil {
					t.Fatalf("ResumeReading #%d: %v", i+1, err)
				}
			}
			want := append([]byte("hello"), sent[:n]...)
			waitFor(t, 10*time.Second, fmt.Sprintf("%d bytes after ResumeReading", n), func() bool {
				return len(r.received()) >= len(want)
			})
			if got := r.received(); !bytes.Equal(got, want) {
				t.Fatalf("after resume: received %d bytes, want %d; equal: false (lost, duplicated or reordered)", len(got), len(want))
			}
			// A pipe's peer can stall at 0 bytes, when the reader had gone
			// back to waiting for the resume before the peer wrote: then
			// nothing was held, and nothing is due.
			if n > 0 && ttCount(r, "data") == dataEvents {
				t.Errorf("no DataReceived after ResumeReading")
			}
			t.Logf("the peer stalled after %d bytes", n)

			if k.name != "tls" { // a TLS write that timed out leaves the peer unusable
				if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, []byte("more")), 10*time.Second); err != nil {
					t.Fatalf("peer write after resume: %v", err)
				}
				want = append(want, "more"...)
				waitFor(t, 10*time.Second, "more", func() bool { return bytes.Equal(r.received(), want) })
			}

			// Close while paused: the reader is not stuck, nothing more is
			// delivered, and pausing or resuming afterwards does nothing.
			if err := tr.PauseReading(); err != nil {
				t.Fatal(err)
			}
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
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			if got := r.received(); !bytes.Equal(got, want) {
				t.Errorf("received %d bytes in all, want %d", len(got), len(want))
			}
			r.check(t)
		})
	}
}

// ---------------------------------------------------------------------------
// 8. Water marks

// TestTransportWaterMarksExact checks asyncio's comparisons to the byte:
// PauseWriting only when the queue is strictly above high, ResumeWriting at
// low or below, SetWriteBufferLimits re-checks at once and rejects bad
// pairs. It needs a queue that only the test changes: a pipe (nothing is
// consumed until the peer reads) and a Unix socket whose buffer is full
// (nothing moves until the peer reads). On TCP the kernel may still take
// bytes after EAGAIN (window updates, delayed ACKs), so TCP and TLS are
// covered by TestTransportWaterMarksManyWriters instead.
func TestTransportWaterMarksExact(t *testing.T) {
	for _, k := range ttKinds("unix", "pipe") {
		t.Run(k.name, func(t *testing.T) {
			var mu sync.Mutex
			var pauseAt, resumeAt []int // queue sizes seen by the callbacks
			r := newRecorder()
			r.onPause = func(r *recorder) {
				q := r.Transport().WriteBufferSize()
				mu.Lock()
				pauseAt = append(pauseAt, q)
				mu.Unlock()
			}
			r.onResume = func(r *recorder) {
				q := r.Transport().WriteBufferSize()
				mu.Lock()
				resumeAt = append(resumeAt, q)
				mu.Unlock()
			}
			tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(1<<30, 0))
			onLoop := isLoopConn(tr)

			// Fill the socket until bytes queue, then wait until the
			// flusher waits for writability (the loop backend has no
			// flusher: its loop waits for EPOLLOUT).
			p := make([]byte, 64<<10)
			for tr.WriteBufferSize() == 0 {
				if _, err := tr.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			ttWaitGoroutines(t, "flusher blocked", 1, func(header, stack string) bool {
				if onLoop {
					return true
				}
				if !strings.Contains(stack, "(*conn).flush(") {
					return false
				}
				if k.name == "pipe" {
					return strings.Contains(stack, "net.(*pipe).write")
				}
				return strings.Contains(header, "[IO wait")
			})
			q := tr.WriteBufferSize()

			step := func(what string, wantQ, wantPauses, wantResumes int) {
				t.Helper()
				if got := tr.WriteBufferSize(); got != wantQ {
					t.Fatalf("%s: WriteBufferSize = %d, want %d (the queue moved)", what, got, wantQ)
				}
				if onLoop { // the loop delivers the transitions a moment later
					eventually(10*time.Second, func() bool {
						return ttCount(r, "pause") == wantPauses && ttCount(r, "resume") == wantResumes
					})
				}
				if got := ttCount(r, "pause"); got != wantPauses {
					t.Errorf("%s: PauseWriting %d times, want %d", what, got, wantPauses)
				}
				if got := ttCount(r, "resume"); got != wantResumes {
					t.Errorf("%s: ResumeWriting %d times, want %d", what, got, wantResumes)
				}
				if got, want := r.WritingPaused(), wantPauses > wantResumes; got != want {
					t.Errorf("%s: WritingPaused = %v, want %v", what, got, want)
				}
			}
			setLimits := func(high, low int) {
				t.Helper()
				if err := tr.SetWriteBufferLimits(high, low); err != nil {
					t.Fatalf("SetWriteBufferLimits(%d, %d): %v", high, low, err)
				}
			}
			write := func(n int) {
				t.Helper()
				if _, err := tr.Write(make([]byte, n)); err != nil {
					t.Fatal(err)
				}
			}

			setLimits(q, 0)
			step("queue == high", q, 0, 0)
			write(1)
			step("queue == high+1", q+1, 1, 0)
			write(1)
			step("still above high", q+2, 1, 0)
			setLimits(q+10, q+1)
			step("queue == low+1", q+2, 1, 0)
			setLimits(q+10, q+2)
			step("queue == low", q+2, 1, 1)
			setLimits(q+2, 0)
			step("high raised to the queue", q+2, 1, 1)
			setLimits(q+1, 0)
			step("high lowered below the queue", q+2, 2, 1)
			write(1)
			step("write while paused", q+3, 2, 1)

			// Bad pairs are rejected and change nothing.
			for _, bad := range [][2]int{{1, 2}, {q + 10, -1}, {-1, -1}, {-2, -1}} {
				err := tr.SetWriteBufferLimits(bad[0], bad[1])
				var le *BufferLimitsError
				if !errors.As(err, &le) {
					t.Errorf("SetWriteBufferLimits(%d, %d): got %v, want a *BufferLimitsError", bad[0], bad[1], err)
					continue
				}
				if diff := cmp.Diff(&BufferLimitsError{High: bad[0], Low: bad[1]}, le); diff != "" {
					t.Errorf("SetWriteBufferLimits(%d, %d) error (-want +got):\n%s", bad[0], bad[1], diff)
				}
			}
			high, low := ttLimits(tr)
			if high != q+1 || low != 0 {
				t.Errorf("limits after rejected pairs = (%d, %d), want (%d, 0)", high, low, q+1)
			}
			step("after rejected pairs", q+3, 2, 1)

			// The peer reads everything: with low == 0, writing resumes
			// exactly when the queue is empty.
			peer := ttRead(cli, false, false)
			waitFor(t, 10*time.Second, "ResumeWriting", func() bool { return ttCount(r, "resume") == 2 })
			step("drained", 0, 2, 2)
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if res := ttRecv(t, peer, 10*time.Second); res.err != nil || res.n == 0 {
				t.Errorf("peer read %d bytes, then %v", res.n, res.err)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]int{q + 1, q + 2}, pauseAt); diff != "" {
				t.Errorf("queue sizes seen by PauseWriting (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]int{q + 2, 0}, resumeAt); diff != "" {
				t.Errorf("queue sizes seen by ResumeWriting (-want +got):\n%s", diff)
			}
			r.check(t)
		})
	}

	// asyncio: "Setting high to zero forces low to zero as well, and causes
	// pause_writing() to be called whenever the buffer becomes non-empty."
	t.Run("pipe/zero", func(t *testing.T) {
		r := newRecorder()
		tr, cli := ttAttach(t, ttKinds("pipe")[0], r, WithWriteBufferLimits(0, 0))
		if _, err := tr.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if got := ttCount(r, "pause"); got != 1 {
			t.Errorf("PauseWriting %d times after a 1-byte write with high 0, want 1", got)
		}
		ttReadFull(t, cli, 1, 10*time.Second)
		waitFor(t, 10*time.Second, "ResumeWriting once the queue is empty", func() bool { return ttCount(r, "resume") == 1 })
		r.check(t)
	})
}

// TestTransportWaterMarksManyWriters writes from 16 goroutines to a slow
// peer while the peer sends to the protocol, so that transitions come from
// writers, the flusher and the reader's callbacks at once: PauseWriting and
// ResumeWriting strictly alternate (the recorder and BaseProtocol check), no
// transition is lost, and every message arrives whole and in each writer's
// order.
func TestTransportWaterMarksManyWriters(t *testing.T) {
	const writers = 16
	msgs := 300
	if testing.Short() {
		msgs = 60
	}
	const inbound = 1 << 20
	size := func(w, seq int) int { return 1 + (w*7+seq*13)%2000 }
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			tr, cli := ttAttach(t, k, r, WithWriteBufferLimits(32<<10, 8<<10), WithReadBufferSize(4<<10))
			ttShrinkBuffers(tr, 64<<10)
			ttPinBuffers(cli, 128<<10)

			// The peer checks the messages, slowly.
			peerErr := ttCheckMsgs(cli, writers, msgs, size, true)
			// The peer also sends, so that DataReceived runs meanwhile.
			inData := ttPattern(9, inbound)
			inErr := ttPeerWrite(cli, inData)

			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					for seq := range msgs {
						if _, err := tr.Write(ttMsg(w, seq, size(w, seq))); err != nil {
							t.Errorf("writer %d: Write: %v", w, err)
							return
						}
						if err := r.Drain(ctx); err != nil {
							t.Errorf("writer %d: Drain: %v", w, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if err := ttWaitErr(t, "peer write", inErr, 30*time.Second); err != nil {
				t.Fatalf("peer write: %v", err)
			}
			waitFor(t, 30*time.Second, "the protocol to receive the peer's bytes", func() bool { return len(r.received()) == inbound })
			if !bytes.Equal(r.received(), inData) {
				t.Errorf("the protocol received corrupt data from the peer")
			}
			if err := tr.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := ttWaitErr(t, "peer", peerErr, 30*time.Second); err != nil {
				t.Errorf("peer: %v", err)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			pauses, resumes := ttCount(r, "pause"), ttCount(r, "resume")
			if pauses != resumes || pauses == 0 {
				t.Errorf("PauseWriting %d times, ResumeWriting %d times; want equal and > 0", pauses, resumes)
			}
			qPaused := tr.(testConn).coreOf().writingPaused()
			if qPaused || r.WritingPaused() {
				t.Errorf("at the end: queue paused = %v, protocol paused = %v; want both false", qPaused, r.WritingPaused())
			}
			t.Logf("%d pause/resume cycles", pauses)
			r.check(t)
		})
	}
}

// ---------------------------------------------------------------------------
// 9. Dial and Attach

// TestTransportDial dials TCP and Unix listeners: ConnectionMade has run
// when Dial returns, a bad option fails before connecting, and dial errors
// are returned without calling the protocol.
func TestTransportDial(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "s")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			accepted := make(chan net.Conn, 4)
			acceptDone := make(chan struct{})
			go func() {
				defer close(acceptDone)
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepted <- c
				}
			}()
			defer func() {
				ln.Close()
				<-acceptDone
				close(accepted)
				for c := range accepted {
					c.Close()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			// A bad option: an error, no connection, no callback.
			r0 := newRecorder()
			tr0, err := Dial(ctx, network, ln.Addr().String(), r0, WithWriteBufferLimits(1, 2))
			var le *BufferLimitsError
			if !errors.As(err, &le) || tr0 != nil {
				t.Fatalf("Dial with limits (1, 2): got (%v, %v), want (nil, *BufferLimitsError)", tr0, err)
			}
			if diff := cmp.Diff(&BufferLimitsError{High: 1, Low: 2}, le); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got := r0.eventsCopy(); len(got) != 0 {
				t.Errorf("events after a failed Dial: %v, want none", got)
			}

			r := newRecorder()
			r.onMade = func(r *recorder) {
				if _, err := r.Transport().Write([]byte("greeting")); err != nil {
					r.violate("Write in ConnectionMade: %v", err)
				}
			}
			tr, err := Dial(ctx, network, ln.Addr().String(), r)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			select {
			case <-r.madeCh:
			default:
				t.Fatalf("Dial returned before ConnectionMade ran")
			}
			if got := r.Transport(); got != tr {
				t.Errorf("ConnectionMade got transport %v, Dial returned %v", got, tr)
			}
			if got, want := tr.RemoteAddr().String(), ln.Addr().String(); got != want {
				t.Errorf("RemoteAddr = %s, want %s", got, want)
			}
			// The first connection accepted is this one: the bad Dial did
			// not connect.
			var peer net.Conn
			select {
			case peer = <-accepted:
			case <-time.After(10 * time.Second):
				t.Fatal("no connection accepted")
			}
			defer peer.Close()
			if got := string(ttReadFull(t, peer, len("greeting"), 10*time.Second)); got != "greeting" {
				t.Fatalf("first accepted connection read %q, want %q", got, "greeting")
			}
			if _, err := peer.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "pong", func() bool { return string(r.received()) == "pong" })
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if got := ttReadToEOF(t, peer, 10*time.Second); len(got) != 0 {
				t.Errorf("peer read %q before EOF, want nothing", got)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			ttWaitGone(t, tr, r)
			r.check(t)

			// Dial errors are returned and the protocol is not called.
			bad := filepath.Join(t.TempDir(), "nobody")
			if network == "tcp" {
				l2, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				bad = l2.Addr().String()
				l2.Close()
			}
			r2 := newRecorder()
			if tr2, err := Dial(ctx, network, bad, r2); err == nil || tr2 != nil {
				t.Errorf("Dial to %s with no listener: got (%v, %v), want an error", bad, tr2, err)
			}
			cctx, ccancel := context.WithCancel(context.Background())
			ccancel()
			if tr2, err := Dial(cctx, network, ln.Addr().String(), r2); !errors.Is(err, context.Canceled) || tr2 != nil {
				t.Errorf("Dial with a cancelled context: got (%v, %v), want context.Canceled", tr2, err)
			}
			if got := r2.eventsCopy(); len(got) != 0 {
				t.Errorf("events after failed Dials: %v, want none", got)
			}
		})
	}
}

// TestTransportAttach attaches every kind of connection: ConnectionMade has
// run when Attach returns, and a bad option leaves the connection alone.
func TestTransportAttach(t *testing.T) {
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			srv, cli := k.pair(t)
			defer srv.Close()
			defer ttClosePeer(cli)

			r0 := newRecorder()
			tr0, err := Attach(srv, r0, WithWriteBufferLimits(10, 20))
			var le *BufferLimitsError
			if !errors.As(err, &le) || tr0 != nil {
				t.Fatalf("Attach with limits (10, 20): got (%v, %v), want (nil, *BufferLimitsError)", tr0, err)
			}
			if got := r0.eventsCopy(); len(got) != 0 {
				t.Errorf("events after a failed Attach: %v, want none", got)
			}
			// The connection was left alone: still usable directly.
			werr := ttPeerWrite(srv, []byte("still mine"))
			if got := string(ttReadFull(t, cli, len("still mine"), 10*time.Second)); got != "still mine" {
				t.Fatalf("after a failed Attach, read %q, want %q", got, "still mine")
			}
			if err := ttWaitErr(t, "write", werr, 10*time.Second); err != nil {
				t.Fatalf("write after a failed Attach: %v", err)
			}

			r := newRecorder()
			r.onMade = func(r *recorder) {
				if _, err := r.Transport().Write([]byte("made")); err != nil {
					r.violate("Write in ConnectionMade: %v", err)
				}
			}
			tr, err := Attach(srv, r)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			select {
			case <-r.madeCh:
			default:
				t.Fatalf("Attach returned before ConnectionMade ran")
			}
			if diff := cmp.Diff([]string{"made"}, r.eventsCopy()); diff != "" {
				t.Errorf("events when Attach returns (-want +got):\n%s", diff)
			}
			if tr.NetConn() != srv || tr.LocalAddr() != srv.LocalAddr() || tr.RemoteAddr() != srv.RemoteAddr() {
				t.Errorf("NetConn/LocalAddr/RemoteAddr do not report the attached connection")
			}
			if got := string(ttReadFull(t, cli, len("made"), 10*time.Second)); got != "made" {
				t.Errorf("peer read %q, want %q", got, "made")
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			ttReadToEOF(t, cli, 10*time.Second)
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v), want nil", err)
			}
			ttWaitGone(t, tr, r)
			r.check(t)
		})
	}

	t.Run("server-bad-option", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		srv := NewServer(func() Protocol { return newRecorder() }, WithWriteBufferLimits(-1, -1))
		err = srv.Serve(ln)
		var le *BufferLimitsError
		if !errors.As(err, &le) {
			t.Errorf("Serve with limits (-1, -1): got %v, want a *BufferLimitsError", err)
		}
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Serve failed: got %v, want net.ErrClosed (Serve closes ln)", err)
		}
	})
}

// ---------------------------------------------------------------------------
// 10. Transport calls from inside callbacks

// TestTransportWriteFromCallbacks writes from ConnectionMade (a greeting)
// and from DataReceived (an echo of a large stream, enough to pause and
// resume writing), also as a relay that pauses reading while writing is
// paused.
func TestTransportWriteFromCallbacks(t *testing.T) {
	const size = 2 << 20 // cheap, and well above what the kernel buffers
	data := ttPattern(10, size)
	for _, k := range connKinds {
		for _, relay := range []bool{false, true} {
			name := k.name
			if relay {
				name += "/pause-reading-too"
			}
			t.Run(name, func(t *testing.T) {
				r := newRecorder()
				r.pauseReadToo = relay
				r.onMade = func(r *recorder) {
					if _, err := r.Transport().Write([]byte("hello\n")); err != nil {
						r.violate("Write in ConnectionMade: %v", err)
					}
				}
				var echoed atomic.Int64
				r.onData = func(r *recorder, p []byte) {
					n, err := r.Transport().Write(p)
					if err != nil {
						r.violate("Write in DataReceived: %v", err)
					}
					echoed.Add(int64(n))
				}
				tr, cli := ttAttach(t, k, r)
				// Pinned, so that 2 MiB is well above what the kernel
				// buffers; not smaller, because with 64 KiB loopback
				// segments a slow receiver (-race, a loaded machine) then
				// drops some, and TCP's backed-off retransmission stalls
				// the stream for tens of seconds (seen with 128 KiB).
				ttPinBuffers(tr.NetConn(), 256<<10)
				ttPinBuffers(cli, 256<<10)
				if got := string(ttReadFull(t, cli, len("hello\n"), 10*time.Second)); got != "hello\n" {
					t.Fatalf("greeting: got %q", got)
				}
				werr := make(chan error, 1)
				var sent atomic.Bool
				go func() {
					defer sent.Store(true)
					for off := 0; off < len(data); off += 8 << 10 {
						if _, err := cli.Write(data[off:min(off+8<<10, len(data))]); err != nil {
							werr <- err
							return
						}
					}
					werr <- nil
				}()
				// The peer reads only once the echo has filled the socket
				// and writing paused (or it has sent everything); then
				// slowly, until EOF.
				waitFor(t, 30*time.Second, "PauseWriting", func() bool { return ttCount(r, "pause") > 0 || sent.Load() })
				echo := ttRead(cli, true, true)
				if err := ttWaitErr(t, "peer write", werr, 30*time.Second); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 30*time.Second, "the protocol to echo everything", func() bool { return echoed.Load() == int64(len(data)) })
				if err := tr.Close(); err != nil {
					t.Fatal(err)
				}
				res := ttRecv(t, echo, 30*time.Second)
				if res.err != nil || !bytes.Equal(res.data, data) {
					t.Errorf("peer read %d bytes of echo (%s), then %v; want the %d bytes sent, then EOF", len(res.data), ttDescribeDiff(res.data, data), res.err, len(data))
				}
				if err := r.waitLost(t, 10*time.Second); err != nil {
					t.Errorf("ConnectionLost(%v), want nil", err)
				}
				if ttCount(r, "pause") == 0 {
					t.Errorf("writing never paused: the test did not exercise flow control")
				}
				t.Logf("%d pause/resume cycles", ttCount(r, "pause"))
				r.check(t)
			})
		}
	}
}

// TestTransportCloseFromCallback closes the transport from inside
// ConnectionMade, DataReceived and EOFReceived: the bytes written before
// Close still reach the peer, and ConnectionLost(nil) follows.
func TestTransportCloseFromCallback(t *testing.T) {
	closeIn := func(r *recorder, what string) {
		if _, err := r.Transport().Write([]byte("bye")); err != nil {
			r.violate("Write in %s: %v", what, err)
		}
		if err := r.Transport().Close(); err != nil {
			r.violate("Close in %s: %v", what, err)
		}
		if err := r.Transport().Close(); !errors.Is(err, net.ErrClosed) {
			r.violate("second Close in %s: got %v, want net.ErrClosed", what, err)
		}
	}
	cases := []struct {
		name    string
		arm     func(r *recorder)
		trigger func(t *testing.T, c net.Conn)
		kinds   []connKind
	}{
		{"ConnectionMade", func(r *recorder) { r.onMade = func(r *recorder) { closeIn(r, "ConnectionMade") } }, nil, connKinds},
		{"DataReceived", func(r *recorder) {
			r.onData = func(r *recorder, p []byte) {
				if bytes.Contains(p, []byte("quit")) {
					closeIn(r, "DataReceived")
				}
			}
		}, func(t *testing.T, c net.Conn) { _ = ttPeerWrite(c, []byte("quit")) }, connKinds},
		{"EOFReceived", func(r *recorder) {
			r.keepOpen = true
			r.onEOF = func(r *recorder) { closeIn(r, "EOFReceived") }
		}, func(t *testing.T, c net.Conn) {
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			ttCloseWrite(t, c)
		}, ttKinds("tcp", "unix", "tls")},
	}
	for _, tc := range cases {
		for _, k := range tc.kinds {
			t.Run(tc.name+"/"+k.name, func(t *testing.T) {
				r := newRecorder()
				tc.arm(r)
				_, cli := ttAttach(t, k, r)
				if tc.trigger != nil {
					tc.trigger(t, cli)
				}
				if got := string(ttReadToEOF(t, cli, 10*time.Second)); got != "bye" {
					t.Errorf("peer read %q, want %q then EOF", got, "bye")
				}
				if err := r.waitLost(t, 10*time.Second); err != nil {
					t.Errorf("ConnectionLost(%v), want nil", err)
				}
				r.check(t)
			})
		}
	}
}

// TestTransportAbortFromPauseWriting aborts from inside PauseWriting, with
// the pause coming from a write in ConnectionMade, in DataReceived, or on a
// goroutine of the test's own: no deadlock, ConnectionLost(nil), and later
// writes fail with net.ErrClosed.
func TestTransportAbortFromPauseWriting(t *testing.T) {
	big := make([]byte, 4<<20)
	cases := []struct {
		name string
		arm  func(r *recorder)
		run  func(t *testing.T, tr Transport, cli net.Conn)
	}{
		{"ConnectionMade", func(r *recorder) {
			r.onMade = func(r *recorder) { _, _ = r.Transport().Write(big) }
		}, nil},
		{"DataReceived", func(r *recorder) {
			r.onData = func(r *recorder, p []byte) { _, _ = r.Transport().Write(big) }
		}, func(t *testing.T, tr Transport, cli net.Conn) { _ = ttPeerWrite(cli, []byte("go")) }},
		{"writer-goroutine", func(*recorder) {}, func(t *testing.T, tr Transport, cli net.Conn) {
			p := make([]byte, 64<<10)
			for i := 0; ; i++ {
				_, err := tr.Write(p)
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if err != nil || i > 4096 {
					t.Errorf("Write #%d: %v; want it to fail with net.ErrClosed once PauseWriting aborted", i, err)
					return
				}
			}
		}},
	}
	for _, tc := range cases {
		for _, k := range connKinds {
			t.Run(tc.name+"/"+k.name, func(t *testing.T) {
				r := newRecorder()
				tc.arm(r)
				r.onPause = func(r *recorder) { r.Transport().Abort() }
				srv, cli := k.pair(t)
				ttShrinkConn(srv, 64<<10)
				ttPinBuffers(cli, 128<<10)
				ch := make(chan Transport, 1)
				go func() {
					tr, err := Attach(srv, r, WithWriteBufferLimits(1<<10, 0))
					if err != nil {
						t.Errorf("Attach: %v", err)
					}
					ch <- tr
				}()
				var tr Transport
				select {
				case tr = <-ch:
				case <-time.After(10 * time.Second):
					t.Fatalf("Attach deadlocked\n%s", ttStacks())
				}
				if tr == nil {
					srv.Close()
					cli.Close()
					t.FailNow()
				}
				t.Cleanup(func() {
					tr.Abort()
					ttClosePeer(cli)
					ttWaitGone(t, tr, r)
				})
				if tc.run != nil {
					done := make(chan struct{})
					go func() {
						defer close(done)
						tc.run(t, tr, cli)
					}()
					select {
					case <-done:
					case <-time.After(10 * time.Second):
						t.Fatalf("deadlock\n%s", ttStacks())
					}
				}
				if err := r.waitLost(t, 10*time.Second); err != nil {
					t.Errorf("ConnectionLost(%v), want nil after Abort", err)
				}
				if n := ttCount(r, "pause"); n != 1 {
					t.Errorf("PauseWriting %d times, want 1", n)
				}
				ttCheckClosedErrors(t, k, tr)
				r.check(t)
			})
		}
	}
}

// TestTransportReadAfterLinger sends after the connection has been quiet for
// longer than an epoll-backend reader lingers: the next burst of reads must
// not trip over the linger deadline that the previous reader left behind.
func TestTransportReadAfterLinger(t *testing.T) {
	for _, k := range connKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			_, cli := ttAttach(t, k, r, WithReadBufferSize(4<<10))
			var want []byte
			for round := range 3 {
				msg := ttPattern(uint64(round), 10<<10) // more than one read buffer
				if err := ttWaitErr(t, "peer write", ttPeerWrite(cli, msg), 10*time.Second); err != nil {
					t.Fatal(err)
				}
				want = append(want, msg...)
				waitFor(t, 10*time.Second, fmt.Sprintf("round %d", round), func() bool { return len(r.received()) >= len(want) })
				if got := r.received(); !bytes.Equal(got, want) {
					t.Fatalf("round %d: %s", round, ttDescribeDiff(got, want))
				}
				if n := ttCount(r, "lost"); n != 0 {
					t.Fatalf("round %d: connection lost: %v", round, ttLost(t, r))
				}
				time.Sleep(3 * readLinger)
			}
		})
	}
}

// ttLimits returns the water marks in force.
func ttLimits(tr Transport) (high, low int) {
	if c, ok := tr.(*conn); ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.q.high, c.q.low
	}
	return tr.(interface{ limits() (int, int) }).limits()
}
