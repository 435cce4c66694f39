package protoflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrUnexpectedReply is matched by the error with which a client aborts a
// connection whose peer sent a reply that no call waits for, or one that
// the call it came to does not take ([Calls.StartFor]): the stream can no
// longer be matched to the calls.
var ErrUnexpectedReply = errors.New("protoflow: a reply that no call waits for")

// Calls matches the replies of a connection to the calls waiting for them,
// in the order the calls were sent (FIFO) or by an id that each request and
// its reply carry. It is the machinery of a generated client, usable by
// hand: many goroutines may call at once, and their requests are pipelined.
//
// A call is started with Start (or StartID), which sends its request under
// the lock that orders the calls, so that the order of the queue is the
// order on the wire; the reader of the connection hands each reply to
// Deliver (or DeliverID), and the caller waits for it with Wait. A caller
// whose context ends stops waiting at once; its reply, when it comes, is
// taken off the queue and dropped, so the stream stays in step. Lose fails
// every waiting call and every later one with the connection's end; so
// does a send that fails because the transport is closing. Each of these
// errors matches [ErrConnectionLost]; those of calls whose request was not
// sent match [ErrRequestNotSent] and the send's error too.
//
// The zero value is ready to use. R is the type of a reply; a reply the
// reader hands over must not alias its read buffer.
type Calls[R any] struct {
	mu    sync.Mutex
	queue []*Call[R]  // FIFO calls in send order; guarded by mu
	head  int         // queue[head:] are waiting
	ids   *idCalls[R] // the calls matched by id; made on first use; guarded by mu
	lost  error       // why the connection ended; set once; guarded by mu
}

// idCalls are the calls matched by id, apart so that a client that never
// correlates pays one pointer for them.
type idCalls[R any] struct {
	waiting map[uint64]*Call[R]
	// abandoned holds the ids of calls whose callers stopped waiting, so
	// that a late reply is dropped rather than taken for one nobody asked
	// for, and a reply that never comes does not keep its call for the
	// connection's life; at most maxAbandoned, the oldest forgotten first
	// (order).
	abandoned map[uint64]struct{}
	order     []uint64
}

// maxAbandoned bounds the ids of abandoned calls that Calls remembers: a
// reply to one it has forgotten ends the connection as unexpected.
const maxAbandoned = 4096

// Call is one call: a request sent, and its reply to come.
type Call[R any] struct {
	done   chan struct{} // closed once reply or err is set
	accept func(R) bool  // the replies it takes; nil for any. Set before it is queued
	// calls and id are those of a call matched by id (calls nil
	// otherwise), which Wait abandons when its ctx ends. Set before it is
	// filed.
	calls *Calls[R]
	id    uint64
	// Set once, before done is closed.
	reply R
	err   error
}

// errClosedCalls is the end of a connection closed cleanly, for the calls
// that were still waiting.
var errClosedCalls = fmt.Errorf("protoflow: connection closed before the reply: %w", ErrConnectionLost)

// ErrRequestNotSent is matched by the error of a call whose request was
// not sent because the connection is closing or closed: one that is safe
// to make again on another connection. The error matches
// [ErrConnectionLost] too, as does that of a call whose request was sent
// when the connection ended.
var ErrRequestNotSent = errors.New("protoflow: request not sent")

// notSentError is the error of a call whose request was not sent because
// the connection is closing or closed: Err is the send's error (one
// matching net.ErrClosed, say) or the connection's end. It matches
// [ErrRequestNotSent] and [ErrConnectionLost] as well as Err, so that a
// caller checks one error whether the call came before the end or after
// it.
type notSentError struct{ Err error }

func (e *notSentError) Error() string {
	return "protoflow: request not sent: " + e.Err.Error()
}
func (e *notSentError) Unwrap() error { return e.Err }
func (e *notSentError) Is(target error) bool {
	return target == ErrConnectionLost || target == ErrRequestNotSent
}

// notSent returns the error of a call whose send failed with err: a
// notSentError when the transport is closing or gone, err as it is
// otherwise (a message that does not encode, say).
func notSent(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, ErrConnectionReset) {
		return &notSentError{err}
	}
	return err
}

// sendLocked sends a request, with c.mu held, unless the connection has
// ended: the one path of Start, StartID and Send to the wire.
func (c *Calls[R]) sendLocked(send func() error) error {
	switch {
	case c.lost == errClosedCalls:
		return &notSentError{ErrConnectionLost}
	case c.lost != nil:
		return &notSentError{c.lost}
	}
	if err := send(); err != nil {
		return notSent(err)
	}
	return nil
}

// Start makes a call whose reply comes in the order of the calls: it runs
// send, which writes the request, while it holds the lock that orders the
// calls. send must not block (a Transport's Write does not); its error, or
// the connection's end, ends the call at once. The call takes any reply.
func (c *Calls[R]) Start(send func() error) (*Call[R], error) {
	return c.StartFor(nil, send)
}

// StartFor is Start for a call that takes only the replies accept accepts
// (nil: any). A reply it does not accept is not its own: a request went
// unanswered, say (a flag that silences the reply, which the client waited
// for), and every later reply would go to the call before its own. Deliver
// then ends the call with an error matching [ErrUnexpectedReply] and
// reports false, so that the reader ends the connection and every other
// call with it, rather than hand replies to the wrong calls for good. The
// reply of a call whose caller has stopped waiting is checked too.
func (c *Calls[R]) StartFor(accept func(R) bool, send func() error) (*Call[R], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sendLocked(send); err != nil {
		return nil, err
	}
	call := &Call[R]{done: make(chan struct{}), accept: accept}
	if c.head > 0 && c.head >= len(c.queue)/2 {
		// Move the waiting calls down, so that a queue that never empties
		// does not grow for good: amortized, each call moves once.
		n := copy(c.queue, c.queue[c.head:])
		clear(c.queue[n:])
		c.queue, c.head = c.queue[:n], 0
	}
	c.queue = append(c.queue, call)
	return call, nil
}

