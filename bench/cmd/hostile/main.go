// Command hostile measures what hostile peers cost a server: it starts the
// server command given after "--", attacks it with many clients, and
// reports how long the clients last and the server's resident memory
// (VmRSS, VmHWM from /proc) and live heap (the marked heap of the last
// garbage collection, from GODEBUG=gctrace=1, which it sets; and, when the
// server publishes expvar's memstats, as generated_example/cmd/server does
// with -debug-addr, the heap allocated now, garbage not yet collected
// included). It finds the server's address in its output ("addr=HOST:PORT"
// or "listening HOST:PORT", and "url=http://.../debug/vars"), so run the
// server on port 0.
//
// Modes (issue 15's attacks on the kvbin example, whose frames are a
// 4-byte length and a payload of at most 1 MiB):
//
//	-mode drip       each client sends the start of a frame, then a byte
//	                 every -interval: the slow drip that a read timeout
//	                 cannot catch. Reports how long clients last.
//	-mode halfsent   each client sends 1 MiB - 100 bytes of a frame of
//	                 1 MiB, then a byte every -interval. With -reconnect a
//	                 client that is cut connects again and starts over: a
//	                 sustained attack. Reports memory over time, and after
//	                 the clients leave.
//	-mode idle       opens -clients connections to an echo server, echoes
//	                 16 bytes on each (over TLS with -tls) and holds them:
//	                 reports the resident memory per connection.
//
// In the server command, {cert} and {key} stand for the paths of a
// self-signed certificate for 127.0.0.1 that hostile writes, for -tls.
// Examples, from the repository's root:
//
//	go build -o /tmp/server ./generated_example/cmd/server
//	cd bench && go run ./cmd/hostile -mode halfsent -clients 200 -- /tmp/server -proto kvbin -addr 127.0.0.1:0
//	go run ./cmd/hostile -mode drip -clients 200 -duration 20s -- /tmp/server -proto kvbin -addr 127.0.0.1:0
//	go run ./cmd/hostile -mode idle -clients 2000 -tls -- /tmp/server -proto echo -addr 127.0.0.1:0 -tls-cert {cert} -tls-key {key}
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/protogen/protogen/bench/internal/proc"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

// config is the attack, from the flags.
type config struct {
	mode      string
	clients   int
	interval  time.Duration
	duration  time.Duration
	after     time.Duration
	reconnect bool
	tls       bool
}

func run(args []string) error {
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.mode, "mode", "halfsent", "the attack: `drip`, halfsent or idle")
	fs.IntVar(&cfg.clients, "clients", 200, "hostile clients")
	fs.DurationVar(&cfg.interval, "interval", 500*time.Millisecond, "drip and halfsent: a byte every `interval`")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long the attack lasts")
	fs.DurationVar(&cfg.after, "after", 5*time.Second, "halfsent: how long to watch the memory after the clients leave (past 2m the idle server's forced collection has run)")
	fs.BoolVar(&cfg.reconnect, "reconnect", false, "halfsent: a client that is cut starts over")
	fs.BoolVar(&cfg.tls, "tls", false, "idle: connect with TLS")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return errors.New("no server command: give it after --")
	}
	if err := raiseFileLimit(4*cfg.clients + 256); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "hostile")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if argv, err = withCert(argv, dir); err != nil {
		return err
	}
	srv, err := startServer(argv)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Printf("server %q, pid %d, at %s; load %s\n", strings.Join(argv, " "), srv.pid, srv.addr, proc.LoadAverage())
	switch cfg.mode {
	case "drip":
		return drip(srv, cfg)
	case "halfsent":
		return halfsent(srv, cfg)
	case "idle":
		return idle(srv, cfg)
	}
	return fmt.Errorf("unknown -mode %q", cfg.mode)
}

// server is the server process under attack.
type server struct {
	cmd  *exec.Cmd
	pid  int
	addr string
	vars string       // the server's expvar URL, if it said
	live atomic.Int64 // MB marked live by the last GC (gctrace), -1 before any
	gcs  atomic.Int64 // GCs seen
}

var (
	varsRe = regexp.MustCompile(`url=(http://\S+/debug/vars)`)
	addrRe = regexp.MustCompile(`(?:addr=|listening )(\S+:\d+)`)
	gcRe   = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)
)

// startServer starts argv with gctrace on, and waits until it says where
// it listens.
func startServer(argv []string) (*server, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid}
	s.live.Store(-1)
	addr := make(chan string, 1)
	vars := make(chan string, 1)
	go func() { // exits when the server's output ends
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := gcRe.FindStringSubmatch(line); m != nil {
				live, _ := strconv.ParseInt(m[3], 10, 64)
				s.live.Store(live)
				s.gcs.Add(1)
				continue
			}
			if m := varsRe.FindStringSubmatch(line); m != nil {
				vars <- m[1]
				continue
			}
			if m := addrRe.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case s.addr = <-addr:
		select {
		case s.vars = <-vars: // cmd/server says it first
		default:
		}
		return s, nil
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("the server did not say where it listens within 30s")
	}
}

func (s *server) stop() { proc.Stop(s.cmd) }

