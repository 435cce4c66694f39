package wire

import "testing"

func TestBufferPool(t *testing.T) {
	b := GetBuffer()
	used := append((*b)[:0], "hello"...)
	PutBuffer(b, used)
	allocs := testing.AllocsPerRun(100, func() {
		b := GetBuffer()
		used := append((*b)[:0], "a message of a few bytes"...)
		PutBuffer(b, used)
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("GetBuffer and PutBuffer: %v allocations per run, want 0", allocs)
	}
	// A buffer grown past the limit is not kept.
	big := GetBuffer()
	grown := append((*big)[:0], make([]byte, maxPooledBuffer+1)...)
	PutBuffer(big, grown)
	for range 10 {
		if b := GetBuffer(); cap(*b) > maxPooledBuffer {
			t.Fatalf("the pool kept a buffer of %d bytes, over its limit of %d", cap(*b), maxPooledBuffer)
		}
	}
}
