package protoflow

import (
	"context"
	"fmt"
	"io/fs"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// ltimeouts is the timeout state of a loop connection, made by the first
// SetTimeouts that enables one. There is no timer per connection: the
// loop keeps a heap of the connections with timeouts, ordered by when each
// could next expire, and sleeps in epoll_wait no longer than the first. A
// read or a write only stores a clock reading, so a due in the heap is
// often early; when it comes, the loop looks at the stamps and either
// handles the expiry or files the connection again for the remainder.
type ltimeouts struct {
	c *lconn // immutable

	read, idle time.Duration // c.mu: the periods SetTimeouts set; 0 is disabled
	frame      time.Duration // c.mu: the period SetFrameTimeout set; 0 is disabled

	lastRead     atomic.Int64 // the last read that delivered data; by the loop
	lastWrite    atomic.Int64 // the last write that moved bytes; by writers and the loop, with c.mu held
	periodStarts              // by SetTimeouts, ResumeReading, the host's Partial and the loop
	resumed      atomic.Int64 // the last ResumeReading, from which a frame has a full period: with c.mu held

	framePeriod atomic.Int64 // the frame timeout in effect, for Partial: written with c.mu held
	dueHint     atomic.Int64 // due while filed in the heap, else never, for Partial: written by the loop

	due int64 // loop: when the heap entry comes due
	idx int32 // loop: the index in the loop's heap, -1 when not filed
}

// newLtimeouts makes c's timeouts, with the frame timeout of its options.
func newLtimeouts(c *lconn) *ltimeouts {
	to := &ltimeouts{c: c, idx: -1}
	to.framePeriod.Store(int64(c.opts.frameTimeout))
	to.dueHint.Store(never)
	return to
}

// periodsLocked returns the read, idle and frame periods in effect: the
// protocol's, bounded by the options' for every connection (effective).
// c.mu must be held.
func (to *ltimeouts) periodsLocked() (read, idle, frame time.Duration) {
	o := to.c.opts
	return to.read, effective(to.idle, o.idleTimeout), effective(to.frame, o.frameTimeout)
}

func (c *lconn) timeouts() *ltimeouts {
	if x := c.x.Load(); x != nil {
		return x.to.Load()
	}
	return nil
}

// noteRead records that a read delivered n bytes, for the Server's Stats
// and the timeouts. Only the loop calls it: the count is a load and a
// store, not a locked add.
func (c *lconn) noteRead(n int) {
	c.nread.Store(c.nread.Load() + int64(n))
	if to := c.timeouts(); to != nil {
		to.lastRead.Store(monoNow())
	}
}

// noteWrite records that n bytes went to the socket, for the Server's
// Stats and the timeouts. c.mu must be held: it guards the count.
func (c *lconn) noteWrite(n int) {
	c.written += int64(n)
	if to := c.timeouts(); to != nil {
		to.lastWrite.Store(monoNow())
	}
}

// noteResume restarts the read period, and the frame under way's, when
// reading resumes. c.mu must be held.
func (c *lconn) noteResume() {
	if to := c.timeouts(); to != nil {
		now := monoNow()
		to.readFrom.Store(now)
		to.resumed.Store(now)
	}
}

// setTimeouts is SetTimeouts for a loop connection: it stores the periods
// and owes the loop a new filing of the connection in its heap.
func (c *lconn) setTimeouts(read, idle time.Duration) error {
	if read < 0 || idle < 0 {
		return fmt.Errorf("protoflow: negative timeout (read %v, idle %v): %w", read, idle, fs.ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st()&stDead != 0 {
		return errClosed
	}
	to := c.timeouts()
	if to == nil {
		if read == 0 && idle == 0 {
			return nil // nothing to disable: a connection without timeouts stays small
		}
		to = newLtimeouts(c)
		c.extraLocked().to.Store(to)
	}
	now := monoNow()
	to.readFrom.Store(now)
	to.idleFrom.Store(now)
	to.read, to.idle = read, idle
	c.setLocked(stRetime)
	c.oweLocked()
	return nil
}

// dueLocked returns when each timeout expires (never when disabled), as
// timeouts.dueLocked does for the other backends: the read timeout is
// held while reading is stopped, and the frame timeout while the
// protocol pauses reading, not while the budget does. c.mu must be held.
func (to *ltimeouts) dueLocked(now int64) dues {
	d := dues{never, never, never}
	read, idle, frame := to.periodsLocked()
	st := to.c.st()
	lastRead := to.lastRead.Load()
	if read > 0 {
		if st&(stNoRead|stReadDone) == 0 {
			d.read = addSat(max(lastRead, to.readFrom.Load()), read)
		} else {
			d.read = addSat(now, read)
		}
	}
	if idle > 0 {
		d.idle = addSat(max(lastRead, to.lastWrite.Load(), to.idleFrom.Load()), idle)
	}
	if from := to.frameFrom.Load(); frame > 0 && from != 0 {
		if st&(stStopRead|stReadPaused) == 0 {
			d.frame = addSat(max(from, to.resumed.Load()), frame)
		} else {
			d.frame = addSat(now, frame)
		}
	}
	return d
}

// retime files c in the heap for its next due, or takes it out.
func (l *loop) retime(c *lconn) {
	to := c.timeouts()
	if to == nil {
		return
	}
	l.timers.remove(to)
	c.mu.Lock()
	due := int64(never)
	if c.st()&stDead == 0 {
		due = to.dueLocked(monoNow()).min()
	}
	c.mu.Unlock()
	if due != never {
		to.due = due
		l.timers.push(to)
	}
}

// runTimers handles the heap entries that have come due.
func (l *loop) runTimers() {
	if len(l.timers) == 0 {
		return
	}
	now := monoNow()
	for len(l.timers) > 0 && l.timers[0].due <= now {
		to := l.timers[0]
		l.timers.remove(to)
		c := to.c
		if c.lf&lfLost != 0 {
			continue
		}
		c.mu.Lock()
		var kind TimeoutKind
		var after time.Duration
		memWait := false
		if c.st()&stDead == 0 {
			d := to.dueLocked(now)
			read, idle, frame := to.periodsLocked()
			switch first := d.min(); {
			case first > now:
			case d.read == first:
				kind, after = ReadTimeout, read
			case d.idle == first:
				kind, after = IdleTimeout, idle
			default:
				kind, after, memWait = FrameTimeout, frame, c.st()&stMemWait != 0
			}
		}
		c.mu.Unlock()
		if kind != 0 {
			// A frame timeout while the connection waits for reassembly
			// memory aborts it, handler or not: that memory is the
			// server's to protect (see SetFrameTimeout).
			if _, ok := c.proto.(TimeoutHandler); ok && !memWait {
				to.handled(kind, monoNow, func() { l.callback(c, cbTimeout, nil, kind, nil) })
			} else {
				c.kill(&TimeoutError{Kind: kind, After: after, MemoryWait: memWait})
			}
		}
		l.retime(c)
		l.service(c)
	}
}

// timeoutMs is how long epoll_wait may sleep: until the first due, or for
// ever (-1).
func (l *loop) timeoutMs() int {
	if len(l.timers) == 0 {
		return -1
	}
	d := l.timers[0].due - monoNow()
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// timerHeap is a loop's min-heap of timeouts by due.
type timerHeap []*ltimeouts

func (h *timerHeap) push(to *ltimeouts) {
	to.dueHint.Store(to.due)
	to.idx = int32(len(*h))
	*h = append(*h, to)
	h.up(int(to.idx))
}

// remove takes to out of the heap if it is filed there.
func (h *timerHeap) remove(to *ltimeouts) {
	if to == nil || to.idx < 0 {
		return
	}
	i, last := int(to.idx), len(*h)-1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	to.idx = -1
	to.dueHint.Store(never)
	if i != last {
		h.down(i)
		h.up(i)
	}
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = int32(i), int32(j)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].due <= h[i].due {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].due < h[l].due {
			m = r
		}
		if h[i].due <= h[m].due {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// assistDrain is Drain for a loop connection called on its own loop, from
// inside a callback: nothing else would write the queue while the loop
// waits here, so it writes the queue itself, waiting in ppoll for room,
// until writing may resume, the connection dies or ctx ends.
func (c *lconn) assistDrain(ctx context.Context) error {
	l := c.l
	for {
		c.mu.Lock()
		st := c.st()
		if st&stDead != 0 {
			c.mu.Unlock()
			return c.deathErr()
		}
		if st&stWritePaused == 0 {
			c.mu.Unlock()
			return nil
		}
		var transitions int
		var closeNow, shutNow bool
		if st&stFlushing != 0 {
			transitions, closeNow, shutNow = l.flushLocked(c)
		}
		c.mu.Unlock()
		if transitions > 0 {
			c.afterTransitions()
		}
		if shutNow {
			c.shutWrite()
		}
		if closeNow {
			c.afterKill()
		}
		if !c.writingPaused() || c.st()&stDead != 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pollOut(int(c.fd), 20*time.Millisecond)
	}
}

// pollOut waits up to d for fd to become writable (or fail).
func pollOut(fd int, d time.Duration) {
	pfd := struct {
		fd            int32
		events, revts int16
	}{fd: int32(fd), events: 0x4} // POLLOUT
	ts := syscall.NsecToTimespec(int64(d))
	_, _, _ = syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}
