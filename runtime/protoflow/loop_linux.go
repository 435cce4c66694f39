package protoflow

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The loop backend, Linux's default: event loops that run the protocol's
// callbacks inline, on threads of their own, over raw sockets that Go's
// netpoller never sees. PROTOFLOW_BACKEND=epoll or goroutine selects
// another backend for the process, and WithBlockingCallbacks the epoll
// backend for the connections of a Server, a Dial or an Attach.
//
// # Threads and goroutines
//
// A loop is one goroutine locked to its OS thread (runtime.LockOSThread)
// that blocks in epoll_wait itself. There are up to GOMAXPROCS of them; a
// connection is given to one for its whole life (round robin), and the
// loop runs every callback of it: ConnectionMade (for a Server's
// connections; Dial and Attach run it on the caller, before the loop knows
// the connection), DataReceived, EOFReceived, PauseWriting, ResumeWriting,
// Timeout and ConnectionLost. So the callbacks of one connection never run
// concurrently, with no lock to take around them.
//
// A loop starts when the first connection is given to it and exits when it
// has none left (loop.retireLocked under loopsMu): an idle process holds
// no loop. A callback that ends the loop's goroutine (runtime.Goexit, as
// t.FailNow does) kills its connection, and a new goroutine takes the loop
// over (loop.callback's deferred function); the epoll set is
// level-triggered, so nothing it had not yet handled is lost.
//
// A callback that blocks stalls its loop: every other connection of that
// loop waits until it returns (gnet and Netty behave the same). Drain
// called inside a callback is the one wait the loop helps: it writes the
// connection's queue itself, waiting in poll(2) for room, and returns when
// writing may resume (lconn.assistDrain).
//
// # Who owns what
//
// The loop owns, with no lock: its epoll set, events, read buffer, iovecs,
// inbox batch, timer heap and table of connections (slot → lconn); and of
// each of its connections the loop-only flags (lconn.lf), which say whether
// ConnectionMade has run, which write transition was delivered last and
// whether ConnectionLost has started, the count of bytes read (an atomic
// only so that Stats may read it) and the framer the protocol hosts
// (HostFramer), which the loop resets once ConnectionLost has returned. It
// reads the socket, and it alone closes the descriptor, so that no other
// goroutine can name a descriptor number that the kernel has handed to a
// new socket.
//
// lconn.mu guards the rest of a connection's changing state: the state
// word's writes (lconn.state, connState), the write queue (in lconn.x),
// the transitions decided and not yet delivered (lconn.pending), the
// count of bytes written (lconn.written), and the
// epoll registration's changes (EPOLL_CTL_MOD may come from any goroutine
// that holds mu; the registration mirrors stArmIn and stArmOut). Any
// goroutine may write to the socket while it holds mu: Write writes
// through when nothing is queued; the loop writes the queue out on
// EPOLLOUT. A goroutine other than the loop never runs a callback: it
// decides (a transition, a death, new timeouts), sets stOwed and posts the
// connection to the loop's inbox (loop.post), which wakes the loop through
// its eventfd if it sleeps. While the loop runs a corked callback, Writes
// to that connection, from any goroutine, append to the loop's cork
// buffer, which the connection's mu guards (loop.cur, lcork_linux.go). The
// reassembly budget pauses and resumes a
// connection's reading the same way, from any goroutine, with mu held
// (stMemWait; lframe_linux.go).
//
// Counted as the issue asks: the other backends' conn keeps a connection
// in 14 flags of one state word, 2 more atomic booleans (delivering,
// closeOwed), 3 more atomic pointers (base, to, framer), an atomic
// counter (nread), 7 booleans in the read token holder's and the
// serializer's state, and 3 in the flusher's, over four owners: the read
// token's holder, the flusher, the writers under mu and the serializer's
// runner. An lconn has two owners, the loop and mu: one state word of 20
// flags (10 with conn's meanings; 10 its own: the epoll registration, the
// descriptor's close, the inbox, the kind), 3 loop-only flags (lf) that
// need no atomics, two counters under mu (pending, written), and 4 atomic
// words in all (the state word, base, x, which is made once, and nread,
// which only the loop writes).
//
// # Memory
//
// An idle connection is an lconn (152 bytes, a 160-byte allocation;
// TestConnSizes), its
// protocol, and a slot in its loop's table: no net.Conn, os.File,
// goroutine, timer or buffer. Bytes read go to the loop's buffer, which
// DataReceived borrows; bytes the socket did not take go to a queue of
// pooled chunks made on demand (lconn.x). NetConn makes a net.Conn only
// when asked.
//
// TLS, pipes and other connections that are not plain TCP or Unix sockets
// stay on the goroutine backend: crypto/tls reads through a net.Conn. A
// Server with WithTLS serves all its listeners on it, and Stats counts
// those connections in Backends.Goroutine.
//
// # Issue 15's defences
//
// The frame timeout, the read and idle timeouts and the options' bounds on
// them are one heap entry per connection (ltimer_linux.go). A connection
// whose frame the reassembly budget cannot take stops reading (EPOLLIN
// off) until memory is free, and its frame timeout, which runs meanwhile,
// aborts it with a *TimeoutError matching ErrReassemblyBudget. While the
// budget is under pressure the loop reads at most pressureReadSize bytes
// at once. WithMaxConns stops the accept loop at the limit (serveLoop);
// Stats walks the loop connections as it walks the others.

