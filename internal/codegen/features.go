package codegen

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// framedDataReceived prints the DataReceived of a framed protocol, with
// the PauseReading, ResumeReading and feed methods that hold frames and
// pass them on.
func framedDataReceived(f *jen.File, p *spec.Protocol) {
	base := p.Member(spec.RoleBase).Name
	frames := self().Dot(p.Member(spec.RoleFramer).Name)
	received := p.HookRunner(spec.DataReceived)
	feed := p.Member(spec.RoleFeed)
	pause, resume := p.Member(spec.RolePauseReading), p.Member(spec.RoleResumeReading)
	runner := p.HookRunner(spec.FrameReceived)
	data := received.Params[0].Name
	summary, to := framingSummary(p), ""
	if h := p.Hook(spec.FrameReceived); h != nil {
		to = h.User.Name
	} else {
		to = p.Member(spec.RoleDispatch).Name
	}

	f.Line()
	prose(f, fmt.Sprintf("%s implements protoflow.Protocol: it runs protoflow.%s.%s, "+
		"then splits %s into %s, and passes each frame to %s.", received.Name, base, received.Name, data, summary, to))
	f.Add(methodDecl(p, received)).Block(
		self().Dot(base).Dot(received.Name).Call(paramArgs(received)...),
		self().Dot(feed.Name).Call(paramArgs(received)...),
	)

	f.Line()
	prose(f, fmt.Sprintf("%s overrides protoflow.%s.%s: no frame is passed on while reading is "+
		"paused; the framer holds them. Call it from the protocol's callbacks.", pause.Name, base, pause.Name))
	f.Add(methodDecl(p, pause)).Block(
		frames.Clone().Dot("Pause").Call(),
		jen.Return(self().Dot(base).Dot(pause.Name).Call()),
	)

	f.Line()
	prose(f, fmt.Sprintf("%s overrides protoflow.%s.%s: it first passes on the frames held "+
		"while reading was paused, and resumes reading only if none of them paused it again, so that what is "+
		"held never grows past one read. Called from a frame's hook, it leaves the held frames to the pass "+
		"already running, which delivers them in order. Call it from the protocol's callbacks, like every "+
		"method that passes frames on.", resume.Name, base, resume.Name))
	f.Add(methodDecl(p, resume)).Block(
		frames.Clone().Dot("Resume").Call(),
		self().Dot(feed.Name).Call(jen.Nil()).Comment("from a frame's hook, the running "+feed.Name+" passes them on"),
		jen.If(frames.Clone().Dot("Paused").Call()).Block(jen.Return(jen.Nil()).Comment("a frame paused reading again")),
		jen.Return(self().Dot(base).Dot(resume.Name).Call()),
	)

	f.Line()
	ending := "aborts the connection, and ConnectionLost receives the error (matching " +
		"wire.ErrFrameTooLarge or wire.ErrBadFrame)"
	if h := p.Hook(spec.BadMessage); h != nil {
		ending = fmt.Sprintf("(an error matching wire.ErrFrameTooLarge or wire.ErrBadFrame) goes to %s, and then "+
			"ends the connection: closed once flushed if it returns true, else aborted with the error, which "+
			"ConnectionLost receives", h.User.Name)
	}
	prose(f, fmt.Sprintf("%s passes the frames held and then those of %s to %s. A frame over its maximum size, "+
		"or a malformed one, %s.", feed.Name, feed.Params[0].Name, runner.Name, ending))
	end := jen.Qual(runtimePkg, "AbortWithError").Call(jen.Id("t"), jen.Err())
	if h := p.Hook(spec.BadMessage); h != nil {
		// The stream cannot be read past a bad frame: the hook may answer,
		// and then the connection ends, flushed or not as it says.
		end = jen.If(self().Dot(h.User.Name).Call(jen.Err())).Block(jen.Id("t").Dot("Close").Call()).Else().Block(end)
	}
	f.Add(methodDecl(p, feed)).Block(
		jen.If(jen.Err().Op(":=").Add(frames.Clone()).Dot("Feed").Call(append(paramArgs(feed), self().Dot(runner.Name))...), jen.Err().Op("!=").Nil()).Block(
			jen.If(jen.Id("t").Op(":=").Add(self()).Dot("Transport").Call(), jen.Id("t").Op("!=").Nil()).Block(end),
		),
	)
}

