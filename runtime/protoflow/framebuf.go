package protoflow

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Reassembly buffers (the ones a wire.Framer borrows from its host, HostFramer, for
// frames split across reads) come from pools by size class, shared by every
// connection: the memory a connection gives back when its frame is complete
// serves the next connection's frame, rather than the heap growing with
// garbage until the collector runs. The pools are sync.Pools, which the
// collector empties of what stays unused for two cycles, so that memory
// lent during a burst of big frames returns to the runtime after it.

// Size classes: eight per doubling from 8 KiB to 64 MiB, so that a buffer
// has at most an eighth of its capacity unused (a frame of 1 MiB plus a
// header takes 1.125 MiB). Smaller requests get 8 KiB (the Framer keeps
// buffers up to 4 KiB itself and asks only beyond); larger ones are made
// for the request and left to the collector.
const (
	minFrameClassShift = 13 // 8 KiB
	maxFrameClassShift = 26 // 64 MiB
	frameClassSteps    = 8

	minFrameClass = 1 << minFrameClassShift
	maxFrameClass = 1 << maxFrameClassShift
)

// framePools holds a pool per class. A buffer is kept as a pointer to its
// first byte, which an interface holds without allocating, and made a
// slice again with its class's size as the capacity.
var framePools [(maxFrameClassShift-minFrameClassShift)*frameClassSteps + 1]sync.Pool

// frameClass returns the index and size of the smallest class of at least
// n bytes, and false for n above the largest class.
func frameClass(n int) (idx, size int, ok bool) {
	if n <= minFrameClass {
		return 0, minFrameClass, true
	}
	if n > maxFrameClass {
		return 0, 0, false
	}
	e := bits.Len(uint(n-1)) - 1 // 1<<e < n <= 2<<e
	step := 1 << e / frameClassSteps
	j := (n - 1<<e + step - 1) / step // 1..frameClassSteps
	return (e-minFrameClassShift)*frameClassSteps + j, 1<<e + j*step, true
}

// frameSize returns the capacity getFrameBuf gives for n bytes.
func frameSize(n int) int {
	if _, size, ok := frameClass(n); ok {
		return size
	}
	return n
}

// getFrameBuf returns an empty buffer of at least n bytes' capacity: its
// class's size.
func getFrameBuf(n int) []byte {
	idx, size, ok := frameClass(n)
	if !ok {
		return make([]byte, 0, n)
	}
	if p, _ := framePools[idx].Get().(*byte); p != nil {
		return unsafe.Slice(p, size)[:0]
	}
	return make([]byte, 0, size)
}

// putFrameBuf gives b, which getFrameBuf returned and nothing uses any
// longer, back to its class's pool. A buffer of no class is left to the
// collector.
func putFrameBuf(b []byte) {
	idx, size, ok := frameClass(cap(b))
	if !ok || size != cap(b) {
		return
	}
	framePools[idx].Put(unsafe.SliceData(b))
}