// Send sends a request that no reply answers (one whose flag tells the
// server not to reply), under the lock that orders the calls, so that it
// takes its place on the wire among theirs; no call waits for it. Its
// error is as Start's.
func (c *Calls[R]) Send(send func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sendLocked(send)
}

// StartID makes a call whose reply carries id. send runs under the same
// lock as Start's; id must not be that of a call still waiting.
func (c *Calls[R]) StartID(id uint64, send func() error) (*Call[R], error) {
	return c.StartIDFor(id, nil, send)
}

// StartIDFor is StartID for a call that takes only the replies accept
// accepts (nil: any), as StartFor.
func (c *Calls[R]) StartIDFor(id uint64, accept func(R) bool, send func() error) (*Call[R], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil && c.lost == nil {
		c.ids = &idCalls[R]{waiting: make(map[uint64]*Call[R]), abandoned: make(map[uint64]struct{})}
	}
	if c.ids != nil {
		if _, dup := c.ids.waiting[id]; dup {
			return nil, fmt.Errorf("protoflow: call id %d is already waiting", id)
		}
	}
	if err := c.sendLocked(send); err != nil {
		return nil, err
	}
	call := &Call[R]{done: make(chan struct{}), accept: accept, calls: c, id: id}
	c.ids.waiting[id] = call
	return call, nil
}

// abandon takes call, matched by id, off the waiting calls, and remembers
// its id so that its reply, if it comes, is dropped.
func (c *Calls[R]) abandon(call *Call[R]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.ids
	if ids == nil || ids.waiting[call.id] != call {
		return // answered, or the connection ended, meanwhile
	}
	delete(ids.waiting, call.id)
	if len(ids.order) == maxAbandoned {
		delete(ids.abandoned, ids.order[0])
		ids.order = ids.order[1:]
	}
	ids.abandoned[call.id] = struct{}{}
	ids.order = append(ids.order, call.id)
}

// Deliver hands r to the oldest waiting call, and reports false when no
// call waits, or when that call does not accept r (StartFor), which it
// then ends with an error matching [ErrUnexpectedReply]: either way the
// peer sent a reply that no call asked for.
func (c *Calls[R]) Deliver(r R) bool {
	c.mu.Lock()
	if c.head == len(c.queue) {
		c.mu.Unlock()
		return false
	}
	call := c.queue[c.head]
	c.queue[c.head] = nil
	c.head++
	c.mu.Unlock()
	return call.finish(r)
}

// finish ends call with r, or with an error if it does not accept r, and
// reports whether it accepted it.
func (call *Call[R]) finish(r R) bool {
	if call.accept != nil && !call.accept(r) {
		call.err = fmt.Errorf("protoflow: a %T reply, which the call does not take: %w", r, ErrUnexpectedReply)
		close(call.done)
		return false
	}
	call.reply = r
	close(call.done)
	return true
}

// DeliverID hands r to the call with id, and reports false when none waits.
// The reply of a call whose caller stopped waiting (its ctx ended) is
// dropped, and reported true: it was asked for.
func (c *Calls[R]) DeliverID(id uint64, r R) bool {
	c.mu.Lock()
	var call *Call[R]
	var ok, late bool
	if ids := c.ids; ids != nil {
		if call, ok = ids.waiting[id]; ok {
			delete(ids.waiting, id)
		} else if _, late = ids.abandoned[id]; late {
			delete(ids.abandoned, id) // its place in order goes when it is oldest
		}
	}
	c.mu.Unlock()
	switch {
	case late:
		return true // the reply of a call whose caller stopped waiting: dropped
	case !ok:
		return false
	}
	return call.finish(r)
}

// Lose ends every waiting call, and every later one, with the
// connection's end: err, as ConnectionLost receives it (wrapped to match
// ErrConnectionLost), or for a clean close (nil) an error matching
// ErrConnectionLost. Only its first call counts.
func (c *Calls[R]) Lose(err error) {
	if err == nil {
		err = errClosedCalls
	} else {
		err = &ConnectionLostError{Err: err}
	}
	c.mu.Lock()
	if c.lost != nil {
		c.mu.Unlock()
		return
	}
	c.lost = err
	waiting := c.queue[c.head:]
	c.queue, c.head = nil, 0
	var byID map[uint64]*Call[R]
	if c.ids != nil {
		byID = c.ids.waiting
		c.ids = nil
	}
	c.mu.Unlock()
	for _, call := range waiting {
		call.err = err
		close(call.done)
	}
	for _, call := range byID {
		call.err = err
		close(call.done)
	}
}

// Waiting reports how many calls wait for a reply.
func (c *Calls[R]) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue) - c.head
	if c.ids != nil {
		n += len(c.ids.waiting)
	}
	return n
}

// Wait waits for the call's reply, the connection's end, or ctx. When ctx
// ends first, a call matched by id is taken off the waiting calls at once
// (so that a reply that never comes does not hold it), and its id is
// remembered, the last 4096 of them, so that its reply is dropped if it
// comes; a call in order stays in the queue until its reply, which keeps
// the stream in step.
func (call *Call[R]) Wait(ctx context.Context) (R, error) {
	select {
	case <-call.done:
		return call.reply, call.err
	case <-ctx.Done():
		if call.calls != nil {
			call.calls.abandon(call)
		}
		var zero R
		return zero, ctx.Err()
	}
}
