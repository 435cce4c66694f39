package contract

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/protogen/protogen/runtime/protoflow"
)

// errBoom is what the panics of testPanics wrap.
var errBoom = errors.New("contract: boom")

// testPanics: a panic in any callback aborts the connection, and
// ConnectionLost gets a *PanicError naming the callback, with the value
// and the stack.
func testPanics(t *testing.T, k Kind) {
	hooks := []struct {
		name    string
		arm     func(r *Recorder, v error)
		trigger func(t *testing.T, tr protoflow.Transport, r *Recorder, peer Peer)
	}{
		{
			name:    "ConnectionMade",
			arm:     func(r *Recorder, v error) { r.OnMade = func(*Recorder) { panic(v) } },
			trigger: func(*testing.T, protoflow.Transport, *Recorder, Peer) {},
		},
		{
			name: "DataReceived",
			arm:  func(r *Recorder, v error) { r.OnData = func(*Recorder, []byte) { panic(v) } },
			trigger: func(_ *testing.T, _ protoflow.Transport, _ *Recorder, peer Peer) {
				peer.Send([]byte("boom"))
			},
		},
		{
			name: "EOFReceived",
			arm:  func(r *Recorder, v error) { r.OnEOF = func(*Recorder) { panic(v) } },
			trigger: func(_ *testing.T, _ protoflow.Transport, _ *Recorder, peer Peer) {
				peer.CloseWrite()
			},
		},
		{
			name: "PauseWriting",
			arm:  func(r *Recorder, v error) { r.OnPause = func(*Recorder) { panic(v) } },
			trigger: func(t *testing.T, tr protoflow.Transport, r *Recorder, peer Peer) {
				peer.Stall()
				fillUntilPaused(t, k, tr, r, 1, 7)
			},
		},
		{
			name: "ResumeWriting",
			arm:  func(r *Recorder, v error) { r.OnResume = func(*Recorder) { panic(v) } },
			trigger: func(t *testing.T, tr protoflow.Transport, r *Recorder, peer Peer) {
				peer.Stall()
				fillUntilPaused(t, k, tr, r, 1, 8)
				peer.Unstall()
			},
		},
	}
	for _, h := range hooks {
		t.Run(h.name, func(t *testing.T) {
			v := fmt.Errorf("panic in %s: %w", h.name, errBoom)
			r := NewRecorder()
			h.arm(r, v)
			tr, peer := attach(t, k, r)
			h.trigger(t, tr, r, peer)
			lost := r.WaitLost(t)
			var pe *protoflow.PanicError
			if !errors.As(lost, &pe) {
				t.Fatalf("ConnectionLost(%v), want a *PanicError", lost)
			}
			if pe.Callback != h.name {
				t.Errorf("PanicError.Callback = %q, want %q", pe.Callback, h.name)
			}
			if pe.Value != v {
				t.Errorf("PanicError.Value = %v, want %v", pe.Value, v)
			}
			if !errors.Is(lost, errBoom) {
				t.Errorf("errors.Is(%v, errBoom) = false: Unwrap does not reach the panic value", lost)
			}
			if !bytes.Contains(pe.Stack, []byte("(*Recorder)."+h.name)) {
				t.Errorf("PanicError.Stack does not show (*Recorder).%s:\n%s", h.name, pe.Stack)
			}
			peer.Unstall()
			peer.ReadToEOF(t)
			checkClosed(t, k, tr, r)
		})
	}
}

// testPanicInConnectionLost: a panic in ConnectionLost is contained, and
// nothing is delivered after it.
func testPanicInConnectionLost(t *testing.T, k Kind) {
	r := NewRecorder()
	r.OnLost = func(*Recorder) { panic(errBoom) }
	tr, peer := k.Attach(t, r)
	t.Cleanup(func() { r.Check(t) })
	tr.Abort()
	waitFor(t, "ConnectionLost", func() bool { return r.Count("lost") == 1 })
	peer.Send([]byte("late"))
	peer.Settle()
	if _, err := tr.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after the loss: %v, want net.ErrClosed", err)
	}
	checkEvents(t, r, []string{"made", "lost"})
}
