// Command memcbench runs a load of gets and sets against the memcached
// server built with protogen (generated_example/memcached), memcached -t 1
// and memcached as it starts by default, side by side, and prints a
// Markdown table of requests per second and requests per second of server
// CPU time.
//
//	cd bench && go run ./cmd/memcbench                   # 5 interleaved runs, a few minutes
//	cd bench && go run ./cmd/memcbench -runs 1 -d 1s     # a quick look
//
// The load is its own, in Go, speaking both protocols: memcaslap, like
// redis-benchmark for the Redis server, saturates its own CPU before a
// server's. Each of -c connections sends -P requests, then reads their
// replies, for -d; a request is a get or a set (of a -value byte value) of
// one of -keys keys, all set first, in the proportion of the mix:
// get-heavy is 90% gets, set-heavy 90% sets.
//
// For each run the servers start afresh, pinned to CPU 1 (taskset -c 1;
// ours with GOMAXPROCS=1), and the load runs on CPU 0, so that a server's
// CPU time (utime+stime from /proc) is measured for each test alone; each
// test loads the servers in turns (-slices of -d each), one after the
// other, in an order that turns round from test to test and run to run and
// runs backwards every other turn, so that the servers compared meet the
// machine within a second of each other and before and after each other.
// memcached runs with -t 1 (one worker thread: the
// fair comparison per core) and with its default of 4 threads, pinned to
// the same CPU; ours runs on the runtime's default backend (on Linux its
// event loops) and on its epoll backend (PROTOFLOW_BACKEND=epoll, what
// WithBlockingCallbacks selects). Figures are medians with
// the min–max range, and the ratio of each of ours to memcached -t 1 is
// also given test by test, since both servers of a test meet the same
// machine.
//
// memcached comes from Debian's package, which memcbench installs with
// apt-get when it can.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/protogen/protogen/bench/internal/proc"
	"github.com/protogen/protogen/bench/internal/stats"
)

const (
	serverCPU = 1
	clientCPU = 0
)

type server struct {
	name  string
	start func(port int) *exec.Cmd
}

// test is one load: a protocol, a mix and a pipeline depth.
type test struct {
	binary bool
	gets   int // percent of gets
	pipe   int
}

func (t test) String() string {
	p, mix := "text", "set-heavy"
	if t.binary {
		p = "binary"
	}
	if t.gets >= 50 {
		mix = "get-heavy"
	}
	return fmt.Sprintf("%s %s -P %d", p, mix, t.pipe)
}

type sample struct{ rps, perCPU float64 }

type config struct {
	runs, conns, keys, value int
	dur                      time.Duration
	slices                   int
	tests                    []test
	only                     string
}

