package protoflow

// Real-socket tests of a peer that goes away while nobody reads its
// socket: reading paused, or past the peer's end of file. The epoll and
// loop backends hear of a reset at once; the goroutine backend (and TLS,
// and pipes) only when reading resumes or a write fails, as asyncio does.
//
// Helpers in this file start with "pr".

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// prIdle waits until no goroutine holds tr's read token: the reader has
// given the socket back to the poller, or waits for the pause to end.
func prIdle(t testing.TB, tr Transport) {
	t.Helper()
	c, ok := tr.(*conn)
	if !ok || !c.epoll() {
		return // the goroutine backend's reader holds the token for good; the loop has none
	}
	waitFor(t, 10*time.Second, "the reader to give the token back", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.st()&stToken == 0
	})
}

// prHearsReset reports whether tr's backend hears of a reset while
// nobody reads the socket: the epoll backend's (pollWatchGone) and the
// loop backend's (EPOLLHUP and EPOLLERR stay armed: loop.hungUp) do.
func prHearsReset(tr Transport) bool {
	if c, ok := tr.(*conn); ok {
		return c.epoll()
	}
	return isLoopConn(tr)
}

// prCheckReset fails t unless err is a reset (or, where the write came
// first, a broken pipe).
func prCheckReset(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Errorf("ConnectionLost(%v); want a reset", err)
	}
}

// TestResetWhileReadingPaused resets the peer of a connection whose
// protocol paused reading in DataReceived, as one does when the peer does
// not read its replies. On the epoll backend ConnectionLost follows at
// once, with no write and no resume; elsewhere the resume finds it.
func TestResetWhileReadingPaused(t *testing.T) {
	for _, k := range append(append([]connKind(nil), streamKinds...), ttKinds("tls")...) {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder()
			r.onData = func(r *recorder, _ []byte) { _ = r.PauseReading() }
			tr, cli := ttAttach(t, k, r)
			// Unread bytes on the peer's side make a Unix socket's close a
			// reset (ECONNRESET here).
			if _, err := tr.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			// A reader that lingers has the poller watch for a hang-up
			// anyway; the one that reads a connection's first data does so
			// only in a process younger than the linger.
			waitFor(t, 10*time.Second, "the process to outlive a linger", func() bool { return monoNow() > int64(2*readLinger) })
			bgWrite(t, cli, []byte("a request"))
			waitFor(t, 10*time.Second, "the request", func() bool { return ttCount(r, "data") == 1 })
			prIdle(t, tr)
			ttResetPeer(t, cli)
			if prHearsReset(tr) {
				prCheckReset(t, r.waitLost(t, 10*time.Second))
				r.check(t)
				return
			}
			t.Logf("%s on the goroutine backend: the reset is seen once reading resumes", k.name)
			if err := r.ResumeReading(); err != nil {
				t.Fatal(err)
			}
			err := r.waitLost(t, 10*time.Second)
			if k.name != "unix" { // a Unix socket may first deliver what was sent before the close
				prCheckReset(t, err)
			}
			r.check(t)
		})
	}
}

// TestResetAfterEOF resets the peer of a connection that read the peer's
// end of file and kept its write side open: nobody reads it any more, and
// the epoll backend still hears of the reset.
func TestResetAfterEOF(t *testing.T) {
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder()
			r.keepOpen = true
			tr, cli := ttAttach(t, k, r)
			if _, err := tr.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			ttCloseWrite(t, cli)
			waitFor(t, 10*time.Second, "EOFReceived", func() bool { return ttCount(r, "eof") == 1 })
			prIdle(t, tr)
			ttResetPeer(t, cli)
			if !prHearsReset(tr) {
				t.Logf("%s on the goroutine backend: a reset after the end of file is seen at the next write", k.name)
				waitFor(t, 10*time.Second, "a write to fail", func() bool {
					_, err := tr.Write([]byte("x"))
					return err != nil
				})
			}
			prCheckReset(t, r.waitLost(t, 10*time.Second))
			r.check(t)
		})
	}
}

// TestHalfCloseWhilePaused checks that the peer's half close while reading
// is paused ends nothing: once reading resumes, the bytes sent before it
// arrive, then the end of file.
func TestHalfCloseWhilePaused(t *testing.T) {
	for _, k := range append(append([]connKind(nil), streamKinds...), ttKinds("tls")...) {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder()
			r.onMade = func(r *recorder) { _ = r.PauseReading() }
			tr, cli := ttAttach(t, k, r)
			prIdle(t, tr)
			bgWrite(t, cli, []byte("before the end"))
			ttCloseWrite(t, cli)
			time.Sleep(100 * time.Millisecond) // what the poller reports, it reports by then
			toAlive(t, r, "after the peer's half close, reading paused")
			if err := r.ResumeReading(); err != nil {
				t.Fatal(err)
			}
			if err := r.waitLost(t, 10*time.Second); err != nil {
				t.Errorf("ConnectionLost(%v); want nil after the end of file", err)
			}
			if got := string(r.received()); got != "before the end" {
				t.Errorf("received %q; want %q", got, "before the end")
			}
			if ttCount(r, "eof") != 1 {
				t.Errorf("events %v; want an eof", r.eventsCopy())
			}
			r.check(t)
		})
	}
}

// TestResetWhilePausedWakesDrain resets the peer of a connection that
// neither reads (its protocol paused reading) nor can write (the peer
// reads nothing, so the queue is over the high-water mark), with a
// goroutine waiting in Drain: on both backends the loss wakes it, with an
// error that matches ErrConnectionLost, and ConnectionLost gets the reset.
func TestResetWhilePausedWakesDrain(t *testing.T) {
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder()
			r.onMade = func(r *recorder) { _ = r.PauseReading() }
			tr, cli := ttAttach(t, k, r)
			ttShrinkBuffers(tr, 64<<10)
			ttFillUntilPaused(t, tr, r, 0)
			drained := make(chan error, 1)
			go func() { drained <- r.Drain(context.Background()) }() // returns at the loss
			// Registered as a waiter, not only inside Drain: a reset that
			// came first would leave it no transport (ErrConnectionReset).
			waitFor(t, 10*time.Second, "a goroutine blocked in Drain", r.hasDrainWaiter)
			prIdle(t, tr)
			ttResetPeer(t, cli)
			select {
			case err := <-drained:
				if !errors.Is(err, ErrConnectionLost) {
					t.Errorf("Drain returned %v; want an error matching ErrConnectionLost", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Drain still waits 10s after the reset")
			}
			prCheckReset(t, r.waitLost(t, 10*time.Second))
			r.check(t)
		})
	}
}
