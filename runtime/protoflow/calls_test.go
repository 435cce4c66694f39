package protoflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
)

// A fake wire for Calls: requests are recorded in the order Start sent
// them, and replies are the request's number.
type callsWire struct {
	mu   sync.Mutex
	sent []int
}

func (w *callsWire) send(n int) func() error {
	return func() error {
		w.mu.Lock()
		w.sent = append(w.sent, n)
		w.mu.Unlock()
		return nil
	}
}

// Calls from many goroutines get their own replies when the replies come
// in the order of the wire.
func TestCallsFIFO(t *testing.T) {
	var c Calls[int]
	var w callsWire
	const n = 64
	type started struct {
		n    int
		call *Call[int]
	}
	calls := make(chan started, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call, err := c.Start(w.send(i))
			if err != nil {
				t.Error(err)
				return
			}
			calls <- started{i, call}
		}()
	}
	wg.Wait()
	close(calls)
	// The peer answers in the order it received.
	for _, req := range w.sent {
		if !c.Deliver(req) {
			t.Fatalf("Deliver(%d) found no call", req)
		}
	}
	for s := range calls {
		got, err := s.call.Wait(context.Background())
		if err != nil || got != s.n {
			t.Errorf("call %d got %d, %v", s.n, got, err)
		}
	}
	if c.Deliver(99) {
		t.Error("Deliver with no call waiting reported true")
	}
}

// A caller that gives up leaves its reply to be dropped: the next caller
// still gets its own.
func TestCallsCancelKeepsStep(t *testing.T) {
	var c Calls[string]
	first, _ := c.Start(func() error { return nil })
	second, _ := c.Start(func() error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := first.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
	c.Deliver("first's")
	c.Deliver("second's")
	if got, err := second.Wait(context.Background()); err != nil || got != "second's" {
		t.Fatalf("second call got %q, %v; want its own reply", got, err)
	}
}

// Lose fails every waiting call and every later one with the cause.
// A call started with StartFor takes only the replies it accepts: another
// ends it with ErrUnexpectedReply and Deliver reports false, so that the
// reader ends the connection rather than hand every later reply to the
// call before its own (a request that got no reply). The reply of a call
// whose caller stopped waiting is checked as well.
func TestCallsAccept(t *testing.T) {
	even := func(r int) bool { return r%2 == 0 }
	for _, tc := range []struct {
		name      string
		byID      bool
		cancelled bool
		reply     int
		want      bool // Deliver's result, and whether Wait returns the reply
	}{
		{"in order, accepted", false, false, 2, true},
		{"in order, refused", false, false, 3, false},
		{"in order, refused, caller gone", false, true, 3, false},
		{"in order, accepted, caller gone", false, true, 2, true},
		{"by id, accepted", true, false, 4, true},
		{"by id, refused", true, false, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Calls[int]
			var w callsWire
			var call *Call[int]
			var err error
			if tc.byID {
				call, err = c.StartIDFor(7, even, w.send(1))
			} else {
				call, err = c.StartFor(even, w.send(1))
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.cancelled {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if _, err := call.Wait(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("Wait after cancel = %v, want context.Canceled", err)
				}
			}
			var ok bool
			if tc.byID {
				ok = c.DeliverID(7, tc.reply)
			} else {
				ok = c.Deliver(tc.reply)
			}
			if ok != tc.want {
				t.Errorf("Deliver(%d) = %v, want %v", tc.reply, ok, tc.want)
			}
			r, err := call.Wait(context.Background())
			switch {
			case tc.want && (err != nil || r != tc.reply):
				t.Errorf("Wait = %d, %v; want %d", r, err, tc.reply)
			case !tc.want && !errors.Is(err, ErrUnexpectedReply):
				t.Errorf("Wait = %d, %v; want an error matching ErrUnexpectedReply", r, err)
			}
			if n := c.Waiting(); n != 0 {
				t.Errorf("%d calls still waiting", n)
			}
		})
	}
}

func TestCallsLose(t *testing.T) {
	var c Calls[int]
	fifo, _ := c.Start(func() error { return nil })
	byID, _ := c.StartID(7, func() error { return nil })
	cause := errors.New("reset")
	c.Lose(cause)
	c.Lose(errors.New("second cause, ignored"))
	for _, call := range []*Call[int]{fifo, byID} {
		if _, err := call.Wait(context.Background()); !errors.Is(err, cause) || !errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrRequestNotSent) {
			t.Errorf("Wait after Lose = %v, want the cause and ErrConnectionLost", err)
		}
	}
	if _, err := c.Start(func() error { t.Error("send ran after Lose"); return nil }); !errors.Is(err, cause) || !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Start after Lose = %v, want the cause and ErrConnectionLost", err)
	}
	var clean Calls[int]
	clean.Lose(nil)
	_, err := clean.Start(func() error { return nil })
	if want := "protoflow: request not sent: protoflow: connection lost"; !errors.Is(err, ErrConnectionLost) || !errors.Is(err, ErrRequestNotSent) || err.Error() != want {
		t.Errorf("Start after a clean close = %v, want %q, matching ErrConnectionLost", err, want)
	}
}