// closed returns the server's counts of connections closed by cause, as
// JSON, from its expvar variable protoflow, or "" if it has none.
func (s *server) closed() string {
	if s.vars == "" {
		return ""
	}
	resp, err := http.Get(s.vars)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		Protoflow struct {
			Closed json.RawMessage `json:"closed"`
		} `json:"protoflow"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) != nil {
		return ""
	}
	return string(v.Protoflow.Closed)
}

// reassembly returns the server's reassembly memory now (reserved and
// held, in MiB) and its budget, from its expvar variable protoflow, or -1s
// if it has none.
func (s *server) reassembly() (reserved, held, budget float64) {
	if s.vars == "" {
		return -1, -1, -1
	}
	resp, err := http.Get(s.vars)
	if err != nil {
		return -1, -1, -1
	}
	defer resp.Body.Close()
	var v struct {
		Protoflow struct {
			Reassembly struct{ Budget, Reserved, Held int64 } `json:"reassembly"`
		} `json:"protoflow"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) != nil {
		return -1, -1, -1
	}
	r := v.Protoflow.Reassembly
	return float64(r.Reserved) / (1 << 20), float64(r.Held) / (1 << 20), float64(r.Budget) / (1 << 20)
}

// mem is one look at the server's memory, in MiB; -1 where unknown.
type mem struct{ rss, hwm, live, heap float64 }

func (s *server) mem() mem {
	m := mem{rss: proc.MemKiB(s.pid, "VmRSS") / 1024, hwm: proc.MemKiB(s.pid, "VmHWM") / 1024, live: -1, heap: -1}
	if l := s.live.Load(); l >= 0 {
		m.live = float64(l)
	}
	if s.vars != "" {
		if resp, err := http.Get(s.vars); err == nil {
			var v struct{ Memstats struct{ HeapAlloc uint64 } }
			if json.NewDecoder(resp.Body).Decode(&v) == nil {
				m.heap = float64(v.Memstats.HeapAlloc) / (1 << 20)
			}
			resp.Body.Close()
		}
	}
	return m
}

func (m mem) String() string {
	mib := func(v float64) string {
		if v < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f MiB", v)
	}
	return fmt.Sprintf("RSS %6.1f MiB, peak RSS %6.1f MiB, live heap at the last GC %s, heap now %s", m.rss, m.hwm, mib(m.live), mib(m.heap))
}

// frameStart returns the first n bytes of a kvbin frame of 1 MiB.
func frameStart(n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, 1<<20)
	return b
}

// client is one hostile connection's life.
type client struct {
	start, cut time.Time // cut is zero while the server holds it
}

// attack runs n clients that each send first and then a byte every
// interval until the server closes the connection or quit closes; with
// reconnect, a cut client starts over. It returns every connection's life.
func attack(addr string, n int, first []byte, interval time.Duration, reconnect bool, quit <-chan struct{}) (lives func() []client, wait func()) {
	var mu sync.Mutex
	var all []*client
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { // exits when quit is closed, or when cut without reconnect
			defer wg.Done()
			for {
				cl := &client{start: time.Now()}
				mu.Lock()
				all = append(all, cl)
				mu.Unlock()
				cutAt := oneClient(addr, first, interval, quit)
				mu.Lock()
				cl.cut = cutAt
				mu.Unlock()
				select {
				case <-quit:
					return
				default:
				}
				if !reconnect {
					return
				}
			}
		}()
	}
	return func() []client {
		mu.Lock()
		defer mu.Unlock()
		out := make([]client, len(all))
		for i, c := range all {
			out[i] = *c
		}
		return out
	}, wg.Wait
}

// oneClient is one connection of attack: it returns when the server cut
// it (the time), or zero when quit closed first. It writes first whole,
// however long the server takes to read it (a server that paused reading
// holds the rest in the socket's buffers), then a byte every interval.
func oneClient(addr string, first []byte, interval time.Duration, quit <-chan struct{}) time.Time {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return time.Now()
	}
	defer c.Close() // also ends the writer
	cut := make(chan time.Time, 1)
	go func() { // exits when the connection closes
		_, _ = io.Copy(io.Discard, c)
		cut <- time.Now()
	}()
	go func() { // exits when a write fails: the connection closed
		if _, err := c.Write(first); err != nil {
			return
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for range tick.C {
			if _, err := c.Write([]byte{0}); err != nil {
				return
			}
		}
	}()
	select {
	case at := <-cut:
		return at
	case <-quit:
		return time.Time{}
	}
}

// drip is -mode drip.
func drip(srv *server, cfg config) error {
	quit := make(chan struct{})
	lives, wait := attack(srv.addr, cfg.clients, frameStart(5), cfg.interval, false, quit)
	time.Sleep(cfg.duration)
	close(quit)
	wait()
	var held, cut []time.Duration
	for _, c := range lives() {
		if c.cut.IsZero() {
			held = append(held, cfg.duration)
		} else {
			cut = append(cut, c.cut.Sub(c.start))
		}
	}
	fmt.Printf("drip: %d clients, a byte every %v, for %v: %d cut, %d still held at the end\n",
		cfg.clients, cfg.interval, cfg.duration, len(cut), len(held))
	if len(cut) > 0 {
		slices.Sort(cut)
		fmt.Printf("  cut after: min %v, median %v, max %v\n", cut[0].Round(time.Millisecond),
			cut[len(cut)/2].Round(time.Millisecond), cut[len(cut)-1].Round(time.Millisecond))
	}
	if closed := srv.closed(); closed != "" {
		fmt.Printf("the server's count of connections closed: %s\n", closed)
	}
	return nil
}

