package contract

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Recorder is a protocol that checks the callback contract as it goes and
// records what it saw: the order (ConnectionMade first, EOFReceived at
// most once, ConnectionLost exactly once and last, PauseWriting and
// ResumeWriting strictly alternating) and that no two callbacks overlap.
// The hooks run inside the callbacks.
type Recorder struct {
	protoflow.BaseProtocol

	// Set before the connection starts; read-only afterwards.
	KeepOpen bool                        // EOFReceived's answer
	OnMade   func(r *Recorder)           // after BaseProtocol.ConnectionMade
	OnData   func(r *Recorder, p []byte) // after the bytes are recorded
	OnEOF    func(r *Recorder)
	OnPause  func(r *Recorder) // after BaseProtocol.PauseWriting
	OnResume func(r *Recorder) // after BaseProtocol.ResumeWriting
	OnLost   func(r *Recorder) // first thing in ConnectionLost

	inside atomic.Int32 // callbacks running now; more than one is a violation

	mu         sync.Mutex
	events     []string // "made", "data", "eof", "pause", "resume", "lost"
	counts     map[string]int
	data       bytes.Buffer
	violations []string
	lostErr    error
	lostCh     chan struct{} // closed by ConnectionLost
}

// NewRecorder returns a Recorder without hooks.
func NewRecorder() *Recorder {
	return &Recorder{counts: make(map[string]int), lostCh: make(chan struct{})}
}

func (r *Recorder) enter(event string) {
	if r.inside.Add(1) != 1 {
		r.Violate("%s ran concurrently with another callback", event)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.events)
	switch {
	case event == "made" && n != 0:
		r.violateLocked("made after %v", r.events)
	case event != "made" && n == 0:
		r.violateLocked("%s before made", event)
	case n > 0 && r.events[n-1] == "lost":
		r.violateLocked("%s after lost", event)
	case event == "eof" && r.counts["eof"] > 0:
		r.violateLocked("second eof")
	case event == "pause" && r.counts["pause"] != r.counts["resume"]:
		r.violateLocked("pause while paused")
	case event == "resume" && r.counts["pause"] != r.counts["resume"]+1:
		r.violateLocked("resume while not paused")
	}
	r.events = append(r.events, event)
	r.counts[event]++
}

func (r *Recorder) leave() { r.inside.Add(-1) }

// Violate records a breach of the contract, which Check reports.
func (r *Recorder) Violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violateLocked(format, args...)
}

func (r *Recorder) violateLocked(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// ConnectionMade implements protoflow.Protocol.
func (r *Recorder) ConnectionMade(t protoflow.Transport) {
	r.enter("made")
	defer r.leave()
	r.BaseProtocol.ConnectionMade(t)
	if r.OnMade != nil {
		r.OnMade(r)
	}
}

// DataReceived implements protoflow.Protocol.
func (r *Recorder) DataReceived(p []byte) {
	r.enter("data")
	defer r.leave()
	if len(p) == 0 {
		r.Violate("DataReceived with no bytes")
	}
	r.mu.Lock()
	r.data.Write(p)
	r.mu.Unlock()
	if r.OnData != nil {
		r.OnData(r, p)
	}
}

// EOFReceived implements protoflow.Protocol.
func (r *Recorder) EOFReceived() bool {
	r.enter("eof")
	defer r.leave()
	if r.OnEOF != nil {
		r.OnEOF(r)
	}
	return r.KeepOpen
}

// PauseWriting implements protoflow.Protocol.
func (r *Recorder) PauseWriting() {
	r.enter("pause")
	defer r.leave()
	r.BaseProtocol.PauseWriting()
	if r.OnPause != nil {
		r.OnPause(r)
	}
}

// ResumeWriting implements protoflow.Protocol.
func (r *Recorder) ResumeWriting() {
	r.enter("resume")
	defer r.leave()
	r.BaseProtocol.ResumeWriting()
	if r.OnResume != nil {
		r.OnResume(r)
	}
}

// ConnectionLost implements protoflow.Protocol.
func (r *Recorder) ConnectionLost(err error) {
	r.enter("lost")
	defer r.leave()
	if r.OnLost != nil {
		r.OnLost(r)
	}
	r.BaseProtocol.ConnectionLost(err)
	r.mu.Lock()
	r.lostErr = err
	r.mu.Unlock()
	close(r.lostCh)
}

// WaitLost waits up to 10 seconds for ConnectionLost and returns its
// error.
func (r *Recorder) WaitLost(t testing.TB) error {
	t.Helper()
	select {
	case <-r.lostCh:
	case <-time.After(waitLimit):
		t.Fatalf("ConnectionLost not called within %v; events so far: %v", waitLimit, r.Events())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lostErr
}

// IsLost reports whether ConnectionLost has run.
func (r *Recorder) IsLost() bool {
	select {
	case <-r.lostCh:
		return true
	default:
		return false
	}
}

// Events returns the callbacks seen so far, in order.
func (r *Recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// EventsCollapsed returns Events without those listed, and with each run
// of "data" collapsed to one: how a stream was cut into reads is not part
// of the contract.
func (r *Recorder) EventsCollapsed(drop ...string) []string {
	var out []string
	for _, e := range r.Events() {
		keep := true
		for _, d := range drop {
			if e == d {
				keep = false
			}
		}
		if keep && (len(out) == 0 || out[len(out)-1] != e || e != "data") {
			out = append(out, e)
		}
	}
	return out
}

// Count returns how many times event was seen.
func (r *Recorder) Count(event string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[event]
}

// Received returns a copy of the bytes DataReceived got.
func (r *Recorder) Received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.data.Bytes())
}

// Check fails t for each breach of the contract recorded.
func (r *Recorder) Check(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.violations {
		t.Errorf("contract violation: %s (events %v)", v, r.events)
	}
}
