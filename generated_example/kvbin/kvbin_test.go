package kvbin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The tests speak the protocol with frames built by hand, apart from the
// generated code, so that they check its wire format too.

// Codec frames what the tests write.
var Codec wire.Codec = wire.LengthCodec{Size: 4, Max: MaxFrame}

// Operations and replies: the first byte of a payload.
const (
	opHello = 'H'
	opGet   = 'G'
	opSet   = 'S'
	opDel   = 'D'
	opQuit  = 'Q'
	opValue = 'V'
)

// testServer is a kvbin server on a fresh listener, with the protocols it
// made.
type testServer struct {
	network, addr string
	store         *Store

	mu        sync.Mutex
	protocols []*Server
}

func startServer(t *testing.T, network string) *testServer {
	t.Helper()
	ts := &testServer{network: network, store: NewStore()}
	ts.addr = serve(t, network, func() protoflow.Protocol {
		p := ts.store.Protocol()
		ts.mu.Lock()
		ts.protocols = append(ts.protocols, p)
		ts.mu.Unlock()
		return p
	})
	return ts
}

// serve serves the protocols of factory on a fresh listener of network
// ("tcp" on loopback, or "unix") until the test ends, and returns its
// address; the cleanup shuts the server down and checks how Serve ended.
func serve(t *testing.T, network string, factory func() protoflow.Protocol, opts ...protoflow.Option) string {
	t.Helper()
	address := "127.0.0.1:0"
	if network == "unix" {
		address = filepath.Join(t.TempDir(), "kvbin.sock")
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	srv := protoflow.NewServer(factory, opts...)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // ends with Shutdown below
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, protoflow.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

func (ts *testServer) dial(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(context.Background(), ts.network, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Quit(context.Background(), &Quit{})
		c.Close()
	})
	return c
}

// set, get and del are the generated Client's Set, Get and Del, shaped as
// the tests ask them.
func set(ctx context.Context, c *Client, key string, value []byte) error {
	_, err := c.Set(ctx, &Set{Key: []byte(key), Value: value})
	return err
}

func get(ctx context.Context, c *Client, key string) ([]byte, bool, error) {
	r, err := c.Get(ctx, &Get{Key: []byte(key)})
	if v, ok := r.(*Value); ok {
		return v.Value, true, err
	}
	return nil, false, err
}

func del(ctx context.Context, c *Client, key string) (bool, error) {
	r, err := c.Del(ctx, &Del{Key: []byte(key)})
	_, ok := r.(*OK)
	return ok, err
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// frame encodes a request.
func frame(op byte, body ...[]byte) []byte {
	payload := []byte{op}
	for _, b := range body {
		payload = append(payload, b...)
	}
	out, err := Codec.AppendFrame(nil, payload)
	if err != nil {
		panic(err)
	}
	return out
}

func setBody(key, value string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(key)))
	return append(append(b, key...), value...)
}

// readFrame reads one reply payload from a raw connection.
func readFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("reading a reply header: %v", err)
	}
	payload := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatalf("reading a reply of %d bytes: %v", len(payload), err)
	}
	return payload
}