// framingSummary describes how p's frames are split, for doc comments.
func framingSummary(p *spec.Protocol) string {
	if len(p.Receives) > 1 {
		return "the messages of the set that the connection's first bytes choose"
	}
	if p.Framing != nil {
		if len(p.Receives) == 1 && p.Receives[0].Encoding == spec.Text && p.Receives[0].HasBlocks() {
			return fmt.Sprintf("%s, a line that announces a data block followed by the block (at most %d bytes)", p.Framing.Summary, maxBlock(p.Receives[0]))
		}
		return p.Framing.Summary
	}
	s := p.Receives[0]
	return fmt.Sprintf("the messages of %s, whose header field %s holds their length", s.Name, s.FrameLength.Name)
}

// frameReceived prints the method that the framer calls for each frame,
// which passes it to the method called to.
func frameReceived(f *jen.File, p *spec.Protocol, h *spec.Hook, to string) {
	f.Line()
	prose(f, fmt.Sprintf("%s passes one frame to %s. Once the connection is closing it refuses the "+
		"frame instead, and the framer holds it and those after it. While reading is paused the framer, paused "+
		"with it, holds the frames itself: so no frame arrives while reading is paused, as no data would, "+
		"except those %s passes on.", h.Runner.Name, to, p.Member(spec.RoleResumeReading).Name))
	body := []jen.Code{
		jen.If(jen.Id("t").Op(":=").Add(self()).Dot("Transport").Call(), jen.Id("t").Op("==").Nil().Op("||").Id("t").Dot("IsClosing").Call()).Block(
			jen.Return(jen.False()),
		),
		self().Dot(to).Call(paramArgs(h.Runner)...),
	}
	if p.PauseReadingWithWriting {
		// Writing pauses inside the Write that crosses the high-water mark,
		// and PauseWriting comes only after this read's frames: pausing
		// here makes the framer hold the rest of them.
		body = append(body, jen.If(self().Dot("WritingPaused").Call()).Block(self().Dot("PauseReading").Call()).
			Comment("the replies backed up: hold the rest"))
	}
	body = append(body, jen.Return(jen.True()))
	f.Add(methodDecl(p, h.Runner)).Block(body...)
}

// timeoutMethod prints Timeout, which makes the protocol a
// protoflow.TimeoutHandler.
func timeoutMethod(f *jen.File, p *spec.Protocol, h *spec.Hook) {
	f.Line()
	prose(f, fmt.Sprintf("%s implements protoflow.TimeoutHandler: it calls %s, in place of closing the connection.", h.Runner.Name, h.User.Name))
	f.Add(methodDecl(p, h.Runner)).Block(
		self().Dot(h.User.Name).Call(paramArgs(h.Runner)...),
	)
}

