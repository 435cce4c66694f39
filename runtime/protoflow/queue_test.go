package protoflow

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// queued returns the bytes the queue holds, in order.
func queued(q *writeQueue) []byte {
	return bytes.Join(q.appendTo(nil), nil)
}

func TestWriteQueuePushConsume(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q writeQueue
	var want []byte
	next := byte(0)
	for i := range 2000 {
		if rng.IntN(2) == 0 {
			p := make([]byte, rng.IntN(3*chunkSize))
			for j := range p {
				p[j] = next
				next++
			}
			q.push(p)
			want = append(want, p...)
		} else if len(want) > 0 {
			n := rng.IntN(len(want) + 1)
			q.consume(n)
			want = want[n:]
		}
		if q.size != len(want) {
			t.Fatalf("step %d: size = %d, want %d", i, q.size, len(want))
		}
		if got := queued(&q); !bytes.Equal(got, want) {
			t.Fatalf("step %d: queue holds %d bytes that differ from the %d pushed and not consumed", i, len(got), len(want))
		}
	}
	q.consume(q.size)
	if len(q.chunks) != 0 || q.head != 0 {
		t.Errorf("after consuming everything: %d chunks, head %d; want none", len(q.chunks), q.head)
	}
}

// Bytes pushed while a flusher writes a snapshot must not change the
// snapshot; consume must then account for both.
func TestWriteQueueSnapshotStable(t *testing.T) {
	var q writeQueue
	q.push([]byte("abc"))
	snap := q.appendTo(nil)
	q.push([]byte("defg"))
	if got := string(bytes.Join(snap, nil)); got != "abc" {
		t.Fatalf("snapshot = %q after a push, want %q", got, "abc")
	}
	q.consume(3)
	if got := string(queued(&q)); got != "defg" {
		t.Fatalf("after consuming the snapshot the queue holds %q, want %q", got, "defg")
	}
}

func TestWriteQueueDiscard(t *testing.T) {
	var q writeQueue
	q.push(make([]byte, 3*chunkSize))
	snap := q.appendTo(nil)
	q.discard()
	if q.size != 0 || len(q.chunks) != 0 || q.head != 0 {
		t.Fatalf("after discard: size %d, %d chunks, head %d; want all zero", q.size, len(q.chunks), q.head)
	}
	if n := len(bytes.Join(snap, nil)); n != 3*chunkSize {
		t.Fatalf("a snapshot taken before discard shrank to %d bytes", n)
	}
}

// The water marks follow asyncio: pause when the size goes strictly above
// high, resume when it falls to low or below, each exactly once.
func TestWriteQueueTransitions(t *testing.T) {
	tests := []struct {
		name      string
		high, low int
		steps     []int // positive: push that many bytes; negative: consume
		want      []string
	}{
		{"at high is not above high", 100, 25, []int{100}, []string{""}},
		{"above high pauses once", 100, 25, []int{101, 50}, []string{"pause", ""}},
		{"above low stays paused", 100, 25, []int{101, -75}, []string{"pause", ""}},
		{"at low resumes", 100, 25, []int{101, -76}, []string{"pause", "resume"}},
		{"resume once", 100, 25, []int{101, -100, -1}, []string{"pause", "resume", ""}},
		{"zero marks pause on any byte", 0, 0, []int{1, -1}, []string{"pause", "resume"}},
		{"low zero resumes only when empty", 10, 0, []int{11, -10, -1}, []string{"pause", "", "resume"}},
		{"pause again", 10, 5, []int{11, -6, 6}, []string{"pause", "resume", "pause"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := writeQueue{high: tt.high, low: tt.low}
			paused := false // as conn keeps it, in stWritePaused
			for i, step := range tt.steps {
				if step > 0 {
					q.push(make([]byte, step))
				} else {
					q.consume(-step)
				}
				got := ""
				if q.crossed(paused) {
					paused = !paused
					got = map[bool]string{true: "pause", false: "resume"}[paused]
				}
				if got != tt.want[i] {
					t.Errorf("step %d (%+d, size %d): transition %q, want %q", i, step, q.size, got, tt.want[i])
				}
			}
		})
	}
}

func TestCheckLimits(t *testing.T) {
	tests := []struct {
		high, low int
		ok        bool
	}{
		{65536, 16384, true},
		{0, 0, true},
		{10, 10, true},
		{10, 11, false},
		{-1, -1, false},
		{10, -1, false},
	}
	for _, tt := range tests {
		err := checkLimits(tt.high, tt.low)
		if (err == nil) != tt.ok {
			t.Errorf("checkLimits(%d, %d) = %v, want ok=%v", tt.high, tt.low, err, tt.ok)
		}
	}
}

// BenchmarkWriteQueue measures queueing a 1 KiB write and flushing it, the
// per-message cost under back-pressure.
func BenchmarkWriteQueue(b *testing.B) {
	var q writeQueue
	q.high, q.low = DefaultHighWater, DefaultLowWater
	p := make([]byte, 1024)
	var bufs [][]byte
	paused := false
	b.ReportAllocs()
	for b.Loop() {
		q.push(p)
		paused = paused != q.crossed(paused)
		bufs = q.appendTo(bufs[:0])
		q.consume(q.size)
		paused = paused != q.crossed(paused)
	}
}
