package protoflow

import (
	"strings"
	"sync/atomic"
)

// connState is the set of flags of one connection's life, kept in one word
// (conn.state) as net/http packs a connection's ConnState and BaseProtocol
// packs fast: a path that must not wait for conn.mu (the read path,
// IsClosing, BaseProtocol's Drain) tests any combination of flags with one
// load, and no flag is kept twice.
//
// The word is written only with conn.mu held (setLocked, clearLocked), so a
// load and a store make a change and no write is lost. It is read without a
// lock only where a comment says so; everywhere else under conn.mu, so that
// the flags read together are consistent. A change that a waiter may wait
// for (waitChangeLocked) is followed by broadcastLocked.
type connState uint32

const (
	stClosing     connState = 1 << iota // Close was called: flush, then close
	stShutWrite                         // CloseWrite was called: flush, then shut the write side
	stShutDone                          // the write side has been shut (or is being shut)
	stFlushing                          // a flusher goroutine owns the socket's write side; set whenever the queue is not empty, but for bytes a corked callback queued (cork.go); cleared only by the flusher
	stWritePaused                       // the queue rose above the high-water mark and has not fallen to the low one since (transitionLocked); read without mu by BaseProtocol

	stReadPaused // PauseReading without ResumeReading
	stMemWait    // reading paused by the reassembly budget until memory is free (budget.go); not the protocol's pause
	stReadDone   // the peer's end of file was read: never read again (and no read timeout)
	stHup        // epoll: the poller saw the peer close or the socket fail
	stToken      // the read token is taken (see conn): a goroutine holds it or is about to
	stMore       // epoll: the socket became readable while the token was taken; its holder reads again before it gives the token back
	stLoserOwed  // the connection died with the token free: it was taken for the goroutine afterDeath starts, which delivers ConnectionLost

	stDead // the socket is closed or being closed; ConnectionLost is due
	stGone // ConnectionLost has returned and lose has finished

	// The loop backend's own flags (lconn), written with lconn.mu held.
	stArmIn    // loop: the socket is registered for reading (EPOLLIN|EPOLLRDHUP)
	stArmOut   // loop: the socket is registered for writability (EPOLLOUT)
	stInEpoll  // loop: the socket is in its loop's epoll set
	stFdClosed // loop: the descriptor is closed: no system call may name it
	stOwed     // loop: the loop owes the connection work (transitions, timeouts, its death); read without mu after each callback
	stPosted   // loop: the connection is in its loop's inbox
	stRetime   // loop: SetTimeouts changed the periods: the loop re-files the timer
	stLoopConn // the connection is an lconn (set once, before it is shared)
	stUnix     // loop: a Unix socket (set once, before it is shared)
	stDetached // loop: hungUp took the socket out of the epoll set
)

// Masks of the flags that stop reading and writing.
const (
	stStopRead = stClosing | stDead               // reading is over for good: IsClosing
	stPaused   = stReadPaused | stMemWait         // reading waits: for the protocol's ResumeReading, or for memory
	stNoRead   = stStopRead | stPaused            // the read path must not deliver
	stNoWrite  = stClosing | stShutWrite | stDead // Write and CloseWrite fail
)

// stNames are the flags' names, for String.
var stNames = [...]string{
	"closing", "shutWrite", "shutDone", "flushing", "writePaused",
	"readPaused", "memWait", "readDone", "hup", "token", "more", "loserOwed",
	"dead", "gone",
	"armIn", "armOut", "inEpoll", "fdClosed", "owed", "posted", "retime", "loopConn", "unix", "detached",
}

// String lists the flags that are set, for test failures and debugging:
// "closing|dead", or "0" for none.
func (s connState) String() string {
	var names []string
	for i, name := range stNames {
		if s&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// core is what both kinds of connection share with an embedded
// BaseProtocol: the state word, whose write-pause and death flags Drain
// follows, the protocol's BaseProtocol if it registered, and the cause of
// death. conn (the goroutine and epoll backends) and lconn (the loop
// backend) embed it first, each guarding it with its own mutex.
type core struct {
	state atomic.Uint32 // connState: written only with the owner's mu held; read without it where a comment says so

	base atomic.Pointer[BaseProtocol] // registered by BaseProtocol.ConnectionMade

	// cause is why the connection died, nil for a clean close. It is
	// written once, before stDead is set, so that whoever has seen stDead
	// may read it without a lock (deathErr).
	cause error
}

// coreHolder is implemented by this package's transports.
type coreHolder interface{ coreOf() *core }

// st returns the connection's state. Without the owner's mu held it is a
// snapshot, which any flag not set for good may contradict a moment later.
func (c *core) st() connState { return connState(c.state.Load()) }

// writingPaused reports the write state the transport has decided
// (stWritePaused), which PauseWriting and ResumeWriting report to the
// protocol a moment later. Without mu: BaseProtocol.Drain asks it on every
// call.
func (c *core) writingPaused() bool { return c.st()&stWritePaused != 0 }

// deathErr is what a drainer gets once the connection is dead, nil before:
// what ConnectionLost will give, but for a panic after a clean death
// (latePanic). Without mu: cause does not change once stDead is set.
func (c *core) deathErr() error {
	if c.st()&stDead == 0 || c.cause == nil {
		return nil
	}
	return &ConnectionLostError{Err: c.cause}
}

// setLocked sets the flags in bits. c.mu must be held.
func (c *conn) setLocked(bits connState) {
	c.checkMuHeld()
	c.state.Store(uint32(c.st() | bits))
}

// clearLocked clears the flags in bits. c.mu must be held.
func (c *conn) clearLocked(bits connState) {
	c.checkMuHeld()
	c.state.Store(uint32(c.st() &^ bits))
}