func main() {
	runs := flag.Int("runs", 5, "interleaved runs of every test on every server")
	dur := flag.Duration("d", 3*time.Second, "how long each test loads a server")
	slices := flag.Int("slices", 4, "how many turns each test's -d is split into, the servers taking turns")
	conns := flag.Int("c", 50, "connections")
	keys := flag.Int("keys", 10000, "distinct keys")
	value := flag.Int("value", 100, "bytes of each value set")
	pipes := flag.String("P", "1,16", "comma-separated pipeline depths")
	protos := flag.String("proto", "text,binary", "protocols")
	mixes := flag.String("mix", "90,10", "comma-separated percentages of gets (90: get-heavy, 10: set-heavy)")
	only := flag.String("only", "", "run only the servers whose names contain this")
	flag.Parse()
	cfg := config{runs: *runs, conns: *conns, keys: *keys, value: *value, dur: *dur, slices: max(*slices, 1), only: *only}
	for _, p := range strings.Split(*protos, ",") {
		for _, m := range strings.Split(*mixes, ",") {
			for _, d := range strings.Split(*pipes, ",") {
				gets, err1 := strconv.Atoi(m)
				pipe, err2 := strconv.Atoi(d)
				if err1 != nil || err2 != nil || pipe < 1 || gets < 0 || gets > 100 || p != "text" && p != "binary" {
					fmt.Fprintf(os.Stderr, "memcbench: bad -proto %q, -mix %q or -P %q\n", p, m, d)
					os.Exit(2)
				}
				cfg.tests = append(cfg.tests, test{binary: p == "binary", gets: gets, pipe: pipe})
			}
		}
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "memcbench:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if err := ensureMemcached(); err != nil {
		return err
	}
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("%d CPU: the servers and the load need a CPU each", runtime.NumCPU())
	}
	// The load runs on CPU 0: pin every thread of this process there
	// (threads made later inherit it).
	if out, err := exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(clientCPU), strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
		return fmt.Errorf("taskset: %w: %s", err, out)
	}
	bin, err := os.MkdirTemp("", "protogen-memcbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	fmt.Fprintln(os.Stderr, "building our server...")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "protoflow"), "./servers/protoflow")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	root := []string{}
	if os.Geteuid() == 0 {
		root = []string{"-u", "root"} // memcached refuses root without -u
	}
	mc := func(threads ...string) func(int) *exec.Cmd {
		return func(port int) *exec.Cmd {
			argv := append([]string{"memcached", "-p", strconv.Itoa(port), "-l", "127.0.0.1", "-U", "0", "-m", "1024"}, threads...)
			return proc.Pinned(serverCPU, append(argv, root...)...)
		}
	}
	servers := []server{
		{"protoflow (generated)", func(port int) *exec.Cmd {
			return proc.Pinned(serverCPU, filepath.Join(bin, "protoflow"), "-proto", "memcached", "-addr", "127.0.0.1:"+strconv.Itoa(port))
		}},
		{"protoflow (generated, epoll backend)", func(port int) *exec.Cmd {
			cmd := proc.Pinned(serverCPU, filepath.Join(bin, "protoflow"), "-proto", "memcached", "-addr", "127.0.0.1:"+strconv.Itoa(port))
			cmd.Env = append(cmd.Env, "PROTOFLOW_BACKEND=epoll")
			return cmd
		}},
		{"memcached -t 1", mc("-t", "1")},
		{"memcached", mc()},
	}
	if cfg.only != "" {
		servers = slices.DeleteFunc(servers, func(s server) bool { return !strings.Contains(s.name, cfg.only) })
	}
	loadBefore := proc.LoadAverage()
	results := map[string][]sample{}
	for r := range cfg.runs {
		if err := measure(cfg, servers, r, results); err != nil {
			return err
		}
	}
	printTable(os.Stdout, cfg, servers, results, loadBefore, proc.LoadAverage())
	return nil
}

func key(server string, t test) string { return server + "|" + t.String() }

// running is a server started for a run.
type running struct {
	server
	cmd  *exec.Cmd
	addr string
}

// measure runs every test of run r on every server. All the servers of a
// run start at once, fresh, and each test loads them in turns, one after
// the other (an idle server takes next to no CPU), in an order that turns
// round from test to test and run to run: this VM's speed drifts over tens
// of seconds, and in short turns the servers compared in a test meet it
// within a second of each other. A server's figures for the test are its
// turns' requests over their time (or CPU time) together.
func measure(cfg config, servers []server, r int, results map[string][]sample) error {
	var up []running
	defer func() {
		for _, s := range up {
			proc.Stop(s.cmd)
		}
	}()
	for _, s := range servers {
		port, err := proc.FreePort()
		if err != nil {
			return err
		}
		cmd := s.start(port)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		up = append(up, running{s, cmd, "127.0.0.1:" + strconv.Itoa(port)})
	}
	for _, s := range up {
		if err := proc.WaitListening(s.addr); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := preload(s.addr, cfg); err != nil {
			return fmt.Errorf("%s: setting the keys: %w", s.name, err)
		}
	}
	type total struct {
		n       int
		elapsed time.Duration
		cpu     float64
	}
	for i, t := range cfg.tests {
		totals := make([]total, len(up))
		for turn := range cfg.slices {
			for k := range up {
				j := turnOrder(k, i+r, turn, len(up))
				s := up[j]
				cpuSeconds := func() float64 { return proc.CPUSeconds(s.cmd.Process.Pid) }
				n, elapsed, cpu, err := load(s.addr, cfg, t, cfg.dur/time.Duration(cfg.slices), cpuSeconds)
				if err != nil {
					return fmt.Errorf("%s: %s: %w", s.name, t, err)
				}
				totals[j].cpu += cpu
				totals[j].n += n
				totals[j].elapsed += elapsed
			}
		}
		for j, s := range up {
			tot := totals[j]
			smp := sample{rps: float64(tot.n) / tot.elapsed.Seconds()}
			if tot.cpu > 0 {
				smp.perCPU = float64(tot.n) / tot.cpu
			}
			fmt.Fprintf(os.Stderr, "run %d/%d  %-26s %-36s %10.0f requests/s  %10.0f requests/CPU-s\n", r+1, cfg.runs, t, s.name, smp.rps, smp.perCPU)
			results[key(s.name, t)] = append(results[key(s.name, t)], smp)
		}
	}
	return nil
}

