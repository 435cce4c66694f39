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

	read, idle time.Duration // c.mu: the periods; 0 is disabled

	lastRead  atomic.Int64 // the last read that delivered data; by the loop
	lastWrite atomic.Int64 // the last write that moved bytes; by writers and the loop, with c.mu held
	readFrom  atomic.Int64 // the read period starts no earlier: by SetTimeouts, ResumeReading and the loop
	idleFrom  atomic.Int64 // the idle period starts no earlier: by SetTimeouts and the loop

	due int64 // loop: when the heap entry comes due
	idx int32 // loop: the index in the loop's heap, -1 when not filed
}

func (c *lconn) timeouts() *ltimeouts {
	if x := c.x.Load(); x != nil {
		return x.to.Load()
	}
	return nil
}

// noteRead records, for the timeouts, that a read delivered data.
func (c *lconn) noteRead() {
	if to := c.timeouts(); to != nil {
		to.lastRead.Store(monoNow())
	}
}

// noteWrite records, for the timeouts, that bytes went to the socket.
func (c *lconn) noteWrite() {
	if to := c.timeouts(); to != nil {
		to.lastWrite.Store(monoNow())
	}
}

// noteResume restarts the read period when reading resumes. c.mu must be
// held.
func (c *lconn) noteResume() {
	if to := c.timeouts(); to != nil {
		to.readFrom.Store(monoNow())
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
		to = &ltimeouts{c: c, idx: -1}
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
// timeouts.dueLocked does for the other backends. c.mu must be held.
func (to *ltimeouts) dueLocked(now int64) (read, idle int64) {
	read, idle = never, never
	lastRead := to.lastRead.Load()
	if to.read > 0 {
		if to.c.st()&(stNoRead|stReadDone) == 0 {
			read = addSat(max(lastRead, to.readFrom.Load()), to.read)
		} else {
			read = addSat(now, to.read)
		}
	}
	if to.idle > 0 {
		idle = addSat(max(lastRead, to.lastWrite.Load(), to.idleFrom.Load()), to.idle)
	}
	return read, idle
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
		r, i := to.dueLocked(monoNow())
		due = min(r, i)
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
		if c.st()&stDead == 0 {
			r, i := to.dueLocked(now)
			switch {
			case r <= now && r <= i:
				kind, after = ReadTimeout, to.read
			case i <= now:
				kind, after = IdleTimeout, to.idle
			}
		}
		c.mu.Unlock()
		if kind != 0 {
			if _, ok := c.proto.(TimeoutHandler); ok {
				if kind == ReadTimeout {
					to.readFrom.Store(now)
				} else {
					to.idleFrom.Store(now)
				}
				l.callback(c, cbTimeout, nil, kind, nil)
			} else {
				c.kill(&TimeoutError{Kind: kind, After: after})
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
