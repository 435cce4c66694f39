package memcached

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/protogen/protogen/runtime/protoflow"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testServer is a memcached server on a fresh loopback listener, with the
// error each of its connections ended with and the most bytes a framer
// held.
type testServer struct {
	addr  string
	cache *Cache
	srv   *protoflow.Server
	now   int64 // the cache's clock, in Unix seconds; guarded by mu

	mu      sync.Mutex
	lost    []error
	maxHeld int
}

func startServer(t testing.TB, cfg Config, opts ...protoflow.Option) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), now: 1_800_000_000}
	if cfg.Now == nil {
		cfg.Now = ts.clock
	}
	ts.cache = NewCache(cfg)
	srv := protoflow.NewServer(func() *recorder { return &recorder{Server: ts.cache.Protocol(), ts: ts} }, opts...)
	ts.srv = srv
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // ends with Shutdown below
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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

func (ts *testServer) clock() int64 {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.now
}

// advance moves the cache's clock on by seconds.
func (ts *testServer) advance(seconds int64) {
	ts.mu.Lock()
	ts.now += seconds
	ts.mu.Unlock()
}

// recorder notes how each connection ended and the most its framer held.
type recorder struct {
	*Server
	ts *testServer
}

func (r *recorder) DataReceived(data []byte) {
	r.Server.DataReceived(data)
	r.ts.mu.Lock()
	r.ts.maxHeld = max(r.ts.maxHeld, r.frames.Buffered())
	r.ts.mu.Unlock()
}

func (r *recorder) ConnectionLost(err error) {
	r.Server.ConnectionLost(err)
	r.ts.mu.Lock()
	r.ts.lost = append(r.ts.lost, err)
	r.ts.mu.Unlock()
}

// waitLost waits until n connections have ended and returns their errors.
func (ts *testServer) waitLost(t *testing.T, n int) []error {
	t.Helper()
	var lost []error
	waitUntil(t, func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		lost = append([]error(nil), ts.lost...)
		return len(lost) >= n
	})
	return lost
}

// lostCount reports whether n connections have ended.
func (ts *testServer) lostCount(n int) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.lost) >= n
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c
}

// The sentinels that end an exchange: a request whose answer marks the
// end of the answers before it, so that a test knows it has them all
// without waiting for silence.
const (
	textSentinel   = "version\r\n"
	sentinelOpaque = 0x5e5e5e5e
)

// readText reads text replies from c up to the VERSION line that answers
// the sentinel, and returns them without it, or up to the end of the
// connection, with "<EOF>" appended.
func readText(t testing.TB, c net.Conn) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		if i := bytes.LastIndex(out, []byte("VERSION ")); i >= 0 && (i == 0 || out[i-1] == '\n') && bytes.HasSuffix(out, []byte("\r\n")) {
			return string(out[:i])
		}
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset"):
			return string(out) + "<EOF>"
		default:
			t.Fatalf("reading replies after %q: %v", out, err)
		}
	}
}

// textExchange sends in on a new connection, then the sentinel, and
// returns the replies to in.
func textExchange(t testing.TB, addr, in string) string {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, in+textSentinel); err != nil {
		t.Fatal(err)
	}
	return readText(t, c)
}

// binReq encodes a binary request by hand, independently of the
// generated encoder.
func binReq(op byte, opaque uint32, cas uint64, extras, key, value []byte) []byte {
	b := []byte{0x80, op, 0, 0, byte(len(extras)), 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(key)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(extras)+len(key)+len(value)))
	b = binary.BigEndian.AppendUint32(b, opaque)
	b = binary.BigEndian.AppendUint64(b, cas)
	return append(append(append(b, extras...), key...), value...)
}

// binRes is a binary response, decoded by hand.
type binRes struct {
	op     byte
	status uint16
	opaque uint32
	cas    uint64
	extras string
	key    string
	value  string
}

// readBin reads binary responses from c up to the answer to the sentinel
// NOOP, or to the end of the connection (eof true).
func readBin(t testing.TB, c net.Conn) (res []binRes, eof bool) {
	t.Helper()
	for {
		var h [24]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset") {
				return res, true
			}
			t.Fatalf("reading a response header after %v: %v", res, err)
		}
		if h[0] != 0x81 {
			t.Fatalf("response magic %#x, want 0x81 (after %v)", h[0], res)
		}
		body := make([]byte, binary.BigEndian.Uint32(h[8:]))
		if _, err := io.ReadFull(c, body); err != nil {
			t.Fatalf("reading a response body: %v", err)
		}
		kl, el := int(binary.BigEndian.Uint16(h[2:])), int(h[4])
		r := binRes{op: h[1], status: binary.BigEndian.Uint16(h[6:]), opaque: binary.BigEndian.Uint32(h[12:]),
			cas: binary.BigEndian.Uint64(h[16:]), extras: string(body[:el]), key: string(body[el : el+kl]), value: string(body[el+kl:])}
		if r.op == 0x0a && r.opaque == sentinelOpaque {
			return res, false
		}
		res = append(res, r)
	}
}

// binExchange sends the requests on a new connection, then the sentinel
// NOOP, and returns the responses to the requests.
func binExchange(t testing.TB, addr string, reqs ...[]byte) ([]binRes, bool) {
	t.Helper()
	c := dial(t, addr)
	if _, err := c.Write(append(bytes.Join(reqs, nil), binReq(0x0a, sentinelOpaque, 0, nil, nil, nil)...)); err != nil {
		t.Fatal(err)
	}
	return readBin(t, c)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