// timeoutDefault prints m, the method that does what protoflow does when a
// timeout expires and the protocol has no timeout hook: abort with a
// *protoflow.TimeoutError for the spec's period. The timeout hook's stub
// calls it, so that declaring the hook changes nothing until the user
// edits its method.
func timeoutDefault(f *jen.File, p *spec.Protocol, m *spec.Member) {
	kind := m.Params[0].Name
	f.Line()
	prose(f, fmt.Sprintf("%s does what protoflow does when a timeout expires and the protocol has no "+
		"timeout hook: it aborts the connection, and ConnectionLost receives a *protoflow.TimeoutError "+
		"for the period that the spec sets (%s). The stub of %s calls it.",
		m.Name, strings.Join(periodsDoc(p), " and "), spec.Timeout.UserMethod()))
	var cases []jen.Code
	for _, t := range []struct {
		kind string
		d    time.Duration
	}{{"ReadTimeout", p.ReadTimeout}, {"IdleTimeout", p.IdleTimeout}, {"FrameTimeout", p.FrameTimeout}} {
		if t.d > 0 {
			cases = append(cases, jen.Case(jen.Qual(runtimePkg, t.kind)).Block(jen.Id("after").Op("=").Add(durationCode(t.d))))
		}
	}
	f.Add(methodDecl(p, m)).Block(
		jen.Var().Id("after").Qual("time", "Duration").Comment("the spec's period for "+kind),
		jen.Switch(jen.Id(kind)).Block(cases...),
		jen.Qual(runtimePkg, "AbortWithError").Call(self().Dot("Transport").Call(),
			jen.Op("&").Qual(runtimePkg, "TimeoutError").Values(jen.Id("Kind").Op(":").Id(kind), jen.Id("After").Op(":").Id("after"))),
	)
}

// codecCode prints the composite literal of a framing's codec: its type,
// qualified by its own package's path, and each field that differs from
// its zero value, in the order the type declares them. It reads the codec
// by reflection, so that a codec field the spec comes to set needs nothing
// here.
func codecCode(fr *spec.Framing) jen.Code {
	v := reflect.ValueOf(fr.Codec)
	t := v.Type()
	var fields []jen.Code
	for i := range t.NumField() {
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		if !t.Field(i).IsExported() {
			panic(fmt.Sprintf("codegen: %s has an unexported field %s set, which a literal cannot write", t, t.Field(i).Name))
		}
		fields = append(fields, jen.Id(t.Field(i).Name).Op(":").Add(valueCode(fv)))
	}
	return jen.Qual(t.PkgPath(), t.Name()).Values(fields...)
}

// valueCode prints the value of a codec's field.
func valueCode(v reflect.Value) jen.Code {
	switch {
	case v.Kind() == reflect.Bool:
		return jen.Lit(v.Bool())
	case v.Kind() == reflect.Int:
		return jen.Lit(int(v.Int()))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return jen.Index().Byte().Parens(jen.Lit(string(v.Bytes())))
	}
	panic(fmt.Sprintf("codegen: no literal for a codec field of type %s", v.Type()))
}

// durationUnits are the units a duration is printed in, largest first.
var durationUnits = []struct {
	d    time.Duration
	name string
}{
	{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"},
	{time.Millisecond, "Millisecond"}, {time.Microsecond, "Microsecond"}, {time.Nanosecond, "Nanosecond"},
}

// durationCode prints d the way a person writes it: 90 * time.Second,
// time.Minute, or 0.
func durationCode(d time.Duration) jen.Code {
	if d == 0 {
		return jen.Lit(0)
	}
	for _, u := range durationUnits {
		if d%u.d == 0 {
			if d == u.d {
				return jen.Qual("time", u.name)
			}
			return jen.Lit(int(d/u.d)).Op("*").Qual("time", u.name)
		}
	}
	panic("unreachable: every duration is a whole number of nanoseconds")
}

// timeoutsDoc describes the timeouts that ConnectionMade sets.
func timeoutsDoc(p *spec.Protocol) string {
	var parts []string
	if p.ReadTimeout > 0 {
		parts = append(parts, "a read timeout of "+p.ReadTimeout.String())
	}
	if p.IdleTimeout > 0 {
		parts = append(parts, "an idle timeout of "+p.IdleTimeout.String())
	}
	return "sets " + strings.Join(parts, " and ")
}

// periodsDoc names every timeout that the spec sets, with its period, the
// frame timeout included.
func periodsDoc(p *spec.Protocol) []string {
	var parts []string
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"a read timeout", p.ReadTimeout}, {"an idle timeout", p.IdleTimeout}, {"a frame timeout", p.FrameTimeout}} {
		if t.d > 0 {
			parts = append(parts, t.name+" of "+t.d.String())
		}
	}
	return parts
}
