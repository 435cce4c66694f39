package kv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server starts a key-value server on a fresh listener and returns its
// address, its store, the protocols it made, and a stop function that
// shuts it down.
type testServer struct {
	network, addr string
	store         *Store
	mu            sync.Mutex
	protocols     []*Server
}

func startServer(t *testing.T, network string) *testServer {
	t.Helper()
	address := "127.0.0.1:0"
	if network == "unix" {
		address = filepath.Join(t.TempDir(), "kv.sock")
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{network: network, addr: ln.Addr().String(), store: NewStore()}
	srv := protoflow.NewServer(func() *Server {
		p := ts.store.Protocol()
		ts.mu.Lock()
		ts.protocols = append(ts.protocols, p)
		ts.mu.Unlock()
		return p
	})
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
	return ts
}

func (ts *testServer) dial(t *testing.T) *Client {
	t.Helper()
	c, err := DialClient(context.Background(), ts.network, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientCommands(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network)
			c := ts.dial(t)
			ctx := context.Background()
			if err := ping(ctx, c); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if _, ok, err := get(ctx, c, "greeting"); ok || err != nil {
				t.Fatalf("Get of a missing key = ok %v, %v; want false, nil", ok, err)
			}
			if err := set(ctx, c, "greeting", "hello, wide world"); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if v, ok, err := get(ctx, c, "greeting"); v != "hello, wide world" || !ok || err != nil {
				t.Fatalf("Get = %q, %v, %v; want the value set", v, ok, err)
			}
			if ok, err := del(ctx, c, "greeting"); !ok || err != nil {
				t.Fatalf("Del = %v, %v; want true, nil", ok, err)
			}
			if ok, err := del(ctx, c, "greeting"); ok || err != nil {
				t.Fatalf("second Del = %v, %v; want false, nil", ok, err)
			}
			if err := set(ctx, c, "bad key", "v"); err == nil {
				t.Errorf("Set with a space in the key succeeded")
			}
		})
	}
}

