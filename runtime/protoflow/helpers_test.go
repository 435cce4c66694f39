package protoflow

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConn is what tests may ask of either kind of this package's
// transports, conn or lconn.
type testConn interface {
	doneChan() <-chan struct{}
	coreOf() *core
}

// hasDrainWaiter reports whether a shared drain wait exists.
func (b *BaseProtocol) hasDrainWaiter() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiter != nil
}

// recorder is a Protocol that checks the callback contract as it goes and
// records what it saw. Hooks run inside the callbacks, on the callback
// goroutine.
type recorder struct {
	BaseProtocol

	// Set before use; read-only afterwards.
	keepOpen     bool                        // EOFReceived's answer
	onMade       func(r *recorder)           // after BaseProtocol.ConnectionMade
	onData       func(r *recorder, p []byte) // after the bytes are recorded
	onEOF        func(r *recorder)
	onPause      func(r *recorder)
	onResume     func(r *recorder)
	onLost       func(r *recorder) // first thing in ConnectionLost
	pauseReadToo bool              // PauseReading in PauseWriting, ResumeReading in ResumeWriting

	inside atomic.Int32 // callbacks running now; more than one is a violation

	mu         sync.Mutex
	events     []string       // "made", "data", "eof", "pause", "resume", "lost"
	counts     map[string]int // how many of each event, kept so that checks are O(1)
	data       bytes.Buffer
	violations []string
	lostErr    error

	madeCh chan struct{} // closed by ConnectionMade
	lostCh chan struct{} // closed by ConnectionLost
}

func newRecorder() *recorder {
	return &recorder{madeCh: make(chan struct{}), lostCh: make(chan struct{}), counts: make(map[string]int)}
}

func (r *recorder) enter(event string) {
	if r.inside.Add(1) != 1 {
		r.violate("%s ran concurrently with another callback", event)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.events)
	switch {
	case event == "made" && n != 0:
		r.violationsLocked("made after %v", r.events)
	case event != "made" && n == 0:
		r.violationsLocked("%s before made", event)
	case n > 0 && r.events[n-1] == "lost":
		r.violationsLocked("%s after lost", event)
	case event == "eof" && r.countLocked("eof") > 0:
		r.violationsLocked("second eof")
	case event == "pause" && r.countLocked("pause") != r.countLocked("resume"):
		r.violationsLocked("pause while paused")
	case event == "resume" && r.countLocked("pause") != r.countLocked("resume")+1:
		r.violationsLocked("resume while not paused")
	}
	r.events = append(r.events, event)
	r.counts[event]++
}

func (r *recorder) leave() { r.inside.Add(-1) }

func (r *recorder) countLocked(event string) int { return r.counts[event] }

func (r *recorder) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violationsLocked(format, args...)
}

func (r *recorder) violationsLocked(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (r *recorder) ConnectionMade(t Transport) {
	r.enter("made")
	defer r.leave()
	r.BaseProtocol.ConnectionMade(t)
	close(r.madeCh)
	if r.onMade != nil {
		r.onMade(r)
	}
}

func (r *recorder) DataReceived(p []byte) {
	r.enter("data")
	defer r.leave()
	r.mu.Lock()
	r.data.Write(p)
	r.mu.Unlock()
	if r.onData != nil {
		r.onData(r, p)
	}
}

func (r *recorder) EOFReceived() bool {
	r.enter("eof")
	defer r.leave()
	if r.onEOF != nil {
		r.onEOF(r)
	}
	return r.keepOpen
}

func (r *recorder) PauseWriting() {
	r.enter("pause")
	defer r.leave()
	r.BaseProtocol.PauseWriting()
	if r.pauseReadToo {
		_ = r.PauseReading()
	}
	if r.onPause != nil {
		r.onPause(r)
	}
}

func (r *recorder) ResumeWriting() {
	r.enter("resume")
	defer r.leave()
	r.BaseProtocol.ResumeWriting()
	if r.pauseReadToo {
		_ = r.ResumeReading()
	}
	if r.onResume != nil {
		r.onResume(r)
	}
}

func (r *recorder) ConnectionLost(err error) {
	r.enter("lost")
	defer r.leave()
	if r.onLost != nil {
		r.onLost(r)
	}
	r.BaseProtocol.ConnectionLost(err)
	r.mu.Lock()
	r.lostErr = err
	r.mu.Unlock()
	close(r.lostCh)
}

// waitLost waits for ConnectionLost and returns its error.
func (r *recorder) waitLost(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-r.lostCh:
	case <-time.After(d):
		t.Fatalf("ConnectionLost not called within %v; events so far: %v", d, r.eventsCopy())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lostErr
}

func (r *recorder) eventsCopy() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *recorder) received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.data.Bytes())
}