func rawConn(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial(ts.network, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

func TestClientCommands(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network)
			c := ts.dial(t)
			ctx := context.Background()
			big := bytes.Repeat([]byte("0123456789abcdef"), 50_000) // 800 KB: split across many reads
			steps := []struct {
				name string
				do   func() (string, error)
				want string
			}{
				{"get missing", func() (string, error) { v, ok, err := get(ctx, c, "k"); return fmt.Sprintf("%q %v", v, ok), err }, `"" false`},
				{"set", func() (string, error) { return "", set(ctx, c, "k", []byte("v 1\x00\n")) }, ""},
				{"get", func() (string, error) { v, ok, err := get(ctx, c, "k"); return fmt.Sprintf("%q %v", v, ok), err }, `"v 1\x00\n" true`},
				{"set empty", func() (string, error) { return "", set(ctx, c, "e", nil) }, ""},
				{"get empty", func() (string, error) { v, ok, err := get(ctx, c, "e"); return fmt.Sprintf("%q %v", v, ok), err }, `"" true`},
				{"set big", func() (string, error) { return "", set(ctx, c, "big", big) }, ""},
				{"get big", func() (string, error) {
					v, ok, err := get(ctx, c, "big")
					return fmt.Sprint(bytes.Equal(v, big), ok), err
				}, "true true"},
				{"del", func() (string, error) { ok, err := del(ctx, c, "k"); return fmt.Sprint(ok), err }, "true"},
				{"del again", func() (string, error) { ok, err := del(ctx, c, "k"); return fmt.Sprint(ok), err }, "false"},
			}
			for _, s := range steps {
				got, err := s.do()
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got != s.want {
					t.Fatalf("%s: got %s, want %s", s.name, got, s.want)
				}
			}
			if err := set(ctx, c, "huge", make([]byte, MaxFrame)); err == nil {
				t.Errorf("a request over MaxFrame was sent")
			}
			if got := ts.store.Handshakes(); got != 1 {
				t.Errorf("Handshakes() = %d, want 1", got)
			}
		})
	}
}

