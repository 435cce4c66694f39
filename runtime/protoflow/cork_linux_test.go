package protoflow

// Tests of corking (cork.go): one write system call per callback, counted
// over SOCK_SEQPACKET Unix sockets, where every write or writev is one
// packet that the peer reads whole; and the contracts corking must keep:
// order with writes from other goroutines, the water marks, Drain inside a
// callback, and Close, CloseWrite and Abort after corked writes.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// packetPair returns a connected pair of SOCK_SEQPACKET Unix sockets: the
// server end takes the transport's file-descriptor path, and each write
// system call it makes reaches the client as one packet.
func packetPair(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("unixpacket", filepath.Join(t.TempDir(), "p"))
	if err != nil {
		t.Fatal(err)
	}
	return listenerPair(t, ln)
}

// readPackets reads packets from c until want bytes have come, and returns
// them one by one. It skips empty packets, which race builds write before
// each writev (sysio_race.go) and net.Conn would take for the end.
func readPackets(t testing.TB, c net.Conn, want int) []string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var packets []string
	buf := make([]byte, 1<<20)
	for got := 0; got < want; {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), buf)
			return rerr != syscall.EAGAIN
		}); err != nil {
			t.Fatalf("reading packets: %v after %d packets", err, len(packets))
		}
		if rerr != nil {
			t.Fatalf("reading packets: %v after %d packets", rerr, len(packets))
		}
		if n > 0 {
			packets = append(packets, string(buf[:n]))
			got += n
		}
	}
	return packets
}

// attachPacket attaches r to the server end of a packet pair and returns
// the transport and the client end; the cleanup aborts the transport and
// waits for ConnectionLost. On the loop backend the transport is the
// loop's, which corks its callbacks' writes in the loop (lcork_linux.go).
func attachPacket(t *testing.T, r *recorder) (Transport, net.Conn) {
	t.Helper()
	server, client := packetPair(t)
	tr, err := Attach(server, r)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := tr.(*conn); ok && c.raw == nil || !ok && !isLoopConn(tr) {
		t.Fatalf("a Unix packet socket took the portable path (%T): nothing would be corked", tr)
	}
	c := tr
	t.Cleanup(func() {
		c.Abort()
		client.Close()
		r.waitLost(t, 10*time.Second)
		r.check(t)
	})
	return c, client
}

// TestCorkOneWritePerCallback: sixteen requests read at once, answered
// with one Write each from DataReceived, reach the peer in one write
// system call; a Write from another goroutine while the callback runs
// keeps its place among them.
func TestCorkOneWritePerCallback(t *testing.T) {
	foreign := make(chan struct{})
	r := newRecorder()
	r.onData = func(r *recorder, p []byte) {
		tr := r.Transport()
		for i, req := range strings.Fields(string(p)) {
			if i == 8 && req == "q8" {
				// Another goroutine writes between the eighth reply and
				// the ninth; its Write returns before the ninth is made.
				go func() {
					_, _ = tr.Write([]byte("foreign "))
					foreign <- struct{}{}
				}()
				<-foreign
			}
			if _, err := tr.Write([]byte("r" + req[1:] + " ")); err != nil {
				r.violate("Write: %v", err)
			}
		}
	}
	_, client := attachPacket(t, r)

	var reqs, want bytes.Buffer
	for i := range 16 {
		reqs.WriteString("q" + strconv.Itoa(i) + " ")
		if i == 8 {
			want.WriteString("foreign ")
		}
		want.WriteString("r" + strconv.Itoa(i) + " ")
	}
	if _, err := client.Write(reqs.Bytes()); err != nil {
		t.Fatal(err)
	}
	packets := readPackets(t, client, want.Len())
	if len(packets) != 1 || packets[0] != want.String() {
		t.Errorf("the replies to one read came in %d write system calls: %q; want one: %q", len(packets), packets, want.String())
	}

	// Again, for a read that is answered by one Write: still one call.
	if _, err := client.Write([]byte("q99 ")); err != nil {
		t.Fatal(err)
	}
	if packets := readPackets(t, client, len("r99 ")); len(packets) != 1 || packets[0] != "r99 " {
		t.Errorf("a single reply came as %q, want one packet %q", packets, "r99 ")
	}
}

