package protoflowtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/protogen/protogen/runtime/protoflow"
)

// A Splitter says how to cut an input of n bytes into the reads that
// DataReceived gets: each element of its result is one way to cut it, the
// offsets at which one read ends and the next begins, increasing, each in
// 1..n-1. [EveryByte], [EveryCut] and [RandomCuts] are Splitters.
type Splitter func(n int) [][]int

// EveryByte cuts the input into reads of one byte each: one way.
func EveryByte(n int) [][]int {
	if n < 2 {
		return nil
	}
	cuts := make([]int, n-1)
	for i := range cuts {
		cuts[i] = i + 1
	}
	return [][]int{cuts}
}

// EveryCut cuts the input into two reads at each offset in turn: n-1 ways,
// so that every frame boundary and every byte inside a frame is, once,
// the end of a read.
func EveryCut(n int) [][]int {
	var ways [][]int
	for i := 1; i < n; i++ {
		ways = append(ways, []int{i})
	}
	return ways
}

// RandomCuts returns a Splitter of the given number of ways, each cutting
// the input at random offsets (on average every 8 bytes, so that a read
// often holds several small frames and ends inside the next) drawn from
// seed: the same seed gives the same cuts.
func RandomCuts(seed uint64, ways int) Splitter {
	return func(n int) [][]int {
		if n < 2 {
			return nil
		}
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		out := make([][]int, ways)
		for w := range out {
			var cuts []int
			for i := 1; i < n; i++ {
				if rng.IntN(8) == 0 {
					cuts = append(cuts, i)
				}
			}
			out[w] = cuts
		}
		return out
	}
}

// Result is what one run of a protocol left: what it wrote and how its
// connection ended.
type Result struct {
	Written     []byte // every byte the protocol wrote, in order
	WriteClosed bool   // the protocol's write side was closed (Close, CloseWrite or the loss)
	Lost        bool   // ConnectionLost ran
	Err         error  // what ConnectionLost got
}

// Run feeds input in one piece to a new protocol and returns what it left.
// The connection is then aborted, unless it is lost already, so that
// ConnectionLost always runs; Result tells whether it had before.
func Run[P protoflow.Protocol](newProtocol func() P, input []byte) Result {
	return runCut(newProtocol, input, nil)
}

// runCut feeds input to a new protocol, cut before each offset of cuts.
func runCut[P protoflow.Protocol](newProtocol func() P, input []byte, cuts []int) Result {
	c := newConn(newProtocol(), nil)
	c.start()
	start := 0
	ends := append(append(make([]int, 0, len(cuts)+1), cuts...), len(input))
	for _, end := range ends {
		if err := c.Feed(input[start:end]); err != nil {
			break
		}
		start = end
	}
	var r Result
	r.Lost, r.Err = c.Lost()
	r.WriteClosed = c.WriteClosed()
	r.Written = c.ReadAll()
	c.tr.Abort()
	<-c.done
	return r
}

// CheckSplits feeds input to a new protocol from newProtocol in one piece,
// and then to another for each way of cutting it into reads that the
// splitters give (EveryByte, EveryCut and RandomCuts(1, 100) when none is
// given), and fails t for each way whose Result differs: other bytes
// written, the write side closed or not, the connection lost or not, or
// another error's message. Framing must not depend on how the peer's
// writes were cut, and a protocol that frames with protoflow's
// runtime/wire does not.
//
// It returns the Result of the input in one piece, for the test to check.
// Timeouts do not expire, as the clock does not move, and the peer reads
// everything. Each run ends with an Abort unless the protocol closed the
// connection itself, so that ConnectionLost always runs.
func CheckSplits[P protoflow.Protocol](t testing.TB, newProtocol func() P, input []byte, splitters ...Splitter) Result {
	t.Helper()
	if len(splitters) == 0 {
		splitters = []Splitter{EveryByte, EveryCut, RandomCuts(1, 100)}
	}
	want := runCut(newProtocol, input, nil)
	failures := 0
	for _, split := range splitters {
		for _, cuts := range split(len(input)) {
			got := runCut(newProtocol, input, cuts)
			if diff := diffResults(got, want); diff != "" {
				t.Errorf("protoflowtest: input of %d bytes %s: %s", len(input), describeCuts(cuts, len(input)), diff)
				if failures++; failures == 5 {
					t.Errorf("protoflowtest: stopping after %d failures", failures)
					return want
				}
			}
		}
	}
	return want
}

// diffResults says how got differs from want, or "" if it does not.
func diffResults(got, want Result) string {
	switch {
	case !bytes.Equal(got.Written, want.Written):
		i := 0
		for i < len(got.Written) && i < len(want.Written) && got.Written[i] == want.Written[i] {
			i++
		}
		return fmt.Sprintf("wrote %d bytes, differing from the %d written for the input in one piece at offset %d: got %q, want %q",
			len(got.Written), len(want.Written), i, excerpt(got.Written, i), excerpt(want.Written, i))
	case got.Lost != want.Lost || errString(got.Err) != errString(want.Err):
		return fmt.Sprintf("ConnectionLost ran: %v, with %v; for the input in one piece: %v, with %v", got.Lost, got.Err, want.Lost, want.Err)
	case got.WriteClosed != want.WriteClosed:
		return fmt.Sprintf("write side closed: %v; for the input in one piece: %v", got.WriteClosed, want.WriteClosed)
	}
	return ""
}

// excerpt returns up to 32 bytes of p from offset i.
func excerpt(p []byte, i int) []byte { return p[i:min(i+32, len(p))] }

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// describeCuts names a way of cutting n bytes, briefly.
func describeCuts(cuts []int, n int) string {
	switch {
	case len(cuts) == n-1:
		return "fed one byte per read"
	case len(cuts) <= 8:
		return fmt.Sprintf("cut at offsets %v", cuts)
	}
	return fmt.Sprintf("cut at %d offsets %v...", len(cuts), cuts[:8])
}