// turnOrder is the server that goes k-th in a turn of a test: the order
// turns round from test to test (and run to run: rot), and every other
// turn runs it backwards, so that each server meets the machine before and
// after each other one.
func turnOrder(k, rot, turn, n int) int {
	if turn%2 == 1 {
		k = n - 1 - k
	}
	return (k + rot) % n
}

// conn is one client connection of the load.
type conn struct {
	c      net.Conn
	r      *bufio.Reader
	binary bool
	out    []byte
	value  []byte
}

func (c *conn) appendGet(k string) {
	if !c.binary {
		c.out = append(append(append(c.out, "get "...), k...), "\r\n"...)
		return
	}
	c.out = appendBin(c.out, 0x00, nil, k, nil)
}

func (c *conn) appendSet(k string) {
	if !c.binary {
		c.out = fmt.Appendf(c.out, "set %s 0 0 %d\r\n", k, len(c.value))
		c.out = append(append(c.out, c.value...), "\r\n"...)
		return
	}
	c.out = appendBin(c.out, 0x01, make([]byte, 8), k, c.value)
}

func appendBin(b []byte, op byte, extras []byte, k string, v []byte) []byte {
	b = append(b, 0x80, op)
	b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
	b = append(b, byte(len(extras)), 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(extras)+len(k)+len(v)))
	b = append(b, make([]byte, 12)...)
	return append(append(append(b, extras...), k...), v...)
}

var errReply = errors.New("unexpected reply")

// readReply reads the reply to one get or set.
func (c *conn) readReply(get bool) error {
	if c.binary {
		var h [24]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			return err
		}
		if h[0] != 0x81 {
			return errReply
		}
		_, err := c.r.Discard(int(binary.BigEndian.Uint32(h[8:])))
		return err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !get {
		if !bytes.Equal(line, []byte("STORED\r\n")) {
			return fmt.Errorf("%w: %q", errReply, line)
		}
		return nil
	}
	if bytes.HasPrefix(line, []byte("VALUE ")) {
		f := bytes.Fields(line)
		n, err := strconv.Atoi(string(f[3]))
		if err != nil {
			return fmt.Errorf("%w: %q", errReply, line)
		}
		if _, err := c.r.Discard(n + 2); err != nil {
			return err
		}
		if line, err = c.r.ReadSlice('\n'); err != nil {
			return err
		}
	}
	if !bytes.Equal(line, []byte("END\r\n")) {
		return fmt.Errorf("%w: %q", errReply, line)
	}
	return nil
}

func dialConn(addr string, binary bool, value []byte) (*conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), binary: binary, value: value}, nil
}

func keyName(i int) string { return "key:" + strconv.Itoa(i) }

// preload sets every key, so that gets hit.
func preload(addr string, cfg config) error {
	c, err := dialConn(addr, false, bytes.Repeat([]byte("v"), cfg.value))
	if err != nil {
		return err
	}
	defer c.c.Close()
	for i := range cfg.keys {
		c.appendSet(keyName(i))
		if len(c.out) > 32<<10 || i == cfg.keys-1 {
			if _, err := c.c.Write(c.out); err != nil {
				return err
			}
			for range bytes.Count(c.out, []byte("\r\nset ")) + 1 {
				if err := c.readReply(false); err != nil {
					return err
				}
			}
			c.out = c.out[:0]
		}
	}
	return nil
}

