// Package protoflowtest tests a [protoflow.Protocol] without sockets: it
// drives the protocol through an in-memory transport, with the contract
// of protoflow's real ones, and the test plays the peer and the clock. It
// is Netty's EmbeddedChannel and Twisted's StringTransport for protoflow.
//
//	c := protoflowtest.New(NewServer())      // ConnectionMade runs
//	c.Feed([]byte("GET k\n"))                // DataReceived runs, before Feed returns
//	reply := c.ReadAll()                     // what the protocol wrote
//	c.FeedEOF()                              // EOFReceived; the transport closes
//	lost, err := c.Lost()                    // ConnectionLost ran, with err
//
// The test can also feed the same input cut at every byte boundary, or at
// random boundaries from a seed, into fresh protocols and check that they
// all write the same ([CheckSplits]); read what was written frame by frame
// with a wire.Codec ([Conn.ReadFrame], [Conn.AwaitFrame]); make the peer
// stop reading so that the write queue grows and PauseWriting fires at the
// water marks, then read again so that ResumeWriting comes and Drain wakes
// ([Conn.Stall], [Conn.Flush], [Conn.Unstall]); reset the connection
// ([Conn.Reset]); move the clock so that the timeouts set with
// protoflow.SetTimeouts expire ([Conn.Advance]), and the frame timeout set
// with protoflow.SetFrameTimeout, which times the frames of a wire.Framer
// given to protoflow.HostFramer, as generated framed protocols do; and end
// with a check that nothing leaked ([Conn.Finish]).
//
// # The contract
//
// Callbacks never run concurrently; ConnectionMade comes first, then
// DataReceived any number of times, EOFReceived at most once and
// ConnectionLost exactly once (nil after a clean close), and nothing after
// it. PauseWriting and ResumeWriting strictly alternate, when the queue
// rises above the high-water mark and falls back to the low one (64 KiB
// and 16 KiB unless set). PauseReading holds the bytes fed until
// ResumeReading; Close flushes the queue and then loses the connection,
// Abort drops it; CloseWrite closes the write side after the queue; Write
// after Close fails with an error that matches [net.ErrClosed]; a panic in
// a callback aborts the connection and ConnectionLost gets a
// [*protoflow.PanicError]. The tests of this package run the same contract
// suite over it as protoflow's tests run over TCP, Unix sockets and pipes,
// so that it cannot drift from the real transports.
//
// # Which goroutine runs what
//
// The callbacks run synchronously, on the goroutine of the call that
// causes them, as in Netty's EmbeddedChannel, rather than on a goroutine
// of the transport's own. So a test needs no waiting: when Feed returns,
// DataReceived has run and what it wrote can be read; a failure in a
// callback shows the test's stack; and t.Fatal works in a hook. The test's
// calls on [Conn] play the real transport's goroutines: Feed, FeedEOF and
// Reset its reader, Unstall and Flush its flusher, Advance its timer.
//
// The transport's own methods may be called from any goroutine, as the
// real ones, and stay race-free: a Write that crosses a water mark runs
// PauseWriting (or ResumeWriting) on the writing goroutine unless another
// callback is running, whose goroutine then delivers it when that callback
// returns, which is the real transport's rule. A Close, Abort or
// ResumeReading called from outside the callbacks, which on a real
// transport wakes its reader, starts a short-lived goroutine that delivers
// what follows (ConnectionLost, or the bytes held); the methods of Conn
// wait for it, so that a test reads a settled state. None of Conn's
// methods may be called from inside a callback.
//
// # Where it differs from a socket
//
// The peer reads everything at once until Stall: there is no kernel buffer
// in between, so the queue grows only while the peer is stalled, and by
// exactly what the protocol writes. Time moves only with Advance. A
// hosted Framer makes its own buffers: there is no server, so no
// reassembly budget. NetConn
// returns a net.Conn with the transport's addresses whose I/O methods
// fail. And as for any transport not made by protoflow,
// [protoflow.BaseProtocol] follows the PauseWriting and ResumeWriting
// callbacks: inside a callback, WritingPaused does not change at the Write
// that crosses the high-water mark, as it does over a real transport, but
// once PauseWriting has been delivered, after the callback; Drain waits
// for ResumeWriting or ConnectionLost, which come as above.
package protoflowtest
