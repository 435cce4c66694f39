package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// A protocol with a client: its received messages go to the calls that
// wait for them, in order or by a correlation id, and a generated client
// type has a method per request that declares its reply.

const (
	contextPkg = "context"
	netPkg     = "net"
)

// clientStreams reports whether a request of p's client is answered by a
// stream of messages.
func clientStreams(p *spec.Protocol) bool {
	for _, m := range p.SentMessages() {
		if m.Stream != nil {
			return true
		}
	}
	return false
}

// clientCorrelates reports whether a set that p's client sends matches
// replies by id.
func clientCorrelates(p *spec.Protocol) bool {
	for _, s := range p.Sends {
		if s.Correlate != nil {
			return true
		}
	}
	return false
}

// clientFields prints the fields a client protocol adds to its struct.
func clientFields(p *spec.Protocol) []jen.Code {
	calls := p.Member(spec.RoleCalls)
	out := []jen.Code{jen.Line(),
		commentLine(calls.Name + " are the calls waiting for a reply; safe for concurrent use."),
		jen.Id(calls.Name).Add(typeCode(calls.Type)),
	}
	if clientStreams(p) {
		st := p.Member(spec.RoleStream)
		out = append(out,
			commentLine(st.Name+" holds the replies of a stream under way, until its end; owned by the callbacks."),
			jen.Id(st.Name).Add(typeCode(st.Type)))
	}
	if clientCorrelates(p) {
		id := p.Member(spec.RoleNextID)
		out = append(out,
			commentLine(id.Name+" numbers the requests whose replies carry their id."),
			jen.Id(id.Name).Add(typeCode(id.Type)))
	}
	return out
}

// streamOf returns the request whose stream m is an item or the end of, and
// whether m ends it.
func streamOf(p *spec.Protocol, m *spec.Message) (req *spec.Message, end bool) {
	for _, r := range p.SentMessages() {
		switch m {
		case r.Stream:
			return r, false
		case r.End:
			return r, true
		}
	}
	return nil, false
}

// deliverMethods prints, for each message a client protocol receives, the
// method that hands it (a copy: the frame is reused) to the call it
// answers. A reply nobody waits for ends the connection.
func deliverMethods(f *jen.File, p *spec.Protocol) {
	calls := jen.Id("p").Dot(p.Member(spec.RoleCalls).Name)
	for _, m := range p.ReceivedMessages() {
		var body []jen.Code
		req, end := streamOf(p, m)
		var value jen.Code = jen.Id("m").Dot("Clone").Call()
		doc := fmt.Sprintf("%s hands a copy of m to the call it answers, and ends the connection with protoflow.ErrUnexpectedReply when none waits.", m.Hook)
		switch {
		case req != nil && !end:
			st := jen.Id("p").Dot(p.Member(spec.RoleStream).Name)
			f.Line()
			prose(f, fmt.Sprintf("%s keeps a copy of m, one of the stream of replies to %s, until %s ends it.", m.Hook, req.Name, req.End.Name))
			f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(m.Hook).Params(jen.Id("m").Op("*").Id(m.Name)).Block(
				st.Clone().Op("=").Append(st.Clone(), jen.Id("m").Dot("Clone").Call()),
			)
			continue
		case req != nil:
			st := jen.Id("p").Dot(p.Member(spec.RoleStream).Name)
			body = append(body, jen.Id("items").Op(":=").Add(st.Clone()), st.Clone().Op("=").Nil())
			value = jen.Id("items")
			doc = fmt.Sprintf("%s ends the stream of replies to %s: it hands what the stream held to the call it answers, and ends the connection with protoflow.ErrUnexpectedReply when none waits.", m.Hook, req.Name)
		case clientStreams(p):
			// A reply alone (an error, say) ends a stream under way: its
			// items were the call's, which the reply answers instead.
			body = append(body, jen.Id("p").Dot(p.Member(spec.RoleStream).Name).Op("=").Nil())
			doc = fmt.Sprintf("%s hands a copy of m to the call it answers, dropping the items of a stream under way (m ends that call instead), and ends the connection with protoflow.ErrUnexpectedReply when none waits.", m.Hook)
		}
		deliver := calls.Clone().Dot("Deliver").Call(value)
		if c := m.Set.Correlate; c != nil {
			deliver = calls.Clone().Dot("DeliverID").Call(jen.Uint64().Parens(jen.Id("m").Dot(c.GoName)), value)
		}
		body = append(body, jen.If(jen.Op("!").Add(deliver)).Block(
			jen.If(jen.Id("t").Op(":=").Id("p").Dot("Transport").Call(), jen.Id("t").Op("!=").Nil()).Block(
				jen.Qual(runtimePkg, "AbortWithError").Call(jen.Id("t"), jen.Qual(runtimePkg, "ErrUnexpectedReply")),
			),
		))
		f.Line()
		prose(f, doc)
		f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(m.Hook).Params(jen.Id("m").Op("*").Id(m.Name)).Block(body...)
	}
}