// check fails t if the callback contract was broken.
func (r *recorder) check(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.violations {
		t.Errorf("contract violation: %s (events %v)", v, r.events)
	}
}

// waitFor polls cond until it holds or d passes, and fails the test then.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !eventually(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// eventually polls cond every millisecond and reports whether it held
// within d (it is asked at least once).
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// socketClosed reports whether nc's socket (beneath TLS) is closed; true
// for a connection without one (net.Pipe), where it cannot tell.
func socketClosed(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	return rc.Control(func(uintptr) {}) != nil
}

// connKind makes a connected pair of sockets of one kind: server is handed
// to the transport under test, client is the raw peer.
type connKind struct {
	name string
	pair func(t testing.TB) (server, client net.Conn)
}

// connKinds are the transports every socket test runs over: the raw
// (file-descriptor) path for TCP and Unix sockets, and the portable path
// for net.Pipe and TLS.
var connKinds = []connKind{
	{"tcp", tcpPair},
	{"unix", unixPair},
	{"pipe", func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() }},
	{"tls", tlsPair},
}

// streamKinds are the kinds with kernel buffers, where back-pressure and
// half close exist.
var streamKinds = connKinds[:2]

func listenerPair(t testing.TB, ln net.Listener) (net.Conn, net.Conn) {
	t.Helper()
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	client, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.c, client
}

func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return listenerPair(t, ln)
}

func unixPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	return listenerPair(t, ln)
}

var (
	tlsOnce   sync.Once
	tlsConfig *tls.Config
)

// testTLSConfig returns a config with a fresh self-signed certificate for
// 127.0.0.1, made once per test binary.
func testTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	tlsOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "protoflow test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		tlsConfig = &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
			RootCAs:      pool,
			ServerName:   "127.0.0.1",
		}
	})
	return tlsConfig
}

func tlsPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	s, c := tcpPair(t)
	cfg := testTLSConfig(t)
	server := tls.Server(s, cfg)
	client := tls.Client(c, cfg)
	errc := make(chan error, 1)
	go func() { errc <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return server, client
}

// fakeTransport is a Transport with no socket, for BaseProtocol tests: it
// records the calls made to it and returns pauseErr/resumeErr from
// PauseReading/ResumeReading.
type fakeTransport struct {
	mu        sync.Mutex
	calls     []string
	pauseErr  error
	resumeErr error
	conn      net.Conn // returned by NetConn; nil by default
}

func (f *fakeTransport) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeTransport) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeTransport) Write(p []byte) (int, error)         { f.record("Write"); return len(p), nil }
func (f *fakeTransport) WriteBufferSize() int                { return 0 }
func (f *fakeTransport) SetWriteBufferLimits(h, l int) error { return checkLimits(h, l) }
func (f *fakeTransport) PauseReading() error                 { f.record("PauseReading"); return f.pauseErr }
func (f *fakeTransport) ResumeReading() error                { f.record("ResumeReading"); return f.resumeErr }
func (f *fakeTransport) CloseWrite() error                   { return ErrNotSupported }
func (f *fakeTransport) Close() error                        { f.record("Close"); return nil }
func (f *fakeTransport) Abort()                              { f.record("Abort") }
func (f *fakeTransport) IsClosing() bool                     { return false }
func (f *fakeTransport) LocalAddr() net.Addr                 { return nil }
func (f *fakeTransport) RemoteAddr() net.Addr                { return nil }
func (f *fakeTransport) NetConn() net.Conn                   { return f.conn }

// stateOf returns the state word of a transport of this package, on any
// backend: a snapshot, read without the connection's lock.
func stateOf(tr Transport) connState { return tr.(coreHolder).coreOf().st() }
