package memcached

// The memcached server against peers that send a command's data slowly or
// half of it, over real sockets, on the backend the environment selects
// (PROTOFLOW_BACKEND=goroutine in CI's second pass). Its spec sets no
// frame timeout, as memcached has none: the server's options
// (cmd/server's -frame-timeout and -reassembly-budget) bound it, since
// its framer is hosted by the transport (protoflow.HostFramer), as every
// generated framed protocol's is.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// dripWait waits until the server's Stats satisfy cond.
func dripWait(t *testing.T, ts *testServer, what string, cond func(protoflow.Stats) bool) protoflow.Stats {
	t.Helper()
	var st protoflow.Stats
	deadline := time.Now().Add(20 * time.Second)
	for st = ts.srv.Stats(); !cond(st); st = ts.srv.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return st
}

// binarySetStart returns a binary set's header and extras, announcing a
// value of n bytes under key "k", and the key: what a client sends before
// the value.
func binarySetStart(n int) []byte {
	h := make([]byte, 24+8+1)
	h[0], h[1] = 0x80, 0x01 // request, set
	binary.BigEndian.PutUint16(h[2:], 1)
	h[4] = 8
	binary.BigEndian.PutUint32(h[8:], uint32(8+1+n))
	h[32] = 'k'
	return h
}

// TestSlowDripFrameTimeout: a text and a binary set whose value trickles
// in a byte every 50 ms are cut by the server's frame timeout, however
// long the read timeout would have let them live, while an honest client
// is still served.
func TestSlowDripFrameTimeout(t *testing.T) {
	const period = 300 * time.Millisecond
	ts := startServer(t, Config{}, protoflow.WithFrameTimeout(period))
	for i, start := range [][]byte{
		[]byte("set k 0 0 100000\r\n" + strings.Repeat("x", 1000)),
		append(binarySetStart(100000), make([]byte, 1000)...),
	} {
		c := dial(t, ts.addr)
		began := time.Now()
		if _, err := c.Write(start); err != nil {
			t.Fatal(err)
		}
		for !ts.lostCount(i + 1) {
			if time.Since(began) > 20*time.Second {
				t.Fatalf("drip %d still connected after %v", i, time.Since(began))
			}
			time.Sleep(50 * time.Millisecond)
			_, _ = c.Write([]byte{'x'}) // fails once the server has cut it
		}
		if lived := time.Since(began); lived < period {
			t.Errorf("drip %d was cut after %v; want no sooner than the frame timeout, %v", i, lived, period)
		}
		var te *protoflow.TimeoutError
		if err := ts.waitLost(t, i+1)[i]; !errors.As(err, &te) || te.Kind != protoflow.FrameTimeout {
			t.Errorf("drip %d ended with %v; want a frame timeout", i, err)
		}
		c.Close()
	}
	honest := dial(t, ts.addr)
	if _, err := honest.Write([]byte("set h 0 0 2\r\nok\r\nget h\r\n" + textSentinel)); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, honest); got != "STORED\r\nVALUE h 0 2\r\nok\r\nEND\r\n" {
		t.Errorf("an honest client got %q", got)
	}
	if st := ts.srv.Stats(); st.Closed.FrameTimeout != 2 {
		t.Errorf("stats %+v; want 2 frame timeouts", st)
	}
}

// TestHalfSentValuesBounded: clients that each send 600 KB of a 1 MB value
// hold no more than the reassembly budget between them; those that do not
// fit wait with reading paused, and the frame timeout ends every one,
// giving all the memory back.
func TestHalfSentValuesBounded(t *testing.T) {
	const clients, budget = 8, 4 << 20
	ts := startServer(t, Config{}, protoflow.WithReassemblyBudget(budget), protoflow.WithFrameTimeout(2*time.Second))
	for i := range clients {
		c := dial(t, ts.addr)
		start := []byte(fmt.Sprintf("set k%d 0 0 1000000\r\n", i))
		if i%2 == 1 {
			start = binarySetStart(1000000)
		}
		if _, err := c.Write(append(start, make([]byte, 600_000)...)); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	// Not all eight need be open at once: on a loaded machine the first
	// may meet their frame timeout before the last connect.
	// What the budget bounds is checked at every look, not once: at most
	// the budget reserved, and held beyond it only a waiter's last read (one
	// full read for the first, small ones for the others), as kvbin's
	// TestHalfSentFramesBounded allows.
	slack := int64(257<<10 + clients*8<<10)
	var maxReserved, maxHeld int64
	bounded := func(st protoflow.Stats) {
		maxReserved, maxHeld = max(maxReserved, st.Reassembly.Reserved), max(maxHeld, st.Reassembly.Held)
	}
	dripWait(t, ts, "a connection waiting for memory", func(st protoflow.Stats) bool { bounded(st); return st.MemoryWait > 0 })
	st := dripWait(t, ts, "every client cut", func(st protoflow.Stats) bool {
		bounded(st)
		return st.Closed.FrameTimeout == clients && st.Open == 0
	})
	t.Logf("at most %d bytes reserved and %d held", maxReserved, maxHeld)
	if maxReserved > budget || maxHeld > budget+slack {
		t.Errorf("%d bytes reserved and %d held at most with %d half-sent values; want at most %d reserved and %d held", maxReserved, maxHeld, clients, budget, budget+slack)
	}
	if st.Reassembly.Waits == 0 || st.Reassembly.Held != 0 || st.Reassembly.Reserved != 0 {
		t.Errorf("stats %+v; want waits, and nothing held after", st)
	}
}
