package contract

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"testing"
)

// testConcurrent: writers on 8 goroutines, each draining after every
// write, while the peer sends (and DataReceived answers each read) and
// stalls and reads by turns: the callbacks
// never overlap (the Recorder checks), pauses and resumes alternate and
// balance, and every message arrives whole and in each writer's order.
func testConcurrent(t *testing.T, k Kind) {
	const writers, msgs, inbound = 8, 150, 256 << 10
	r := NewRecorder()
	r.OnMade = func(r *Recorder) { _ = r.Transport().SetWriteBufferLimits(32<<10, 8<<10) }
	// Each read is answered with a short message, so that writes from the
	// callbacks cross the water marks too.
	var acks sync.WaitGroup
	r.OnData = func(r *Recorder, p []byte) {
		if _, err := r.Transport().Write(message(writers, 0, 0)); err != nil {
			r.Violate("Write in DataReceived: %v", err)
		}
	}
	tr, peer := attach(t, k, r)
	in := pattern(9, inbound)
	acks.Go(func() { // the peer sends while the writers write
		for off := 0; off < len(in); off += 8 << 10 {
			peer.Send(in[off : off+8<<10])
		}
	})
	defer acks.Wait()

	size := func(w, seq int) int { return 1 + (w*7+seq*13)%2000 }
	total := 0
	for w := range writers {
		for seq := range msgs {
			total += 5 + size(w, seq)
		}
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitLimit)
	defer cancel()
	for w := range writers {
		wg.Go(func() {
			for seq := range msgs {
				if _, err := tr.Write(message(w, seq, size(w, seq))); err != nil {
					t.Errorf("writer %d: Write: %v", w, err)
					return
				}
				if err := r.Drain(ctx); err != nil {
					t.Errorf("writer %d: Drain: %v", w, err)
					return
				}
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	// Stall and unstall the peer by turns: each stall lasts until a pause
	// comes, and the next begins once writing has resumed, until the
	// writers are done.
	ended := func(cond func() bool) func() bool {
		return func() bool {
			select {
			case <-writersDone:
				return true
			default:
				return cond()
			}
		}
	}
	for turn := 1; !ended(func() bool { return false })(); turn++ {
		peer.Stall()
		waitFor(t, "a pause or the writers' end", ended(func() bool { return r.Count("pause") >= turn }))
		peer.Unstall()
		waitFor(t, "a resume or the writers' end", ended(func() bool { return r.Count("resume") >= turn }))
	}
	peer.Unstall()
	acks.Wait()
	waitFor(t, "the peer's bytes", func() bool { return len(r.Received()) == inbound })
	if !bytes.Equal(r.Received(), in) {
		t.Errorf("the protocol received the peer's bytes corrupted or reordered")
	}
	got := peer.Received(t, total+5*r.Count("data"))
	checkMessages(t, got, writers, msgs, size)
	waitFor(t, "as many ResumeWriting as PauseWriting", func() bool { return r.Count("resume") == r.Count("pause") })
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.WaitLost(t); err != nil {
		t.Errorf("ConnectionLost(%v), want nil", err)
	}
	t.Logf("%d pause/resume cycles", r.Count("pause"))
}

// message returns writer w's message seq: a header (writer, sequence,
// length) and n bytes of a pattern.
func message(w, seq, n int) []byte {
	b := []byte{byte(w)}
	b = binary.BigEndian.AppendUint16(b, uint16(seq))
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	return append(b, pattern(uint64(w)<<16|uint64(seq), n)...)
}

// checkMessages checks that stream holds every writer's messages, whole
// and in order.
func checkMessages(t *testing.T, stream []byte, writers, msgs int, size func(w, seq int) int) {
	t.Helper()
	next := make([]int, writers)
	for len(stream) > 0 {
		if len(stream) < 5 {
			t.Fatalf("a message header cut short: %d bytes left", len(stream))
		}
		w, seq, n := int(stream[0]), int(binary.BigEndian.Uint16(stream[1:])), int(binary.BigEndian.Uint16(stream[3:]))
		if w == writers && seq == 0 && n == 0 { // an answer to a read
			stream = stream[5:]
			continue
		}
		if w >= writers || seq != next[w] || n != size(w, seq) || len(stream) < 5+n {
			t.Fatalf("message header (writer %d, seq %d, length %d) out of order or corrupt; writer's next is %v", w, seq, n, next[min(w, writers-1)])
		}
		if !bytes.Equal(stream[5:5+n], pattern(uint64(w)<<16|uint64(seq), n)) {
			t.Fatalf("writer %d message %d corrupt", w, seq)
		}
		next[w]++
		stream = stream[5+n:]
	}
	for w, n := range next {
		if n != msgs {
			t.Errorf("writer %d: %d messages arrived, want %d", w, n, msgs)
		}
	}
}