// halfsent is -mode halfsent.
func halfsent(srv *server, cfg config) error {
	time.Sleep(500 * time.Millisecond)
	base := srv.mem()
	fmt.Printf("before the attack: %v\n", base)
	quit := make(chan struct{})
	lives, wait := attack(srv.addr, cfg.clients, frameStart(1<<20-100), cfg.interval, cfg.reconnect, quit)
	start := time.Now()
	var peakLive, peakHeld float64 = -1, -1
	var budget float64 = -1
	for t := time.Second; t <= cfg.duration; t += time.Second {
		time.Sleep(time.Until(start.Add(t)))
		m := srv.mem()
		peakLive = max(peakLive, m.live)
		reserved, held, b := srv.reassembly()
		peakHeld, budget = max(peakHeld, held), b
		open, conns := 0, 0
		for _, c := range lives() {
			conns++
			if c.cut.IsZero() {
				open++
			}
		}
		fmt.Printf("%4.0fs: %v; reassembly reserved %.1f MiB, held %.1f MiB; %d of %d connections held\n",
			t.Seconds(), m, reserved, held, open, conns)
	}
	ls := lives()
	close(quit)
	wait()
	var cut []time.Duration
	for _, c := range ls {
		if !c.cut.IsZero() {
			cut = append(cut, c.cut.Sub(c.start))
		}
	}
	fmt.Printf("attack: %d clients, %d connections, %d cut by the server", cfg.clients, len(ls), len(cut))
	if len(cut) > 0 {
		slices.Sort(cut)
		fmt.Printf(" (after: min %v, median %v, max %v)", cut[0].Round(time.Millisecond),
			cut[len(cut)/2].Round(time.Millisecond), cut[len(cut)-1].Round(time.Millisecond))
	}
	fmt.Println()
	// The memory after the clients leave, every 10 s: the collector runs
	// again only when the heap grows or, idle, after two minutes (the
	// runtime's forced collection), and the scavenger then returns freed
	// pages to the system gradually.
	left := time.Now()
	for next := 10 * time.Second; next < cfg.after; next += 10 * time.Second {
		time.Sleep(time.Until(left.Add(next)))
		fmt.Printf("%v after the clients left: %v\n", next, srv.mem())
	}
	time.Sleep(time.Until(left.Add(cfg.after)))
	after := srv.mem()
	fmt.Printf("%v after the clients left: %v\n", cfg.after, after)
	if closed := srv.closed(); closed != "" {
		fmt.Printf("the server's count of connections closed: %s\n", closed)
	}
	fmt.Printf("summary: clients %d, peak RSS %.1f MiB (%.1f before), peak live heap %.0f MiB, peak reassembly held %.1f MiB (budget %.0f MiB), RSS after leaving %.1f MiB, live heap after %.0f MiB\n",
		cfg.clients, after.hwm, base.rss, peakLive, peakHeld, budget, after.rss, after.live)
	return nil
}

// idle is -mode idle.
func idle(srv *server, cfg config) error {
	time.Sleep(500 * time.Millisecond)
	base := srv.mem()
	tlsCfg := &tls.Config{InsecureSkipVerify: true} // the server's own test certificate
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	msg := []byte("0123456789abcdef")
	buf := make([]byte, len(msg))
	for range cfg.clients {
		c, err := net.DialTimeout("tcp", srv.addr, 30*time.Second)
		if err != nil {
			return err
		}
		if cfg.tls {
			c = tls.Client(c, tlsCfg)
		}
		conns = append(conns, c)
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
	}
	time.Sleep(2 * time.Second) // epoll readers give their goroutines back after 50 ms
	m := srv.mem()
	fmt.Printf("idle: %d connections (TLS %v): %v; %.2f KiB of RSS per connection\n",
		cfg.clients, cfg.tls, m, (m.rss-base.rss)*1024/float64(cfg.clients))
	return nil
}

// withCert writes a self-signed certificate for 127.0.0.1 and its key to
// dir if argv names {cert} or {key}, and puts their paths there.
func withCert(argv []string, dir string) ([]string, error) {
	joined := strings.Join(argv, "\x00")
	if !strings.Contains(joined, "{cert}") && !strings.Contains(joined, "{key}") {
		return argv, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hostile"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	joined = strings.ReplaceAll(strings.ReplaceAll(joined, "{cert}", certFile), "{key}", keyFile)
	return strings.Split(joined, "\x00"), nil
}

// raiseFileLimit raises this process's open-file limit to at least n; the
// server, its child, inherits it.
func raiseFileLimit(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= uint64(n) {
		return nil
	}
	lim.Cur = min(max(uint64(n), lim.Cur), lim.Max)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