// backendName is the backend that PROTOFLOW_BACKEND selects: "loop" (the
// default), "epoll" or "goroutine".
var backendName = func() string {
	switch b := getenvBackend(); b {
	case "epoll", "goroutine":
		return b
	}
	return "loop"
}()

// loopEnabled selects the loop backend for TCP and Unix sockets.
var loopEnabled = backendName == "loop"

// maxLoops caps the loops, whatever GOMAXPROCS says.
const maxLoops = 64

var (
	loopsMu   sync.Mutex      // guards loops, loopNext and every loop's count and retired
	loops     [maxLoops]*loop // the running loops; nil slots are started on demand
	loopNext  uint32          // round robin over the slots
	loopIDGen atomic.Uint32   // tags registrations (epoll data), so that a stale event is recognized
)

// loop is one event loop. The fields marked "loop" are owned by the
// goroutine running it (run), one at a time.
type loop struct {
	// Immutable after newLoop.
	slot int
	epfd int
	evfd int // eventfd: a write wakes epoll_wait

	tid atomic.Int32 // the OS thread running the loop: Drain inside a callback knows the loop by it

	count   atomic.Int32 // written with loopsMu held: connections given to the loop and not yet lost; read without it by run
	retired bool         // loopsMu: the loop has exited; its slot is free

	sleeping atomic.Bool // the loop is (about to be) in a blocking epoll_wait: posters wake it

	// Corking (lcork_linux.go): cur is the connection whose corked
	// callback runs, written by the loop only; cork is guarded by cur's mu
	// while cur is set, and is the loop's, empty, while it is not.
	cur  atomic.Pointer[lconn]
	cork []byte

	inboxMu sync.Mutex
	inbox   []loopTask // guarded by inboxMu
	inboxN  atomic.Int32

	// loop: owned by the running goroutine.
	conns  []*lconn // by slot (lconn.slot): nil where free
	free   []int32  // free slots of conns
	events [256]syscall.EpollEvent
	buf    []byte // the read buffer DataReceived borrows; as large as the largest readBufferSize
	iov    []iovec
	bufs   [][]byte
	timers timerHeap
}

// loopTask is an entry of a loop's inbox: a new connection to register, or
// a connection owed work (stOwed).
type loopTask struct {
	c     *lconn
	fresh bool // a new connection: register it (after ConnectionMade, unless made)
}

// loopFor returns the loop for a new connection, starting it if needed,
// and counts the connection in it.
func loopFor() *loop {
	loopsMu.Lock()
	defer loopsMu.Unlock()
	n := min(runtime.GOMAXPROCS(0), maxLoops)
	i := int(loopNext % uint32(n))
	loopNext++
	l := loops[i]
	if l == nil {
		var err error
		if l, err = newLoop(i); err != nil {
			return nil
		}
		loops[i] = l
		go l.run() // exits when its last connection is lost (retireLocked)
	}
	l.count.Add(1)
	return l
}

func newLoop(slot int) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	r, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, errno
	}
	evfd := int(r)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeSlot, Pad: 0}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		syscall.Close(evfd)
		syscall.Close(epfd)
		return nil, err
	}
	return &loop{slot: slot, epfd: epfd, evfd: evfd}, nil
}

