package spec

import (
	"bytes"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// setRefs decodes a protocol's receives or sends: a set's name or a list
// of them.
func (d *decoder) setRefs(n *yaml.Node, what string, sc *messageScope) []*MessageSet {
	var items []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			d.errorf(n, "%s: list at least one set, or leave %s out", what, what)
		}
		d.sequence(n, what, func(item *yaml.Node) { items = append(items, item) })
	} else if !isNull(n) {
		items = []*yaml.Node{n}
	}
	var out []*MessageSet
	for _, item := range items {
		name, ok := d.str(item, what)
		if !ok {
			continue
		}
		s := sc.sets[name]
		if s == nil {
			var names []string
			for name := range sc.sets {
				names = append(names, name)
			}
			slices.Sort(names)
			if len(names) == 0 {
				d.errorf(item, "%s: unknown set %q: the spec's messages list declares none", what, name)
			} else {
				d.errorf(item, "%s: unknown set %q%s (sets are %s)", what, name, didYouMean(name, names), listWords(names))
			}
			continue
		}
		if slices.Contains(out, s) {
			d.errorf(item, "%s: set %s is listed twice", what, name)
			continue
		}
		out = append(out, s)
	}
	return out
}

// checkProtocolMessages checks what a protocol's receives and sends ask of
// the rest of it: a framing that suits every set, no frame or data hook
// beside the message hooks, a machine with every event its messages fire,
// and sets that the first bytes of a connection tell apart.
//
// given says which of the protocol's keys the spec gives, valid or not: a
// receives whose sets are all unknown, or a machine that is not valid, is
// reported once, where it is written, and not again here.
func (d *decoder) checkProtocolMessages(p *Protocol, given map[string]bool, receivesNode *yaml.Node) {
	framingGiven := given["framing"]
	if len(p.Receives) == 0 {
		if h := p.Hook(BadMessage); h != nil && !given["receives"] {
			d.errorAt(h.Pos, "hook bad_message needs messages: add receives")
		}
		if len(p.Sends) == 0 {
			return
		}
	}
	if len(p.Receives) > 0 {
		for _, k := range []HookKind{FrameReceived, DataReceived} {
			if h := p.Hook(k); h != nil {
				d.errorAt(h.Pos, "hook %s: a protocol that receives messages gets a hook for each message (on<Message>) in place of %s", k.SpecName(), k.SpecName())
			}
		}
	}
	// Framing: a set that frames itself needs none; every other set needs
	// the protocol's, and a text set needs lines.
	var needs, selfFramed []*MessageSet
	for _, s := range append(slices.Clone(p.Receives), p.Sends...) {
		switch {
		case s.FrameLength != nil:
			selfFramed = append(selfFramed, s)
		case !slices.Contains(needs, s):
			needs = append(needs, s)
		}
	}
	switch {
	case len(needs) > 0 && !framingGiven:
		d.errorAt(p.Pos, "protocol %s: set %s needs the protocol's framing, such as %s", p.Name, needs[0].Name, framingHint(needs[0]))
	case len(needs) == 0 && framingGiven && p.Framing != nil:
		d.errorAt(p.Framing.Pos, "framing: set %s frames itself by its header's %s; remove framing", selfFramed[0].Name, selfFramed[0].FrameLength.Name)
	case p.Framing != nil:
		for _, s := range needs {
			switch {
			case s.Encoding == Text && p.Framing.Kind != "line":
				d.errorAt(p.Framing.Pos, "framing: set %s is text, whose messages are lines: use framing: line", s.Name)
			case s.Encoding == Binary && (p.Framing.Kind == "line" || p.Framing.Kind == "delimiter"):
				d.errorAt(p.Framing.Pos, "framing: set %s is binary, whose messages may hold any byte, the %s's too: use framing: length, or a header field with counts", s.Name, p.Framing.Kind)
			}
		}
	}
	d.checkSniff(p, receivesNode)
	// Events: each needs the protocol's machine.
	for _, s := range p.Receives {
		for _, m := range s.Messages {
			if m.Event == "" {
				continue
			}
			switch {
			case p.Machine == nil && given["machine"]:
				// The machine is not valid, which is reported.
			case p.Machine == nil:
				d.errorAt(m.EventPos, "message %s fires event %s, but protocol %s, which receives it, has no machine", m.Name, m.Event, p.Name)
			case p.Machine.event(m.Event) == nil:
				d.errorAt(m.EventPos, "message %s fires event %s, which the machine of protocol %s does not have%s", m.Name, m.Event, p.Name, didYouMean(m.Event, p.Machine.eventNames()))
			}
		}
	}
}