// A call matched by id whose caller stops waiting leaves the table at
// once (a server that never answers it held it for the connection's life);
// its late reply is dropped, not taken for one nobody asked for, and the
// ids remembered for that are bounded.
func TestCallsAbandonByID(t *testing.T) {
	var c Calls[int]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for id := range uint64(maxAbandoned + 10) {
		call, err := c.StartID(id, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := call.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait with an ended ctx = %v", err)
		}
	}
	if n := c.Waiting(); n != 0 {
		t.Errorf("Waiting() = %d after every caller gave up, want 0", n)
	}
	if !c.DeliverID(maxAbandoned+5, 1) {
		t.Error("the late reply of an abandoned call was taken for an unexpected one")
	}
	if c.DeliverID(maxAbandoned+5, 1) {
		t.Error("a second reply with an abandoned call's id was dropped too")
	}
	if c.DeliverID(0, 1) {
		t.Error("the reply of the oldest abandoned call, past the bound, was dropped; want it unexpected")
	}
	if len(c.ids.abandoned) > maxAbandoned || len(c.ids.order) > maxAbandoned {
		t.Errorf("%d abandoned ids remembered (%d in order), want at most %d", len(c.ids.abandoned), len(c.ids.order), maxAbandoned)
	}
	// A call answered before its caller gives up is not abandoned.
	call, _ := c.StartID(1<<40, func() error { return nil })
	c.DeliverID(1<<40, 7)
	if got, err := call.Wait(ctx); got != 7 || err != nil {
		// Wait may see ctx first: then the reply is still the call's.
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %d, %v", got, err)
		}
	}
	if _, late := c.ids.abandoned[1<<40]; late {
		t.Error("an answered call's id was remembered as abandoned")
	}
}

// Send sends in the order of the calls and queues nothing; after Lose it
// sends nothing.
func TestCallsSend(t *testing.T) {
	var c Calls[int]
	var order []string
	first, _ := c.Start(func() error { order = append(order, "call"); return nil })
	if err := c.Send(func() error { order = append(order, "silent"); return nil }); err != nil {
		t.Fatal(err)
	}
	if c.Waiting() != 1 {
		t.Errorf("Waiting() = %d after a call and a silent send, want 1", c.Waiting())
	}
	c.Deliver(7)
	if got, err := first.Wait(context.Background()); got != 7 || err != nil {
		t.Errorf("the call got %d, %v; want the reply 7", got, err)
	}
	if fmt.Sprint(order) != "[call silent]" {
		t.Errorf("sent %v", order)
	}
	c.Lose(nil)
	if err := c.Send(func() error { t.Error("Send sent after Lose"); return nil }); !errors.Is(err, ErrRequestNotSent) {
		t.Errorf("Send after Lose = %v, want ErrRequestNotSent", err)
	}
}

// A call made while the transport closes, before Lose, fails as one made
// after it: with an error matching ErrConnectionLost (and the send's).
func TestCallsSendWhileClosing(t *testing.T) {
	for _, sendErr := range []error{
		fmt.Errorf("protoflow: transport is closed: %w", net.ErrClosed),
		ErrConnectionReset, // no transport any more
	} {
		var c Calls[int]
		for _, start := range []func(func() error) (*Call[int], error){
			c.Start,
			func(send func() error) (*Call[int], error) { return c.StartID(1, send) },
		} {
			_, err := start(func() error { return sendErr })
			if !errors.Is(err, ErrConnectionLost) || !errors.Is(err, sendErr) || !errors.Is(err, ErrRequestNotSent) {
				t.Errorf("send failing with %v: Start = %v, want an error matching ErrConnectionLost and the send's, saying the request was not sent", sendErr, err)
			}
		}
		if c.Waiting() != 0 {
			t.Errorf("Waiting() = %d after failed sends, want 0", c.Waiting())
		}
	}
}

func TestCallsByID(t *testing.T) {
	var c Calls[int]
	a, _ := c.StartID(1, func() error { return nil })
	b, _ := c.StartID(2, func() error { return nil })
	if _, err := c.StartID(1, func() error { return nil }); err == nil {
		t.Error("StartID with an id still waiting succeeded")
	}
	c.DeliverID(2, 20)
	c.DeliverID(1, 10)
	if got, _ := a.Wait(context.Background()); got != 10 {
		t.Errorf("call 1 got %d, want 10", got)
	}
	if got, _ := b.Wait(context.Background()); got != 20 {
		t.Errorf("call 2 got %d, want 20", got)
	}
	if c.DeliverID(3, 0) {
		t.Error("DeliverID of an id nobody waits for reported true")
	}
}

// A send that fails ends its call at once, and takes no place in the queue.
func TestCallsSendError(t *testing.T) {
	var c Calls[int]
	boom := fmt.Errorf("boom")
	if _, err := c.Start(func() error { return boom }); err != boom {
		t.Fatalf("Start = %v, want the send's error", err)
	}
	if c.Waiting() != 0 {
		t.Fatalf("Waiting() = %d after a failed send, want 0", c.Waiting())
	}
}

// A queue that never empties does not grow without bound.
func TestCallsQueueStaysSmall(t *testing.T) {
	var c Calls[int]
	for i := range 10_000 {
		if _, err := c.Start(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			c.Deliver(i)
		}
	}
	if cap(c.queue) > 64 {
		t.Errorf("the queue's array holds %d calls for 1 waiting", cap(c.queue))
	}
}