// clientSilences reports whether a request that p's client sends may
// silence its reply (noreply).
func clientSilences(p *spec.Protocol) bool {
	for _, m := range p.SentMessages() {
		if m.Silencer != nil {
			return true
		}
	}
	return false
}

// errorReplies lists the messages that p's client returns as errors.
func errorReplies(p *spec.Protocol) []*spec.Message {
	var out []*spec.Message
	for _, s := range p.Receives {
		if s.Error != nil {
			out = append(out, s.Error)
		}
	}
	return out
}

// callMethod prints the protocol's call: start the call (sending its
// request), wait while writing is paused, wait for the reply, and turn an
// error reply into an error.
func callMethod(f *jen.File, p *spec.Protocol) {
	name := p.Member(spec.RoleCall).Name
	calls := jen.Id("p").Dot(p.Member(spec.RoleCalls).Name)
	accept := jen.Id("accept").Func().Params(jen.Any()).Bool()
	params := []jen.Code{jen.Id("ctx").Qual(contextPkg, "Context"), accept, jen.Id("send").Func().Params().Error()}
	idNote := ""
	if clientCorrelates(p) {
		params = []jen.Code{jen.Id("ctx").Qual(contextPkg, "Context"), jen.Id("id").Uint64(), jen.Id("byID").Bool(), accept, jen.Id("send").Func().Params().Error()}
		idNote = " A request of a set that correlates carries id, which its reply returns."
	}
	silentNote := ""
	if clientSilences(p) {
		silentNote = " With a nil accept (a request whose flag tells the server not to reply) it sends the request and waits for nothing."
	}
	f.Line()
	prose(f, fmt.Sprintf("%s waits while writing is paused, so that a server that does not read holds its callers back instead of growing a queue; then it sends a request with send, under the lock that orders the calls, and waits for the reply, the connection's end or ctx. A caller whose ctx has ended, or ends while writing is paused, sends nothing and gets an error matching protoflow.ErrRequestNotSent and ctx's; one whose ctx ends later returns at once, and its reply, when it comes, is dropped. A reply that accept refuses is not the call's (a request went unanswered): it ends the connection with protoflow.ErrUnexpectedReply, rather than let every later reply go to the call before its own.%s%s", name, idNote, silentNote))
	// Start the call, by id for a request of a set that correlates.
	start := []jen.Code{jen.List(jen.Id("call"), jen.Err()).Op(":=").Add(calls.Clone()).Dot("StartFor").Call(jen.Id("accept"), jen.Id("send"))}
	if clientCorrelates(p) {
		start = []jen.Code{
			jen.Var().Id("call").Op("*").Qual(runtimePkg, "Call").Types(jen.Any()),
			jen.Var().Err().Error(),
			jen.If(jen.Id("byID")).Block(
				jen.List(jen.Id("call"), jen.Err()).Op("=").Add(calls.Clone()).Dot("StartIDFor").Call(jen.Id("id"), jen.Id("accept"), jen.Id("send")),
			).Else().Block(
				jen.List(jen.Id("call"), jen.Err()).Op("=").Add(calls.Clone()).Dot("StartFor").Call(jen.Id("accept"), jen.Id("send")),
			),
		}
	}
	notSent := jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("%w: %w"), jen.Qual(runtimePkg, "ErrRequestNotSent"), jen.Id("ctx").Dot("Err").Call()))
	body := []jen.Code{
		// A caller whose ctx has ended sends nothing.
		jen.If(jen.Id("ctx").Dot("Err").Call().Op("!=").Nil()).Block(notSent),
		// Wait first, so that a caller adds nothing to the queue while
		// writing is paused. A connection that has ended says so in Start.
		jen.If(jen.Err().Op(":=").Id("p").Dot("Drain").Call(jen.Id("ctx")), jen.Err().Op("!=").Nil().Op("&&").Id("ctx").Dot("Err").Call().Op("!=").Nil()).Block(
			notSent.Clone(),
		),
	}
	if clientSilences(p) {
		// A request its flag silences: sent in its place, and no call waits.
		body = append(body, jen.If(jen.Id("accept").Op("==").Nil()).Block(
			jen.Return(jen.Nil(), calls.Clone().Dot("Send").Call(jen.Id("send"))),
		))
	}
	body = append(body, start...)
	body = append(body,
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("call").Dot("Wait").Call(jen.Id("ctx")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
	)
	for _, e := range errorReplies(p) {
		body = append(body, jen.If(jen.List(jen.Id("e"), jen.Id("ok")).Op(":=").Id("r").Assert(jen.Op("*").Id(e.Name)), jen.Id("ok")).Block(
			jen.Return(jen.Nil(), jen.Id("e")),
		))
	}
	body = append(body, jen.Return(jen.Id("r"), jen.Nil()))
	f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(name).Params(params...).Params(jen.Any(), jen.Error()).Block(body...)
}