// Many goroutines share one client: their requests are pipelined and each
// gets its own reply.
func TestClientPipelining(t *testing.T) {
	ts := startServer(t, "tcp")
	c := ts.dial(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("g%d-%d", g, i)
				if err := set(ctx, c, key, []byte(key)); err != nil {
					errs <- err
					return
				}
				v, ok, err := get(ctx, c, key)
				if err != nil || !ok || string(v) != key {
					errs <- fmt.Errorf("get %s = %q, %v, %v", key, v, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := ts.store.Len(); n != 64*50 {
		t.Errorf("store holds %d keys, want %d", n, 64*50)
	}
}

// newServer returns a server protocol on a store of its own, so that each
// run of CheckSplits starts empty.
func newServer() *Server { return NewStore().Protocol() }

// replies splits what a server wrote into reply payloads.
func replies(t *testing.T, written []byte) []string {
	t.Helper()
	var out []string
	for len(written) > 0 {
		n, payload, err := Codec.Next(written, 0)
		if err != nil || n == 0 {
			t.Fatalf("the server wrote %q, not whole frames: %v", written, err)
		}
		out = append(out, string(payload))
		written = written[n:]
	}
	return out
}

// The raw protocol, without a socket: the same replies, in order, however
// the requests are cut into reads (one byte each, cut once at every
// offset, cut at random).
func TestServerFramesAnySplit(t *testing.T) {
	var stream []byte
	stream = append(stream, frame(opHello, []byte(Version))...)
	stream = append(stream, frame(opSet, setBody("a", "1"))...)
	stream = append(stream, frame(opGet, []byte("a"))...)
	stream = append(stream, frame(opGet, []byte("b"))...)
	stream = append(stream, frame('X')...)
	stream = append(stream, frame(opDel, []byte("a"))...)
	got := protoflowtest.CheckSplits(t, newServer, stream)
	want := []string{"H" + Version, "O", "V1", "N", "Ewire: Request.op at byte 0: unknown message (0x58 ('X'))", "O"}
	if diff := cmp.Diff(want, replies(t, got.Written)); diff != "" || got.Lost {
		t.Errorf("replies (-want +got):\n%s\nlost: %v", diff, got.Lost)
	}
}

// The state machine guards the handshake: a request before hello, or a
// second hello, is refused with the TransitionError's message and closes the
// connection; quit answers and closes.
func TestServerHandshake(t *testing.T) {
	cases := []struct {
		name   string
		frames [][]byte
		want   []string
	}{
		{"get before hello", [][]byte{frame(opGet, []byte("k"))},
			[]string{"Eprotoflow: Server: no transition on event request from state greeting"}},
		{"hello twice", [][]byte{frame(opHello, []byte(Version)), frame(opHello, []byte(Version))},
			[]string{"H" + Version, "Eprotoflow: Server: no transition on event hello from state ready"}},
		{"wrong version", [][]byte{frame(opHello, []byte("kvbin/9"))},
			[]string{"Eunsupported version kvbin/9; this server speaks " + Version}},
		{"quit before hello", [][]byte{frame(opQuit)}, []string{"O"}},
		{"quit", [][]byte{frame(opHello, []byte(Version)), frame(opQuit), frame(opGet, []byte("ignored"))},
			[]string{"H" + Version, "O"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := protoflowtest.CheckSplits(t, newServer, bytes.Join(tc.frames, nil))
			if diff := cmp.Diff(tc.want, replies(t, got.Written)); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			if !got.WriteClosed || !got.Lost || got.Err != nil {
				t.Errorf("write side closed %v, lost %v with %v; want a clean close", got.WriteClosed, got.Lost, got.Err)
			}
		})
	}
}

// A frame over MaxFrame, announced by its header alone, closes the
// connection with ErrFrameTooLarge before any of it is buffered.
func TestServerFrameTooLarge(t *testing.T) {
	for _, size := range []uint32{MaxFrame + 1, 1<<32 - 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			hdr := binary.BigEndian.AppendUint32(nil, size)
			got := protoflowtest.CheckSplits(t, newServer, append(frame(opHello, []byte(Version)), hdr...))
			if diff := cmp.Diff([]string{"H" + Version}, replies(t, got.Written)); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			var tooLarge *wire.FrameTooLargeError
			if !got.Lost || !errors.Is(got.Err, wire.ErrFrameTooLarge) || !errors.As(got.Err, &tooLarge) {
				t.Fatalf("ConnectionLost(%v) (ran: %v), want a *FrameTooLargeError", got.Err, got.Lost)
			}
			if tooLarge.Size != int64(size) {
				t.Errorf("FrameTooLargeError.Size = %d, want %d", tooLarge.Size, size)
			}
		})
	}
}

// A client that does not say hello within the read timeout is cut off with
// a timeout error; one that has said hello may stay quiet for longer. The
// timeouts run on protoflowtest's clock: nothing sleeps.
func TestServerHandshakeTimeout(t *testing.T) {
	store := NewStore()
	silent := protoflowtest.New(store.Protocol())
	defer silent.Finish(t)
	ready := protoflowtest.New(store.Protocol())
	defer ready.Finish(t)
	if err := ready.Feed(frame(opHello, []byte(Version))); err != nil {
		t.Fatal(err)
	}
	if got, err := ready.ReadFrame(Codec); string(got) != "H"+Version || err != nil {
		t.Fatalf("hello reply = %q, %v", got, err)
	}

	silent.Advance(HandshakeTimeout - 1)
	if lost, err := silent.Lost(); lost {
		t.Fatalf("the silent client was cut off (%v) before the %v timeout", err, HandshakeTimeout)
	}
	silent.Advance(1)
	lost, err := silent.Lost()
	var ne net.Error
	if !lost || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Lost() = %v, %v; want a net.Error whose Timeout() is true", lost, err)
	}
	var te *protoflow.TimeoutError
	if !errors.As(err, &te) || te.Kind != protoflow.ReadTimeout || te.After != HandshakeTimeout {
		t.Fatalf("ConnectionLost(%v), want a read *protoflow.TimeoutError after %v", err, HandshakeTimeout)
	}
	if !silent.WriteClosed() {
		t.Errorf("the silent client's connection is still open")
	}

	// The ready client has said hello: it may stay quiet for much longer.
	ready.Advance(100 * HandshakeTimeout)
	if err := ready.Feed(frame(opSet, setBody("still", "here"))); err != nil {
		t.Fatalf("the ready client after %v of quiet: %v", ready.Elapsed(), err)
	}
	if got, err := ready.ReadFrame(Codec); string(got) != "O" || err != nil {
		t.Fatalf("set reply after %v of quiet = %q, %v", ready.Elapsed(), got, err)
	}
	if got := store.Handshakes(); got != 1 {
		t.Errorf("Handshakes() = %d, want 1", got)
	}
}