// load runs test t for d and returns the requests answered, the time it
// took and the server's CPU seconds (by cpuSeconds) meanwhile. The
// connections are made before and closed after what it measures, so that
// a turn's figures are the requests' alone.
func load(addr string, cfg config, t test, d time.Duration, cpuSeconds func() float64) (int, time.Duration, float64, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		first error
	)
	value := bytes.Repeat([]byte("v"), cfg.value)
	conns := make([]*conn, 0, cfg.conns)
	defer func() {
		for _, c := range conns {
			c.c.Close()
		}
	}()
	for range cfg.conns {
		c, err := dialConn(addr, t.binary, value)
		if err != nil {
			return 0, 0, 0, err
		}
		conns = append(conns, c)
	}
	cpuBefore := cpuSeconds()
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Go(func() { // ends at the deadline, or on an error
			rng := rand.New(rand.NewPCG(uint64(i), 18))
			gets := make([]bool, t.pipe)
			n := 0
			var err error
			for time.Now().Before(deadline) && err == nil {
				c.out = c.out[:0]
				for j := range gets {
					k := keyName(rng.IntN(cfg.keys))
					gets[j] = rng.IntN(100) < t.gets
					if gets[j] {
						c.appendGet(k)
					} else {
						c.appendSet(k)
					}
				}
				if _, err = c.c.Write(c.out); err != nil {
					break
				}
				for _, g := range gets {
					if err = c.readReply(g); err != nil {
						break
					}
					n++
				}
			}
			mu.Lock()
			total += n
			if first == nil {
				first = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return total, time.Since(start), cpuSeconds() - cpuBefore, first
}

// ensureMemcached installs memcached with apt-get when it is missing and
// we are root.
func ensureMemcached() error {
	missing := func() []string {
		var m []string
		for _, tool := range []string{"memcached", "taskset"} {
			if _, err := exec.LookPath(tool); err != nil {
				m = append(m, tool)
			}
		}
		return m
	}
	if len(missing()) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s not installed, and installing needs root (apt-get install memcached util-linux)", strings.Join(missing(), ", "))
	}
	fmt.Fprintln(os.Stderr, "installing memcached with apt-get...")
	cmd := exec.Command("apt-get", "install", "-y", "-q", "memcached", "util-linux")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install: %w: %s", err, proc.LastLine(out))
	}
	if m := missing(); len(m) > 0 {
		return errors.New(strings.Join(m, ", ") + " still missing after apt-get install")
	}
	return nil
}

// printTable prints the results as Markdown.
func printTable(w io.Writer, cfg config, servers []server, results map[string][]sample, loadBefore, loadAfter string) {
	version, _ := exec.Command("memcached", "-V").Output()
	fmt.Fprintf(w, "memcbench -c %d -keys %d -value %d -d %s -slices %d, %s, %s/%s, %d CPUs (%s), %s, %s; servers pinned to CPU 1, the load to CPU 0; load average %s before, %s after; %d interleaved runs; median (min–max).\n\n",
		cfg.conns, cfg.keys, cfg.value, cfg.dur, cfg.slices, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), proc.CPUModel(),
		runtime.Version(), strings.TrimSpace(string(version)), loadBefore, loadAfter, cfg.runs)
	fmt.Fprint(w, "| test | figure |")
	for _, s := range servers {
		fmt.Fprintf(w, " %s |", s.name)
	}
	// Each of our servers is set against memcached -t 1, if both ran.
	ref := slices.IndexFunc(servers, func(s server) bool { return s.name == "memcached -t 1" })
	var ours []int
	for i, s := range servers {
		if ref >= 0 && strings.HasPrefix(s.name, "protoflow") {
			ours = append(ours, i)
			fmt.Fprintf(w, " %s / %s, of medians | per run |", s.name, servers[ref].name)
		}
	}
	fmt.Fprint(w, "\n|---|---|")
	for range servers {
		fmt.Fprint(w, "---|")
	}
	for range ours {
		fmt.Fprint(w, "---|---|")
	}
	fmt.Fprintln(w)
	figures := []struct {
		name string
		get  func(sample) float64
	}{
		{"requests/s", func(s sample) float64 { return s.rps }},
		{"requests per server CPU-second", func(s sample) float64 { return s.perCPU }},
	}
	for _, t := range cfg.tests {
		for _, f := range figures {
			fmt.Fprintf(w, "| %s | %s |", t, f.name)
			var runs [][]float64
			var medians []float64
			for _, s := range servers {
				var vals []float64
				for _, smp := range results[key(s.name, t)] {
					vals = append(vals, f.get(smp))
				}
				runs = append(runs, vals)
				sum, ok := stats.Summarize(stats.Measured(vals))
				medians = append(medians, sum.Median)
				if !ok {
					fmt.Fprint(w, " — |")
					continue
				}
				fmt.Fprintf(w, " %s%s |", sum.FormatWith(stats.Thousands), sum.Shortfall(cfg.runs))
			}
			for _, i := range ours {
				if medians[ref] > 0 {
					fmt.Fprintf(w, " %.2f× |", medians[i]/medians[ref])
				} else {
					fmt.Fprint(w, " — |")
				}
				if sum, ok := stats.Summarize(stats.Ratios(runs[i], runs[ref])); ok {
					fmt.Fprintf(w, " %s |", sum.Format("%.2f×"))
				} else {
					fmt.Fprint(w, " — |")
				}
			}
			fmt.Fprintln(w)
		}
	}
}
