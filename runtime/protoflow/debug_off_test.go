//go:build !protoflowdebug

package protoflow

import (
	"testing"
	"unsafe"
)

// Without the protoflowdebug tag the debug checks cost nothing: the token
// owner takes no room in a connection, and neither check fires.
func TestDebugChecksCompiledOut(t *testing.T) {
	if n := unsafe.Sizeof(tokenOwner{}); n != 0 {
		t.Errorf("tokenOwner takes %d bytes in a normal build, want 0", n)
	}
	c := &conn{}
	c.checkToken()           // no holder at all
	c.setLocked(stClosing)   // without mu: only debug builds check
	if c.st() != stClosing { // the write itself happened
		t.Errorf("state %v, want closing", c.st())
	}
}