// checkSniff checks the sets of a protocol that receives several, which
// the first bytes of a connection choose among: each but the last starts
// with a magic; and none can never be chosen: one whose magic begins with
// the magic of a set before it, which takes those bytes first, or one
// whose magic a line of the last set, a text set, may begin with (a verb
// that starts with it, or, for a set with a message without a verb, any
// printable first byte).
func (d *decoder) checkSniff(p *Protocol, receivesNode *yaml.Node) {
	for j, t := range p.Receives {
		if j < len(p.Receives)-1 && t.Magic() == nil {
			d.errorAt(setRefPos(receivesNode, t.Name), "receives: set %s is not the last, so its header must start with a constant (a magic, such as {name: magic, type: u8, const: 0x80}) that tells it from the sets after it", t.Name)
		}
		for _, s := range p.Receives[:j] {
			ms, mt := s.Magic(), t.Magic()
			switch {
			case ms == nil:
			case mt != nil && bytes.HasPrefix(mt, ms):
				d.errorAt(setRefPos(receivesNode, t.Name), "receives: set %s's magic %q begins with set %s's magic %q, which comes first and takes those bytes: set %s would never be chosen; list it first, or give the sets magics that neither begins the other", t.Name, mt, s.Name, ms, t.Name)
			case j == len(p.Receives)-1 && t.Encoding == Text:
				if line := textLineStarting(t, ms); line != "" {
					d.errorAt(setRefPos(receivesNode, s.Name), "receives: set %s's magic %q is also how %s of the text set %s may begin, so such lines would go to %s: give it a magic no line begins with (a byte above 0x7f, say)", s.Name, ms, line, t.Name, s.Name)
				}
			}
		}
	}
}

// textLineStarting names a line of text set t that may begin with b: a
// message whose verb does, or the message without a verb, whose first
// token may be anything printable.
func textLineStarting(t *MessageSet, b []byte) string {
	for _, m := range t.Messages {
		verb := m.Verb
		if t.CaseInsensitive {
			verb, b = strings.ToLower(verb), bytes.ToLower(b)
		}
		switch {
		case m.Verb == "" && len(b) > 0 && b[0] > ' ' && b[0] < 0x7f:
			return "a line of message " + m.Name + ", which has no verb,"
		case m.Verb != "" && (strings.HasPrefix(verb, string(b)) || strings.HasPrefix(string(b), verb+" ")):
			return "message " + m.Name + "'s verb " + m.Verb
		}
	}
	return ""
}

// setRefPos is where a receives or sends names set name.
func setRefPos(n *yaml.Node, name string) Pos {
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			if item.Value == name {
				return posOf(item)
			}
		}
	}
	return posOf(n)
}

func framingHint(s *MessageSet) string {
	if s.Encoding == Text {
		return "framing: {line: {max: 8KiB}}"
	}
	return "framing: {length: {size: 4, max: 1MiB}}, or a header field with counts"
}

