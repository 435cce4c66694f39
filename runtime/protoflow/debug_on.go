//go:build protoflowdebug

package protoflow

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
)

// Debug builds (go test -tags protoflowdebug; CI runs the runtime's tests
// so once) check two rules that the race detector sees only when a race
// happens to occur: that only the holder of the read token reads the
// socket, delivers what it read or delivers ConnectionLost, and that the
// state word is written only with conn.mu held. A broken rule panics. The
// token check is x/net/http2's goroutineLock: a goroutine's id, parsed
// from runtime.Stack, which is far too slow for normal builds.

// tokenOwner is the goroutine that holds the read token: withToken binds
// it, readBurst unbinds it with mu held before it gives the token back.
type tokenOwner struct {
	g atomic.Uint64 // goroutine id; 0 when no goroutine is bound
}

func (o *tokenOwner) bind()   { o.g.Store(curGoroutineID()) }
func (o *tokenOwner) unbind() { o.g.Store(0) }

// check panics unless the calling goroutine holds c's read token.
func (o *tokenOwner) check(c *conn) {
	g, cur := o.g.Load(), curGoroutineID()
	if g != cur || c.st()&stToken == 0 {
		panic(fmt.Sprintf("protoflow: goroutine %d works as the read token's holder, which is goroutine %d (0: none); state %v", cur, g, c.st()))
	}
}

// checkMuHeld panics if c.mu is not locked. It cannot tell who holds it:
// it catches a write made with no lock at all.
func (c *conn) checkMuHeld() {
	if c.mu.TryLock() {
		c.mu.Unlock()
		panic("protoflow: connection state written without conn.mu held")
	}
}

// curGoroutineID returns the calling goroutine's id, which runtime.Stack
// prints first: "goroutine 18 [running]:".
func curGoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("protoflow: cannot read the goroutine id: " + err.Error())
	}
	return id
}
