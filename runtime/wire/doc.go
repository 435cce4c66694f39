// Package wire turns a byte stream into frames and frames back into bytes:
// the codecs that find frames in a stream and encode payloads as frames
// ([LineCodec], [DelimiterCodec], [LengthCodec], [FixedCodec], or one of
// your own that implements [Codec]), the [Framer] that reassembles the
// frames split across reads, and [WriteFrame], which writes one frame in one
// Write.
//
// A [Framer] fed from DataReceived passes each frame that lies inside one
// read without copying and reassembles the others in a buffer that never
// grows past the codec's maximum; a frame over it fails with a
// [*FrameTooLargeError] (a hostile length header allocates nothing), a
// malformed one with [ErrBadFrame], and a codec whose configuration is
// unusable with a [*ConfigError] naming the field at fault, which the
// codec's Validate also returns. A frame callback that returns false
// leaves that frame and the rest held for the next Feed, which is how
// generated protocols hold frames while reading is paused. A [Host] set
// on a Framer supplies the buffers for frames split across reads and hears
// when a frame begins: protoflow's bounds those buffers across a server's
// connections and times each frame (its frame timeout), without this
// package knowing of connections.
//
// # Why a package apart from protoflow
//
// Framing is about bytes, not sockets. The codecs reach the transport only
// through an [io.Writer] (WriteFrame writes to a protoflow.Transport, a
// plain net.Conn or a test's buffer alike), and users implement Codec
// directly, so they need nothing of the connection. The decoding support
// that generated messages add (decode errors, checksums, bounded readers)
// has nothing to do with sockets either and belongs beside the codecs, as
// Netty's codec module sits apart from its transport and net/http keeps its
// chunked framing apart from the connection. The transport, its timeouts
// and BaseProtocol, which share one connection's state, stay together in
// package protoflow.
package wire
