package protoflowtest_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

// shout answers each line with the line in capitals; QUIT closes, and a
// line too long aborts with the framer's error.
type shout struct {
	protoflow.BaseProtocol
	frames wire.Framer
}

func newShout() *shout {
	s := &shout{}
	s.frames.Init(wire.LineCodec{Max: 64})
	return s
}

func (s *shout) DataReceived(p []byte) {
	err := s.frames.Feed(p, func(line []byte) bool {
		if string(line) == "QUIT" {
			_ = s.Transport().Close()
			return false
		}
		_, _ = s.Transport().Write(append(bytes.ToUpper(line), '\n'))
		return true
	})
	if err != nil {
		protoflow.AbortWithError(s.Transport(), err)
	}
}

// naive splits each read into lines by itself, and so loses the start of
// a line that ends in the next read.
type naive struct{ protoflow.BaseProtocol }

func (n *naive) DataReceived(p []byte) {
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if bytes.HasSuffix(line, []byte("\n")) {
			_, _ = n.Transport().Write(bytes.ToUpper(line))
		}
	}
}

func TestCheckSplits(t *testing.T) {
	input := []byte("hello\nwide world\n\nQUIT\nignored\n")
	got := protoflowtest.CheckSplits(t, newShout, input)
	want := protoflowtest.Result{Written: []byte("HELLO\nWIDE WORLD\n\n"), WriteClosed: true, Lost: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}

	tooLong := append(bytes.Repeat([]byte("x"), 100), '\n')
	got = protoflowtest.CheckSplits(t, newShout, tooLong, protoflowtest.EveryCut)
	if !got.Lost || !errors.Is(got.Err, wire.ErrFrameTooLarge) {
		t.Errorf("a line over Max: %+v, want the connection lost with ErrFrameTooLarge", got)
	}
}

// TestCheckSplitsFails: a protocol whose framing depends on the reads
// fails, and the failure says how the input was cut.
func TestCheckSplitsFails(t *testing.T) {
	f := &failRecorder{TB: t}
	input := []byte("one\ntwo\n")
	protoflowtest.CheckSplits(f, func() *naive { return new(naive) }, input, protoflowtest.EveryByte, protoflowtest.EveryCut)
	got := f.failures()
	if len(got) != 6 { // five of the eight ways differ; CheckSplits stops there and says so
		t.Fatalf("%d failures, want 6:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, want := range []string{
		`input of 8 bytes fed one byte per read: wrote 2 bytes, differing from the 8 written for the input in one piece at offset 0: got "\n\n", want "ONE\nTWO\n"`,
		`cut at offsets [1]: wrote 7 bytes`,
		"stopping after 5 failures",
	} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no failure says %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func TestSplitters(t *testing.T) {
	if diff := cmp.Diff([][]int{{1, 2, 3, 4}}, protoflowtest.EveryByte(5)); diff != "" {
		t.Errorf("EveryByte(5) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]int{{1}, {2}, {3}}, protoflowtest.EveryCut(4)); diff != "" {
		t.Errorf("EveryCut(4) (-want +got):\n%s", diff)
	}
	if got := protoflowtest.EveryByte(1); len(got) != 0 {
		t.Errorf("EveryByte(1) = %v, want no way", got)
	}
	a, b := protoflowtest.RandomCuts(7, 20)(300), protoflowtest.RandomCuts(7, 20)(300)
	if len(a) != 20 || !cmp.Equal(a, b) {
		t.Errorf("RandomCuts(7, 20) gives %d ways, or others for the same seed", len(a))
	}
	if cmp.Equal(a, protoflowtest.RandomCuts(8, 20)(300)) {
		t.Errorf("RandomCuts gives the same cuts for seeds 7 and 8")
	}
	for _, cuts := range a {
		if !slices.IsSorted(cuts) || len(cuts) == 0 || cuts[0] < 1 || cuts[len(cuts)-1] > 299 {
			t.Errorf("cuts %v not increasing within 1..299", cuts)
		}
	}
}

func TestRun(t *testing.T) {
	got := protoflowtest.Run(newShout, []byte("ping\nQUI"))
	want := protoflowtest.Result{Written: []byte("PING\n")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
}
