package protoflow

import (
	"testing"
	"unsafe"
)

// A conn is most of what an idle connection costs, and the target is 2 KiB
// per idle connection all told. Above 512 bytes the allocator
// rounds it up to its next size class, 576: a field that tips it over
// costs every connection 64 bytes, as the read-once change did once.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 512 {
		t.Errorf("conn is %d bytes, want at most 512 (the allocator's size class): reorder or drop a field", n)
	}
}