// event returns the machine's event named name, or nil.
func (m *Machine) event(name string) *Event {
	for _, e := range m.Events {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func (m *Machine) eventNames() []string {
	names := make([]string, len(m.Events))
	for i, e := range m.Events {
		names[i] = e.Name
	}
	return names
}

// ReceivedMessages returns the messages p decodes and dispatches, in the
// order of its receives and of each set.
func (p *Protocol) ReceivedMessages() []*Message {
	var out []*Message
	for _, s := range p.Receives {
		out = append(out, s.Messages...)
	}
	return out
}

// SentMessages returns the messages p has a Send method for.
func (p *Protocol) SentMessages() []*Message {
	var out []*Message
	for _, s := range p.Sends {
		out = append(out, s.Messages...)
	}
	return out
}

// EventOf returns the machine event that message m fires in p, or nil.
func (p *Protocol) EventOf(m *Message) *Event {
	if m.Event == "" || p.Machine == nil {
		return nil
	}
	return p.Machine.event(m.Event)
}

// checkClient checks what a generated client needs of protocol p: the
// requests it sends, whose replies are among what it receives, matched in
// order or by the id that both sets correlate on.
func (d *decoder) checkClient(p *Protocol, n *yaml.Node) {
	if len(p.Sends) == 0 || len(p.Receives) == 0 {
		d.errorf(n, "client %s: a client sends requests and receives their replies: give the protocol sends and receives", p.Client)
		return
	}
	received := make(map[*Message]bool)
	for _, m := range p.ReceivedMessages() {
		received[m] = true
	}
	methods := 0
	// role is what a reply is to the first request it answers: a reply
	// alone, a stream's item or a stream's end. The client hands a
	// stream's items to the stream and its end to the call; a message
	// with two roles would be taken for the wrong one.
	type role struct {
		what string
		req  *Message
	}
	roles := make(map[*Message]role)
	type setPair struct{ req, reply *MessageSet }
	reported := make(map[setPair]bool) // a correlation problem is a pair of sets', said once
	for _, m := range p.SentMessages() {
		if !m.HasReply() {
			continue
		}
		methods++
		for _, r := range append(append([]*Message(nil), m.Replies...), m.Stream, m.End) {
			if r == nil || r.Set == m.Set {
				continue // nothing, or reported where the reply is resolved
			}
			if !received[r] {
				d.errorAt(m.ReplyPos, "client %s: message %s is answered by %s, which protocol %s does not receive", p.Client, m.Name, r.Name, p.Name)
			}
			pair := setPair{m.Set, r.Set}
			req, rep := m.Set.Correlate, r.Set.Correlate
			switch {
			case req == nil || reported[pair]:
			case rep == nil || rep.Name != req.Name:
				reported[pair] = true
				d.errorAt(m.ReplyPos, "client %s: set %s correlates on %s, so set %s, whose %s answers %s, must too (correlate: %s)",
					p.Client, m.Set.Name, req.Name, r.Set.Name, r.Name, m.Name, req.Name)
			case rep.Int.Bits != req.Int.Bits || rep.Int.Varint != req.Int.Varint:
				reported[pair] = true
				d.errorAt(m.ReplyPos, "client %s: set %s correlates on %s, %s, but set %s's %s is %s: ids past what the narrower holds would match no call",
					p.Client, m.Set.Name, req.Name, req.typeDesc(), r.Set.Name, rep.Name, rep.typeDesc())
			}
		}
		answers := map[string][]*Message{"a reply alone": m.Replies}
		if m.Stream != nil && m.Set.Correlate == nil { // else refused below
			answers["the item of a stream"] = []*Message{m.Stream}
			answers["the end of a stream"] = []*Message{m.End}
		}
		for _, what := range []string{"a reply alone", "the item of a stream", "the end of a stream"} {
			for _, a := range answers[what] {
				prev, seen := roles[a]
				switch {
				case !seen:
					roles[a] = role{what, m}
				case prev.what != what:
					d.errorAt(m.ReplyPos, "client %s: %s answers %s as %s and %s as %s: the client could not tell which it is; answer them with different messages",
						p.Client, a.Name, prev.req.Name, prev.what, m.Name, what)
				}
			}
		}
		if m.Stream != nil && m.Set.Correlate != nil {
			d.errorAt(m.ReplyPos, "client %s: message %s is answered by a stream, which a set that correlates by id cannot match: a stream's replies come in order", p.Client, m.Name)
		}
		switch m.Name {
		case "Close", "Protocol":
			d.errorAt(m.Pos, "client %s: message %s would be the client's method %s, which the client has already", p.Client, m.Name, m.Name)
		}
	}
	if methods == 0 {
		d.errorf(n, "client %s: none of the messages that %s sends says what answers it (reply: Value)", p.Client, p.Name)
	}
	if h := p.Hook(BadMessage); h != nil {
		d.errorAt(h.Pos, "hook bad_message: a client fails its waiting calls with the error of a reply that does not decode; it has no bad_message hook")
	}
}