// post queues a task for the loop and wakes it if it sleeps.
func (l *loop) post(t loopTask) {
	l.inboxMu.Lock()
	l.inbox = append(l.inbox, t)
	l.inboxN.Add(1)
	l.inboxMu.Unlock()
	l.wake()
}

// wake wakes the loop if it sleeps in epoll_wait.
func (l *loop) wake() {
	if l.sleeping.CompareAndSwap(true, false) {
		one := uint64(1)
		_, _, _ = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(l.evfd), uintptr(unsafe.Pointer(&one)), 8) // an eventfd: not rawWrite, which is for sockets
	}
}

// pop takes the oldest task of the inbox.
func (l *loop) pop() (loopTask, bool) {
	l.inboxMu.Lock()
	defer l.inboxMu.Unlock()
	if len(l.inbox) == 0 {
		return loopTask{}, false
	}
	t := l.inbox[0]
	l.inbox[0] = loopTask{}
	l.inbox = l.inbox[1:]
	if len(l.inbox) == 0 {
		l.inbox = l.inbox[:0:0] // let the backing array go once drained
	}
	l.inboxN.Add(-1)
	return t, true
}

// retireLocked ends the loop if it has no connection and nothing queued,
// freeing its slot. loopsMu must be held.
func (l *loop) retireLocked() bool {
	if l.count.Load() > 0 || l.inboxN.Load() > 0 {
		return false
	}
	l.retired = true
	loops[l.slot] = nil
	syscall.Close(l.evfd)
	syscall.Close(l.epfd)
	return true
}

// run is the loop's goroutine. It returns once the loop retires, or ends in
// runtime.Goexit from a callback, after starting its successor.
func (l *loop) run() {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	l.tid.Store(int32(syscall.Gettid()))
	for {
		for l.inboxN.Load() > 0 {
			t, ok := l.pop()
			if !ok {
				break
			}
			if t.fresh {
				l.register(t.c)
			} else {
				t.c.clearPosted()
				l.service(t.c)
			}
		}
		if l.count.Load() == 0 { // the check is repeated under loopsMu
			loopsMu.Lock()
			if l.retireLocked() {
				loopsMu.Unlock()
				return
			}
			loopsMu.Unlock()
		}
		n := l.wait()
		for i := range l.events[:n] {
			ev := &l.events[i]
			slot := ev.Fd
			if slot == wakeSlot {
				var b [8]byte
				_, _, _ = syscall.RawSyscall(syscall.SYS_READ, uintptr(l.evfd), uintptr(unsafe.Pointer(&b)), 8) // an eventfd: not rawRead, which is for sockets
				continue
			}
			if slot < 0 || int(slot) >= len(l.conns) {
				continue
			}
			c := l.conns[slot]
			if c == nil || c.id != uint32(ev.Pad) {
				continue // a registration since closed
			}
			l.handle(c, ev.Events)
		}
		l.runTimers()
	}
}

// wait returns the number of events, waiting for one or for the next
// timer. It is one blocking epoll_pwait: the scheduler hands the processor
// to other goroutines only if it lasts (sysmon, after 20 µs). Neither a
// probe without waiting first nor runtime.Gosched pays here: a locked
// goroutine that yields hands its processor to another thread and is handed
// it back, two futex calls and two context switches (measured: 0.056 futex
// calls per ping-pong message with them, none without).
func (l *loop) wait() int {
	l.sleeping.Store(true)
	if l.inboxN.Load() > 0 || l.count.Load() == 0 { // posted, or retiring, since the loop looked
		l.sleeping.Store(false)
		return 0
	}
	n, _ := epollWait(l.epfd, l.events[:], l.timeoutMs(), true)
	l.sleeping.Store(false)
	return max(n, 0)
}

