package protoflow

import "sync"

// chunkSize is the size of the pooled chunks that queued bytes are copied
// into. Small writes share a chunk; a large write spans several.
const chunkSize = 16 * 1024

var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, 0, chunkSize)
	return &b
}}

// writeQueue holds the bytes a transport has accepted but not yet written,
// and decides the water-mark transitions, as asyncio's _FlowControlMixin
// does; the owning conn keeps the write state they flip (stWritePaused).
// It does no locking: the owning conn guards it with its mutex.
//
// Invariant: size is the sum of the lengths of chunks minus head.
type writeQueue struct {
	chunks []*[]byte // pooled chunks, oldest first; only the last may have spare capacity
	head   int       // bytes of chunks[0] already written
	size   int       // bytes queued and not yet written
	high   int       // pause when size rises above high
	low    int       // resume when size falls to low or below
}

// push copies p to the end of the queue.
func (q *writeQueue) push(p []byte) {
	q.size += len(p)
	if n := len(q.chunks); n > 0 {
		last := q.chunks[n-1]
		k := copy((*last)[len(*last):cap(*last)], p)
		*last = (*last)[:len(*last)+k]
		p = p[k:]
	}
	for len(p) > 0 {
		c := chunkPool.Get().(*[]byte)
		k := copy((*c)[:cap(*c)], p)
		*c = (*c)[:k]
		p = p[k:]
		q.chunks = append(q.chunks, c)
	}
}

// consume drops the first n queued bytes, which have been written, and
// returns fully written chunks to the pool.
func (q *writeQueue) consume(n int) {
	q.size -= n
	n += q.head
	drop := 0
	for drop < len(q.chunks) && n >= len(*q.chunks[drop]) {
		n -= len(*q.chunks[drop])
		c := q.chunks[drop]
		*c = (*c)[:0]
		chunkPool.Put(c)
		q.chunks[drop] = nil
		drop++
	}
	if drop > 0 {
		k := copy(q.chunks, q.chunks[drop:])
		clear(q.chunks[k:])
		q.chunks = q.chunks[:k]
	}
	q.head = n
}

// appendTo appends the queued bytes to bufs, without copying, and returns
// the result. The slices stay valid until consume or discard; bytes pushed
// meanwhile do not change them.
func (q *writeQueue) appendTo(bufs [][]byte) [][]byte {
	for i, c := range q.chunks {
		b := *c
		if i == 0 {
			b = b[q.head:]
		}
		bufs = append(bufs, b)
	}
	return bufs
}

// discard empties the queue without recycling its chunks, which a blocked
// write may still be reading.
func (q *writeQueue) discard() {
	clear(q.chunks)
	q.chunks = q.chunks[:0]
	q.head = 0
	q.size = 0
}

// crossed reports whether the queue has crossed the water mark that matters
// in the write state paused: above high while not paused, or at low or
// below while paused. When it has, the caller flips the state and owes the
// protocol one PauseWriting or ResumeWriting, so that they strictly
// alternate.
func (q *writeQueue) crossed(paused bool) bool {
	if paused {
		return q.size <= q.low
	}
	return q.size > q.high
}
