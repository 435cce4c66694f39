package kvbin

import (
	"errors"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// This file holds the hooks of the protocol types that protogen generates
// from kvbin.yaml; protogen created it with stubs and only ever appends.
// Decoding, encoding, framing, the handshake's machine and the pause of
// reading while replies back up are generated: each hook only serves.

func (p *Server) onHello(m *Hello) {
	if m.Version != Version {
		p.SendError(&Error{Message: "unsupported version " + m.Version + "; this server speaks " + Version})
		p.Transport().Close()
		return
	}
	p.SendWelcome(&Welcome{Version: Version})
}

func (p *Server) onGet(m *Get) {
	if v, ok := p.store.get(m.Key); ok {
		p.SendValue(&Value{Value: v})
	} else {
		p.SendNotFound(&NotFound{})
	}
}

func (p *Server) onSet(m *Set) {
	p.store.set(m.Key, m.Value)
	p.SendOK(&OK{})
}

func (p *Server) onDel(m *Del) {
	if p.store.del(m.Key) {
		p.SendOK(&OK{})
	} else {
		p.SendNotFound(&NotFound{})
	}
}

func (p *Server) onQuit(m *Quit) {
	p.SendOK(&OK{})
	p.Transport().Close()
}

// onBadMessage answers a request that did not decode with an error and goes
// on; one that the state machine refuses (anything before hello, a second
// hello) also closes the connection. A frame over MaxFrame aborts it:
// ConnectionLost receives why.
func (p *Server) onBadMessage(err error) bool {
	var bad *wire.DecodeError
	var refused *protoflow.TransitionError
	switch {
	case errors.As(err, &bad):
		p.SendError(&Error{Message: err.Error()})
	case errors.As(err, &refused):
		p.SendError(&Error{Message: err.Error()})
		p.Transport().Close()
	default:
		return false
	}
	return true
}

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