// epollWait calls epoll_wait; blocking tells the scheduler, so that other
// goroutines get the processor meanwhile.
func epollWait(epfd int, events []syscall.EpollEvent, msec int, blocking bool) (int, error) {
	var r uintptr
	var errno syscall.Errno
	p := unsafe.Pointer(&events[0])
	if blocking {
		r, _, errno = syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(p), uintptr(len(events)), uintptr(msec), 0, 0)
	} else {
		r, _, errno = syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(p), uintptr(len(events)), uintptr(msec), 0, 0)
	}
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// register takes a new connection: it runs ConnectionMade unless Attach
// ran it, files the connection in the table and adds its socket to the
// epoll set.
func (l *loop) register(c *lconn) {
	fd := int(c.fd)
	slot := l.takeSlot(c)
	c.mu.Lock()
	c.slot = slot
	c.id = loopIDGen.Add(1)
	c.clearLocked(stPosted) // from now on what c is owed is posted (newLconn)
	c.mu.Unlock()
	if c.lf&lfMade == 0 {
		c.lf |= lfMade
		l.callback(c, cbMade, nil, 0, nil)
	}
	c.startFloors() // the options' timeouts, from the end of ConnectionMade
	c.mu.Lock()
	if c.st()&stDead == 0 {
		c.setLocked(stInEpoll)
		ev := syscall.EpollEvent{Events: c.wantLocked(), Fd: slot, Pad: int32(c.id)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			c.clearLocked(stInEpoll)
			killed := c.killLocked(c.opError("epoll_ctl", err))
			c.mu.Unlock()
			if killed {
				c.afterKill()
			}
		} else {
			c.noteArmedLocked(ev.Events)
			c.mu.Unlock()
		}
	} else {
		c.mu.Unlock()
	}
	l.service(c)
}

// wakeSlot is the epoll tag of the loop's eventfd; a connection's is its
// slot in the loop's table, and the registration's id.
const wakeSlot = -1

// takeSlot files c in the loop's table and returns its slot. The table is
// dense, a free slot is used again, so that it holds 8 bytes per
// connection of the loop however many loops there are and however high
// the process's descriptor numbers run (a table by descriptor held 8 bytes
// per descriptor of the process in every loop: at 100,000 connections and
// 64 loops, half a kilobyte per connection).
func (l *loop) takeSlot(c *lconn) int32 {
	if n := len(l.free); n > 0 {
		slot := l.free[n-1]
		l.free = l.free[:n-1]
		l.conns[slot] = c
		return slot
	}
	l.conns = append(l.conns, c)
	return int32(len(l.conns) - 1)
}

// handle runs the events of one connection.
func (l *loop) handle(c *lconn, events uint32) {
	if events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && c.st()&stFlushing != 0 {
		l.flush(c)
	}
	if events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
		if c.st()&(stNoRead|stReadDone) == 0 { // without mu: a pause from elsewhere may lag by a read
			l.read(c)
		} else if events&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
			l.hungUp(c)
		}
	}
	if c.st()&(stOwed|stDead) != 0 {
		l.service(c)
	}
}

// read reads the socket once, or again while reads fill the buffer, and
// delivers what it read.
func (l *loop) read(c *lconn) {
	size := c.opts.readBufferSize
	if len(l.buf) < size {
		l.buf = make([]byte, size)
	}
	// Small reads while the server is short of reassembly memory: what a
	// connection that must then wait holds beyond the budget is one of
	// them (budget.go). The buffer is the loop's, whatever the size.
	buf := l.buf[:c.opts.budget.readSize(size)]
	for range 16 { // then let the loop's other connections have a turn
		n, err := rawRead(uintptr(c.fd), buf)
		switch {
		case err == syscall.EAGAIN:
			return
		case err != nil:
			c.kill(c.opError("read", err))
			return
		case n == 0:
			l.eof(c)
			return
		}
		c.noteRead(n)
		l.callback(c, cbData, buf[:n], 0, nil)
		if n < len(buf) || c.st()&(stNoRead|stReadDone|stOwed) != 0 {
			return
		}
	}
}

// eof handles the peer's end of stream: EOFReceived decides whether the
// write side stays open.
func (l *loop) eof(c *lconn) {
	c.mu.Lock()
	c.setLocked(stReadDone)
	c.rearmLocked()
	c.mu.Unlock()
	if c.st()&stStopRead == 0 {
		if !l.callback(c, cbEOF, nil, 0, nil) {
			_ = c.Close()
		}
	}
}

