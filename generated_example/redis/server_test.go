package redis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testServer is a redis server on a fresh loopback listener, with the
// protocols it made and the protocol error each connection ended with.
type testServer struct {
	addr string
	db   *DB

	mu        sync.Mutex
	protocols []*recorder
	lost      []error // Err() of each ended connection, in the order they ended
}

func startServer(t testing.TB, limits Limits) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), db: NewDBWithLimits(limits)}
	srv := protoflow.NewServer(func() *recorder {
		r := &recorder{Server: ts.db.Protocol(), ts: ts}
		ts.mu.Lock()
		ts.protocols = append(ts.protocols, r)
		ts.mu.Unlock()
		return r
	})
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

// recorder notes the protocol error each connection ends with, and the
// most bytes its framer held after a callback.
type recorder struct {
	*Server
	ts *testServer

	mu      sync.Mutex
	maxHeld int
	// lateResumes counts ResumeWriting calls that found writing paused
	// again, with more than the low-water mark queued: the runtime may
	// deliver one after writing has paused again, which is why serveFrame
	// looks at WritingPaused rather than trusting the callback.
	lateResumes int
}

func (r *recorder) DataReceived(data []byte) {
	r.Server.DataReceived(data)
	r.noteHeld()
}

func (r *recorder) ResumeWriting() {
	if t := r.Transport(); t != nil && r.WritingPaused() && t.WriteBufferSize() > protoflow.DefaultLowWater {
		r.mu.Lock()
		r.lateResumes++
		r.mu.Unlock()
	}
	r.Server.ResumeWriting()
	r.noteHeld()
}

func (r *recorder) noteHeld() {
	r.mu.Lock()
	r.maxHeld = max(r.maxHeld, r.frames.Buffered())
	r.mu.Unlock()
}

func (r *recorder) ConnectionLost(err error) {
	r.Server.ConnectionLost(err)
	r.ts.mu.Lock()
	r.ts.lost = append(r.ts.lost, r.Err())
	r.ts.mu.Unlock()
}

// waitLost waits until n connections have ended and returns their
// protocol errors.
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

// exchange writes in to a new connection to addr and returns what comes
// back, with "<EOF>" appended if the server closed the connection. It
// reads as much as want holds, or until the end of file if want ends with
// "<EOF>", and then until the connection has been quiet for a moment, so
// that a reply longer than want shows.
func exchange(t testing.TB, addr, in, want string) string {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, in); err != nil {
		t.Fatal(err)
	}
	wantEOF := strings.HasSuffix(want, "<EOF>")
	wantLen := len(strings.TrimSuffix(want, "<EOF>"))
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		wait := 10 * time.Second
		if len(out) >= wantLen && !wantEOF {
			wait = 30 * time.Millisecond
		}
		c.SetReadDeadline(time.Now().Add(wait))
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		var ne net.Error
		switch {
		case err == nil:
			continue
		case errors.As(err, &ne) && ne.Timeout():
			return string(out)
		case errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset"):
			return string(out) + "<EOF>"
		default:
			t.Fatalf("reading replies: %v", err)
		}
	}
}

// cmd encodes a multibulk command.
func cmd(args ...string) []byte {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return AppendCommand(nil, b...)
}

