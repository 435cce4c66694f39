package protoflow

// Real-socket tests of Server.Stats, over each kind of listener. The
// connection limit's and TLS's counts are checked in their own tests.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// scCmd is a recorder that obeys the first byte its connection reads: c
// closes, p panics, a aborts with an error, r and i set a read or an idle
// timeout, z pauses reading, w writes 4 MiB through a small socket buffer,
// e echoes everything from then on.
type scCmd struct {
	*recorder
	mode byte // the first byte; owned by the callbacks
}

var errScAbort = errors.New("test: aborted with an error")

func (p *scCmd) DataReceived(b []byte) {
	p.recorder.DataReceived(b)
	t := p.Transport()
	if p.mode != 0 {
		if p.mode == 'e' {
			_, _ = t.Write(b)
		}
		return
	}
	p.mode = b[0]
	const period = 50 * time.Millisecond
	switch b[0] {
	case 'c':
		_ = t.Close()
	case 'p':
		panic("test: a callback panics")
	case 'a':
		AbortWithError(t, errScAbort)
	case 'r':
		_ = SetTimeouts(t, period, 0)
	case 'i':
		_ = SetTimeouts(t, 0, period)
	case 'z':
		_ = p.PauseReading()
	case 'w':
		ttShrinkBuffers(t, 64<<10)
		_, _ = t.Write(make([]byte, 4<<20))
	case 'e':
		_, _ = t.Write(b)
	}
}

// scBackends is what Stats.Backends should say of n open connections of
// a listener kind: TLS uses the goroutine backend, whatever the
// environment selects.
func scBackends(kind string, n int) BackendStats {
	switch {
	case kind == "tls" || backendName == "goroutine":
		return BackendStats{Goroutine: n}
	case backendName == "loop":
		return BackendStats{Loop: n}
	}
	return BackendStats{Epoll: n}
}

// scWait waits until s's Stats satisfy cond, and returns them.
func scWait(t testing.TB, s *Server, what string, cond func(Stats) bool) Stats {
	t.Helper()
	var st Stats
	if !eventually(10*time.Second, func() bool { st = s.Stats(); return cond(st) }) {
		t.Fatalf("timed out waiting for %s; stats %+v", what, st)
	}
	return st
}

// TestStatsConnections checks the state of open connections and the
// counts of bytes: open, paused each way, then closed, the bytes of closed
// connections still counted.
func TestStatsConnections(t *testing.T) {
	for _, lk := range ttListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			s := ttStartServer(t, lk, func() Protocol { return &scCmd{recorder: newRecorder()} })
			echo, reader, writer := lk.dial(t, s.addr), lk.dial(t, s.addr), lk.dial(t, s.addr)
			for _, c := range []net.Conn{echo, reader, writer} {
				defer ttClosePeer(c)
			}
			ttPinBuffers(writer, 128<<10)
			msg := append([]byte("e"), ttPattern(2, 9999)...)
			bgWrite(t, echo, msg)
			_ = ttReadFull(t, echo, len(msg), 10*time.Second)
			// Only the echo has written yet: its bytes, exactly.
			scWait(t, s.Server, "the echo's bytes counted", func(st Stats) bool {
				return st.BytesWritten == int64(len(msg))
			})
			bgWrite(t, reader, []byte("z"))
			bgWrite(t, writer, []byte("w")) // and never read
			st := scWait(t, s.Server, "three open, one paused each way", func(st Stats) bool {
				return st.Open == 3 && st.ReadPaused == 1 && st.WritePaused == 1
			})
			if st.Accepted != 3 || st.BytesRead != int64(len(msg))+2 || st.BytesWritten < int64(len(msg)) {
				t.Errorf("stats %+v; want 3 accepted, %d bytes read, at least %d written", st, len(msg)+2, len(msg))
			}
			if want := scBackends(lk.name, 3); st.Backends != want {
				t.Errorf("backends %+v; want %+v (PROTOFLOW_BACKEND selects %s)", st.Backends, want, backendName)
			}
			written := st.BytesWritten // the writer's part can only grow: it is paused, not gone
			ttClosePeer(echo)
			st = scWait(t, s.Server, "the echo's end", func(st Stats) bool { return st.Open == 2 && st.Closed.Clean == 1 })
			if st.BytesRead != int64(len(msg))+2 || st.BytesWritten < written {
				t.Errorf("after a close: %d bytes read, %d written; want the closed connection's still counted", st.BytesRead, st.BytesWritten)
			}
			if _, err := json.Marshal(st); err != nil {
				t.Errorf("Stats does not marshal: %v", err)
			}
		})
	}
}