// hungUp handles a hang-up or error the kernel reports while the loop does
// not read (paused, or past the end of file): a socket error kills the
// connection at once, which wakes its drainers; a plain hang-up takes the
// socket out of the epoll set, which would otherwise report it for ever,
// until reading resumes or bytes are queued (rearmLocked).
func (l *loop) hungUp(c *lconn) {
	if c.st()&stDead != 0 {
		return
	}
	if v, err := syscall.GetsockoptInt(int(c.fd), syscall.SOL_SOCKET, syscall.SO_ERROR); err == nil && v != 0 {
		c.kill(c.opError("read", syscall.Errno(v)))
		return
	}
	c.mu.Lock()
	if c.st()&(stInEpoll|stFdClosed) == stInEpoll && c.st()&stFlushing == 0 {
		_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, int(c.fd), nil)
		c.clearLocked(stInEpoll | stArmIn | stArmOut)
	}
	c.mu.Unlock()
}

// flush writes the queue on EPOLLOUT and delivers what that decides.
func (l *loop) flush(c *lconn) {
	c.mu.Lock()
	if c.st()&(stDead|stFlushing) != stFlushing {
		c.mu.Unlock()
		return
	}
	t, closeNow, shutNow := l.flushLocked(c)
	c.mu.Unlock()
	if t > 0 {
		c.afterTransitions()
	}
	if shutNow {
		c.shutWrite()
	}
	if closeNow {
		c.afterKill()
	}
}

// flushLocked writes as much of the queue as the socket takes, and once it
// is empty finishes a Close or CloseWrite that waited for it. It returns
// the transitions decided (already counted in pending), whether the
// connection is now dead of a Close (the caller calls afterKill) and
// whether the write side must be shut. c.mu must be held; the loop, or the
// loop's goroutine in assistDrain, calls it.
func (l *loop) flushLocked(c *lconn) (transitions int, closeNow, shutNow bool) {
	x := c.x.Load()
	for x != nil && x.q.size > 0 {
		l.bufs = x.q.appendTo(l.bufs[:0])
		n, iov, err := rawWritev(uintptr(c.fd), l.iov, l.bufs)
		l.iov = iov
		clear(l.bufs)
		if n > 0 {
			c.noteWrite(n)
			x.q.consume(n)
			transitions += c.transitionLocked()
		}
		if err == syscall.EAGAIN {
			return transitions, false, false
		}
		if err != nil {
			if c.killLocked(c.opError("writev", err)) {
				return transitions, true, false
			}
			return transitions, false, false
		}
	}
	c.clearLocked(stFlushing)
	switch st := c.st(); {
	case st&stClosing != 0:
		c.markDeadLocked(nil)
		return transitions, true, false
	case st&(stShutWrite|stShutDone) == stShutWrite:
		c.setLocked(stShutDone)
		shutNow = true
	}
	c.rearmLocked()
	return transitions, false, shutNow
}

// service does what the loop owes c: re-files its timer after SetTimeouts,
// delivers decided transitions, and once it is dead closes it and delivers
// ConnectionLost.
func (l *loop) service(c *lconn) {
	for c.lf&lfLost == 0 {
		c.mu.Lock()
		st := c.st()
		if st&stOwed == 0 && st&stDead == 0 {
			c.mu.Unlock()
			return
		}
		c.clearLocked(stOwed | stRetime)
		n := c.pending
		c.pending = 0
		c.mu.Unlock()
		if st&stRetime != 0 {
			l.retime(c)
		}
		for range n {
			paused := c.lf&lfPaused == 0 // transitions alternate: this is the next one
			if paused {
				c.lf |= lfPaused
			} else {
				c.lf &^= lfPaused
			}
			if paused {
				l.callback(c, cbPause, nil, 0, nil)
			} else {
				l.callback(c, cbResume, nil, 0, nil)
			}
		}
		if st&stDead != 0 && c.st()&stOwed == 0 {
			l.finish(c)
			return
		}
	}
}

// finish closes a dead connection's socket and delivers ConnectionLost.
func (l *loop) finish(c *lconn) {
	c.lf |= lfLost
	l.timers.remove(c.timeouts())
	c.mu.Lock()
	if c.st()&stInEpoll != 0 {
		_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, int(c.fd), nil)
	}
	syscall.Close(int(c.fd))
	c.setLocked(stFdClosed)
	c.clearLocked(stInEpoll | stArmIn | stArmOut)
	cause := c.cause
	var x *lconnExtra
	if x = c.x.Load(); x != nil && cause == nil {
		cause = x.latePanic
	}
	c.mu.Unlock()
	if x != nil && x.nc != nil {
		_ = x.nc.Close()
	}
	if l.conns[c.slot] == c {
		l.conns[c.slot] = nil
		l.free = append(l.free, c.slot)
	}
	defer l.finished(c, cause) // also if ConnectionLost ends the goroutine
	l.callback(c, cbLost, nil, 0, cause)
}

