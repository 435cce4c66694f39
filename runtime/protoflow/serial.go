package protoflow

import "sync"

// serializer runs one connection's protocol callbacks one at a time without
// a dedicated goroutine.
//
// The reader goroutine runs DataReceived, EOFReceived and ConnectionLost
// between acquire and release. PauseWriting and ResumeWriting are decided by
// whichever goroutine changed the write queue (a writer, the flusher,
// SetWriteBufferLimits); that goroutine calls notify, which runs the
// callback at once if no callback is running, and otherwise leaves it to the
// goroutine that is running one, which delivers it as soon as its own
// callback returns. So a Write from inside a callback never re-enters the
// protocol, a Write from elsewhere never waits for a callback, and no
// transition is lost or reordered: transitions are counted, and since they
// strictly alternate the count says which to deliver.
type serializer struct {
	deliver func(pause bool) // runs PauseWriting or ResumeWriting; set once by newConn

	mu      sync.Mutex
	idle    sync.Cond // signalled when running becomes false; L is &mu
	running bool      // a goroutine is inside a callback or delivering transitions
	waiters int       // goroutines blocked in acquire
	pending int       // transitions decided and not yet delivered
	paused  bool      // the last transition delivered was PauseWriting
	lost    bool      // ConnectionLost has started: deliver nothing more
}

func (s *serializer) init(deliver func(pause bool)) {
	s.deliver = deliver
	s.idle.L = &s.mu
}

// acquire waits until no callback runs, delivers pending transitions, and
// returns with the right to run one callback; release gives it back. When
// final is set, the callback is ConnectionLost, after which nothing else is
// delivered.
func (s *serializer) acquire(final bool) {
	s.mu.Lock()
	for s.running {
		s.waiters++
		s.idle.Wait()
		s.waiters--
	}
	s.running = true
	s.deliverLocked()
	if final {
		s.lost = true
		s.pending = 0
	}
	s.mu.Unlock()
}

// release delivers the transitions that arrived while the callback ran and
// lets the next goroutine in.
func (s *serializer) release() {
	s.mu.Lock()
	s.deliverLocked()
	s.running = false
	if s.waiters > 0 {
		s.idle.Signal()
	}
	s.mu.Unlock()
}

// notify records n transitions and delivers them now unless a callback is
// running, in which case its goroutine delivers them when it returns.
func (s *serializer) notify(n int) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.pending += n
	if s.running {
		s.mu.Unlock()
		return
	}
	s.running = true
	s.deliverLocked()
	s.running = false
	if s.waiters > 0 {
		s.idle.Signal()
	}
	s.mu.Unlock()
}

// deliverLocked runs pending transitions in order. s.mu is held on entry
// and exit but not while a callback runs.
func (s *serializer) deliverLocked() {
	for s.pending > 0 && !s.lost {
		s.pending--
		s.paused = !s.paused
		pause := s.paused
		s.mu.Unlock()
		s.deliver(pause)
		s.mu.Lock()
	}
}

// abandon gives up the right to run callbacks without delivering pending
// transitions: the goroutine holding it is ending in runtime.Goexit.
func (s *serializer) abandon() {
	s.mu.Lock()
	s.running = false
	if s.waiters > 0 {
		s.idle.Signal()
	}
	s.mu.Unlock()
}
