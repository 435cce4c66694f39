// Command loadgen is the load generator of protogen's side-by-side
// benchmark: one Go client for every server, so that only the servers
// differ. It drives an echo server and prints its result as JSON on the
// last line of standard output.
//
// Modes:
//
//	-mode echo   closed loop: each of -conns connections keeps -inflight
//	             messages of -size bytes in flight (1 is ping-pong): it
//	             sends them in one write, and as many again, in one write,
//	             as each read brings back; latency is from send to
//	             receive. Prints "measure start" and "measure end" lines
//	             around the measured -duration, after -warmup. With
//	             -blocker-every, one more connection, the first to
//	             connect, sends the 1-byte message "S" that often and
//	             waits for its echo: a server started with -block-on-s
//	             blocks its callback on it (its latency is not counted).
//	-mode batch  closed loop, batched as redis-benchmark -P pipelines: each
//	             of -conns connections writes -inflight messages of -size
//	             bytes in one write, reads all their replies, and only
//	             then writes the next batch; latency is from a batch's
//	             write to the last byte of its replies. Prints "measure
//	             start" and "measure end" as echo does.
//	-mode idle   opens -conns connections, echoes 16 bytes on each, prints
//	             "ready", and holds them open until standard input closes;
//	             a line "burst" on standard input makes every connection
//	             echo 16 bytes at once (all the writes, then all the
//	             reads), after which it prints "burst done". Above 20,000
//	             connections it dials from 127.0.0.x source addresses in
//	             turn, so that the ports of one address are not the limit.
//	-mode slow   each connection sends -total bytes in 64 KiB writes while
//	             reading the echoes at -rate bytes per second: a slow
//	             consumer. Prints "ready" once writing has started, and
//	             reports the bytes echoed.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what loadgen prints.
type Result struct {
	Messages   int64   `json:"messages"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	Bytes      int64   `json:"bytes"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
}

