package protoflow

import (
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// The reassembly budget bounds the memory that a Server's connections hold
// in frames split across reads, together. Without it, N peers that each
// send most of a maximum-size frame and then trickle the rest hold N times
// the maximum for as long as they trickle.
//
// A connection's framer borrows its buffers from its host (HostFramer).
// The first buffer of a frame reserves the frame's whole size (its length
// when the codec can tell it from the header, else the codec's maximum) in
// the budget, and is made that size at once: a frame that will grow to its
// length anyway is better made once than grown through a series of
// buffers, which would sit in the pools. The reservation goes back when
// the framer gives its buffer back (the frame is complete, or dropped) or
// when the connection ends. Frames that lie inside one read never borrow a
// buffer, and a framer keeps up to 4 KiB of its own: neither counts. A
// codec of your own tells no bound: its frames are reserved as their
// buffers grow, which lets waiting connections hold one another up until
// their frame timeouts.
//
// A frame the budget cannot reserve keeps the bytes already read (they
// must go somewhere: they count as held, not as reserved) and its
// connection waits: reading pauses (stMemWait), so that TCP pushes back on
// that peer alone, until the reservation can be made. Waiters are served in
// order, so that a big frame is not passed over for ever by small ones.
// Reserving a whole frame at once is what keeps waiting connections from
// holding one another up: a connection that has its reservation never
// waits again for that frame, and its frame completing frees memory for
// the next in line.
//
// From half the budget reserved on, and while any connection waits, every
// connection of the server reads at most pressureReadSize bytes at once,
// into small buffers: so what a connection that must wait holds beyond the
// budget is a few kilobytes, however many wait, and a crowd of readers
// that queue for a lock do not each hold a 256 KiB read buffer the budget
// does not see. (Measured with 1,000 peers that each sent most of a 1 MiB
// frame to kvbin: 150 MiB resident with the small reads from a spent
// budget on, 83 MiB from half of it.)
//
// Pressure alone does not bound what a crowd of readers that read at the
// same moment hold: on the goroutine backend every connection has a reader
// of its own, and 1,000 first reads that land before half the budget is
// reserved each took up to a read buffer (256 KiB), which a connection
// that then had to wait kept beyond the budget (measured: 90-102 MiB held
// with a budget of 32 MiB, in 2 runs of 4). So a read into a full-size
// buffer first borrows its size from the budget's read allowance
// (readLimit: a quarter of the budget, or one read buffer if that is
// more), and gives it back once what it read is delivered; a reader that
// cannot borrow, or finds the budget under pressure once it has, reads 4
// KiB. A large read whose bytes a waiting connection keeps was begun
// before the pressure rose, with its loan taken: together such reads kept
// at most the allowance. What the waiting connections hold beyond the
// budget is thus at most readLimit (plus the 4 KiB a framer had kept, and
// an eighth for the size classes), plus 8 KiB each. On the portable path
// (TLS, pipes) a connection reads into a buffer of its own, of at most 64
// KiB (16 KiB with TLS), that borrows nothing: a waiter there may hold
// that much. A loan is not a reservation: frames that lie inside one read
// still borrow nothing from the budget, and a loan never makes a
// connection wait. It costs a read two atomic additions to a counter the
// server's readers share.
//
// A connection may wait for as long as the others hold the budget: its
// frame timeout, which runs while it waits, is what ends the wait of a
// peer that would sit on the budget (the connection is then aborted with
// a *TimeoutError that matches ErrReassemblyBudget).

// pressureReadSize is the most a read takes from a socket while the budget
// is under pressure: what a connection that must then wait holds beyond
// the budget is that much, plus the 4 KiB its framer keeps.
const pressureReadSize = 4 << 10

// defaultBudget is the budget without a Go memory limit: 28 frames of a
// megabyte at once (1.125 MiB each, their size class), or 3 of 8 MiB, the
// most a LengthCodec takes by default; connections beyond wait. What a
// server holds is more than its budget: the collector's headroom, the
// pools, read buffers. With 32 MiB, kvbin under 1,000 clients that keep
// sending most of a 1 MiB frame, reconnecting each time the frame timeout
// cuts them, peaked at 67 MiB resident; with 64 MiB at 135 MiB.
const defaultBudget = 32 << 20

// DefaultReassemblyBudget returns the reassembly budget that a [Server]
// has unless [WithReassemblyBudget] sets one: a quarter of the Go runtime's
// memory limit when one is set (GOMEMLIMIT, or [debug.SetMemoryLimit]),
// else 32 MiB. A quarter leaves the rest of the limit to the garbage
// collector's headroom and to the program's own memory.
func DefaultReassemblyBudget() int64 {
	if limit := debug.SetMemoryLimit(-1); limit < math.MaxInt64 {
		return max(limit/4, 1<<20)
	}
	return defaultBudget
}

// WithReassemblyBudget sets the most memory that the connections of a
// [Server] may hold, together, in frames split across reads, in bytes. 0
// keeps the default ([DefaultReassemblyBudget], computed by NewServer); a
// negative value sets no limit (the memory is still counted, for
// [Server.Stats]). It has no effect on [Dial] and [Attach].
//
// The budget applies to framers hosted by [HostFramer], as generated
// protocols with framing have. A connection whose next frame does not fit
// waits, with reading paused, until it does; its frame timeout runs
// meanwhile. A single frame bigger than the whole budget is taken when
// nothing else is reserved.
//
// The budget also bounds the reads in flight: a read into a full-size
// buffer ([WithReadBufferSize]) borrows its size from a quarter of the
// budget (at least one buffer) until what it read is delivered, and a
// read that finds nothing left to borrow takes 4 KiB. A budget smaller
// than four read buffers per connection that reads at the same moment
// makes some reads small.
func WithReassemblyBudget(bytes int64) Option {
	return func(o *options) { o.budgetBytes = bytes }
}

// budget is a Server's reassembly budget, shared by its connections.
//
// Lock order: b.mu may be held while taking a conn's mu, never the
// reverse.
type budget struct {
	limit     int64 // immutable; 0 for no limit
	readLimit int64 // immutable: the most that large reads may borrow at once (readLent); 0 with no limit

	// pressure is set while a connection waits or half the budget is
	// reserved: readers then take at most pressureReadSize bytes at once.
	// Written with mu held; read without it, once per read.
	pressure atomic.Bool
	// readLent is the bytes of the large reads in flight (readBuf): what
	// their buffers take, borrowed before the read and given back after
	// its delivery. Without a lock, twice per read.
	readLent atomic.Int64

	mu         sync.Mutex           // guards the following and every connMem
	reserved   int64                // bytes reserved for frames
	held       int64                // capacity of the buffers lent, within reservations or not
	waits      int64                // times a connection has had to wait, ever
	head, tail *connMem             // the queue of waiting connections, oldest first
	conns      map[memConn]*connMem // the connections that borrow now; made by the first
}

// memConn is a connection as the budget sees it: a *conn, or the loop
// backend's *lconn (lbudget_linux.go). waitForMemory and memoryFree are
// called with the budget's mu held, and take the connection's.
type memConn interface {
	st() connState
	waitForMemory()
	memoryFree()
}

// connMem is one connection's part of the budget, while its framer borrows
// a buffer or it waits: kept in budget.conns rather than in the conn, so
// that a connection that never reassembles a frame carries nothing for it.
// Guarded by budget.mu.
type connMem struct {
	c        memConn
	held     int64 // capacity of the buffers lent to the connection now
	reserved int64 // budget reserved for its frame
	want     int64 // the reservation it waits for, while queued
	queued   bool
	prev     *connMem // in the queue, while queued
	next     *connMem
}

// newBudget returns the budget for the option's value (see
// WithReassemblyBudget), for connections whose read buffers have readSize
// bytes.
func newBudget(bytes int64, readSize int) *budget {
	switch {
	case bytes == 0:
		bytes = DefaultReassemblyBudget()
	case bytes < 0:
		bytes = 0
	}
	b := &budget{limit: bytes}
	if bytes > 0 {
		// At least one read at a time of the full size, so that a small
		// budget does not make every read small.
		b.readLimit = max(bytes/4, int64(readSize))
	}
	return b
}

// lend lends c's framer a buffer of at least size bytes for a frame of at
// most frame bytes, reserving the frame's size if c has no reservation for
// it yet, and returns the capacity to make it with: the whole frame's when
// it is reserved and the budget has a limit (a frame that will grow to its
// length anyway is better made once than grown through a series of
// buffers, which other connections' frames then leave in the pools), else
// size's. If the budget cannot reserve it, c waits: reading pauses until
// giveBack, drop or another connection's frame frees enough; the buffer is
// size's, what the bytes already read need. Called by c's callbacks.
func (b *budget) lend(c memConn, size, frame int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	alloc := frameSize(size)
	m := b.conns[c]
	if m == nil {
		if c.st()&stDead != 0 {
			// A framer used after its connection's loss (outside the
			// callbacks): drop has run or will not see this, count nothing.
			return alloc
		}
		if b.conns == nil {
			b.conns = make(map[memConn]*connMem)
		}
		m = &connMem{c: c}
		b.conns[c] = m
	}
	whole := int64(frameSize(max(frame, size)))
	want := whole - m.reserved
	switch {
	case want <= 0:
	case m.queued:
		m.want = max(m.want, want) // the frame turned out bigger (a codec that cannot tell)
	case b.head == nil && b.fitsLocked(want):
		b.reserved += want
		m.reserved += want
	default:
		m.want = want
		m.queued = true
		m.prev = b.tail
		if b.tail == nil {
			b.head = m
		} else {
			b.tail.next = m
		}
		b.tail = m
		b.waits++
		c.waitForMemory()
	}
	if b.limit > 0 && !m.queued && m.reserved >= whole {
		alloc = int(whole)
	}
	m.held += int64(alloc)
	b.held += int64(alloc)
	b.updatePressureLocked()
	return alloc
}

// giveBack counts a buffer of size bytes given back by c's framer. When it
// was the last, the frame is done: its reservation goes back, and waiting
// connections may get theirs.
func (b *budget) giveBack(c memConn, size int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.conns[c]
	if m == nil {
		return
	}
	m.held -= int64(size)
	b.held -= int64(size)
	if m.held > 0 {
		return
	}
	b.reserved -= m.reserved
	if m.queued {
		b.dequeueLocked(m)
		c.memoryFree()
	}
	delete(b.conns, c)
	b.wakeLocked()
}

// drop forgets c, which has ended: what it held and reserved goes back.
// lose has reset the framer HostFramer gave c, which gave its buffer back
// to the pool first.
func (b *budget) drop(c memConn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.conns[c]
	if m == nil {
		return
	}
	delete(b.conns, c)
	b.held -= m.held
	b.reserved -= m.reserved
	if m.queued {
		b.dequeueLocked(m)
	}
	b.wakeLocked()
}

// fitsLocked reports whether n more bytes may be reserved: within the
// limit, or when nothing is reserved at all, so that a frame bigger than
// the whole budget is taken alone rather than never. b.mu must be held.
func (b *budget) fitsLocked(n int64) bool {
	return b.limit == 0 || b.reserved+n <= b.limit || b.reserved == 0
}

// wakeLocked gives waiting connections their reservations, oldest first,
// while they fit. b.mu must be held.
func (b *budget) wakeLocked() {
	for m := b.head; m != nil && b.fitsLocked(m.want); m = b.head {
		b.dequeueLocked(m)
		b.reserved += m.want
		m.reserved += m.want
		m.want = 0
		m.c.memoryFree()
	}
	b.updatePressureLocked()
}

// dequeueLocked takes m out of the queue. b.mu must be held.
func (b *budget) dequeueLocked(m *connMem) {
	if m.prev == nil {
		b.head = m.next
	} else {
		m.prev.next = m.next
	}
	if m.next == nil {
		b.tail = m.prev
	} else {
		m.next.prev = m.prev
	}
	m.prev, m.next, m.queued = nil, nil, false
}

// updatePressureLocked sets pressure from the queue and the reservations:
// from half the budget reserved on, so that readers already read small
// pieces when the first connection must wait, and what each waiter holds
// beyond the budget is a small read, not a full one. b.mu must be held.
func (b *budget) updatePressureLocked() {
	b.pressure.Store(b.head != nil || b.limit > 0 && b.reserved >= b.limit/2)
}

// pressureReadPool holds the read buffers of pressureReadSize bytes.
var pressureReadPool = readPoolFor(pressureReadSize)

// readBuf returns the pool of the read buffers of the next read, and the
// bytes that read borrows from the read allowance (0 for none), which the
// reader gives back with repayRead once it has delivered what it read.
// Normal is the pool of the full-size buffers, of size bytes: a read takes
// one if the budget is not under pressure and lends its size; else a small
// one. Small buffers are not just reads sliced short: every reader holds
// its buffer while it delivers, and a crowd of readers that wait for a lock
// each holding 256 KiB is memory the budget does not see. The loan comes
// before the second look at the pressure, so that a large read begun
// before the pressure rose has its loan counted from then on (see the
// allowance above). Without a lock.
func (b *budget) readBuf(normal *sync.Pool, size int) (*sync.Pool, int64) {
	switch {
	case b == nil || b.readLimit == 0 || size <= pressureReadSize:
		return normal, 0
	case b.pressure.Load():
		return pressureReadPool, 0
	}
	n := int64(size)
	if b.readLent.Add(n) > b.readLimit || b.pressure.Load() {
		b.readLent.Add(-n)
		return pressureReadPool, 0
	}
	return normal, n
}

// repayRead gives back the loan of a read (readBuf), once what it read is
// delivered. Without a lock.
func (b *budget) repayRead(n int64) {
	if n != 0 {
		b.readLent.Add(-n)
	}
}

// readSize returns how much a read may take of a buffer of n bytes that
// the connection keeps for its life (the portable path): all of it, unless
// the budget is under pressure. Without a lock: once per read.
func (b *budget) readSize(n int) int {
	if b != nil && b.pressure.Load() {
		return min(n, pressureReadSize)
	}
	return n
}

// waitForMemory pauses reading until memoryFree, unless reading is over.
// Called with the budget's mu held.
func (c *conn) waitForMemory() {
	c.mu.Lock()
	if c.st()&stStopRead == 0 {
		c.setLocked(stMemWait)
	}
	c.mu.Unlock()
}

// memoryFree ends waitForMemory's pause. Called with the budget's mu
// held.
func (c *conn) memoryFree() {
	c.mu.Lock()
	if c.st()&stMemWait == 0 {
		c.mu.Unlock()
		return
	}
	c.clearLocked(stMemWait)
	c.resumeLocked()
}
