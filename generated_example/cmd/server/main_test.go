package main

// The server command run in-process, over real sockets: its flags, TLS
// with real clients (openssl s_client and redis-cli, which skip with a
// printed reason when missing), the timeouts and the connection limit, and
// the counters at -debug-addr.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/protogen/protogen/runtime/protoflow"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is the log run writes to, read by the test meanwhile.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// running is a run in progress.
type running struct {
	addr  string // where it serves
	vars  string // the URL of its counters, with -debug-addr
	log   *lockedBuffer
	stop  context.CancelFunc
	ended chan error
}

var (
	servingRe = regexp.MustCompile(`msg=serving .*addr=(\S+)`)
	varsRe    = regexp.MustCompile(`msg="serving counters" url=(\S+)`)
)

// start runs the command with args, on 127.0.0.1:0 unless args say, and
// waits until it serves; cleanup stops it and checks it ended cleanly.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{log: &lockedBuffer{}, stop: cancel, ended: make(chan error, 1)}
	go func() { r.ended <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), r.log) }()
	debug := strings.Contains(strings.Join(args, " "), "-debug-addr")
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := r.log.String()
		if m := servingRe.FindStringSubmatch(l); m != nil {
			r.addr = m[1]
			if v := varsRe.FindStringSubmatch(l); v != nil {
				r.vars = v[1]
			}
			if r.vars != "" || !debug {
				break
			}
		}
		select {
		case err := <-r.ended:
			t.Fatalf("run(%q) = %v before serving; log:\n%s", args, err, l)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("run(%q) not serving after 10s; log:\n%s", args, l)
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.ended:
			if err != nil {
				t.Errorf("run ended with %v; log:\n%s", err, r.log)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("run did not end after its context")
		}
	})
	return r
}

