package kv

// This file holds the hooks of the protocol types that protogen generates
// from kv.yaml; protogen created it with stubs and never touches it again.
// Parsing, encoding, framing and the pause of reading while replies back
// up are generated: each hook only serves.

func (p *Server) onSet(m *Set) {
	p.store.Set(string(m.Key), m.Value)
	p.SendOK(&OK{})
}

func (p *Server) onGet(m *Get) {
	if v, ok := p.store.Lookup(m.Key); ok {
		p.SendValue(&Value{Value: v})
	} else {
		p.SendNotFound(&NotFound{})
	}
}

func (p *Server) onDel(m *Del) {
	if p.store.Del(string(m.Key)) {
		p.SendOK(&OK{})
	} else {
		p.SendNotFound(&NotFound{})
	}
}

func (p *Server) onPing(m *Ping) { p.SendPong(&Pong{}) }

// onBadMessage answers a request that does not parse with ERR and the
// reason, and goes on; after a line over the maximum, the connection closes
// once the answer is flushed.
func (p *Server) onBadMessage(err error) bool {
	p.SendErr(&Err{Message: err.Error()})
	return true
}
