package kvbin

import (
	"encoding/binary"
	"errors"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// This file holds the hooks of the protocol types that protogen generates
// from kvbin.yaml; protogen created it with stubs and only ever appends.

// onFrameReceived serves one request. A request the state machine refuses
// (anything before hello, a second hello) is answered with the error and
// closes the connection.
func (p *Server) onFrameReceived(frame []byte) {
	t := p.Transport()
	if len(frame) == 0 {
		p.send(t, opError, []byte("empty request"))
		return
	}
	op, body := frame[0], frame[1:]
	event := ServerEventRequest
	switch op {
	case opHello:
		event = ServerEventHello
	case opQuit:
		event = ServerEventQuit
	}
	if err := p.Fire(event); err != nil {
		p.send(t, opError, []byte(err.Error()))
		t.Close()
		return
	}
	switch op {
	case opHello:
		if string(body) != Version {
			p.send(t, opError, []byte("unsupported version "+string(body)+"; this server speaks "+Version))
			t.Close()
			return
		}
		p.send(t, opHello, []byte(Version))
	case opGet:
		if v, ok := p.store.get(body); ok {
			p.send(t, opValue, v)
		} else {
			p.send(t, opNotFound, nil)
		}
	case opSet:
		key, value, ok := splitSet(body)
		if !ok {
			p.send(t, opError, []byte("malformed set"))
			return
		}
		p.store.set(key, value)
		p.send(t, opOK, nil)
	case opDel:
		if p.store.del(body) {
			p.send(t, opOK, nil)
		} else {
			p.send(t, opNotFound, nil)
		}
	case opQuit:
		p.send(t, opOK, nil)
		t.Close()
	default:
		p.send(t, opError, []byte("unknown operation "+string(rune(op))))
	}
	// Writing pauses inside the Write that crosses the high-water mark,
	// while PauseWriting itself comes after this read's frames: pausing
	// reading here makes the framer hold the frames left in this read.
	if p.WritingPaused() {
		p.PauseReading()
	}
}

// send writes one reply frame.
func (p *Server) send(t protoflow.Transport, op byte, body []byte) {
	p.reply = append(append(p.reply[:0], op), body...)
	_ = wire.WriteFrame(t, Codec, p.reply) // fails only once the connection is closing
}

// onPauseWriting stops reading while the client does not read its replies,
// so that TCP pushes back on it and the server's memory stays bounded.
func (p *Server) onPauseWriting() { p.PauseReading() }

// onResumeWriting serves the requests held meanwhile, then reads again.
func (p *Server) onResumeWriting() { p.ResumeReading() }

// onStateChanged counts the handshakes completed, which the store reports,
// and switches the read timeout off once the client has said hello: from
// then on a quiet connection costs no timer wake-ups. Before hello, the
// runtime itself closes a silent connection with a *protoflow.TimeoutError.
func (p *Server) onStateChanged(from ServerState, to ServerState) {
	if to == ServerStateReady && from == ServerStateGreeting {
		p.store.handshakes.Add(1)
		_ = protoflow.SetTimeouts(p.Transport(), 0, 0)
	}
}

// splitSet splits the body of a set request.
func splitSet(body []byte) (key, value []byte, ok bool) {
	if len(body) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(body))
	if n == 0 || len(body) < 2+n {
		return nil, nil, false
	}
	return body[2 : 2+n], body[2+n:], true
}

// onFrameReceived hands a reply to the oldest waiting request.
func (p *ClientProtocol) onFrameReceived(frame []byte) {
	p.mu.Lock()
	if len(p.waiting) == 0 {
		p.mu.Unlock()
		if t := p.Transport(); t != nil {
			protoflow.AbortWithError(t, errors.New("kvbin: a reply that no request waits for"))
		}
		return
	}
	ch := p.waiting[0]
	p.waiting = p.waiting[1:]
	p.mu.Unlock()
	ch <- reply{frame: append([]byte(nil), frame...)} // frame is only valid during the call
}

// onConnectionLost fails every request still waiting.
func (p *ClientProtocol) onConnectionLost(err error) {
	if err == nil {
		err = ErrClosed
	}
	p.mu.Lock()
	p.lost = err
	waiting := p.waiting
	p.waiting = nil
	p.mu.Unlock()
	for _, ch := range waiting {
		ch <- reply{err: err}
	}
}
