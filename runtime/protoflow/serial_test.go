package protoflow

import (
	"sync"
	"sync/atomic"
	"testing"
)

// serialProbe delivers transitions into a log and flags any overlap with
// another delivery or with a callback run between acquire and release.
type serialProbe struct {
	s       serializer
	inside  atomic.Int32
	overlap atomic.Int32
	mu      sync.Mutex
	log     []bool // delivered transitions: true for pause
}

func newSerialProbe() *serialProbe {
	p := &serialProbe{}
	p.s.init(func(pause bool) {
		p.enter()
		p.mu.Lock()
		p.log = append(p.log, pause)
		p.mu.Unlock()
		p.leave()
	})
	return p
}

func (p *serialProbe) enter() {
	if p.inside.Add(1) != 1 {
		p.overlap.Add(1)
	}
}

func (p *serialProbe) leave() { p.inside.Add(-1) }

// Transitions notified from many goroutines, while another goroutine runs
// callbacks, are all delivered, strictly alternating, one at a time.
func TestSerializerConcurrent(t *testing.T) {
	p := newSerialProbe()
	const notifiers, each = 8, 500
	var wg sync.WaitGroup
	stop := make(chan struct{})
	callbacks := 0
	wg.Add(1)
	go func() { // the reader goroutine
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.s.acquire(false)
			p.enter()
			callbacks++
			p.leave()
			p.s.release()
		}
	}()
	var notifyWG sync.WaitGroup
	for range notifiers {
		notifyWG.Add(1)
		go func() {
			defer notifyWG.Done()
			for range each {
				p.s.notify(1)
			}
		}()
	}
	notifyWG.Wait()
	close(stop)
	wg.Wait()
	p.s.acquire(true) // as ConnectionLost does: delivers what is pending first
	p.s.release()

	if n := p.overlap.Load(); n != 0 {
		t.Errorf("%d deliveries overlapped another callback", n)
	}
	if len(p.log) != notifiers*each {
		t.Fatalf("delivered %d transitions, want %d", len(p.log), notifiers*each)
	}
	for i, pause := range p.log {
		if pause != (i%2 == 0) {
			t.Fatalf("transition %d is pause=%v: not alternating", i, pause)
		}
	}
	t.Logf("%d callbacks ran alongside", callbacks)
}

// A notify from inside a callback does not re-enter: the transition is
// delivered when the callback releases.
func TestSerializerNoReentry(t *testing.T) {
	p := newSerialProbe()
	p.s.acquire(false)
	p.s.notify(1)
	if len(p.log) != 0 {
		t.Fatalf("delivered inside the running callback")
	}
	p.s.release()
	if len(p.log) != 1 || !p.log[0] {
		t.Fatalf("after release delivered %v, want [pause]", p.log)
	}
}

// After the final acquire (ConnectionLost) nothing more is delivered, but
// what was pending before it is.
func TestSerializerFinal(t *testing.T) {
	p := newSerialProbe()
	p.s.acquire(false)
	p.s.notify(1)
	p.s.release()
	p.s.acquire(false)
	p.s.notify(1) // pending when the callback ends ...
	p.s.release() // ... so delivered here
	p.s.acquire(true)
	p.s.notify(1)
	p.s.release()
	p.s.notify(1)
	if want := []bool{true, false}; len(p.log) != len(want) || p.log[0] != want[0] || p.log[1] != want[1] {
		t.Fatalf("delivered %v, want %v", p.log, want)
	}
}

// BenchmarkSerializer measures the per-callback cost of acquire and release
// on the reader goroutine.
func BenchmarkSerializer(b *testing.B) {
	p := newSerialProbe()
	b.ReportAllocs()
	for b.Loop() {
		p.s.acquire(false)
		p.s.release()
	}
}
