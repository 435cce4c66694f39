//go:build protoflowdebug

package protoflow

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// panicOf runs f on a new goroutine and returns what it panicked with,
// nil if it returned.
func panicOf(f func()) (v any) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { v = recover() }()
		f()
	}()
	<-done
	return v
}

// The read token check passes on the bound goroutine alone, and only while
// the token is taken.
func TestDebugTokenCheck(t *testing.T) {
	c := &conn{}
	c.state.Store(uint32(stToken))
	tests := []struct {
		name      string
		f         func()
		wantPanic bool
	}{
		{"the holder", func() { c.rd.tok.bind(); c.checkToken() }, false},
		{"another goroutine", func() { c.checkToken() }, true}, // bound to the one above
		{"after unbind", func() { c.rd.tok.bind(); c.rd.tok.unbind(); c.checkToken() }, true},
		{"token not taken", func() {
			c.mu.Lock()
			c.clearLocked(stToken)
			c.mu.Unlock()
			c.rd.tok.bind()
			c.checkToken()
		}, true},
	}
	for _, tt := range tests {
		v := panicOf(tt.f)
		if got := v != nil; got != tt.wantPanic {
			t.Errorf("%s: panicked with %v, want a panic: %v", tt.name, v, tt.wantPanic)
		}
		if s, _ := v.(string); v != nil && !strings.Contains(s, "read token") {
			t.Errorf("%s: panicked with %v, want the read token check's message", tt.name, v)
		}
	}
}

// The read path's checks are wired in: on a live connection, a goroutine
// that does not hold the token cannot deliver data, the end of stream or
// ConnectionLost. The read token is the epoll and goroutine backends'
// (WithBlockingCallbacks: not the loop backend, Linux's default).
func TestDebugTokenCheckOnConnection(t *testing.T) {
	server, client := tcpPair(t)
	defer client.Close()
	r := newRecorder()
	tr, err := Attach(server, r, WithBlockingCallbacks())
	if err != nil {
		t.Fatal(err)
	}
	c := tr.(*conn)
	if v := panicOf(func() { c.deliver([]byte("x")) }); v == nil {
		t.Error("deliver from a goroutine without the read token did not panic")
	}
	if v := panicOf(c.eof); v == nil {
		t.Error("eof from a goroutine without the read token did not panic")
	}
	tr.Abort()
	if err := r.waitLost(t, 5*time.Second); err != nil {
		t.Errorf("ConnectionLost(%v) after Abort, want nil", err)
	}
	// After ConnectionLost: unchecked, lose would wait for the death first.
	if v := panicOf(c.lose); v == nil {
		t.Error("lose from a goroutine without the read token did not panic")
	}
	if got, want := fmt.Sprint(r.eventsCopy()), "[made lost]"; got != want {
		t.Errorf("events %s, want %s: a check let a call through", got, want)
	}
}

// The state word's setters panic without conn.mu held.
func TestDebugStateWriteNeedsMu(t *testing.T) {
	c := &conn{}
	if v := panicOf(func() { c.setLocked(stClosing) }); v == nil {
		t.Error("setLocked without mu did not panic")
	}
	if v := panicOf(func() { c.clearLocked(stClosing) }); v == nil {
		t.Error("clearLocked without mu did not panic")
	}
	v := panicOf(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.setLocked(stClosing | stDead)
		c.clearLocked(stClosing)
	})
	if v != nil || c.st() != stDead {
		t.Errorf("with mu held: panicked with %v, state %v; want no panic and dead", v, c.st())
	}
}
