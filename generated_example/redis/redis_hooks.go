// This file is yours to edit. protogen created it from redis.yaml with a stub
// for each hook. It never changes what you write; when the spec gains a hook
// that the package has no method for, protogen appends a stub here.

package redis

import (
	"errors"
	"sync"

	"github.com/protogen/protogen/runtime/protoflow"
)

// Sizes of the reply path.
const (
	// replyBatch is how many bytes of replies a connection gathers before
	// it writes them: one Write, so one system call, for many pipelined
	// commands, and little more than the high-water mark queued when the
	// client stops reading.
	replyBatch = 16 << 10
	// bigValue is the size from which a value read from the keyspace goes
	// to the transport directly rather than through the batch buffer,
	// which so stays small.
	bigValue = 64 << 10
	// keepBuffers is the frame size from which a connection drops the
	// buffers a command made it grow, once it has served the command.
	keepBuffers = 64 << 10
)

// outPool holds the batch buffers of replies, which a connection takes
// only while it serves commands: an idle connection holds none.
var outPool = sync.Pool{New: func() any {
	b := make([]byte, 0, replyBatch+512)
	return &b
}}

// onConnectionMade sets up the framer with the RESP codec, and makes the
// transport its host: a command split across reads then borrows its
// buffer from the runtime's pools within the server's reassembly budget,
// and the frame timeout (cmd/server's -frame-timeout) times it.
func (p *Server) onConnectionMade(t protoflow.Transport) {
	p.conn = t
	p.codec.Limits = p.db.limits
	p.frames.Init(&p.codec)
	protoflow.HostFramer(t, &p.frames)
	p.serve = p.serveFrame
}

// onDataReceived serves the commands of data.
func (p *Server) onDataReceived(data []byte) { p.feed(data) }

// onPauseWriting stops reading while the client does not read its replies,
// so that TCP pushes back on it and the server's memory stays bounded.
func (p *Server) onPauseWriting() { p.pauseReading() }

// onResumeWriting serves the commands held while writing was paused, then
// reads again unless they paused it once more: so what the framer holds
// never grows past what one read brought.
func (p *Server) onResumeWriting() {
	if !p.frames.Paused() {
		return
	}
	p.frames.Resume()
	p.feed(nil)
	if p.frames.Paused() {
		return // a command paused reading again
	}
	p.BaseProtocol.ResumeReading()
}

// pauseReading stops reading at the socket and pauses the framer, which
// holds the commands after the current one.
func (p *Server) pauseReading() {
	if !p.frames.Paused() {
		p.frames.Pause()
		p.BaseProtocol.PauseReading()
	}
}

// feed serves the commands held and those of data, writes their replies,
// and closes the connection after QUIT or a protocol error.
func (p *Server) feed(data []byte) {
	bp := outPool.Get().(*[]byte)
	p.out = (*bp)[:0]
	err := p.frames.Feed(data, p.serve)
	if err != nil && !p.closing {
		p.fail(err)
	}
	p.flush()
	if p.closing {
		p.conn.Close() // after the replies
	} else if p.WritingPaused() {
		p.pauseReading()
	}
	if cap(p.out) <= 4*replyBatch {
		*bp = p.out[:0]
		outPool.Put(bp)
	}
	p.out = nil
	if p.bigFrame && p.frames.Buffered() == 0 {
		// The framer keeps the capacity its biggest split command needed
		// until Reset; with nothing buffered, Reset loses nothing.
		p.frames.Reset()
		p.codec.shrink()
		p.bigFrame = false
	}
}

// serveFrame runs one command. Once the connection is closing it refuses
// the command instead, and the framer holds it and those after it. While
// reading is paused the framer, paused with it, passes no command: so none
// runs while reading is paused, as no data would arrive, except those
// onResumeWriting passes on.
//
// It also refuses a command while writing is paused. Writing pauses inside
// the Write that crosses the high-water mark (a batch, or a big value
// written directly), while PauseWriting itself comes after the callback;
// and ResumeWriting may come when writing has paused again already. So
// the transport's own state, WritingPaused, decides: pausing reading then
// holds this command and the rest of the read in the framer, until the
// next ResumeWriting.
func (p *Server) serveFrame(frame []byte) bool {
	if p.closing {
		return false
	}
	if p.WritingPaused() {
		p.pauseReading()
		return false
	}
	if len(frame) > keepBuffers {
		p.bigFrame = true
	}
	if args := p.codec.Args(frame); len(args) > 0 { // Redis skips empty commands
		p.exec(args)
	}
	if len(p.out) >= replyBatch {
		p.flush()
	}
	return true
}

// fail answers a protocol error as Redis does, "-ERR Protocol error: "
// and the reason, and closes the connection after the replies. A command
// over Limits.MaxCommandLen closes it without a reply, as Redis closes a
// client over its query buffer limit.
func (p *Server) fail(err error) {
	p.err = err
	p.closing = true
	var pe *ProtocolError
	if errors.As(err, &pe) {
		p.out = append(p.out, "-ERR Protocol error: "...)
		p.out = append(p.out, pe.Reason...)
		p.out = append(p.out, '\r', '\n')
	}
}

// flush writes the replies gathered.
func (p *Server) flush() {
	if len(p.out) > 0 {
		p.conn.Write(p.out) // copies; fails only once the connection is closing
		p.out = p.out[:0]
	}
}

// appendValue appends v as a bulk string. A big value is written from the
// keyspace to the transport directly, after the replies before it; the
// caller holds the keyspace's lock, so v cannot change meanwhile.
func (p *Server) appendValue(v []byte) {
	if len(v) < bigValue {
		p.out = appendBulk(p.out, v)
		return
	}
	p.out = appendHeader(p.out, '$', int64(len(v)))
	p.flush()
	p.conn.Write(v)
	p.out = append(p.out, '\r', '\n')
}

// Err returns the protocol error that closed the connection, if one did: a
// [*ProtocolError], or an error matching [wire.ErrFrameTooLarge] for a
// command over Limits.MaxCommandLen. Call it from the protocol's callbacks,
// such as ConnectionLost.
func (p *Server) Err() error { return p.err }
