package protoflow

import (
	"io"
	"testing"
	"time"
)

// TestBlockingCallbacks: with WithBlockingCallbacks a server's connections
// are not given to an event loop, so that a callback that blocks leaves
// the other connections served: one connection's DataReceived waits for
// the test while another's echo comes back.
func TestBlockingCallbacks(t *testing.T) {
	release := make(chan struct{})
	blocked := make(chan struct{})
	var recs ttRecorders
	s := ttStartServer(t, ttListenKinds[0], func() Protocol {
		r := newRecorder()
		r.onData = func(r *recorder, p []byte) {
			if p[0] == 'S' {
				close(blocked)
				<-release // blocks until the other connection was served
			}
			r.Transport().Write(p)
		}
		recs.add(r)
		return r
	}, WithBlockingCallbacks())
	defer close(release)
	a := ttListenKinds[0].dial(t, s.addr)
	defer a.Close()
	b := ttListenKinds[0].dial(t, s.addr)
	defer b.Close()
	for i := range 2 {
		r := recs.get(t, i)
		<-r.madeCh
		if isLoopConn(r.Transport()) {
			t.Fatalf("connection %d is on the loop backend despite WithBlockingCallbacks", i)
		}
	}
	if got := s.Stats().Backends.Loop; got != 0 {
		t.Errorf("Stats().Backends.Loop = %d, want 0", got)
	}
	if _, err := a.Write([]byte("S")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking callback did not start within 10s")
	}
	if _, err := b.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, 5)
	if _, err := io.ReadFull(b, got); err != nil || string(got) != "hello" {
		t.Fatalf("the other connection's echo while a callback blocks: %q, %v", got, err)
	}
}
