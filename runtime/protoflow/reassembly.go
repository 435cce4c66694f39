package protoflow

import "github.com/protogen/protogen/runtime/wire"

// HostFramer makes t's connection the host (see [wire.Host]) of f, the
// Framer that reassembles its frames: generated protocols with framing
// call it in ConnectionMade, after f.Init. Then:
//
//   - f's buffers for frames split across reads come from pools by size
//     class shared by every connection, and go back as soon as the frame
//     is complete;
//   - on a [Server], they count against its reassembly budget (see
//     [WithReassemblyBudget]), which pauses reading on a connection whose
//     frame it cannot take;
//   - each frame is timed by the connection's frame timeout
//     ([SetFrameTimeout], [WithFrameTimeout]);
//   - once ConnectionLost has returned, the transport resets f, so that
//     the buffer of a frame the peer never finished goes back to the pool
//     at once rather than to the garbage collector with the protocol.
//     ConnectionLost is the last callback that may use f.
//
// A Framer is owned by the protocol's callbacks: call HostFramer from
// ConnectionMade. A transport not made by this package that has a method
// HostFramer(f *wire.Framer), as protoflowtest's does (it times frames on
// its fake clock), gets the call; for any other it does nothing, which
// leaves f on its own.
func HostFramer(t Transport, f *wire.Framer) {
	switch h := t.(type) {
	case ownTransport: // conn; the loop backend's lconn (lframe_linux.go)
		h.hostFramer(f)
	case framerHoster:
		h.HostFramer(f)
	}
}

// hostFramer is HostFramer for the epoll and goroutine backends.
func (c *conn) hostFramer(f *wire.Framer) {
	f.SetHost((*frameHost)(c))
	c.framer.Store(f)
}

// frameHost is a conn seen as the wire.Host of its framer: its methods
// stay off the transport's, and the conversion costs nothing.
type frameHost conn

// Buffer implements [wire.Host.Buffer] (see hostBuffer).
func (h *frameHost) Buffer(size, frame int) []byte {
	c := (*conn)(h)
	return hostBuffer(c.opts, c, size, frame)
}

// Release implements [wire.Host.Release] (see hostRelease).
func (h *frameHost) Release(buf []byte) {
	c := (*conn)(h)
	hostRelease(c.opts, c, buf)
}

// hostBuffer is a hosting transport's [wire.Host.Buffer] for connection c
// with options o: a pooled buffer, which on a Server with a budget the
// budget lends first (budget.lend: a frame whose length the codec tells
// gets its whole buffer at once, and the connection may wait for memory
// with reading paused).
func hostBuffer(o *options, c memConn, size, frame int) []byte {
	if bg := o.budget; bg != nil {
		size = bg.lend(c, size, frame)
	}
	return getFrameBuf(size)
}

// hostRelease is a hosting transport's [wire.Host.Release]: the buffer
// goes back to its pool, and its size to the budget.
func hostRelease(o *options, c memConn, buf []byte) {
	if bg := o.budget; bg != nil {
		bg.giveBack(c, cap(buf))
	}
	putFrameBuf(buf)
}

// Partial implements [wire.Host.Partial]: it starts or ends the frame's
// period for the frame timeout. A connection without timeouts pays one
// load.
func (h *frameHost) Partial(begun bool) {
	to := (*conn)(h).to.Load()
	switch {
	case to == nil:
	case begun:
		to.frameBegun()
	default:
		to.frameFrom.Store(0)
	}
}