// A client that pipelines far more than it reads cannot grow the server's
// memory: the server stops reading while its replies back up, the framer
// holds at most what one read brought, and every reply still arrives in
// order once the client reads.
func TestServerSlowClient(t *testing.T) {
	ts := startServer(t, "tcp")
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 16*1024)
	if err := set(ctx, ts.dial(t), "big", value); err != nil {
		t.Fatal(err)
	}
	c := rawConn(t, ts)
	if _, err := c.Write(frame(opHello, []byte(Version))); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(c, 64*1024)
	if got := string(readFrame(t, r)); got != "H"+Version {
		t.Fatalf("hello reply = %q", got)
	}
	const requests = 20_000 // 20,000 × 16 KiB = 320 MiB of replies
	writeDone := make(chan error, 1)
	go func() {
		batch := bytes.Repeat(frame(opGet, []byte("big")), 100)
		for i := 0; i < requests; i += 100 {
			if _, err := c.Write(batch); err != nil {
				writeDone <- err
				return
			}
		}
		writeDone <- nil
	}()

	var server *Server
	waitUntil(t, func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if len(ts.protocols) == 2 {
			server = ts.protocols[1]
		}
		return server != nil && server.WritingPaused()
	})
	maxQueued := 0
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if t := server.Transport(); t != nil {
			maxQueued = max(maxQueued, t.WriteBufferSize())
		}
		time.Sleep(time.Millisecond)
	}
	// The server pauses reading inside the frame whose reply crossed the
	// high-water mark, so its queue stays within the mark plus one reply.
	limit := protoflow.DefaultHighWater + 4 + 1 + len(value)
	if maxQueued > limit {
		t.Errorf("server queued %d bytes while the client did not read, want at most %d", maxQueued, limit)
	}
	if !server.ReadingPaused() {
		t.Errorf("server is not paused reading while its replies back up")
	}

	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for i := range requests {
		got := readFrame(t, r)
		if len(got) != 1+len(value) || got[0] != opValue {
			t.Fatalf("reply %d is %d bytes, want a value of 16 KiB", i, len(got))
		}
	}
	if err := <-writeDone; err != nil {
		t.Fatalf("client writes: %v", err)
	}
	t.Logf("server queue peaked at %d bytes while paused (limit %d)", maxQueued, limit)
}

// Requests still waiting when the connection ends fail with the cause.
func TestClientConnectionLost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // ends with the one Accept
		c, _ := ln.Accept()
		accepted <- c
	}()
	// A fake server: answers hello, then hangs up on the next request.
	type result struct {
		c   *Client
		err error
	}
	dialed := make(chan result, 1)
	go func() { // ends when Dial returns
		c, err := Dial(context.Background(), "tcp", ln.Addr().String())
		dialed <- result{c, err}
	}()
	srv := <-accepted
	defer srv.Close()
	readFrame(t, srv)
	if _, err := srv.Write(frame(opHello, []byte(Version))); err != nil {
		t.Fatal(err)
	}
	res := <-dialed
	if res.err != nil {
		t.Fatal(res.err)
	}
	got := make(chan error, 1)
	go func() { // ends when Get fails
		_, _, err := get(context.Background(), res.c, "k")
		got <- err
	}()
	readFrame(t, srv)
	srv.(*net.TCPConn).SetLinger(0)
	srv.Close() // a reset
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("Get succeeded after the server hung up")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get still waits after the server hung up")
	}
	if _, _, err := get(context.Background(), res.c, "k"); err == nil {
		t.Fatal("Get on a lost connection succeeded")
	}
}

// fakeServer is the server end of one raw connection, for client tests
// that need a server which misbehaves: it answers hello, then serves as the
// test says.
type fakeServer struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialFake connects a Client to a fake server that has answered hello.
func dialFake(t *testing.T) (*Client, *fakeServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // ends with the one Accept
		c, _ := ln.Accept()
		accepted <- c
	}()
	type result struct {
		c   *Client
		err error
	}
	dialed := make(chan result, 1)
	go func() { // ends when Dial returns
		c, err := Dial(context.Background(), "tcp", ln.Addr().String())
		dialed <- result{c, err}
	}()
	srv := &fakeServer{conn: <-accepted}
	t.Cleanup(func() { srv.conn.Close() })
	srv.conn.SetDeadline(time.Now().Add(30 * time.Second))
	srv.r = bufio.NewReaderSize(srv.conn, 1<<20)
	readFrame(t, srv.r)
	srv.reply(t, "H"+Version)
	res := <-dialed
	if res.err != nil {
		t.Fatal(res.err)
	}
	t.Cleanup(func() { res.c.Close() })
	return res.c, srv
}

