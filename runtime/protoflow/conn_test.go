package protoflow

import (
	"testing"
	"unsafe"
)

// A conn is most of what an idle connection costs, and the target is 2 KiB
// per idle connection all told. Above 512 bytes the allocator
// rounds it up to its next size class, 576: a field that tips it over
// costs every connection 64 bytes, as the read-once change did once.
//
// Debug builds (-tags protoflowdebug) may add their token holder's id
// (tokenOwner, empty otherwise): they are not what a server runs.
func TestConnSize(t *testing.T) {
	limit := 512 + unsafe.Sizeof(tokenOwner{})
	if n := unsafe.Sizeof(conn{}); n > limit {
		t.Errorf("conn is %d bytes, want at most %d (the allocator's size class, and a debug build's token holder): reorder or drop a field", n, limit)
	}
	t.Logf("conn is %d bytes", unsafe.Sizeof(conn{}))
}