// acceptFunc prints the function that tells the replies request m takes
// (Calls.StartFor): its replies, or a stream of its stream's messages, and
// the error replies errs. Any other is not m's: a request went unanswered.
func acceptFunc(m *spec.Message, errs []*spec.Message) jen.Code {
	var own, errCases []jen.Code
	for _, e := range errs {
		errCases = append(errCases, jen.Op("*").Id(e.Name))
	}
	if m.Stream == nil {
		for _, r := range m.Replies {
			own = append(own, jen.Op("*").Id(r.Name))
		}
		return jen.Func().Params(jen.Id("r").Any()).Bool().Block(
			jen.Switch(jen.Id("r").Assert(jen.Type())).Block(jen.Case(append(own, errCases...)...).Block(jen.Return(jen.True()))),
			jen.Return(jen.False()),
		)
	}
	cases := []jen.Code{jen.Case(jen.Index().Any()).Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("item")).Op(":=").Range().Id("r")).Block(
			jen.If(jen.List(jen.Id("_"), jen.Id("ok")).Op(":=").Id("item").Assert(jen.Op("*").Id(m.Stream.Name)), jen.Op("!").Id("ok")).Block(jen.Return(jen.False())),
		),
		jen.Return(jen.True()),
	)}
	if len(errCases) > 0 {
		cases = append(cases, jen.Case(errCases...).Block(jen.Return(jen.True())))
	}
	return jen.Func().Params(jen.Id("r").Any()).Bool().Block(
		jen.Switch(jen.Id("r").Op(":=").Id("r").Assert(jen.Type())).Block(cases...),
		jen.Return(jen.False()),
	)
}

// errorMethods prints Error for the messages that clients return as
// errors.
func errorMethods(f *jen.File, s *spec.Spec) {
	for _, set := range s.Sets {
		m := set.Error
		if m == nil {
			continue
		}
		// The text: the message's name, the names of its enum fields'
		// values (an error code), and its first text field (why).
		var codes []*spec.MessageField
		var why *spec.MessageField
		for _, fd := range spec.AllFields(m.Fields) {
			switch {
			case !fd.InStruct() || fd.List:
			case fd.Kind == spec.WireEnum:
				codes = append(codes, fd)
			case why == nil && (fd.Kind == spec.WireString || fd.Kind == spec.WireBytes) && fd.Size == 0:
				why = fd
			}
		}
		var text *jen.Statement
		switch {
		case len(codes) == 0 && why == nil:
			text = jen.Lit(set.Name + ": " + m.Name)
		case len(codes) == 0:
			text = jen.Lit(m.Name + ": ").Op("+").String().Parens(jen.Id("m").Dot(why.GoName))
		default:
			text = jen.Lit(m.Name + " ").Op("+").Id("m").Dot(codes[0].GoName).Dot("String").Call()
			for _, fd := range codes[1:] {
				text = text.Op("+").Lit(" ").Op("+").Id("m").Dot(fd.GoName).Dot("String").Call()
			}
			if why != nil {
				text = text.Op("+").Lit(": ").Op("+").String().Parens(jen.Id("m").Dot(why.GoName))
			}
		}
		f.Line()
		prose(f, fmt.Sprintf("Error makes %s an error: a generated client returns the %s reply as its call's error.", m.Name, m.Name))
		f.Func().Params(jen.Id("m").Op("*").Id(m.Name)).Id("Error").Params().String().Block(jen.Return(text))
	}
}

// clientOptions prints a client connection's options: the caller's, and
// WithBlockingCallbacks, which keeps the connection off the event loops.
// On the loop backend a client called from a callback would otherwise
// wait, with that callback's loop stalled, for a reply that the same loop
// may be the one to read: it would never come.
func clientOptions() jen.Code {
	return jen.Append(jen.Index().Qual(runtimePkg, "Option").Values(jen.Qual(runtimePkg, "WithBlockingCallbacks").Call()), jen.Id("opts").Op("...")).Op("...")
}

