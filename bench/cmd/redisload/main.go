// Command redisload is a Redis load generator that the server, not the
// generator, runs out of first: it speaks RESP over many connections,
// pipelines -P commands per write (all of their replies read before the
// next batch, as redis-benchmark -P does), runs on protoflow's loop
// backend (event loops on several OS threads, callbacks inline, one read
// and one write per batch), and reports its own CPU use beside its
// figures, so that a table can show it was not the bottleneck.
//
//	redisload -addr 127.0.0.1:6379 -t get -c 50 -P 16 -n 1000000
//
// It prints one JSON line: requests, seconds, requests per second, p50 and
// p99 latency of a batch (µs), its CPU seconds (user+system, from
// getrusage) and busy, that CPU time over the wall time and the CPUs it
// may run on (1 means it used them all, and may have been what limited
// the rate).
//
// The commands are redis-benchmark's, byte for byte: SET key:__rand_int__
// with a 3-byte value, GET key:__rand_int__, and PING as a multi-bulk
// array (ping_mbulk).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Result is what redisload prints.
type Result struct {
	Requests   int64   `json:"requests"`
	Seconds    float64 `json:"seconds"`
	RPS        float64 `json:"rps"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Busy       float64 `json:"busy"`
	Threads    int     `json:"threads"`
}

// commands are redis-benchmark's requests for each test.
var commands = map[string]string{
	"set":        "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n",
	"get":        "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n",
	"ping_mbulk": "*1\r\n$4\r\nPING\r\n",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server `host:port`")
	test := flag.String("t", "get", "the command: get, set or ping_mbulk")
	conns := flag.Int("c", 50, "connections")
	depth := flag.Int("P", 1, "commands per batch: pipelining depth")
	total := flag.Int64("n", 1000000, "requests in all")
	threads := flag.Int("threads", runtime.NumCPU(), "OS threads running event loops (GOMAXPROCS)")
	flag.Parse()
	if err := run(*addr, *test, *conns, *depth, *total, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "redisload:", err)
		os.Exit(1)
	}
}

func run(addr, test string, n, depth int, total int64, threads int) error {
	if os.Getenv("PROTOFLOW_BACKEND") != "loop" {
		// The backend is chosen when the runtime starts: start again with it.
		os.Setenv("PROTOFLOW_BACKEND", "loop")
		return syscall.Exec("/proc/self/exe", os.Args, os.Environ())
	}
	cmd, ok := commands[test]
	if !ok {
		return fmt.Errorf("unknown -t %q: want get, set or ping_mbulk", test)
	}
	if n < 1 || depth < 1 || threads < 1 {
		return fmt.Errorf("-c, -P and -threads must be at least 1")
	}
	runtime.GOMAXPROCS(threads)
	batch := make([]byte, 0, depth*len(cmd))
	for range depth {
		batch = append(batch, cmd...)
	}
	g := &gen{batch: batch, depth: depth, budget: total}
	g.wg.Add(n)
	clients := make([]*client, n)
	before := cpuSeconds()
	start := time.Now()
	for i := range clients {
		clients[i] = &client{g: g}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := protoflow.Dial(ctx, "tcp", addr, clients[i])
		cancel()
		if err != nil {
			return err
		}
	}
	g.wg.Wait() // every connection has run out of budget and closed
	wall := time.Since(start)
	cpu := cpuSeconds() - before
	var r Result
	var lat []time.Duration
	for _, c := range clients {
		if c.err != nil {
			return c.err
		}
		r.Requests += c.done
		lat = append(lat, c.lat...)
	}
	r.Seconds = wall.Seconds()
	r.RPS = float64(r.Requests) / r.Seconds
	r.CPUSeconds = cpu
	r.Threads = threads
	r.Busy = cpu / r.Seconds / float64(min(threads, runtime.NumCPU()))
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50us = float64(lat[len(lat)/2].Nanoseconds()) / 1e3
		r.P99us = float64(lat[len(lat)*99/100].Nanoseconds()) / 1e3
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	return nil
}

// gen is what the connections share.
type gen struct {
	batch  []byte
	depth  int
	budget int64 // requests not yet claimed by a connection
	spent  atomic.Int64
	wg     sync.WaitGroup // one per connection, done at ConnectionLost
}

// claim takes a batch of requests from the budget, or reports false when it
// is spent.
func (g *gen) claim() bool { return g.spent.Add(int64(g.depth)) <= g.budget }

// client is one connection: it writes a batch, counts the replies as they
// come (RESP, split across reads or not), and writes the next batch once
// all have come.
type client struct {
	protoflow.BaseProtocol
	g       *gen
	want    int    // replies of the batch in flight not yet read
	partial []byte // the start of a reply split across reads
	sent    time.Time

	// Read once ConnectionLost has run.
	done int64
	lat  []time.Duration
	err  error
}

func (c *client) ConnectionMade(t protoflow.Transport) {
	c.BaseProtocol.ConnectionMade(t)
	c.next()
}

// next writes the next batch, or closes the connection once the budget is
// spent.
func (c *client) next() {
	t := c.Transport()
	if !c.g.claim() {
		t.Close()
		return
	}
	c.want = c.g.depth
	c.sent = time.Now()
	t.Write(c.g.batch)
}

func (c *client) DataReceived(p []byte) {
	if len(c.partial) > 0 {
		c.partial = append(c.partial, p...)
		p = c.partial
	}
	for len(p) > 0 && c.want > 0 {
		n := replyLen(p)
		if n < 0 {
			if n == -2 {
				c.err = fmt.Errorf("bad reply %q", p[:min(len(p), 32)])
				c.Transport().Abort()
				return
			}
			break
		}
		if p[0] == '-' {
			c.err = fmt.Errorf("error reply %q", p[:n])
			c.Transport().Abort()
			return
		}
		p = p[n:]
		c.want--
		if c.want == 0 {
			c.lat = append(c.lat, time.Since(c.sent))
			c.done += int64(c.g.depth)
			c.next()
		}
	}
	c.partial = append(c.partial[:0], p...)
}

func (c *client) ConnectionLost(err error) {
	c.BaseProtocol.ConnectionLost(err)
	if err != nil && c.err == nil {
		c.err = err
	}
	c.g.wg.Done()
}

// replyLen returns the length of the RESP reply at the start of p, -1 if p
// holds only part of it, or -2 if p does not start a reply.
func replyLen(p []byte) int {
	line := indexCRLF(p)
	if line < 0 {
		return -1
	}
	switch p[0] {
	case '+', '-', ':':
		return line + 2
	case '$':
		n := atoi(p[1:line])
		if n < 0 {
			return line + 2 // nil bulk string
		}
		if end := line + 2 + n + 2; end <= len(p) {
			return end
		}
		return -1
	case '*':
		k := atoi(p[1:line])
		off := line + 2
		for range max(k, 0) {
			m := replyLen(p[off:])
			if m < 0 {
				return m
			}
			off += m
		}
		return off
	}
	return -2
}

func indexCRLF(p []byte) int {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '\r' && p[i+1] == '\n' {
			return i
		}
	}
	return -1
}

func atoi(b []byte) int {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// cpuSeconds is the process's user+system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
