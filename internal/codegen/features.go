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
// the ResumeReading and feed methods that pass held frames on.
func framedDataReceived(f *jen.File, p *spec.Protocol) {
	recv := func() *jen.Statement { return jen.Func().Params(jen.Id("p").Op("*").Id(p.Name)) }
	hook := p.Hook(spec.FrameReceived)

	f.Line()
	prose(f, fmt.Sprintf("DataReceived implements protoflow.Protocol: it runs protoflow.BaseProtocol.DataReceived, "+
		"then splits data into %s, and passes each frame to %s.", p.Framing.Summary, hook.UserMethod))
	f.Add(recv()).Id("DataReceived").Params(jen.Id("data").Index().Byte()).Block(
		jen.Id("p").Dot("BaseProtocol").Dot("DataReceived").Call(jen.Id("data")),
		jen.Id("p").Dot("feed").Call(jen.Id("data")),
	)

	f.Line()
	prose(f, "PauseReading overrides protoflow.BaseProtocol.PauseReading: no frame is passed on while reading is "+
		"paused; the framer holds them. Call it from the protocol's callbacks.")
	f.Add(recv()).Id("PauseReading").Params().Error().Block(
		jen.Id("p").Dot("frames").Dot("Pause").Call(),
		jen.Return(jen.Id("p").Dot("BaseProtocol").Dot("PauseReading").Call()),
	)

	f.Line()
	prose(f, "ResumeReading overrides protoflow.BaseProtocol.ResumeReading: it first passes on the frames held "+
		"while reading was paused, and resumes reading only if none of them paused it again, so that what is "+
		"held never grows past one read. Called from a frame's hook, it leaves the held frames to the pass "+
		"already running, which delivers them in order. Call it from the protocol's callbacks, like every "+
		"method that passes frames on.")
	f.Add(recv()).Id("ResumeReading").Params().Error().Block(
		jen.Id("p").Dot("frames").Dot("Resume").Call(),
		jen.Id("p").Dot("feed").Call(jen.Nil()).Comment("from a frame's hook, the running feed passes them on"),
		jen.If(jen.Id("p").Dot("frames").Dot("Paused").Call()).Block(jen.Return(jen.Nil()).Comment("a frame paused reading again")),
		jen.Return(jen.Id("p").Dot("BaseProtocol").Dot("ResumeReading").Call()),
	)

	f.Line()
	prose(f, "feed passes the frames held and then those of data to frameReceived. A frame over its maximum size, "+
		"or a malformed one, aborts the connection, and ConnectionLost receives the error (matching "+
		"wire.ErrFrameTooLarge or wire.ErrBadFrame).")
	f.Add(recv()).Id("feed").Params(jen.Id("data").Index().Byte()).Block(
		jen.If(jen.Err().Op(":=").Id("p").Dot("frames").Dot("Feed").Call(jen.Id("data"), jen.Id("p").Dot(hook.Method)), jen.Err().Op("!=").Nil()).Block(
			jen.If(jen.Id("t").Op(":=").Id("p").Dot("Transport").Call(), jen.Id("t").Op("!=").Nil()).Block(
				jen.Qual(runtimePkg, "AbortWithError").Call(jen.Id("t"), jen.Err()),
			),
		),
	)
}

// frameReceived prints the method that the framer calls for each frame.
func frameReceived(f *jen.File, p *spec.Protocol, h *spec.Hook) {
	f.Line()
	prose(f, fmt.Sprintf("frameReceived passes one frame to %s. Once the connection is closing it refuses the "+
		"frame instead, and the framer holds it and those after it. While reading is paused the framer, paused "+
		"with it, holds the frames itself: so no frame arrives while reading is paused, as no data would, "+
		"except those ResumeReading passes on.", h.UserMethod))
	f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(h.Method).Params(jen.Id("frame").Index().Byte()).Bool().Block(
		jen.If(jen.Id("t").Op(":=").Id("p").Dot("Transport").Call(), jen.Id("t").Op("==").Nil().Op("||").Id("t").Dot("IsClosing").Call()).Block(
			jen.Return(jen.False()),
		),
		jen.Id("p").Dot(h.UserMethod).Call(jen.Id("frame")),
		jen.Return(jen.True()),
	)
}

// timeoutMethod prints Timeout, which makes the protocol a
// protoflow.TimeoutHandler.
func timeoutMethod(f *jen.File, p *spec.Protocol, h *spec.Hook) {
	f.Line()
	prose(f, fmt.Sprintf("Timeout implements protoflow.TimeoutHandler: it calls %s, in place of closing the connection.", h.UserMethod))
	f.Add(hookSignature(jen.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id(h.Method), h)).Block(
		jen.Id("p").Dot(h.UserMethod).Call(jen.Id("kind")),
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
