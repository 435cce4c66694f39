package protoflow

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// chaosProto is an echo protocol that, on a random share of its reads,
// closes, aborts (here or from another goroutine), pauses reading for a
// moment, blocks, or panics; it has a short read timeout whose handler
// sometimes aborts. It counts its callbacks so that the test can check
// the contract that holds whatever happens.
type chaosProto struct {
	BaseProtocol
	rnd *rand.Rand // owned by the callbacks, which never run concurrently

	made, lost *atomic.Int64 // shared by the test's protocols
	inside     atomic.Int32  // callbacks running now
	lostCalls  atomic.Int32
	violations *atomic.Int64
}

func (p *chaosProto) enter() {
	if p.inside.Add(1) != 1 {
		p.violations.Add(1)
	}
}

func (p *chaosProto) leave() { p.inside.Add(-1) }

func (p *chaosProto) ConnectionMade(t Transport) {
	p.enter()
	defer p.leave()
	p.BaseProtocol.ConnectionMade(t)
	p.made.Add(1)
	_ = SetTimeouts(t, time.Duration(1+p.rnd.IntN(30))*time.Millisecond, 0)
}

func (p *chaosProto) DataReceived(b []byte) {
	p.enter()
	defer p.leave()
	t := p.Transport()
	switch p.rnd.IntN(40) {
	case 0:
		_ = t.Close()
	case 1:
		t.Abort()
	case 2:
		_ = t.PauseReading()
		go func() { time.Sleep(time.Millisecond); _ = t.ResumeReading() }() // exits after the resume
	case 3:
		go t.Abort() // exits after the abort
	case 4:
		time.Sleep(time.Millisecond)
	case 5:
		panic("chaos")
	}
	_, _ = t.Write(b)
}

func (p *chaosProto) Timeout(TimeoutKind) {
	p.enter()
	defer p.leave()
	if p.rnd.IntN(3) == 0 {
		p.Transport().Abort()
	}
}

func (p *chaosProto) ConnectionLost(err error) {
	p.enter()
	defer p.leave()
	p.BaseProtocol.ConnectionLost(err)
	if p.lostCalls.Add(1) != 1 {
		p.violations.Add(1)
	}
	p.lost.Add(1)
}

// TestServerChaos serves clients that write, read, half close and vanish at
// random to chaosProto over TCP and Unix sockets: every connection gets
// ConnectionLost exactly once, callbacks never overlap, Shutdown returns,
// every connection ends after its client half closes, no connection stays
// on the poller, no file descriptor is left open, and (TestMain's goleak)
// no goroutine is left. It exercises closes that
// land while the reader runs a callback inside its read, hang-ups while a
// reader lingers, and timeouts racing all of them.
func TestServerChaos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	clients, rounds := 32, 30
	if testing.Short() {
		clients, rounds = 8, 10
	}
	for _, lk := range ttListenKinds[:2] { // tcp and unix: the raw path, where a reader delivers inside its read
		t.Run(lk.name, func(t *testing.T) {
			ln := lk.listen(t)
			fdsBefore, countable := openFDs()
			var made, lost, violations atomic.Int64
			var seq atomic.Uint64
			srv := NewServer(func() *chaosProto {
				return &chaosProto{rnd: rand.New(rand.NewPCG(seed, seq.Add(1))), made: &made, lost: &lost, violations: &violations}
			})
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			var wg sync.WaitGroup
			var stuck atomic.Int64
			for g := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stuck.Add(int64(chaosClient(ln.Addr(), rand.New(rand.NewPCG(seed, uint64(1<<32+g))), rounds)))
				}()
			}
			wg.Wait()
			if n := stuck.Load(); n != 0 {
				t.Errorf("%d connections never ended after the client's half close: the server missed an end of file or a close", n)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v\n%s", err, ttStacks())
			}
			if err := <-served; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
			// Every connection left the poller, which then closed: a
			// connection accepted as Shutdown began used to stay.
			if !pollerClosesWithin(5 * time.Second) {
				t.Errorf("the poller still has connections after Shutdown:\n%s", pollerConns())
			}
			// So does every loop of the loop backend, a moment after its
			// last ConnectionLost: then its descriptors are closed too.
			if !loopsRetireWithin(5 * time.Second) {
				t.Errorf("a loop still runs 5 s after Shutdown")
			}
			// Every socket, and the poller's epoll file, is closed by the
			// time Shutdown returns: ConnectionLost waits for the close,
			// even one that an Abort from another goroutine is making.
			// Serve closed the listener too.
			if fdsAfter, _ := openFDs(); countable && fdsAfter > fdsBefore-1 {
				open := fdTargets()
				late := ""
				if eventually(5*time.Second, func() bool { n, _ := openFDs(); return n <= fdsBefore-1 }) {
					late = " (closed within 5 s: late, not leaked)"
				}
				t.Errorf("%d file descriptors open right after Shutdown, %d before (the listener's included)%s; open then:\n%s", fdsAfter, fdsBefore, late, open)
			}
			t.Logf("%d connections", made.Load())
			if made.Load() == 0 || made.Load() != lost.Load() {
				t.Errorf("ConnectionMade %d times, ConnectionLost %d times; want equal and not zero", made.Load(), lost.Load())
			}
			if v := violations.Load(); v != 0 {
				t.Errorf("%d violations: overlapping callbacks or ConnectionLost more than once", v)
			}
		})
	}
}

// chaosClient dials rounds connections one after another, writes and reads
// at random on each, and ends each by half closing and reading to the end,
// or by closing at once. It returns how many of its reads to the end timed
// out: after a half close the server must close (EOFReceived returns false)
// or abort, and each connection's work takes milliseconds, so a read that
// waits 10 s is a lost end of file, not a slow machine.
func chaosClient(addr net.Addr, rnd *rand.Rand, rounds int) (stuck int) {
	buf := make([]byte, 4096)
	for range rounds {
		c, err := net.Dial(addr.Network(), addr.String())
		if err != nil {
			return
		}
		for range rnd.IntN(50) {
			if _, err := c.Write(buf[:1+rnd.IntN(len(buf))]); err != nil {
				break
			}
			if rnd.IntN(4) == 0 {
				time.Sleep(time.Duration(rnd.IntN(2000)) * time.Microsecond)
			}
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			_, _ = c.Read(buf)
		}
		if rnd.IntN(2) == 0 {
			_ = c.(interface{ CloseWrite() error }).CloseWrite()
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				_, err := c.Read(buf)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					stuck++
				}
				if err != nil {
					break
				}
			}
		}
		_ = c.Close()
	}
	return stuck
}

// openFDs counts the process's open file descriptors; ok is false where
// /proc/self/fd cannot tell.
func openFDs() (n int, ok bool) {
	ents, err := os.ReadDir("/proc/self/fd")
	return len(ents), err == nil
}

// fdTargets lists what the open descriptors are, for a failure message.
func fdTargets() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var b strings.Builder
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(&b, "\t%s → %s\n", e.Name(), target)
	}
	return b.String()
}