// TestStatsClosedCauses checks that each kind of end is counted under its
// cause.
func TestStatsClosedCauses(t *testing.T) {
	for _, lk := range ttListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			s := ttStartServer(t, lk, func() Protocol { return &scCmd{recorder: newRecorder()} })
			for _, cmd := range "cpari" {
				c := lk.dial(t, s.addr)
				defer ttClosePeer(c)
				bgWrite(t, c, []byte{byte(cmd)})
			}
			want := ClosedStats{Clean: 1, Panic: 1, Error: 1, ReadTimeout: 1, IdleTimeout: 1}
			scWait(t, s.Server, fmt.Sprintf("closed %+v", want), func(st Stats) bool { return st.Closed == want && st.Open == 0 })
		})
	}
}

// TestStatsReassembly checks the budget's counts, and the frame timeouts
// counted by whether the connection waited for memory: a holder whose
// frame times out after a waiter's, which times out while it waits.
func TestStatsReassembly(t *testing.T) {
	const p = 100 * time.Millisecond
	for _, lk := range ttListenKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			// The holder's frame timeout is far longer than the waiter's,
			// so that the waiter's expires while it waits however late a
			// loaded machine lets it connect (with 3p, a TLS handshake
			// starved for 2p let the holder go first once).
			s := bgStart(t, lk, func(i int, t Transport) error {
				if i == 0 {
					return SetFrameTimeout(t, 20*p)
				}
				return SetFrameTimeout(t, 5*p) // long enough to be seen waiting
			}, WithReassemblyBudget(128<<10))
			holder := lk.dial(t, s.addr)
			defer ttClosePeer(holder)
			bgWrite(t, holder, ftFrame(100<<10, 1)[:50<<10])
			s.waitBudget(t, "the holder's reservation", func(b bgSnapshot) bool { return b.reserved > 0 })
			waiter := lk.dial(t, s.addr)
			defer ttClosePeer(waiter)
			bgWrite(t, waiter, ftFrame(100<<10, 2)[:50<<10])
			s.proto(t, 1)
			st := scWait(t, s.Server, "a waiter", func(st Stats) bool { return st.MemoryWait == 1 })
			if st.Reassembly.Budget != 128<<10 || st.Reassembly.Reserved != int64(frameSize(4+100<<10)) || st.Reassembly.Held == 0 || st.Reassembly.Waits != 1 {
				t.Errorf("reassembly %+v with one frame reserved and one waiting", st.Reassembly)
			}
			scWait(t, s.Server, "both frame timeouts", func(st Stats) bool {
				return st.Closed == ClosedStats{FrameTimeout: 2, MemoryWait: 1} && st.Reassembly.Held == 0 && st.Reassembly.Reserved == 0
			})
		})
	}
}

// TestClosedStatsCount checks the classification of causes, wrapped ones
// included.
func TestClosedStatsCount(t *testing.T) {
	var cs ClosedStats
	for _, err := range []error{
		nil,
		&PanicError{Value: &TimeoutError{Kind: ReadTimeout}}, // a panic, whatever its value
		errScAbort,
		&TimeoutError{Kind: ReadTimeout},
		fmt.Errorf("wrapped: %w", &TimeoutError{Kind: IdleTimeout}),
		&TimeoutError{Kind: FrameTimeout},
		&TimeoutError{Kind: FrameTimeout, MemoryWait: true},
		&TimeoutError{Kind: 42},
	} {
		cs.count(err)
	}
	want := ClosedStats{Clean: 1, Panic: 1, Error: 2, ReadTimeout: 1, IdleTimeout: 1, FrameTimeout: 2, MemoryWait: 1}
	if cs != want {
		t.Errorf("counts %+v; want %+v", cs, want)
	}
}