// clientType prints the client of protocol p: its type, how to make one,
// and a method per request that declares its reply.
func clientType(f *jen.File, s *spec.Spec, p *spec.Protocol) {
	name := p.Client
	dial, newc := p.Member(spec.RoleClientDial).Name, p.Member(spec.RoleClientNew).Name
	match := "in the order of the requests"
	if clientCorrelates(p) {
		match = "by the id that each request and its reply carry"
	}
	f.Line()
	prose(f, fmt.Sprintf("%s is a client of %s, generated from %s: a method per request, which sends it and waits for its reply. Its methods are safe for concurrent use: the requests of many goroutines are pipelined on one connection, and the replies are matched to them %s. A caller waits, as long as its ctx allows, while the server does not read; every call waiting when the connection ends fails with why (an error matching protoflow.ErrConnectionLost), and so does every later one. Make one with %s or %s. Its connection is not on an event loop (protoflow.WithBlockingCallbacks), so that a call made from a callback of a server's connection still gets its reply; but that callback's loop waits meanwhile, so a server whose callbacks call a client should be made with protoflow.WithBlockingCallbacks too.", name, p.Name, s.Source, match, dial, newc))
	f.Type().Id(name).Struct(jen.Id("p").Op("*").Id(p.Name))

	f.Line()
	prose(f, fmt.Sprintf("%s connects to address on network (\"tcp\" or \"unix\") and returns a %s over a new %s.", dial, name, p.Name))
	f.Func().Id(dial).Params(jen.Id("ctx").Qual(contextPkg, "Context"), jen.List(jen.Id("network"), jen.Id("address")).String(), jen.Id("opts").Op("...").Qual(runtimePkg, "Option")).Params(jen.Op("*").Id(name), jen.Error()).Block(
		jen.Id("p").Op(":=").Id(p.Member(spec.RoleConstructor).Name).Call(),
		jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Qual(runtimePkg, "Dial").Call(jen.Id("ctx"), jen.Id("network"), jen.Id("address"), jen.Id("p"), clientOptions()), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err()),
		),
		jen.Return(jen.Op("&").Id(name).Values(jen.Id("p").Op(":").Id("p")), jen.Nil()),
	)

	f.Line()
	prose(f, fmt.Sprintf("%s returns a %s over nc, any connection (TLS, net.Pipe), which it owns from then on.", newc, name))
	f.Func().Id(newc).Params(jen.Id("nc").Qual(netPkg, "Conn"), jen.Id("opts").Op("...").Qual(runtimePkg, "Option")).Params(jen.Op("*").Id(name), jen.Error()).Block(
		jen.Id("p").Op(":=").Id(p.Member(spec.RoleConstructor).Name).Call(),
		jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Qual(runtimePkg, "Attach").Call(jen.Id("nc"), jen.Id("p"), clientOptions()), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err()),
		),
		jen.Return(jen.Op("&").Id(name).Values(jen.Id("p").Op(":").Id("p")), jen.Nil()),
	)

	f.Line()
	prose(f, fmt.Sprintf("Protocol returns the %s beneath c.", p.Name))
	f.Func().Params(jen.Id("c").Op("*").Id(name)).Id("Protocol").Params().Op("*").Id(p.Name).Block(jen.Return(jen.Id("c").Dot("p")))

	f.Line()
	prose(f, "Close closes the connection once the requests already sent are written; the calls still waiting fail. A second Close, or one after the connection ended, returns an error matching net.ErrClosed, as a net.Conn's does.")
	f.Func().Params(jen.Id("c").Op("*").Id(name)).Id("Close").Params().Error().Block(
		jen.Id("t").Op(":=").Id("c").Dot("p").Dot("Transport").Call(),
		jen.If(jen.Id("t").Op("==").Nil()).Block(jen.Return(jen.Qual("net", "ErrClosed"))),
		jen.Return(jen.Id("t").Dot("Close").Call()),
	)

	for _, m := range p.SentMessages() {
		if m.HasReply() {
			clientMethod(f, p, m)
		}
	}
}