func (s *fakeServer) reply(t *testing.T, payload string) {
	t.Helper()
	if _, err := s.conn.Write(frame(payload[0], []byte(payload[1:]))); err != nil {
		t.Fatal(err)
	}
}

// A server that stops reading holds its client's callers back: once the
// client's queue rises past the high-water mark, a call waits in Drain
// before it writes anything, so the queue stops growing; a caller whose ctx
// ends returns without having written; and the held calls go on once the
// server reads and answers.
func TestClientBackPressure(t *testing.T) {
	c, srv := dialFake(t)
	ctx := context.Background()
	p := c.Protocol()
	value := bytes.Repeat([]byte("v"), 512<<10)
	done := make(chan error, 256)
	// Calls one at a time, each once the last has written its request,
	// until the socket's buffers are full and writing pauses.
	launched := 0
	for !p.WritingPaused() {
		if launched == 200 {
			t.Fatal("writing never paused with 100 MiB of requests unread")
		}
		go func(i int) { done <- set(ctx, c, fmt.Sprint(i), value) }(launched)
		launched++
		waitUntil(t, func() bool { return p.calls.Waiting() == launched })
	}
	if q, limit := p.Transport().WriteBufferSize(), protoflow.DefaultHighWater+len(value)+64; q > limit {
		t.Errorf("the client queued %d bytes, more than the high-water mark and one request (%d)", q, limit)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := set(short, c, "late", value); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call while the server does not read = %v, want its ctx's deadline", err)
	}
	if n := p.calls.Waiting(); n != launched {
		t.Errorf("%d calls wait after the late one gave up, want %d: it wrote while writing was paused", n, launched)
	}
	for range launched {
		readFrame(t, srv.r)
		srv.reply(t, "O")
	}
	for range launched {
		if err := <-done; err != nil {
			t.Errorf("a held-back call: %v", err)
		}
	}
}

// A caller whose ctx ends while its reply is outstanding returns at once;
// the late reply is dropped, and the next caller gets its own.
func TestClientCancelKeepsStep(t *testing.T) {
	c, srv := dialFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { // ends when the call returns
		_, _, err := get(ctx, c, "first")
		first <- err
	}()
	readFrame(t, srv.r)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled call = %v, want context.Canceled", err)
	}
	second := make(chan []byte, 1)
	go func() { // ends when the call returns
		v, _, _ := get(context.Background(), c, "second")
		second <- v
	}()
	readFrame(t, srv.r)
	srv.reply(t, "Vfirst's value")
	srv.reply(t, "Vsecond's value")
	if got := <-second; string(got) != "second's value" {
		t.Fatalf("the second call got %q, want its own reply", got)
	}
}

// When the connection ends, every waiting caller fails with why, and so
// does every later call.
func TestClientLossWakesEveryCaller(t *testing.T) {
	c, srv := dialFake(t)
	const callers = 16
	errs := make(chan error, callers)
	for i := range callers {
		go func() { _, _, err := get(context.Background(), c, fmt.Sprint(i)); errs <- err }()
	}
	for range callers {
		readFrame(t, srv.r)
	}
	srv.conn.(*net.TCPConn).SetLinger(0)
	srv.conn.Close() // a reset
	for range callers {
		if err := <-errs; !errors.Is(err, protoflow.ErrConnectionLost) {
			t.Errorf("a waiting call = %v, want an error matching ErrConnectionLost", err)
		}
	}
	if _, _, err := get(context.Background(), c, "after"); !errors.Is(err, protoflow.ErrConnectionLost) {
		t.Errorf("a call after the loss = %v, want an error matching ErrConnectionLost", err)
	}
}