// Each command's replies, the errors included, as Redis 7 gives them (the
// side-by-side test checks the same inputs against redis-server).
var replyCases = []struct {
	name, in, want string
}{
	{"ping", "PING\r\n", "+PONG\r\n"},
	{"ping lower case", "ping\r\n", "+PONG\r\n"},
	{"ping message", "*2\r\n$4\r\nPING\r\n$5\r\nhello\r\n", "$5\r\nhello\r\n"},
	{"ping too many", "PING a b\r\n", "-ERR wrong number of arguments for 'ping' command\r\n"},
	{"echo", "ECHO \"a\\x41\\n\"\r\n", "$3\r\naA\n\r\n"},
	{"echo arity", "ECHO\r\n", "-ERR wrong number of arguments for 'echo' command\r\n"},
	{"echo empty", "ECHO \"\"\r\n", "$0\r\n\r\n"},
	{"echo quotes", "ECHO \"a\\\"b\\\\\"\r\n", "$4\r\na\"b\\\r\n"},
	{"echo single quotes", "ECHO 'it\\'s'\r\n", "$4\r\nit's\r\n"},
	{"unknown", "FOO a b\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"},
	{"unknown alone", "foo\r\n", "-ERR unknown command 'foo', with args beginning with: \r\n"},
	{"unknown multibulk", "*1\r\n$3\r\nfoo\r\n", "-ERR unknown command 'foo', with args beginning with: \r\n"},
	{"unknown long args", "FOO " + strings.Repeat("a", 130) + " bbbbbbbbbb cc\r\n",
		"-ERR unknown command 'FOO', with args beginning with: '" + strings.Repeat("a", 128) + "' \r\n"},
	{"unknown args with CR", "*3\r\n$3\r\nFOO\r\n$3\r\na\rb\r\n$1\r\nc\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a b' 'c' \r\n"},
	{"unknown vertical tab", "FOO\ta\vb\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a\vb' \r\n"},
	{"get arity", "get\r\n", "-ERR wrong number of arguments for 'get' command\r\n"},
	{"get missing", "GET nokey\r\n", "$-1\r\n"},
	{"set get", "SET k v\r\nGET k\r\n", "+OK\r\n$1\r\nv\r\n"},
	{"set nx", "SET k v\r\nSET k w nx\r\nGET k\r\n", "+OK\r\n$-1\r\n$1\r\nv\r\n"},
	{"set xx", "SET k w XX\r\nGET k\r\n", "$-1\r\n$-1\r\n"},
	{"set nx xx", "SET k v NX XX\r\n", "-ERR syntax error\r\n"},
	{"set xx nx", "SET k v XX NX\r\n", "-ERR syntax error\r\n"},
	{"set get option", "SET k v\r\nSET k w GET\r\nGET k\r\n", "+OK\r\n$1\r\nv\r\n$1\r\nw\r\n"},
	{"set get nx", "SET k v\r\nSET k w NX GET\r\n", "+OK\r\n$1\r\nv\r\n"},
	{"set ex zero", "SET a 1 EX 0\r\n", "-ERR invalid expire time in 'set' command\r\n"},
	{"set ex negative", "SET a 1 PX -5\r\n", "-ERR invalid expire time in 'set' command\r\n"},
	{"set ex word", "SET a 1 EX x\r\n", "-ERR value is not an integer or out of range\r\n"},
	{"set ex and px", "SET a 1 EX 1 PX 1\r\n", "-ERR syntax error\r\n"},
	{"set ex twice", "SET a 1 EX 10 EX 20\r\n", "+OK\r\n"},
	{"set ex missing", "SET a 1 EX\r\n", "-ERR syntax error\r\n"},
	{"set ex overflow", "SET a 1 EX 9223372036854775807\r\n", "-ERR invalid expire time in 'set' command\r\n"},
	{"set px overflow", "SET a 1 PX 9223372036854775807\r\n", "-ERR invalid expire time in 'set' command\r\n"},
	{"set keepttl ex", "SET k v KEEPTTL EX 5\r\n", "-ERR syntax error\r\n"},
	{"set unknown option", "SET k v FOREVER\r\n", "-ERR syntax error\r\n"},
	{"set arity", "SET k\r\n", "-ERR wrong number of arguments for 'set' command\r\n"},
	{"set exat past", "SET k v EXAT 1\r\nGET k\r\nEXISTS k\r\n", "+OK\r\n$-1\r\n:0\r\n"},
	{"incr", "INCR n\r\nINCR n\r\nDECR n\r\nINCRBY n 10\r\nDECRBY n -5\r\nGET n\r\n", ":1\r\n:2\r\n:1\r\n:11\r\n:16\r\n$2\r\n16\r\n"},
	{"incr word", "SET a x\r\nINCR a\r\n", "+OK\r\n-ERR value is not an integer or out of range\r\n"},
	{"incr overflow", "SET a 9223372036854775807\r\nINCR a\r\n", "+OK\r\n-ERR increment or decrement would overflow\r\n"},
	{"decr underflow", "SET a -9223372036854775808\r\nDECR a\r\n", "+OK\r\n-ERR increment or decrement would overflow\r\n"},
	{"incrby leading zero", "INCRBY a 01\r\n", "-ERR value is not an integer or out of range\r\n"},
	{"incrby plus", "INCRBY a +1\r\n", "-ERR value is not an integer or out of range\r\n"},
	{"decrby min", "DECRBY a -9223372036854775808\r\n", "-ERR decrement would overflow\r\n"},
	{"incr arity", "INCR\r\n", "-ERR wrong number of arguments for 'incr' command\r\n"},
	{"mset mget", "MSET a 1 b 2\r\nMGET a x b a\r\n", "+OK\r\n*4\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n$1\r\n1\r\n"},
	{"mset odd", "MSET a b c\r\n", "-ERR wrong number of arguments for 'mset' command\r\n"},
	{"mset one", "MSET a\r\n", "-ERR wrong number of arguments for 'mset' command\r\n"},
	{"del exists", "MSET a 1 b 2\r\nEXISTS a a b c\r\nDEL a c\r\nEXISTS a\r\nDEL a\r\n", "+OK\r\n:3\r\n:1\r\n:0\r\n:0\r\n"},
	{"del arity", "del\r\n", "-ERR wrong number of arguments for 'del' command\r\n"},
	{"dbsize", "MSET a 1 b 2\r\nDBSIZE\r\nFLUSHALL\r\nDBSIZE\r\n", "+OK\r\n:2\r\n+OK\r\n:0\r\n"},
	{"flushall bad", "FLUSHALL NOW\r\n", "-ERR syntax error\r\n"},
	{"config arity", "CONFIG\r\n", "-ERR wrong number of arguments for 'config' command\r\n"},
	{"config get arity", "CONFIG GET\r\n", "-ERR wrong number of arguments for 'config|get' command\r\n"},
	{"config unknown", "CONFIG FOO\r\n", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"},
	{"config get", "CONFIG GET appendonly\r\n", "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"},
	{"config get upper", "CONFIG GET SAVE\r\n", "*2\r\n$4\r\nSAVE\r\n$0\r\n\r\n"},
	{"config get missing", "CONFIG GET nonexist\r\n", "*0\r\n"},
	{"command unknown", "COMMAND FOO\r\n", "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"},
	{"command count arity", "COMMAND COUNT x\r\n", "-ERR wrong number of arguments for 'command|count' command\r\n"},
	{"quit", "QUIT\r\nPING\r\n", "+OK\r\n<EOF>"},
	{"empty lines", "\r\n\r\nPING\r\n", "+PONG\r\n"},
	{"empty multibulk", "*0\r\nPING\r\n", "+PONG\r\n"},
	{"negative multibulk", "*-1\r\nPING\r\n", "+PONG\r\n"},
	{"lf only", "PING\n", "+PONG\r\n"},
	{"cr cr lf", "PING\r\r\n", "+PONG\r\n"},
	{"blanks first", "\v\fPING\r\n", "+PONG\r\n"},
	{"bulk without crlf", "*1\r\n$4\r\nPINGxxPING\r\n", "+PONG\r\n+PONG\r\n"},
	{"nul in inline", "PING\x00 a\r\n", ""},
	{"bad multibulk length", "*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n<EOF>"},
	{"multibulk leading zero", "*01\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n<EOF>"},
	{"multibulk lf", "*1\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n<EOF>"},
	{"expected dollar", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n<EOF>"},
	{"expected dollar cr", "*2\r\n$4\r\nPING\r\n\r\n", "-ERR Protocol error: expected '$', got ' '\r\n<EOF>"},
	{"negative bulk", "*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n<EOF>"},
	{"bad bulk", "*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n<EOF>"},
	{"bulk plus", "*1\r\n$+4\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n<EOF>"},
	{"bulk leading zero", "*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n<EOF>"},
	{"unbalanced", "PING \"a\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n<EOF>"},
	{"quote then word", "SET a 'b'c\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n<EOF>"},
	{"quote split by newline", "FOO \"x\r\ny\"\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n<EOF>"},
	{"replies before error", "*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n<EOF>"},
	{"too big mbulk count", "*" + strings.Repeat("1", MaxInlineLen+1), "-ERR Protocol error: too big mbulk count string\r\n<EOF>"},
	{"too big bulk count", "*1\r\n$" + strings.Repeat("1", MaxInlineLen+1), "-ERR Protocol error: too big bulk count string\r\n<EOF>"},
	{"too big inline", strings.Repeat("a", MaxInlineLen+1), "-ERR Protocol error: too big inline request\r\n<EOF>"},
}

// newServer returns a server protocol on a keyspace of its own, so that
// each run of CheckSplits starts empty.
func newServer() *Server { return NewDB().Protocol() }

// outcome is what a peer would read of a Result: the bytes written, and
// "<EOF>" if the server closed the connection, as exchange reports it.
func outcome(r protoflowtest.Result) string {
	if r.WriteClosed {
		return string(r.Written) + "<EOF>"
	}
	return string(r.Written)
}

// splittersFor returns how CheckSplits should cut an input of n bytes:
// every way it knows for the short inputs of most cases, a few random ways
// for the inputs of 64 KiB.
func splittersFor(n int) []protoflowtest.Splitter {
	if n > 4<<10 {
		return []protoflowtest.Splitter{protoflowtest.RandomCuts(1, 8)}
	}
	return nil
}

// The replies of every case, over protoflowtest: the same however the
// input is cut into reads. TestSideBySide checks the same cases over
// sockets against redis-server.
func TestReplies(t *testing.T) {
	for _, tc := range replyCases {
		t.Run(tc.name, func(t *testing.T) {
			r := protoflowtest.CheckSplits(t, newServer, []byte(tc.in), splittersFor(len(tc.in))...)
			if got := outcome(r); got != tc.want {
				t.Errorf("%q\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// Every reply is the same whether the commands arrive in one read, a byte
// at a time, or cut anywhere.
func TestSplitAtEveryByte(t *testing.T) {
	var in []byte
	in = append(in, cmd("SET", "key", "va\r\nlue")...)
	in = append(in, "GET key\r\n"...)
	in = append(in, cmd("MSET", "a", "1", "b", strings.Repeat("x", 3000))...)
	in = append(in, "ECHO \"q\\x41 'x'\"\r\n"...)
	in = append(in, cmd("MGET", "a", "b", "key")...)
	in = append(in, "\r\n*0\r\nINCR a\r\n"...)
	want := "+OK\r\n$7\r\nva\r\nlue\r\n+OK\r\n$6\r\nqA 'x'\r\n" +
		"*3\r\n$1\r\n1\r\n$3000\r\n" + strings.Repeat("x", 3000) + "\r\n$7\r\nva\r\nlue\r\n:2\r\n"
	if got := outcome(protoflowtest.CheckSplits(t, newServer, in)); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// A length header over a limit closes the connection as soon as it is
// read, allocates nothing, and the connection ends with the error.
func TestHostileLengths(t *testing.T) {
	limits := Limits{MaxBulkLen: 1000, MaxArgs: 10, MaxCommandLen: 4000}
	cases := []struct {
		name, in, reply string
		tooLarge        bool
	}{
		{"bulk over max", "*1\r\n$1001\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
		{"bulk huge", "*1\r\n$9223372036854775807\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
		{"bulk over int64", "*1\r\n$99999999999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n", false},
		{"count over max", "*11\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
		{"count huge", "*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
		{"command over max", "*5\r\n$1000\r\n" + strings.Repeat("x", 1000) + "\r\n$1000\r\n" + strings.Repeat("x", 1000) + "\r\n$1000\r\n" + strings.Repeat("x", 1000) + "\r\n$1000\r\n", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newLimited := func() *Server { return NewDBWithLimits(limits).Protocol() }
			in := []byte("PING\r\n" + tc.in)
			want := "+PONG\r\n" + tc.reply + "<EOF>"
			if got := outcome(protoflowtest.CheckSplits(t, newLimited, in, protoflowtest.EveryCut)); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			p := newLimited()
			c := protoflowtest.New(p)
			defer c.Finish(t)
			if err := c.Feed(in); err != nil {
				t.Fatal(err)
			}
			if lost, _ := c.Lost(); !lost {
				t.Errorf("the connection is still open after the error")
			}
			err := p.Err()
			if !errors.Is(err, wire.ErrBadFrame) && !errors.Is(err, wire.ErrFrameTooLarge) {
				t.Errorf("Err() = %v, want a protocol error", err)
			}
			if errors.Is(err, wire.ErrFrameTooLarge) != tc.tooLarge {
				t.Errorf("Err() = %v: matches ErrFrameTooLarge %v, want %v", err, !tc.tooLarge, tc.tooLarge)
			}
			codec := Codec{Limits: limits}
			hostile := []byte(tc.in)
			if allocs := testing.AllocsPerRun(100, func() { codec.Next(hostile, 0) }); allocs != 0 {
				t.Errorf("refusing %q allocates %v times", tc.in, allocs)
			}
		})
	}
}

// Many clients pipeline at once; each gets its replies in order.
func TestConcurrentPipelines(t *testing.T) {
	ts := startServer(t, Limits{})
	const clients, commands = 16, 2000
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for g := range clients {
		wg.Go(func() {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			go func() { // ends when the writes are done or fail
				w := bufio.NewWriter(c)
				for i := range commands {
					w.Write(cmd("INCR", "counter"+strconv.Itoa(g)))
					if i%2 == 0 {
						fmt.Fprintf(w, "ECHO %d\r\n", i)
					}
				}
				w.Flush()
			}()
			r := bufio.NewReader(c)
			for i := range commands {
				line, err := r.ReadString('\n')
				if want := ":" + strconv.Itoa(i+1) + "\r\n"; err != nil || line != want {
					errs <- fmt.Errorf("client %d reply %d = %q, %v; want %q", g, i, line, err, want)
					return
				}
				if i%2 == 0 {
					s := strconv.Itoa(i)
					want := "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n"
					got := make([]byte, len(want))
					if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
						errs <- fmt.Errorf("client %d echo %d = %q, %v", g, i, got, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A key set with PX expires.
func TestExpiry(t *testing.T) {
	ts := startServer(t, Limits{})
	want := "+OK\r\n$1\r\nv\r\n+OK\r\n:6\r\n+OK\r\n+OK\r\n"
	if got := exchange(t, ts.addr, "SET k v PX 50\r\nGET k\r\nSET n 5 PX 50\r\nINCR n\r\nSET p v PX 100000\r\nSET p w KEEPTTL\r\n", want); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	time.Sleep(100 * time.Millisecond)
	want = "$-1\r\n:0\r\n$1\r\nw\r\n"
	if got := exchange(t, ts.addr, "GET k\r\nEXISTS k n\r\nGET p\r\n", want); got != want {
		t.Fatalf("after expiry: got %q, want %q", got, want)
	}
	ts.db.mu.RLock()
	expireAt := ts.db.m["p"].expireAt
	ts.db.mu.RUnlock()
	if expireAt == 0 {
		t.Errorf("SET KEEPTTL dropped the expiry time")
	}
}

// Big values go around the batch buffer and come back whole.
func TestBigValues(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 KB, over bigValue
	in := AppendCommand(nil, []byte("SET"), []byte("big"), big)
	for range 3 {
		in = append(in, cmd("GET", "big")...)
	}
	in = append(in, "PING\r\n"...)
	want := "+OK\r\n"
	for range 3 {
		want += "$" + strconv.Itoa(len(big)) + "\r\n" + string(big) + "\r\n"
	}
	want += "+PONG\r\n"
	c := protoflowtest.New(NewDB().Protocol())
	defer c.Finish(t)
	if err := c.Feed(in); err != nil {
		t.Fatal(err)
	}
	if got := c.ReadAll(); string(got) != want {
		t.Errorf("replies differ from the values set: %d bytes, want %d", len(got), len(want))
	}
}
