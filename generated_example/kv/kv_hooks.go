package kv

import (
	"bytes"
)

// This file holds the hooks of the protocol types that protogen generates
// from kv.yaml; protogen created it with stubs and never touches it again.

// replyBatch is how many bytes of replies the server gathers before it
// writes them: one write for many pipelined requests, yet little more than
// the high-water mark queued when the client stops reading.
const replyBatch = 16 * 1024

// onDataReceived serves the complete lines of data. Lines that lie inside
// data are parsed in place; a line split across reads, and requests left
// while writing is paused, wait in p.pending.
func (p *Server) onDataReceived(data []byte) {
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		data = p.pending
	}
	p.keep(p.serve(data))
}

// onPauseWriting stops reading while the client does not read its replies,
// so that TCP pushes back on it and the server's memory stays bounded.
func (p *Server) onPauseWriting() { p.PauseReading() }

// onResumeWriting serves the requests left waiting, then reads again.
func (p *Server) onResumeWriting() {
	p.keep(p.serve(p.pending))
	if !p.WritingPaused() {
		p.ResumeReading()
	}
}

// serve executes the complete request lines at the start of data and
// returns the rest. It writes replies in batches and stops early once
// writing is paused: WritingPaused changes inside the Write that crosses
// the high-water mark, so one client's pipeline can never queue much more
// than the water mark, however many requests one read held.
func (p *Server) serve(data []byte) (rest []byte) {
	t := p.Transport()
	out := p.replies[:0]
	for !t.IsClosing() {
		if len(out) >= replyBatch {
			t.Write(out)
			out = out[:0]
			if p.WritingPaused() {
				break
			}
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if i+1 > MaxLine {
			p.refuseLongLine(out)
			return nil
		}
		out = p.handle(out, data[:i])
		data = data[i+1:]
	}
	if len(out) > 0 {
		t.Write(out)
	}
	p.replies = out[:0]
	return data
}

// keep saves what serve left for later, and refuses a line that is
// already too long to ever end within MaxLine.
func (p *Server) keep(rest []byte) {
	if len(rest) >= MaxLine && bytes.IndexByte(rest[:MaxLine], '\n') < 0 {
		p.refuseLongLine(nil)
		return
	}
	p.pending = append(p.pending[:0], rest...) // rest may lie in p.pending: append moves it down
}

// handle executes one request line and appends its reply to out.
func (p *Server) handle(out, line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\r"))
	cmd, args, _ := bytes.Cut(line, []byte(" "))
	switch {
	case bytes.EqualFold(cmd, []byte("GET")):
		if !validKey(args) {
			return append(out, "ERR usage: GET key\n"...)
		}
		if v, ok := p.store.Lookup(args); ok {
			out = append(out, "VALUE "...)
			out = append(out, v...)
			return append(out, '\n')
		}
		return append(out, "NOT_FOUND\n"...)
	case bytes.EqualFold(cmd, []byte("SET")):
		key, value, ok := bytes.Cut(args, []byte(" "))
		if !ok || !validKey(key) {
			return append(out, "ERR usage: SET key value\n"...)
		}
		p.store.Set(string(key), string(value))
		return append(out, "OK\n"...)
	case bytes.EqualFold(cmd, []byte("DEL")):
		if !validKey(args) {
			return append(out, "ERR usage: DEL key\n"...)
		}
		if p.store.Del(string(args)) {
			return append(out, "OK\n"...)
		}
		return append(out, "NOT_FOUND\n"...)
	case bytes.EqualFold(cmd, []byte("PING")):
		return append(out, "PONG\n"...)
	case len(cmd) == 0:
		return append(out, "ERR empty request\n"...)
	}
	return append(out, "ERR unknown command\n"...)
}

// refuseLongLine writes the replies gathered so far and an error for a
// line over MaxLine, then closes the connection; the rest of the input is
// dropped.
func (p *Server) refuseLongLine(replies []byte) {
	t := p.Transport()
	t.Write(append(replies, "ERR line too long\n"...))
	t.Close()
	p.pending = p.pending[:0]
}

func validKey(key []byte) bool {
	return len(key) > 0 && !bytes.ContainsAny(key, " \r\n")
}

// onDataReceived hands each complete reply line to the oldest waiting
// request.
func (p *ClientProtocol) onDataReceived(data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(p.pending)+len(data) >= MaxLine {
				p.Transport().Abort() // not a server of this protocol
				return
			}
			p.pending = append(p.pending, data...)
			return
		}
		line := data[:i]
		data = data[i+1:]
		if len(p.pending) > 0 {
			p.pending = append(p.pending, line...)
			line = p.pending
		}
		if !p.deliver(string(line)) {
			p.Transport().Abort() // a reply nobody asked for
			return
		}
		p.pending = p.pending[:0]
	}
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