// stats reads the protoflow counters at -debug-addr.
func (r *running) stats(t *testing.T) protoflow.Stats {
	t.Helper()
	resp, err := http.Get(r.vars)
	if err != nil {
		t.Fatalf("GET %s: %v", r.vars, err)
	}
	defer resp.Body.Close()
	var vars struct {
		Protoflow protoflow.Stats `json:"protoflow"`
		Memstats  struct {
			HeapAlloc uint64
		} `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		t.Fatalf("decoding %s: %v", r.vars, err)
	}
	if vars.Memstats.HeapAlloc == 0 {
		t.Errorf("%s has no memstats", r.vars)
	}
	return vars.Protoflow
}

// waitStats polls the counters until cond holds.
func (r *running) waitStats(t *testing.T, what string, cond func(protoflow.Stats) bool) protoflow.Stats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := r.stats(t)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeCert writes a fresh self-signed certificate for 127.0.0.1 and its
// key to dir, as PEM, and returns their paths: nothing secret is committed.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "protogen example server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // its own CA: the clients trust it with -CAfile / --cacert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// tool runs a command with stdin, within 20 seconds, and returns its
// output; it skips t, saying why, when the command is not installed.
func tool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (CI installs redis-tools and has openssl): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestTLSRealClients serves the redis example over TLS and talks to it
// with openssl s_client and redis-cli --tls, which check the certificate
// against the test's own CA; the counters at -debug-addr see both.
func TestTLSRealClients(t *testing.T) {
	cert, key := writeCert(t)
	r := start(t, "-proto", "redis", "-tls-cert", cert, "-tls-key", key, "-debug-addr", "127.0.0.1:0")
	host, port, err := net.SplitHostPort(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("openssl s_client", func(t *testing.T) {
		out := tool(t, "PING\r\nSET k tls\r\nGET k\r\nQUIT\r\n", "openssl", "s_client", "-connect", r.addr,
			"-CAfile", cert, "-verify_ip", host, "-verify_return_error", "-quiet")
		for _, want := range []string{"+PONG", "+OK", "$3\r\ntls", "+OK"} {
			if !strings.Contains(out, want) {
				t.Errorf("s_client's output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("redis-cli", func(t *testing.T) {
		out := tool(t, "", "redis-cli", "--tls", "--cacert", cert, "-h", host, "-p", port, "PING")
		if strings.TrimSpace(out) != "PONG" {
			t.Errorf("redis-cli PING = %q; want PONG", out)
		}
		out = tool(t, "", "redis-cli", "--tls", "--cacert", cert, "-h", host, "-p", port, "SET", "cli", "x")
		if strings.TrimSpace(out) != "OK" {
			t.Errorf("redis-cli SET = %q; want OK", out)
		}
	})
	st := r.waitStats(t, "the clients' connections closed", func(st protoflow.Stats) bool { return st.Open == 0 })
	if st.HandshakeErrors != 0 || st.Accepted == 0 || st.Accepted != st.Closed.Clean+st.Closed.Error {
		t.Errorf("stats %+v; want every accepted connection served and closed, no failed handshake", st)
	}
	// A plain-text client is not a TLS client: its handshake fails.
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.ReadAll(c)
	r.waitStats(t, "a failed handshake", func(st protoflow.Stats) bool { return st.HandshakeErrors == 1 })
}

// TestIdleTimeoutFlag checks that -idle-timeout closes a quiet kv
// connection, which kv's spec alone would hold for ever.
func TestIdleTimeoutFlag(t *testing.T) {
	const idle = 200 * time.Millisecond
	r := start(t, "-proto", "kv", "-idle-timeout", idle.String(), "-debug-addr", "127.0.0.1:0")
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("waiting for the server to close the quiet connection: %v", err)
	}
	if d := time.Since(start); d < idle {
		t.Errorf("closed after %v; want no sooner than %v", d, idle)
	}
	r.waitStats(t, "an idle timeout counted", func(st protoflow.Stats) bool { return st.Closed.IdleTimeout == 1 })
}

// TestFrameTimeoutFlag trickles a command into redis, whose spec sets no
// timeout, and a frame into kvbin, with a frame timeout shorter than its
// spec's: -frame-timeout cuts both.
func TestFrameTimeoutFlag(t *testing.T) {
	const frame = 300 * time.Millisecond
	for _, tc := range []struct {
		proto string
		start []byte
	}{
		{"redis", []byte("*2\r\n$3\r\nGET\r\n$100\r\nab")},
		{"kvbin", []byte{0, 0, 4, 0, 'H'}}, // a 1 KiB hello begins
	} {
		t.Run(tc.proto, func(t *testing.T) {
			r := start(t, "-proto", tc.proto, "-frame-timeout", frame.String(), "-debug-addr", "127.0.0.1:0")
			c, err := net.Dial("tcp", r.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			begun := time.Now()
			if _, err := c.Write(tc.start); err != nil {
				t.Fatal(err)
			}
			cut := make(chan struct{})
			go func() { // exits when the server closes the connection
				defer close(cut)
				_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
				_, _ = io.ReadAll(c)
			}()
			tick := time.NewTicker(frame / 6)
			defer tick.Stop()
			for done := false; !done; {
				select {
				case <-cut:
					done = true
				case <-tick.C:
					_, _ = c.Write([]byte{'x'})
				}
			}
			if d := time.Since(begun); d < frame {
				t.Errorf("cut after %v; want no sooner than %v", d, frame)
			}
			r.waitStats(t, "a frame timeout counted", func(st protoflow.Stats) bool { return st.Closed.FrameTimeout == 1 })
		})
	}
}

// TestMaxConnsFlag checks that with -max-conns 1 a second client waits
// until the first leaves, and is then served.
func TestMaxConnsFlag(t *testing.T) {
	r := start(t, "-proto", "redis", "-max-conns", "1", "-debug-addr", "127.0.0.1:0")
	first, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if got := ping(t, first); got != "+PONG\r\n" {
		t.Fatalf("first PING = %q", got)
	}
	second, err := net.Dial("tcp", r.addr) // lands in the listen backlog
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := second.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	r.waitStats(t, "a wait at the limit", func(st protoflow.Stats) bool { return st.LimitWaits == 1 && st.Open == 1 })
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(20 * time.Second))
	reply := make([]byte, len("+PONG\r\n"))
	if _, err := io.ReadFull(second, reply); err != nil || string(reply) != "+PONG\r\n" {
		t.Fatalf("second PING after the first left = %q, %v", reply, err)
	}
}

func ping(t *testing.T, c net.Conn) string {
	t.Helper()
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	reply := make([]byte, len("+PONG\r\n"))
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	return string(reply)
}

// TestFlagErrors checks the errors of bad flags.
func TestFlagErrors(t *testing.T) {
	cert, key := writeCert(t)
	for _, tc := range []struct {
		args []string
		want func(error) bool
	}{
		{[]string{"-tls-cert", cert}, func(err error) bool { return strings.Contains(err.Error(), "go together") }},
		{[]string{"-tls-cert", key, "-tls-key", key}, func(err error) bool { return strings.Contains(err.Error(), "loading the TLS certificate") }},
		{[]string{"-idle-timeout", "-1s"}, func(err error) bool { return errors.Is(err, fs.ErrInvalid) }},
		{[]string{"-frame-timeout", "-1s"}, func(err error) bool { return errors.Is(err, fs.ErrInvalid) }},
		{[]string{"-debug-addr", "256.0.0.1:1"}, func(err error) bool { return strings.Contains(err.Error(), "-debug-addr") }},
	} {
		var log lockedBuffer
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tc.args...), &log)
		if err == nil || !tc.want(err) {
			t.Errorf("run(%q) = %v", tc.args, err)
		}
	}
}

// TestDebugAddr checks the debug listener: the counters, the runtime's
// memory statistics (stats checks both) and its profiles.
func TestDebugAddr(t *testing.T) {
	r := start(t, "-proto", "echo", "-debug-addr", "127.0.0.1:0")
	if st := r.stats(t); st.Accepted != 0 || st.Reassembly.Budget == 0 {
		t.Errorf("stats of an unused server %+v; want nothing accepted and the default budget", st)
	}
	resp, err := http.Get(strings.TrimSuffix(r.vars, "vars") + "pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap") {
		t.Errorf("GET /debug/pprof/: %s, %d bytes; want the profiles' index", resp.Status, len(body))
	}
}
