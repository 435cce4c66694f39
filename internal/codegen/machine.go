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
	stateType, eventType := p.Member(spec.RoleStateType), p.Member(spec.RoleEventType)
	next, fire := p.Member(spec.RoleNext), p.Member(spec.RoleFire)
	state := self().Dot(p.Member(spec.RoleState).Name)
	str := p.Member(spec.RoleStateString).Name

	f.Line()
	prose(f, fmt.Sprintf("%s is a state of %s's state machine. The zero value is the initial state, %s:", m.StateType, p.Name, m.States[0].Name))
	f.Add(commentLine(""))
	for _, line := range m.Diagram() {
		f.Add(commentLine("\t" + line))
	}
	f.Type().Id(stateType.Name).Add(typeCode(stateType.Type))
	enum(f, p.Member(spec.RoleStateString), fmt.Sprintf("The states of %s's state machine, the initial one first.", p.Name),
		len(m.States), func(i int) (string, string) { return m.States[i].Const, m.States[i].Name })

	f.Line()
	prose(f, fmt.Sprintf("%s is an event that moves %s's state machine: pass it to %s.", m.EventType, p.Name, fire.Name))
	f.Type().Id(eventType.Name).Add(typeCode(eventType.Type))
	enum(f, p.Member(spec.RoleEventString), fmt.Sprintf("The events of %s's state machine.", p.Name),
		len(m.Events), func(i int) (string, string) { return m.Events[i].Const, m.Events[i].Name })

	// The transition table, as a switch on the state and then the event.
	e := jen.Id(next.Params[0].Name)
	f.Line()
	prose(f, fmt.Sprintf("%s returns the state that event %s moves s to, and false when s has no transition on %s.", next.Name, next.Params[0].Name, next.Params[0].Name))
	var cases []jen.Code
	for _, s := range m.States {
		var evCases []jen.Code
		for _, t := range m.Transitions {
			if t.From == s {
				evCases = append(evCases, jen.Case(jen.Id(t.Event.Const)).Block(jen.Return(jen.Id(t.To.Const), jen.True())))
			}
		}
		if len(evCases) > 0 {
			cases = append(cases, jen.Case(jen.Id(s.Const)).Block(jen.Switch(e.Clone()).Block(evCases...)))
		}
	}
	body := []jen.Code{jen.Return(jen.Id("s"), jen.False())}
	if len(cases) > 0 {
		body = append([]jen.Code{jen.Switch(jen.Id("s")).Block(cases...)}, body...)
	}
	f.Add(memberSignature(jen.Func().Params(jen.Id("s").Id(m.StateType)).Id(next.Name), next)).Block(body...)

	get := p.Member(spec.RoleStateMethod)
	f.Line()
	prose(f, fmt.Sprintf("%s returns the current state of %s's state machine. Like %s, call it from %s's callbacks: the machine is not safe for concurrent use.", get.Name, p.Name, fire.Name, p.Name))
	f.Add(methodDecl(p, get)).Block(jen.Return(state.Clone()))

	f.Line()
	hook := p.Hook(spec.StateChanged)
	ev := fire.Params[0].Name
	doc := fmt.Sprintf("%s moves %s's state machine on event %s. When the current state has no transition on %s it returns a *protoflow.TransitionError naming both, and leaves the state as it was.", fire.Name, p.Name, ev, ev)
	if hook != nil {
		doc += fmt.Sprintf(" Otherwise it moves to the new state and then calls %s.", hook.User.Name)
	}
	doc += " Call it from the protocol's callbacks: the machine is not safe for concurrent use."
	prose(f, doc)
	// The locals are named as the parameters of the state_changed hook,
	// which receives them.
	changed := p.UserHook(spec.StateChanged)
	from, to := jen.Id(changed.Params[0].Name), jen.Id(changed.Params[1].Name)
	body = []jen.Code{
		jen.List(to.Clone(), jen.Id("ok")).Op(":=").Add(state.Clone()).Dot(next.Name).Call(jen.Id(ev)),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Op("&").Qual(runtimePkg, "TransitionError").Values(jen.Dict{
			jen.Id("Machine"): jen.Lit(p.Name),
			jen.Id("State"):   state.Clone().Dot(str).Call(),
			jen.Id("Event"):   jen.Id(ev).Dot(p.Member(spec.RoleEventString).Name).Call(),
		}))),
	}
	if hook != nil {
		body = append(body,
			from.Clone().Op(":=").Add(state.Clone()),
			state.Clone().Op("=").Add(to.Clone()),
			self().Dot(hook.User.Name).Call(from.Clone(), to.Clone()),
		)
	} else {
		body = append(body, state.Clone().Op("=").Add(to.Clone()))
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Add(methodDecl(p, fire)).Block(body...)
}

// enum prints the constants of an enum type, numbered from zero, and its
// String method str, which returns each constant's name in the spec.
func enum(f *jen.File, str *spec.Member, doc string, n int, constant func(i int) (goName, specName string)) {
	typ := str.Recv
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
	prose(f, str.Name+" returns the name the spec gives it.")
	table := jen.Index(jen.Op("...")).String().ValuesFunc(func(g *jen.Group) {
		for _, c := range names {
			g.Line().Add(c)
		}
		if n > 0 {
			g.Line()
		}
	})
	f.Add(memberSignature(jen.Func().Params(jen.Id("v").Id(typ)).Id(str.Name), str)).Block(
		jen.Id("names").Op(":=").Add(table),
		jen.If(jen.Int().Parens(jen.Id("v")).Op("<").Len(jen.Id("names"))).Block(jen.Return(jen.Id("names").Index(jen.Id("v")))),
		jen.Return(jen.Lit(typ+"(").Op("+").Qual("strconv", "Itoa").Call(jen.Int().Parens(jen.Id("v"))).Op("+").Lit(")")),
	)
}
