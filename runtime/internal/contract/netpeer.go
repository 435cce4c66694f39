package contract

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// NetPeer returns a Peer that drives c, the far end of a real connection,
// with a writer and a reader goroutine of its own, and registers with t a
// cleanup that closes c and waits for both.
func NetPeer(t testing.TB, c net.Conn) Peer {
	p := &netPeer{c: c, wdone: make(chan struct{}), rdone: make(chan struct{})}
	p.cond.L = &p.mu
	go p.writeLoop()
	go p.readLoop()
	t.Cleanup(p.close)
	return p
}

// netPeer is a Peer over a net.Conn.
//
// Goroutines: writeLoop writes what Send queued until CloseWrite, a write
// error or close; readLoop reads while not stalled until EOF, an error or
// close. close ends both and waits for them.
type netPeer struct {
	c            net.Conn
	wdone, rdone chan struct{} // closed when writeLoop, readLoop exit

	mu         sync.Mutex
	cond       sync.Cond // L is &mu: broadcast on every change below
	out        [][]byte  // queued by Send, not yet written
	closeWrite bool      // CloseWrite after out
	closed     bool      // close was called
	stalled    bool
	reading    bool   // readLoop is inside a Read
	got        []byte // read so far
	ended      bool   // readLoop saw EOF or an error
}

func (p *netPeer) Send(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = append(p.out, append([]byte(nil), b...))
	p.cond.Broadcast()
}

func (p *netPeer) CloseWrite() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeWrite = true
	p.cond.Broadcast()
}

func (p *netPeer) writeLoop() {
	defer close(p.wdone)
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.out) == 0 && !p.closeWrite && !p.closed {
			p.cond.Wait()
		}
		switch {
		case p.closed:
			return
		case len(p.out) > 0:
			b := p.out[0]
			p.out = p.out[1:]
			p.mu.Unlock()
			_, err := p.c.Write(b)
			p.mu.Lock()
			if err != nil {
				return // the transport is gone; the test sees it there
			}
		default: // closeWrite, after everything queued
			if cw, ok := p.c.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			} else {
				_ = p.c.Close()
			}
			return
		}
	}
}

func (p *netPeer) readLoop() {
	defer close(p.rdone)
	buf := make([]byte, 64<<10)
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for p.stalled && !p.closed {
			p.cond.Wait()
		}
		if p.closed {
			return
		}
		p.reading = true
		p.mu.Unlock()
		n, err := p.c.Read(buf)
		p.mu.Lock()
		p.reading = false
		p.got = append(p.got, buf[:n]...)
		p.cond.Broadcast()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue // Stall interrupted the read
		}
		if err != nil {
			p.ended = true
			return
		}
	}
}

// Stall interrupts a read under way with a read deadline in the past and
// waits until readLoop has left it, so that the peer reads nothing more
// once Stall returns.
func (p *netPeer) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	_ = p.c.SetReadDeadline(time.Unix(1, 0))
	for p.reading {
		p.cond.Wait()
	}
}

func (p *netPeer) Unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.c.SetReadDeadline(time.Time{})
	p.stalled = false
	p.cond.Broadcast()
}

func (p *netPeer) Received(t testing.TB, n int) []byte {
	t.Helper()
	var got []byte
	waitFor(t, "the peer to read bytes", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		got = append([]byte(nil), p.got...)
		return len(got) >= n || p.ended
	})
	return got
}

func (p *netPeer) ReadToEOF(t testing.TB) []byte {
	t.Helper()
	var got []byte
	waitFor(t, "the peer to see the end of the stream", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		got = append([]byte(nil), p.got...)
		return p.ended
	})
	return got
}

func (p *netPeer) Reset() {
	if tcp, ok := p.c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = p.c.Close()
}

// settleTime is how long Settle waits for a socket's bytes to be acted on.
const settleTime = 50 * time.Millisecond

func (p *netPeer) Settle() { time.Sleep(settleTime) }

func (p *netPeer) Elapse(d time.Duration) { time.Sleep(d) }

func (p *netPeer) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	_ = p.c.Close() // perhaps a second close, after Reset or CloseWrite
	<-p.wdone
	<-p.rdone
}

// waitFor polls cond every millisecond until it holds, and fails t if it
// does not within waitLimit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			// Every goroutine's stack, so that a hang seen once (on a
			// loaded CI machine, say) can be told from a slow machine.
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("timed out after %v waiting for %s; the goroutines:\n%s", waitLimit, what, buf)
		}
		time.Sleep(time.Millisecond)
	}
}