// TestCorkLargeWritesGoOut: a callback that writes more than the cork
// holds writes it out as it goes, in order, and nothing is left queued
// once it returns.
func TestCorkLargeWritesGoOut(t *testing.T) {
	r := newRecorder()
	piece := bytes.Repeat([]byte("x"), 3000)
	const pieces = 40 // 120,000 bytes: above maxCork, below the socket's buffer
	r.onData = func(r *recorder, p []byte) {
		for range pieces {
			if _, err := r.Transport().Write(piece); err != nil {
				r.violate("Write: %v", err)
			}
		}
	}
	c, client := attachPacket(t, r)
	if _, err := client.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	packets := readPackets(t, client, pieces*len(piece))
	total := 0
	for _, p := range packets {
		if len(p) > maxCork+len(piece) {
			t.Errorf("a write of %d bytes: the cork held more than %d", len(p), maxCork)
		}
		total += len(p)
	}
	if total != pieces*len(piece) {
		t.Errorf("read %d bytes, want %d", total, pieces*len(piece))
	}
	if len(packets) < 2 || len(packets) >= pieces {
		t.Errorf("%d writes for %d pieces past the cork's limit; want them grouped, and more than one", len(packets), pieces)
	}
	waitFor(t, 10*time.Second, "an empty queue", func() bool { return c.WriteBufferSize() == 0 })
}

// TestCorkWaterMarks: a callback that writes to a stalled peer past the
// high-water mark gets PauseWriting after it returns, decided from the
// queue as before: WritingPaused turns true with the Write that lifts the
// queue above the mark, and the queue drains when the peer reads.
func TestCorkWaterMarks(t *testing.T) {
	const high, low = 64 << 10, 16 << 10
	r := newRecorder()
	var sent bytes.Buffer
	pausedInside := -1
	r.onData = func(r *recorder, p []byte) {
		tr := r.Transport()
		for i := 0; !r.WritingPaused(); i++ {
			if i > 4096 {
				r.violate("no pause after %d bytes to a stalled peer", sent.Len())
				return
			}
			before := tr.WriteBufferSize()
			piece := pattern(uint64(i), 16<<10)
			if _, err := tr.Write(piece); err != nil {
				r.violate("Write: %v", err)
				return
			}
			sent.Write(piece)
			if q := tr.WriteBufferSize(); r.WritingPaused() != (q > high) {
				r.violate("after a Write the queue went from %d to %d bytes and WritingPaused = %v; want it paused exactly above %d", before, q, r.WritingPaused(), high)
			}
		}
		r.mu.Lock()
		pausedInside = r.counts["pause"]
		r.mu.Unlock()
	}
	_, client := ttAttach(t, connKinds[1], r, WithWriteBufferLimits(high, low)) // unix
	if _, err := client.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "PauseWriting", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.counts["pause"] == 1
	})
	if pausedInside != 0 {
		t.Errorf("PauseWriting ran %d times inside DataReceived, want 0: it comes after the callback", pausedInside)
	}
	got, err := io.ReadAll(io.LimitReader(client, int64(sent.Len())))
	if err != nil || !bytes.Equal(got, sent.Bytes()) {
		t.Errorf("the peer read %d bytes (%v), want the %d written, in order", len(got), err, sent.Len())
	}
	waitFor(t, 10*time.Second, "ResumeWriting", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.counts["resume"] == 1
	})
}