func main() {
	addr := flag.String("addr", "", "server `host:port`")
	mode := flag.String("mode", "echo", "echo, idle or slow")
	conns := flag.Int("conns", 64, "connections")
	size := flag.Int("size", 1024, "message size in bytes")
	inflight := flag.Int("inflight", 1, "messages in flight per connection")
	duration := flag.Duration("duration", 5*time.Second, "measured time")
	warmup := flag.Duration("warmup", time.Second, "time before measuring")
	total := flag.Int64("total", 64<<20, "slow mode: bytes each connection sends")
	rate := flag.Int64("rate", 1<<20, "slow mode: bytes per second each connection reads")
	blockerEvery := flag.Duration("blocker-every", 0, "echo mode: send \"S\" on one more connection this often (0: no such connection)")
	flag.Parse()
	var r Result
	var err error
	switch *mode {
	case "echo":
		var stop func()
		if stop, err = blocker(*addr, *blockerEvery); err == nil {
			r, err = echo(*addr, *conns, *size, *inflight, *warmup, *duration)
			stop()
		}
	case "batch":
		r, err = batch(*addr, *conns, *size, *inflight, *warmup, *duration)
	case "idle":
		r, err = idle(*addr, *conns)
	case "slow":
		r, err = slow(*addr, *conns, *total, *rate)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

// errs counts connection errors and keeps the first.
type errs struct {
	n     atomic.Int64
	first atomic.Value
}

func (e *errs) add(err error) {
	if e.n.Add(1) == 1 {
		e.first.Store(err.Error())
	}
}

func (e *errs) fill(r *Result) {
	r.Errors = e.n.Load()
	if s, ok := e.first.Load().(string); ok {
		r.FirstError = s
	}
}

func dialAll(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, 0, n)
	const perSource = 20000
	for i := range n {
		d := net.Dialer{Timeout: 10 * time.Second}
		if n > perSource {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i/perSource))}
		}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func echo(addr string, n, size, inflight int, warmup, duration time.Duration) (Result, error) {
	conns, err := dialAll(addr, n)
	if err != nil {
		return Result{}, err
	}
	var measuring, stop atomic.Bool
	var e errs
	lat := make([][]time.Duration, n)
	counts := make([]int64, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() { // exits when stop is set or the connection fails
			defer wg.Done()
			defer c.Close()
			window := make([]byte, inflight*size) // up to a window of messages, sent in one write
			buf := make([]byte, size)
			// Read through a buffer, and answer every reply that one read
			// brought with one write: the load generator should not spend a
			// system call per message, or it, not the server, is what a
			// pipelined run measures. Answering per read also keeps the
			// connections fair: a connection answered one message at a time
			// could keep finding its next reply already there, never wait
			// in the netpoller, and hold the load generator's one thread
			// until preempted, while the other connections starve (p99
			// latencies of seconds beside a p50 of 0.2 ms).
			r := bufio.NewReaderSize(c, max(64*1024, inflight*size)) // room for a whole window of replies
			sent := make([]time.Time, 0, inflight)                   // send times of the messages in flight, oldest first
			start := time.Now()
			for range inflight {
				sent = append(sent, start)
			}
			if _, err := c.Write(window); err != nil {
				e.add(err)
				return
			}
			for !stop.Load() {
				if _, err := io.ReadFull(r, buf); err != nil {
					e.add(err)
					return
				}
				k := 1
				for k < inflight && r.Buffered() >= size {
					_, _ = io.ReadFull(r, buf) // from the buffer: cannot fail
					k++
				}
				now := time.Now()
				if measuring.Load() {
					for _, t := range sent[:k] {
						lat[i] = append(lat[i], now.Sub(t))
					}
					counts[i] += int64(k)
				}
				sent = append(sent[:0], sent[k:]...)
				for range k {
					sent = append(sent, now)
				}
				if _, err := c.Write(window[:k*size]); err != nil {
					e.add(err)
					return
				}
			}
		}()
	}
	return finish(conns, &wg, &measuring, &stop, &e, lat, counts, size, warmup, duration)
}

// blocker connects, and, every d, sends "S" and waits for its echo, until
// the returned function is called. d of 0 connects nothing.
func blocker(addr string, d time.Duration) (stop func(), err error) {
	if d <= 0 {
		return func() {}, nil
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // exits when done closes or the connection fails
		defer wg.Done()
		tick := time.NewTicker(d)
		defer tick.Stop()
		var b [1]byte
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte("S")); err != nil {
				return
			}
			if _, err := io.ReadFull(c, b[:]); err != nil {
				return
			}
		}
	}()
	return func() { close(done); c.Close(); wg.Wait() }, nil
}

// batch is the batched closed loop: a window of messages in one write, all
// of its replies read, then the next window.
func batch(addr string, n, size, depth int, warmup, duration time.Duration) (Result, error) {
	conns, err := dialAll(addr, n)
	if err != nil {
		return Result{}, err
	}
	var measuring, stop atomic.Bool
	var e errs
	lat := make([][]time.Duration, n)
	counts := make([]int64, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() { // exits when stop is set or the connection fails
			defer wg.Done()
			defer c.Close()
			window := make([]byte, depth*size)
			replies := make([]byte, depth*size)
			for !stop.Load() {
				sent := time.Now()
				if _, err := c.Write(window); err != nil {
					e.add(err)
					return
				}
				if _, err := io.ReadFull(c, replies); err != nil {
					e.add(err)
					return
				}
				if measuring.Load() {
					lat[i] = append(lat[i], time.Since(sent))
					counts[i] += int64(depth)
				}
			}
		}()
	}
	return finish(conns, &wg, &measuring, &stop, &e, lat, counts, size, warmup, duration)
}