// clientMethod prints the client's method for request m.
func clientMethod(f *jen.File, p *spec.Protocol, m *spec.Message) {
	var result jen.Code
	var what string
	switch {
	case m.Stream != nil:
		result = jen.Index().Op("*").Id(m.Stream.Name)
		what = fmt.Sprintf("the %s replies up to %s", m.Stream.Name, m.End.Name)
	case len(m.Replies) == 1:
		result = jen.Op("*").Id(m.Replies[0].Name)
		what = "its " + m.Replies[0].Name + " reply"
	default:
		result = jen.Id(m.Replies[0].Set.Name)
		names := make([]string, len(m.Replies))
		for i, r := range m.Replies {
			names[i] = "*" + r.Name
		}
		what = "its reply, one of " + strings.Join(names, ", ")
	}
	errs := errorReplies(p)
	errNote := ""
	if len(errs) > 0 {
		names := make([]string, len(errs))
		for i, e := range errs {
			names[i] = "*" + e.Name
		}
		errNote = " A " + strings.Join(names, " or ") + " reply is the error." // a *Fail
	}
	f.Line()
	idNote := ""
	if c := m.Set.Correlate; c != nil {
		idNote = fmt.Sprintf(" It leaves m as it is: the request it sends is a copy that carries the call's %s.", c.GoName)
	}
	if sl := m.Silencer; sl != nil {
		idNote += fmt.Sprintf(" With %s set, which tells the server not to reply, it returns once the request is sent, with no reply and a nil error.", sl.GoName)
	}
	prose(f, fmt.Sprintf("%s sends m and returns %s, a copy that may be kept.%s Other replies are an error.%s", m.Name, what, errNote, idNote))
	send := jen.Func().Params().Error().Block(jen.Return(jen.Id("c").Dot("p").Dot(m.Send).Call(jen.Id("m"))))
	accept := acceptFunc(m, errs)
	call := p.Member(spec.RoleCall).Name
	var body []jen.Code
	if sl := m.Silencer; sl != nil {
		// No reply comes to a request whose flag silences it: no accept.
		body = append(body,
			jen.Id("accept").Op(":=").Add(accept),
			jen.If(jen.Id("m").Dot(sl.GoName)).Block(jen.Id("accept").Op("=").Nil()),
		)
		accept = jen.Id("accept")
	}
	switch {
	case m.Set.Correlate != nil:
		c := m.Set.Correlate
		// The id as the field holds it, so that the reply's matches; in a
		// copy of m, which the caller may share with other goroutines.
		send = jen.Func().Params().Error().Block(jen.Return(jen.Id("c").Dot("p").Dot(m.Send).Call(jen.Op("&").Id("req"))))
		body = append(body,
			jen.Id("id").Op(":=").Add(elemGoType(c)).Parens(jen.Id("c").Dot("p").Dot(p.Member(spec.RoleNextID).Name).Dot("Add").Call(jen.Lit(1))),
			jen.Id("req").Op(":=").Op("*").Id("m"),
			jen.Id("req").Dot(c.GoName).Op("=").Id("id"),
			jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("c").Dot("p").Dot(call).Call(jen.Id("ctx"), jen.Uint64().Parens(jen.Id("id")), jen.True(), accept, send),
		)
	case clientCorrelates(p):
		body = append(body, jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("c").Dot("p").Dot(call).Call(jen.Id("ctx"), jen.Lit(0), jen.False(), accept, send))
	default:
		body = append(body, jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("c").Dot("p").Dot(call).Call(jen.Id("ctx"), accept, send))
	}
	body = append(body, jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())))
	if m.Silencer != nil {
		body = append(body, jen.If(jen.Id("accept").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Nil())))
	}
	// accept let only the call's replies through, and call returned the
	// error replies as errors: r is one of the call's.
	switch {
	case m.Stream != nil:
		body = append(body,
			jen.Id("items").Op(":=").Id("r").Assert(jen.Index().Any()),
			jen.Id("out").Op(":=").Make(jen.Index().Op("*").Id(m.Stream.Name), jen.Len(jen.Id("items"))),
			jen.For(jen.List(jen.Id("i"), jen.Id("item")).Op(":=").Range().Id("items")).Block(
				jen.Id("out").Index(jen.Id("i")).Op("=").Id("item").Assert(jen.Op("*").Id(m.Stream.Name)),
			),
			jen.Return(jen.Id("out"), jen.Nil()),
		)
	case len(m.Replies) == 1:
		body = append(body, jen.Return(jen.Id("r").Assert(jen.Op("*").Id(m.Replies[0].Name)), jen.Nil()))
	default:
		body = append(body, jen.Return(jen.Id("r").Assert(jen.Id(m.Replies[0].Set.Name)), jen.Nil()))
	}
	f.Func().Params(jen.Id("c").Op("*").Id(p.Client)).Id(m.Name).Params(jen.Id("ctx").Qual(contextPkg, "Context"), jen.Id("m").Op("*").Id(m.Name)).Params(result, jen.Error()).Block(body...)
}