// TestCorkDrainInCallback: Drain inside a callback returns once the queue
// drains, whether the peer reads all along or only after the callback
// has blocked in Drain: corked bytes never wait for the callback that
// waits for them.
func TestCorkDrainInCallback(t *testing.T) {
	for _, stalled := range []bool{false, true} {
		name := "reading"
		if stalled {
			name = "stalled"
		}
		t.Run(name, func(t *testing.T) {
			const total, piece = 4 << 20, 16 << 10
			var sent bytes.Buffer
			drained := make(chan error, 1)
			r := newRecorder()
			r.onData = func(r *recorder, p []byte) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				for i := 0; sent.Len() < total; i++ {
					b := pattern(uint64(i), piece)
					if _, err := r.Transport().Write(b); err != nil {
						drained <- err
						return
					}
					sent.Write(b)
					if err := r.Drain(ctx); err != nil {
						drained <- err
						return
					}
				}
				drained <- nil
			}
			tr, client := ttAttach(t, connKinds[1], r) // unix
			if _, err := client.Write([]byte("go")); err != nil {
				t.Fatal(err)
			}
			switch {
			case stalled && isLoopConn(tr):
				// On its own loop Drain writes the queue itself
				// (assistDrain): no waiter is registered.
				ttWaitGoroutines(t, "the callback blocked in Drain", 1, func(_, stack string) bool {
					return strings.Contains(stack, "(*lconn).assistDrain(")
				})
			case stalled:
				waitFor(t, 10*time.Second, "the callback blocked in Drain", func() bool { return r.hasDrainWaiter() })
			}
			got := make([]byte, total)
			if _, err := io.ReadFull(client, got); err != nil {
				t.Fatalf("the peer read: %v", err)
			}
			if err := <-drained; err != nil {
				t.Fatalf("Drain inside DataReceived: %v", err)
			}
			if !bytes.Equal(got, sent.Bytes()) {
				t.Errorf("the peer read other bytes than those written, or out of order")
			}
		})
	}
}

// TestCorkEndAfterWrites: Close, CloseWrite and Abort from a callback
// after corked Writes behave as they did when the Writes went through at
// once: the replies reach the peer (in one write), then the end.
func TestCorkEndAfterWrites(t *testing.T) {
	for _, end := range []string{"close", "closewrite", "abort"} {
		t.Run(end, func(t *testing.T) {
			r := newRecorder()
			r.onData = func(r *recorder, p []byte) {
				if string(p) != "go" {
					return // after CloseWrite, the peer's "more"
				}
				tr := r.Transport()
				for _, s := range []string{"one ", "two ", "three "} {
					if _, err := tr.Write([]byte(s)); err != nil {
						r.violate("Write: %v", err)
					}
				}
				switch end {
				case "close":
					if err := tr.Close(); err != nil {
						r.violate("Close: %v", err)
					}
				case "closewrite":
					if err := tr.CloseWrite(); err != nil {
						r.violate("CloseWrite: %v", err)
					}
				case "abort":
					tr.Abort()
				}
				if _, err := tr.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
					r.violate("Write after %s: %v, want net.ErrClosed", end, err)
				}
			}
			c, client := attachPacket(t, r)
			if _, err := client.Write([]byte("go")); err != nil {
				t.Fatal(err)
			}
			packets := readPackets(t, client, len("one two three "))
			if len(packets) != 1 || packets[0] != "one two three " {
				t.Errorf("the peer read %q before the %s, want one write %q", packets, end, "one two three ")
			}
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := client.Read(make([]byte, 16)); n != 0 || err != io.EOF && !errors.Is(err, net.ErrClosed) && !isReset(err) {
				t.Errorf("after the replies the peer read %d bytes, %v; want the end", n, err)
			}
			if end == "closewrite" {
				// Reading goes on: the transport still hears the peer.
				if _, err := client.Write([]byte("more")); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, "the bytes sent after CloseWrite", func() bool {
					return bytes.HasSuffix(r.received(), []byte("more"))
				})
				if c.IsClosing() {
					t.Errorf("IsClosing after CloseWrite, want false")
				}
			}
		})
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// pattern returns n bytes that differ from piece to piece (seed), so that
// a reordering shows.
func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + uint64(i)*7 + uint64(i>>8))
	}
	return b
}
