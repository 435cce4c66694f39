package protoflow

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// The flusher exits when the queue empties, and a Write right after starts a
// new one. A hand-off bug once let two flushers run at once, which showed as
// a data race, a lost ResumeWriting (so pause/resume inverted for good),
// duplicated bytes on TLS and pipes, and a deadlock on TCP. This writes a
// numbered stream with many drain-and-refill cycles and checks every word
// and the final flow-control state.
func TestFlusherHandoff(t *testing.T) {
	for _, kind := range connKinds {
		for _, words := range []int{64, 4096} {
			t.Run(fmt.Sprintf("%s/%dwords", kind.name, words), func(t *testing.T) {
				server, client := kind.pair(t)
				defer client.Close()
				if tc, ok := server.(*net.TCPConn); ok {
					_ = tc.SetWriteBuffer(4096) // fill the socket quickly
				}
				r := newRecorder()
				tr, err := Attach(server, r, WithWriteBufferLimits(8192, 1024))
				if err != nil {
					t.Fatal(err)
				}
				total := uint64(50_000)
				if testing.Short() {
					total = 10_000
				}
				done := make(chan error, 1)
				go func() { // the peer: checks the stream is 0, 1, 2, ...
					var buf [8]byte
					for i := range total {
						if _, err := io.ReadFull(client, buf[:]); err != nil {
							done <- fmt.Errorf("reading word %d: %w", i, err)
							return
						}
						if got := binary.BigEndian.Uint64(buf[:]); got != i {
							done <- fmt.Errorf("word %d is %d", i, got)
							return
						}
					}
					done <- nil
				}()
				msg := make([]byte, 8*words)
				for seq := uint64(0); seq < total; {
					k := 0
					for ; k < words && seq < total; k++ {
						binary.BigEndian.PutUint64(msg[8*k:], seq)
						seq++
					}
					if _, err := tr.Write(msg[:8*k]); err != nil {
						t.Fatal(err)
					}
					if seq%4096 == 0 { // let the flusher exit, then write at once
						for tr.WriteBufferSize() != 0 {
							runtime.Gosched()
						}
					}
				}
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("stream corrupted: %v", err)
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("peer timed out; %d bytes queued, WritingPaused=%v", tr.WriteBufferSize(), r.WritingPaused())
				}
				waitFor(t, 5*time.Second, "an empty queue and resumed writing", func() bool {
					return tr.WriteBufferSize() == 0 && !r.WritingPaused()
				})
				tr.Abort()
				if err := r.waitLost(t, 5*time.Second); err != nil {
					t.Errorf("ConnectionLost(%v) after Abort, want nil", err)
				}
				r.check(t)
			})
		}
	}
}
