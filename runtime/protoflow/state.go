package protoflow

import "strings"

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

// st returns the connection's state. Without c.mu held it is a snapshot,
// which any flag not set for good may contradict a moment later.
func (c *conn) st() connState { return connState(c.state.Load()) }

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
