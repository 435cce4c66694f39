package wire

import "sync"

// Generated senders encode a message into a buffer, write it to the
// transport (which copies what it cannot send at once) and give the buffer
// back: a pool shared by every protocol keeps that free of allocations in
// steady state, whatever goroutine sends.

// maxPooledBuffer is the largest buffer the pool keeps: one that a rare
// large message grew past it is left to the garbage collector, so that the
// pool does not pin it.
const maxPooledBuffer = 64 << 10

var buffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 512)
	return &b
}}

// GetBuffer returns a buffer from a pool: append to (*b)[:0], then give it
// back with PutBuffer.
func GetBuffer() *[]byte { return buffers.Get().(*[]byte) }

// PutBuffer gives b back to the pool, keeping used, what was appended to
// it (which may have grown into a new array), for the next user. Nothing
// may use used or *b afterwards.
func PutBuffer(b *[]byte, used []byte) {
	if cap(used) > maxPooledBuffer {
		return
	}
	*b = used[:0]
	buffers.Put(b)
}
