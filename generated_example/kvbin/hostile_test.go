package kvbin

// Hostile peers against the kvbin server over real sockets: a slow drip
// that keeps the read timeout alive but never completes a frame, and a
// crowd of half-sent maximum-size frames against a small reassembly
// budget. Both run on the backend the environment selects
// (PROTOFLOW_BACKEND=goroutine in CI's second pass).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
)

// startHostile serves kvbin on a TCP listener with opts and returns the
// server; cleanup closes it.
func startHostile(t *testing.T, opts ...protoflow.Option) (*protoflow.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := protoflow.NewServer(NewStore().Protocol, opts...)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // ends with Close below
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, protoflow.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, ln.Addr().String()
}

// bigFrameStart returns the first n bytes of a frame of MaxFrame bytes.
func bigFrameStart(n int) []byte {
	b := make([]byte, 4+n)
	binary.BigEndian.PutUint32(b, MaxFrame)
	return b
}

// waitStats waits until the server's Stats satisfy cond.
func waitStats(t *testing.T, srv *protoflow.Server, what string, cond func(protoflow.Stats) bool) protoflow.Stats {
	t.Helper()
	var st protoflow.Stats
	deadline := time.Now().Add(20 * time.Second)
	for st = srv.Stats(); !cond(st); st = srv.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return st
}

// TestSlowDripCut sends the start of a frame, then a byte every 250 ms:
// the read timeout, which every byte restarts, would hold the connection
// for ever; the frame timeout cuts it, no sooner than its period.
func TestSlowDripCut(t *testing.T) {
	srv, addr := startHostile(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write(bigFrameStart(1000)); err != nil {
		t.Fatal(err)
	}
	cut := make(chan error, 1)
	go func() { // exits when the server closes the connection, or at the deadline
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.ReadAll(c)
		cut <- err
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case err := <-cut:
			if err != nil && !errors.Is(err, net.ErrClosed) {
				t.Logf("the drip's read ended with %v", err) // a reset, if a byte was in flight
			}
			done = true
		case <-tick.C:
			_, _ = c.Write([]byte{0})
		}
	}
	if lived := time.Since(start); lived < FrameTimeout {
		t.Errorf("the drip was cut after %v; want no sooner than the frame timeout, %v", lived, FrameTimeout)
	}
	st := waitStats(t, srv, "the frame timeout counted", func(st protoflow.Stats) bool { return st.Closed.FrameTimeout == 1 })
	if st.Closed.ReadTimeout != 0 || st.BytesRead < 1004 {
		t.Errorf("stats %+v; want the drip read and no read timeout", st)
	}
}

// TestSlowDripFakeClock is TestSlowDripCut on protoflowtest's clock, to
// the nanosecond: a client that has said hello (which switches the read
// timeout off) starts a frame and then sends a byte every 500 ms; the
// frame timeout cuts it FrameTimeout after the frame's first bytes, and
// not a nanosecond sooner.
func TestSlowDripFakeClock(t *testing.T) {
	c := protoflowtest.New(NewStore().Protocol())
	defer c.Finish(t)
	if err := c.Feed(frame(opHello, []byte(Version))); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour) // no timeout runs once the client is ready
	start := c.Elapsed()
	if err := c.Feed(bigFrameStart(1000)); err != nil {
		t.Fatal(err)
	}
	for c.Elapsed()-start < FrameTimeout-500*time.Millisecond {
		c.Advance(500 * time.Millisecond)
		if err := c.Feed([]byte{0}); err != nil {
			t.Fatalf("the drip was cut after %v: %v", c.Elapsed()-start, err)
		}
	}
	c.Advance(start + FrameTimeout - 1 - c.Elapsed())
	if lost, err := c.Lost(); lost {
		t.Fatalf("cut (%v) a nanosecond before the frame timeout", err)
	}
	c.Advance(1)
	lost, err := c.Lost()
	var te *protoflow.TimeoutError
	if !lost || !errors.As(err, &te) || te.Kind != protoflow.FrameTimeout || te.After != FrameTimeout {
		t.Fatalf("Lost() = %v, %v; want a frame timeout after %v", lost, err, FrameTimeout)
	}
}

// TestHalfSentFramesBounded sends 12 frames of a megabyte up to 600 KiB
// each, against a budget of 4 MiB: at most the budget is reserved (three
// frames of 1.125 MiB), the connections that do not fit wait holding a few
// kilobytes each, and the frame timeout cuts every one in the end, which
// gives all the memory back. (The first three, cut first, hand their
// memory to waiters whose frames began as early, so whether a waiter is
// cut while it waits or just after depends on the timing: the runtime's
// own tests check that case.)
func TestHalfSentFramesBounded(t *testing.T) {
	const clients, budget = 12, 4 << 20
	srv, addr := startHostile(t, protoflow.WithReassemblyBudget(budget))
	for i := range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(bigFrameStart(600 << 10)); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	st := waitStats(t, srv, "the connections that do not fit waiting", func(st protoflow.Stats) bool {
		return st.Open == clients && st.MemoryWait == clients-3 || st.Closed.FrameTimeout > 0
	})
	// The frame timeout (2 s) may cut the first frames before the last
	// clients' reads are seen on a machine stalled that long; the bounds
	// below hold at every moment all the same, the count of waits not.
	// Only a server that had not even accepted every client by then was
	// stalled; one that had, and made none of them wait, has a broken
	// budget.
	stalled := st.Closed.FrameTimeout > 0 && st.Accepted < clients
	switch {
	case stalled:
		t.Logf("a frame timeout came before all %d connections were accepted (stats %+v): the count of waits is not checked", clients, st)
	case st.Closed.FrameTimeout > 0:
		t.Fatalf("frame timeouts came with all %d connections accepted and %d waiting for memory, want %d waiting: %+v", clients, st.MemoryWait, clients-3, st)
	}
	// A waiter holds what its last read brought: a full read (256 KiB) for
	// the first, small ones (4 KiB, in a buffer of 8) for the others.
	slack := int64(257<<10 + clients*8<<10)
	if st.Reassembly.Reserved > budget || st.Reassembly.Held > budget+slack {
		t.Errorf("reassembly %+v with %d half-sent frames; want at most %d reserved and %d held", st.Reassembly, clients, budget, budget+slack)
	}
	st = waitStats(t, srv, fmt.Sprintf("%d frame timeouts", clients), func(st protoflow.Stats) bool {
		return st.Closed.FrameTimeout == clients && st.Open == 0
	})
	if !stalled && st.Reassembly.Waits < clients-3 || st.Reassembly.Held != 0 || st.Reassembly.Reserved != 0 {
		t.Errorf("stats %+v; want %d waits at least, and nothing held after", st, clients-3)
	}
}