// finish measures for duration after warmup, stops the connections and
// sums what they counted.
func finish(conns []net.Conn, wg *sync.WaitGroup, measuring, stop *atomic.Bool, e *errs, lat [][]time.Duration, counts []int64, size int, warmup, duration time.Duration) (Result, error) {
	time.Sleep(warmup)
	fmt.Println("measure start")
	start := time.Now()
	measuring.Store(true)
	time.Sleep(duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	fmt.Println("measure end")
	stop.Store(true)
	for _, c := range conns {
		c.SetDeadline(time.Now()) // unblock readers
	}
	wg.Wait()
	var r Result
	var all []time.Duration
	for i := range conns {
		r.Messages += counts[i]
		all = append(all, lat[i]...)
	}
	r.Seconds = elapsed.Seconds()
	r.MsgsPerSec = float64(r.Messages) / r.Seconds
	r.Bytes = r.Messages * int64(size)
	if len(all) > 0 {
		slices.Sort(all)
		r.P50us = float64(all[len(all)/2].Nanoseconds()) / 1e3
		r.P99us = float64(all[len(all)*99/100].Nanoseconds()) / 1e3
	}
	e.fill(&r)
	// Deadline errors from stopping are expected; others are not.
	if r.Errors > 0 && !isTimeout(r.FirstError) {
		return r, fmt.Errorf("%d connection errors, first: %s", r.Errors, r.FirstError)
	}
	r.Errors, r.FirstError = 0, ""
	return r, nil
}

func isTimeout(s string) bool {
	return s == "" || containsAny(s, "i/o timeout", "deadline exceeded")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

// idle opens n connections, echoes a little on each, and holds them until
// standard input closes.
func idle(addr string, n int) (Result, error) {
	conns, err := dialAll(addr, n)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	msg := []byte("0123456789abcdef")
	buf := make([]byte, len(msg))
	for _, c := range conns {
		if _, err := c.Write(msg); err != nil {
			return Result{}, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return Result{}, err
		}
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() { // the harness closes stdin when it has measured
		if in.Text() != "burst" {
			continue
		}
		for _, c := range conns {
			if _, err := c.Write(msg); err != nil {
				return Result{}, err
			}
		}
		for _, c := range conns {
			if _, err := io.ReadFull(c, buf); err != nil {
				return Result{}, err
			}
		}
		fmt.Println("burst done")
	}
	return Result{Messages: int64(n), Bytes: int64(n * len(msg))}, nil
}

// slow sends total bytes on each of n connections while reading the
// echoes at rate bytes per second.
func slow(addr string, n int, total, rate int64) (Result, error) {
	conns, err := dialAll(addr, n)
	if err != nil {
		return Result{}, err
	}
	var echoed atomic.Int64
	var e errs
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range conns {
		c.(*net.TCPConn).SetReadBuffer(64 * 1024)
		wg.Add(2)
		go func() { // the writer: exits after total bytes or an error
			defer wg.Done()
			chunk := make([]byte, 64*1024)
			for sent := int64(0); sent < total; sent += int64(len(chunk)) {
				if _, err := c.Write(chunk); err != nil {
					if !errors.Is(err, net.ErrClosed) {
						e.add(err)
					}
					return
				}
			}
		}()
		go func() { // the slow reader: exits after total bytes or an error
			defer wg.Done()
			defer c.Close()
			buf := make([]byte, 16*1024)
			var got int64
			for got < total {
				k, err := c.Read(buf)
				got += int64(k)
				echoed.Add(int64(k))
				if err != nil {
					e.add(err)
					return
				}
				// Sleep off reading faster than rate.
				if ahead := time.Duration(float64(got)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}()
	}
	fmt.Println("ready")
	wg.Wait()
	r := Result{Bytes: echoed.Load(), Seconds: time.Since(start).Seconds()}
	e.fill(&r)
	if r.Errors > 0 {
		return r, fmt.Errorf("%d connection errors, first: %s", r.Errors, r.FirstError)
	}
	return r, nil
}
