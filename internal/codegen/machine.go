package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/protogen/protogen/spec"
)

// machine prints a protocol's state machine: the state and event enums with
// String methods, the transition table as a method of the state type, and
// the protocol's State and Fire methods.
func machine(f *jen.File, p *spec.Protocol) {
	m := p.Machine

	f.Line()
	prose(f, fmt.Sprintf("%s is a state of %s's state machine. The zero value is the initial state, %s:", m.StateType, p.Name, m.States[0].Name))
	f.Add(commentLine(""))
	for _, line := range m.Diagram() {
		f.Add(commentLine("\t" + line))
	}
	f.Type().Id(m.StateType).Uint8()
	enum(f, m.StateType, fmt.Sprintf("The states of %s's state machine, the initial one first.", p.Name),
		len(m.States), func(i int) (string, string) { return m.States[i].Const, m.States[i].Name })

	f.Line()
	prose(f, fmt.Sprintf("%s is an event that moves %s's state machine: pass it to Fire.", m.EventType, p.Name))
	f.Type().Id(m.EventType).Uint8()
	enum(f, m.EventType, fmt.Sprintf("The events of %s's state machine.", p.Name),
		len(m.Events), func(i int) (string, string) { return m.Events[i].Const, m.Events[i].Name })

	// The transition table, as a switch on the state and then the event.
	f.Line()
	prose(f, "next returns the state that event e moves s to, and false when s has no transition on e.")
	var cases []jen.Code
	for _, s := range m.States {
		var evCases []jen.Code
		for _, t := range m.Transitions {
			if t.From == s {
				evCases = append(evCases, jen.Case(jen.Id(t.Event.Const)).Block(jen.Return(jen.Id(t.To.Const), jen.True())))
			}
		}
		if len(evCases) > 0 {
			cases = append(cases, jen.Case(jen.Id(s.Const)).Block(jen.Switch(jen.Id("e")).Block(evCases...)))
		}
	}
	body := []jen.Code{jen.Return(jen.Id("s"), jen.False())}
	if len(cases) > 0 {
		body = append([]jen.Code{jen.Switch(jen.Id("s")).Block(cases...)}, body...)
	}
	f.Func().Params(jen.Id("s").Id(m.StateType)).Id("next").Params(jen.Id("e").Id(m.EventType)).Params(jen.Id(m.StateType), jen.Bool()).Block(body...)

	f.Line()
	prose(f, fmt.Sprintf("State returns the current state of %s's state machine. Like Fire, call it from %s's callbacks: the machine is not safe for concurrent use.", p.Name, p.Name))
	f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id("State").Params().Id(m.StateType).Block(jen.Return(jen.Id("p").Dot("state")))

	f.Line()
	hook := p.Hook(spec.StateChanged)
	doc := fmt.Sprintf("Fire moves %s's state machine on event e. When the current state has no transition on e it returns a *protoflow.TransitionError naming both, and leaves the state as it was.", p.Name)
	if hook != nil {
		doc += fmt.Sprintf(" Otherwise it moves to the new state and then calls %s.", hook.UserMethod)
	}
	doc += " Call it from the protocol's callbacks: the machine is not safe for concurrent use."
	prose(f, doc)
	fire := []jen.Code{
		jen.List(jen.Id("to"), jen.Id("ok")).Op(":=").Id("p").Dot("state").Dot("next").Call(jen.Id("e")),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Op("&").Qual(runtimePkg, "TransitionError").Values(jen.Dict{
			jen.Id("Machine"): jen.Lit(p.Name),
			jen.Id("State"):   jen.Id("p").Dot("state").Dot("String").Call(),
			jen.Id("Event"):   jen.Id("e").Dot("String").Call(),
		}))),
	}
	if hook != nil {
		fire = append(fire,
			jen.Id("from").Op(":=").Id("p").Dot("state"),
			jen.Id("p").Dot("state").Op("=").Id("to"),
			jen.Id("p").Dot(hook.UserMethod).Call(jen.Id("from"), jen.Id("to")),
		)
	} else {
		fire = append(fire, jen.Id("p").Dot("state").Op("=").Id("to"))
	}
	fire = append(fire, jen.Return(jen.Nil()))
	f.Func().Params(jen.Id("p").Op("*").Id(p.Name)).Id("Fire").Params(jen.Id("e").Id(m.EventType)).Error().Block(fire...)
}

// enum prints the constants of an enum type, numbered from zero, and its
// String method, which returns each constant's name in the spec.
func enum(f *jen.File, typ, doc string, n int, constant func(i int) (goName, specName string)) {
	defs := make([]jen.Code, n)
	names := make([]jen.Code, n)
	for i := range n {
		goName, specName := constant(i)
		if i == 0 {
			defs[i] = jen.Id(goName).Id(typ).Op("=").Iota()
		} else {
			defs[i] = jen.Id(goName)
		}
		names[i] = jen.Id(goName).Op(":").Lit(specName)
	}
	if n > 0 {
		f.Line()
		prose(f, doc)
		f.Const().Defs(defs...)
	}
	f.Line()
	prose(f, "String returns the name the spec gives it.")
	table := jen.Index(jen.Op("...")).String().ValuesFunc(func(g *jen.Group) {
		for _, c := range names {
			g.Line().Add(c)
		}
		if n > 0 {
			g.Line()
		}
	})
	f.Func().Params(jen.Id("v").Id(typ)).Id("String").Params().String().Block(
		jen.Id("names").Op(":=").Add(table),
		jen.If(jen.Int().Parens(jen.Id("v")).Op("<").Len(jen.Id("names"))).Block(jen.Return(jen.Id("names").Index(jen.Id("v")))),
		jen.Return(jen.Lit(typ+"(").Op("+").Qual("strconv", "Itoa").Call(jen.Int().Parens(jen.Id("v"))).Op("+").Lit(")")),
	)
}
