package wire

// Host is what a [Framer] asks of the connection it reassembles frames
// for: the buffers it holds a frame split across reads in, beyond the small
// one it keeps for itself, and word of when it starts to hold a frame and
// when it holds nothing. protoflow.HostFramer makes a connection its
// Framer's host: it lends buffers from a pool shared by every connection,
// counts them against a server's reassembly budget, and times each frame
// with the connection's frame timeout. A Framer without a Host (the
// default) makes its buffers itself and tells nobody.
//
// The Framer calls a Host only from Feed, Reset and Init, so only from
// where those are called: a protocol's callbacks, which never run
// concurrently.
type Host interface {
	// Buffer returns an empty buffer (length 0) whose capacity is at least
	// size, more than the Framer keeps for itself (4 KiB). frame bounds the
	// frame the buffer is for, at least size: its whole length when the
	// codec can tell it from the frame's start, else the codec's maximum,
	// else size itself, as for a codec of your own or for frames held
	// while reading is paused.
	Buffer(size, frame int) []byte
	// Release takes back a buffer that Buffer returned. The Framer does
	// not use it afterwards, nor any payload it passed from it.
	Release(buf []byte)
	// Partial is called at the end of a Feed that leaves the Framer holding
	// bytes that begin a frame which started during that Feed (true): its
	// first bytes came with it, or the frame held before was completed and
	// another begun. It is called with false once a Feed, Reset or Init
	// leaves the Framer holding nothing, after a true. While the same frame
	// stays incomplete across Feeds, it is not called.
	Partial(begun bool)
}

// SetHost makes f take its reassembly buffers from h and report to it
// (see [Host]); nil, the default, makes f make its own buffers. It first
// drops what f holds, as Reset does (giving a buffer back to the host it
// came from): call it once, after Init and before the first Feed.
func (f *Framer) SetHost(h Host) {
	f.Reset()
	f.host = h
}