// finished ends a connection once ConnectionLost has returned: its framer
// gives back the buffer of a frame left incomplete (to the pool and the
// budget), doneChan closes, and the server and the loop forget it.
func (l *loop) finished(c *lconn, cause error) {
	if f := c.framer; f != nil {
		f.Reset() // no callback runs any more
	}
	if b := c.opts.budget; b != nil {
		b.drop(c) // after ConnectionLost, which may still give buffers back
	}
	c.mu.Lock()
	c.setLocked(stGone)
	// x now, not as finish saw it: a doneChan called since ConnectionLost
	// began may have made it, and waits for this close.
	if x := c.x.Load(); x != nil && x.done != nil {
		close(x.done)
	}
	c.mu.Unlock()
	if s := c.opts.server; s != nil {
		s.removeLoopConn(c, cause)
	}
	loopsMu.Lock()
	l.count.Add(-1)
	loopsMu.Unlock()
}

// Callbacks the loop runs.
const (
	cbMade = iota
	cbData
	cbEOF
	cbPause
	cbResume
	cbTimeout
	cbLost
)

var cbNames = [...]string{"ConnectionMade", "DataReceived", "EOFReceived", "PauseWriting", "ResumeWriting", "Timeout", "ConnectionLost"}

// callback runs one callback of c on the loop (p is DataReceived's, kind
// Timeout's, err ConnectionLost's), turning a panic into the death of c
// alone. A callback that ends the goroutine (runtime.Goexit)
// kills c too, and hands the loop to a new goroutine. It returns what
// EOFReceived returned.
func (l *loop) callback(c *lconn, cb int, p []byte, kind TimeoutKind, err error) (keepOpen bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		goexit := v == nil
		if goexit {
			v = errGoexit
		}
		if l.cur.Load() == c {
			l.uncork(c) // what the callback wrote before it panicked goes out, as it would have through
		}
		c.panicked(cbNames[cb], v)
		if goexit {
			go l.run() // the loop goes on on a new goroutine; this one is ending
		}
	}()
	if cb <= cbResume { // corked: the Writes it makes go out together when it returns
		l.cur.Store(c)
	}
	switch cb {
	case cbMade:
		c.proto.ConnectionMade(c)
	case cbData:
		c.proto.DataReceived(p)
	case cbEOF:
		keepOpen = c.proto.EOFReceived()
	case cbPause:
		c.proto.PauseWriting()
	case cbResume:
		c.proto.ResumeWriting()
	case cbTimeout:
		c.proto.(TimeoutHandler).Timeout(kind)
	case cbLost:
		c.proto.ConnectionLost(err)
	}
	if cb <= cbResume {
		l.uncork(c)
	}
	returned = true
	return keepOpen
}

// onLoop reports whether the caller runs on l's goroutine: the loop is
// locked to its thread, and no other goroutine runs there.
func (l *loop) onLoop() bool { return int32(syscall.Gettid()) == l.tid.Load() }

// transport returns the transport whose core c is.
func (c *core) transport() Transport {
	if lc := lconnOf(c); lc != nil {
		return lc
	}
	return (*conn)(unsafe.Pointer(c)) // core is conn's first field
}

// flushCorkedAny is flushCorked for the transport whose core c is. A loop
// connection needs none: its corked bytes are the loop's, written when
// the callback returns, and a Drain inside that callback (assistDrain)
// finds none, for corked bytes never pause writing.
func (c *core) flushCorkedAny() {
	if c.st()&stLoopConn == 0 {
		(*conn)(unsafe.Pointer(c)).flushCorked()
	}
}

// lconnOf returns the lconn whose core c is, or nil for a conn.
func lconnOf(c *core) *lconn {
	if c.st()&stLoopConn == 0 {
		return nil
	}
	return (*lconn)(unsafe.Pointer(c)) // core is lconn's first field
}