// Concurrent requests on one client are pipelined and each gets its own
// reply.
func TestClientPipelining(t *testing.T) {
	ts := startServer(t, "tcp")
	c := ts.dial(t)
	ctx := context.Background()
	const workers, each = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("k%d-%d", w, i)
				if err := set(ctx, c, key, key+"-value"); err != nil {
					errs <- err
					return
				}
				if v, ok, err := get(ctx, c, key); err != nil || !ok || v != key+"-value" {
					errs <- fmt.Errorf("Get(%s) = %q, %v, %v", key, v, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := ts.store.Len(); n != workers*each {
		t.Errorf("store holds %d keys, want %d", n, workers*each)
	}
}

// rawConn dials the server without the client, to send exact bytes.
func rawConn(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial(ts.network, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newServer returns a server protocol on a store of its own, so that each
// run of CheckSplits starts empty.
func newServer() *Server { return NewStore().Protocol() }

// The server answers malformed requests with ERR lines and keeps going,
// accepts CRLF, and gives the same replies however the requests are cut
// into reads.
func TestServerRequests(t *testing.T) {
	requests := "SET a 1\r\nget a\nBOGUS\n\nGET\nSET lonely\nDEL a\nGET a\nPING\n"
	want := "OK\nVALUE 1\n" +
		`ERR wire: Request at byte 0: unknown message (verb "BOGUS")` + "\n" +
		`ERR wire: Request at byte 0: unknown message (verb "")` + "\n" +
		"ERR wire: Get.key at byte 3: missing field\n" +
		"OK\n" + // SET lonely: an empty value
		"OK\nNOT_FOUND\nPONG\n"
	got := protoflowtest.CheckSplits(t, newServer, []byte(requests))
	if string(got.Written) != want || got.Lost {
		t.Errorf("replies %q (lost %v), want %q", got.Written, got.Lost, want)
	}
}

// A line longer than MaxLine is refused and the connection closed after
// the replies before it.
func TestServerLineTooLong(t *testing.T) {
	in := "PING\n" + strings.Repeat("x", MaxLine)
	got := protoflowtest.CheckSplits(t, newServer, []byte(in), protoflowtest.RandomCuts(1, 4))
	want := protoflowtest.Result{Written: []byte("PONG\nERR wire: frame too large: size 65537 exceeds max 65536\n"), WriteClosed: true, Lost: true}
	if string(got.Written) != string(want.Written) || got.WriteClosed != want.WriteClosed || got.Lost != want.Lost || got.Err != nil {
		t.Errorf("got %q (closed %v, lost %v with %v), want PONG then the error, then a clean close", got.Written, got.WriteClosed, got.Lost, got.Err)
	}
}

// A client that pipelines far more than it reads cannot grow the server's
// memory: the server stops reading while its replies back up, so its write
// queue stays near the high-water mark, and every reply still arrives in
// order once the client reads.
func TestServerSlowClient(t *testing.T) {
	ts := startServer(t, "tcp")
	ctx := context.Background()
	value := strings.Repeat("v", 16*1024)
	if err := set(ctx, ts.dial(t), "big", value); err != nil {
		t.Fatal(err)
	}
	c := rawConn(t, ts)
	const requests = 20_000 // 20,000 × 16 KiB = 320 MiB of replies
	writeDone := make(chan error, 1)
	go func() {
		batch := []byte(strings.Repeat("GET big\n", 100))
		for i := 0; i < requests; i += 100 {
			if _, err := c.Write(batch); err != nil {
				writeDone <- err
				return
			}
		}
		writeDone <- nil
	}()

	// Let the pipeline back up, then watch the server's queue while the
	// client still does not read.
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
	// The server stops serving once writing is paused, inside the read
	// whose replies crossed the high-water mark, so its queue stays within
	// the mark plus one reply, however many requests one read held.
	limit := protoflow.DefaultHighWater + len("VALUE \n") + len(value)
	if maxQueued > limit {
		t.Errorf("server queued %d bytes while the client did not read, want at most %d", maxQueued, limit)
	}
	if !server.ReadingPaused() {
		t.Errorf("server is not paused reading while its replies back up")
	}

	r := bufio.NewReaderSize(c, 64*1024)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for i := range requests {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if len(line) != len("VALUE \n")+len(value) || !strings.HasPrefix(line, "VALUE v") {
			t.Fatalf("reply %d is %d bytes, want a VALUE of the 16 KiB value", i, len(line))
		}
	}
	if err := <-writeDone; err != nil {
		t.Fatalf("client writes: %v", err)
	}
	t.Logf("server queue peaked at %d bytes while paused (limit %d)", maxQueued, limit)
}

// set, get, del and ping are the generated Client's methods, shaped as the
// tests ask them.
func set(ctx context.Context, c *Client, key, value string) error {
	_, err := c.Set(ctx, &Set{Key: []byte(key), Value: value})
	return err
}

func get(ctx context.Context, c *Client, key string) (string, bool, error) {
	r, err := c.Get(ctx, &Get{Key: []byte(key)})
	if v, ok := r.(*Value); ok {
		return v.Value, true, err
	}
	return "", false, err
}

func del(ctx context.Context, c *Client, key string) (bool, error) {
	r, err := c.Del(ctx, &Del{Key: []byte(key)})
	_, ok := r.(*OK)
	return ok, err
}

func ping(ctx context.Context, c *Client) error {
	_, err := c.Ping(ctx, &Ping{})
	return err
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

// Requests still waiting when the connection ends fail with the cause.
func TestClientConnectionLost(t *testing.T) {
	c, peer := clientAndPeer(t)
	result := make(chan error, 1)
	go func() { result <- ping(context.Background(), c) }()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(peer, buf); err != nil { // the PING arrived
		t.Fatal(err)
	}
	peer.Close() // a clean close before the reply
	if err := <-result; !errors.Is(err, protoflow.ErrConnectionLost) {
		t.Errorf("Ping after the server closed = %v, want ErrConnectionLost", err)
	}
	if err := ping(context.Background(), c); !errors.Is(err, protoflow.ErrConnectionLost) {
		t.Errorf("Ping on a lost connection = %v, want ErrConnectionLost", err)
	}
}

// A call made after Close fails with an error matching ErrConnectionLost,
// whether the transport is still closing (the request is not sent) or the
// connection has ended: a caller checks one error, whatever the timing.
func TestClientCallAfterClose(t *testing.T) {
	ts := startServer(t, "tcp")
	for range 20 { // right after Close, and later
		c := ts.dial(t)
		if err := ping(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		err := ping(context.Background(), c)
		if !errors.Is(err, protoflow.ErrConnectionLost) || !errors.Is(err, protoflow.ErrRequestNotSent) {
			t.Fatalf("Ping right after Close = %v, want an error matching ErrConnectionLost that says the request was not sent", err)
		}
		waitUntil(t, func() bool { return !c.Protocol().Connected() })
		if err := ping(context.Background(), c); !errors.Is(err, protoflow.ErrConnectionLost) {
			t.Fatalf("Ping once the connection ended = %v, want ErrConnectionLost", err)
		}
	}
}

// A request that the server does not answer (here it drops a GET) would
// leave every later reply to the call before its own: the GET's caller
// gives up, and the PONG that comes next is taken off the queue for it.
// The GET's call does not take a PONG, so the client ends the connection
// with ErrUnexpectedReply, and the PING's caller hears of it, rather than
// get another request's reply later.
func TestClientUnansweredRequest(t *testing.T) {
	c, peer := clientAndPeer(t)
	defer c.Close()
	defer peer.Close()
	lines := bufio.NewReader(peer)

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, &Get{Key: []byte("k")})
		got <- err
	}()
	if line, err := lines.ReadString('\n'); err != nil || line != "GET k\n" {
		t.Fatalf("the server read %q, %v; want the GET", line, err)
	}
	cancel() // the GET's caller gives up; its reply never comes
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}

	pinged := make(chan error, 1)
	go func() {
		// Bounded: a client that handed the PONG to the GET's call would
		// wait for good.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pinged <- ping(ctx, c)
	}()
	if line, err := lines.ReadString('\n'); err != nil || line != "PING\n" {
		t.Fatalf("the server read %q, %v; want the PING", line, err)
	}
	if _, err := io.WriteString(peer, "PONG\n"); err != nil { // the PING's reply, which the GET's call is first for
		t.Fatal(err)
	}
	if err := <-pinged; !errors.Is(err, protoflow.ErrUnexpectedReply) {
		t.Errorf("Ping after an unanswered GET = %v, want an error matching ErrUnexpectedReply", err)
	}
}

// A reply of the wrong kind for a waiting call (PONG for a GET) fails the
// call with ErrUnexpectedReply, and the connection with it.
func TestClientWrongReply(t *testing.T) {
	c, peer := clientAndPeer(t)
	defer c.Close()
	defer peer.Close()
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Get(ctx, &Get{Key: []byte("k")})
		got <- err
	}()
	if line, err := bufio.NewReader(peer).ReadString('\n'); err != nil || line != "GET k\n" {
		t.Fatalf("the server read %q, %v; want the GET", line, err)
	}
	if _, err := io.WriteString(peer, "PONG\n"); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, protoflow.ErrUnexpectedReply) {
		t.Errorf("Get answered with PONG = %v, want an error matching ErrUnexpectedReply", err)
	}
	waitUntil(t, func() bool { return !c.Protocol().Connected() }) // until then a call may still meet the closing transport
	if err := ping(context.Background(), c); !errors.Is(err, protoflow.ErrConnectionLost) || !errors.Is(err, protoflow.ErrUnexpectedReply) {
		t.Errorf("Ping after the wrong reply = %v, want ErrConnectionLost and ErrUnexpectedReply", err)
	}
}

// clientAndPeer returns a client dialled to a listener of the test's, and
// the connection that listener accepted: the test plays the server.
func clientAndPeer(t *testing.T) (*Client, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := DialClient(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return c, <-accepted
}
