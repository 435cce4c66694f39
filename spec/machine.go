package spec

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Machine is a protocol's state machine: its states, the events that move
// it, and the transitions, with every Go name decided.
type Machine struct {
	Pos Pos // the machine's mapping in the spec
	// StateType and EventType name the generated enum types, such as
	// ServerState and ServerEvent.
	StateType, EventType string
	// States are the states with the initial one first (so that it is the
	// zero value), then the others in spec order.
	States []*State
	// Events are the events in the order they first appear in transitions.
	Events []*Event
	// Transitions are in spec order, one per source state (a transition
	// from several states is listed once for each).
	Transitions []*Transition
}

// State is one state of a machine.
type State struct {
	Pos Pos // where the spec's states list it
	// Name is the state's name in the spec, which String returns.
	Name string
	// Const is the Go constant, such as ServerStateReady.
	Const string
}

// Event is one event of a machine.
type Event struct {
	Pos   Pos    // where a transition first names it
	Name  string // the event's name in the spec, which String returns
	Const string // the Go constant, such as ServerEventHello
}

// Transition moves the machine from From to To on Event.
type Transition struct {
	Pos      Pos    // the transition's from state in the spec
	From, To *State // the states it leaves and enters
	Event    *Event // the event that fires it
}

// Diagram returns the machine as a Mermaid stateDiagram-v2, one line per
// element, for doc comments and READMEs.
func (m *Machine) Diagram() []string {
	lines := []string{"stateDiagram-v2", "    [*] --> " + m.States[0].Name}
	for _, t := range m.Transitions {
		lines = append(lines, fmt.Sprintf("    %s --> %s: %s", t.From.Name, t.To.Name, t.Event.Name))
	}
	return lines
}

// Keys of a machine and of a transition.
var (
	machineKeys    = []string{"initial", "states", "transitions"}
	transitionKeys = []string{"from", "on", "to"}
)

// machineName is what a state or event name may be: it becomes part of a
// Go identifier and a Mermaid diagram.
var machineName = regexp.MustCompile(machineNamePattern) // the schema says the same

// machine decodes a protocol's state machine.
func (d *decoder) machine(n *yaml.Node, protocol string) *Machine {
	if isNull(n) {
		return nil
	}
	m := &Machine{Pos: posOf(n), StateType: stateTypeName(protocol), EventType: eventTypeName(protocol)}
	var initialNode, statesNode, transNode *yaml.Node
	if !d.mapping(n, "machine", machineKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "initial":
			initialNode = v
		case "states":
			statesNode = v
		case "transitions":
			transNode = v
		}
	}) {
		return nil
	}
	ok := true
	states := make(map[string]*State)
	consts := make(map[string]string) // Go constant → the name it came from
	bad := make(map[string]bool)      // states listed but left out for an error of their own
	var order []*State
	if statesNode == nil || isNull(statesNode) {
		d.missingf(n, "machine: missing states: list every state, as in [greeting, ready, closed]")
		return nil
	}
	d.sequence(statesNode, "machine: states", func(item *yaml.Node) {
		name, good := d.str(item, "state")
		if !good || !d.machineName(item, "state", name) {
			bad[name] = good
			ok = false
			return
		}
		if first, dup := states[name]; dup {
			d.errorf(item, "state %s listed twice (first at %v%s)", name, first.Pos, throughAlias(first.Pos, posOf(item)))
			ok = false
			return
		}
		s := &State{Pos: posOf(item), Name: name, Const: enumConstName(m.StateType, name)}
		if other, clash := consts[s.Const]; clash {
			d.errorf(item, "state %s and state %s would both be the constant %s", name, other, s.Const)
			bad[name] = true
			ok = false
			return
		}
		consts[s.Const] = name
		states[name] = s
		order = append(order, s)
	})
	if statesNode.Kind == yaml.SequenceNode && len(statesNode.Content) == 0 {
		d.errorf(statesNode, "machine: states: list at least one state")
		return nil
	}
	var initial *State
	switch {
	case initialNode == nil || isNull(initialNode):
		d.missingf(n, "machine: missing initial: name the state a connection starts in")
		ok = false
	default:
		if name, good := d.str(initialNode, "machine: initial"); good {
			if initial = states[name]; initial == nil && !bad[name] {
				d.errorf(initialNode, "machine: initial state %q is not among the states%s", name, didYouMean(name, stateNames(order)))
				ok = false
			}
		} else {
			ok = false
		}
	}
	events := make(map[string]*Event)
	type edge struct{ from, event string }
	seen := make(map[edge]Pos)
	// reach holds every move that a transition may make, whatever else is
	// wrong with it (a duplicate, a bad event), so that a state is called
	// unreachable only when no reading of the transitions reaches it. A
	// nil from stands for a state the spec names wrongly: any state. A
	// transition whose target is unknown leaves reach incomplete, and then
	// no state is called unreachable.
	var reach []move
	reachKnown := true
	if transNode == nil { // a machine of one state needs no transitions
		transNode = &yaml.Node{Kind: yaml.SequenceNode}
	}
	listed := d.sequence(transNode, "machine: transitions", func(item *yaml.Node) {
		var froms []*yaml.Node
		var to *State
		var ev *Event
		complete := map[string]bool{}
		good := d.mapping(item, "transition", transitionKeys, func(key string, k, v *yaml.Node) {
			complete[key] = true
			switch key {
			case "from":
				if v.Kind == yaml.SequenceNode {
					d.sequence(v, "transition: from", func(s *yaml.Node) { froms = append(froms, s) })
					if len(v.Content) == 0 {
						d.errorf(v, "transition: from: list at least one state")
						ok = false
					}
				} else {
					froms = append(froms, v)
				}
			case "to":
				to = d.stateRef(v, "to", states, order, bad)
				if to == nil {
					ok = false
				}
			case "on":
				name, good := d.str(v, "transition: on")
				if !good || !d.machineName(v, "event", name) {
					ok = false
					return
				}
				if ev = events[name]; ev == nil {
					ev = &Event{Pos: posOf(v), Name: name, Const: enumConstName(m.EventType, name)}
					if other, clash := consts[ev.Const]; clash {
						d.errorf(v, "event %s and %s would both be the constant %s", name, other, ev.Const)
						ok = false
						ev = nil
						return
					}
					consts[ev.Const] = name
					events[name] = ev
					m.Events = append(m.Events, ev)
				}
			}
		})
		if !good || to == nil {
			reachKnown = false
		}
		if !good {
			ok = false
			return
		}
		for _, key := range transitionKeys {
			if !complete[key] {
				d.missingf(item, "transition: missing %s", key)
				ok = false
			}
		}
		if len(froms) == 0 && to != nil {
			reach = append(reach, move{nil, to}) // from is missing: reported above
		}
		for _, fn := range froms {
			from := d.stateRef(fn, "from", states, order, bad)
			if to != nil {
				reach = append(reach, move{from, to})
			}
			if from == nil || to == nil || ev == nil {
				ok = false
				continue
			}
			e := edge{from.Name, ev.Name}
			if first, dup := seen[e]; dup {
				d.errorf(fn, "transition from %s on %s is declared twice (first at %v): a state has one transition per event", from.Name, ev.Name, first)
				ok = false
				continue
			}
			seen[e] = posOf(fn)
			m.Transitions = append(m.Transitions, &Transition{Pos: posOf(fn), From: from, To: to, Event: ev})
		}
	})
	if initial == nil || !listed || !reachKnown {
		return nil
	}
	// Unreachable states are reported with the other problems, all at once.
	for _, s := range unreachable(initial, order, reach) {
		d.errorAt(s.Pos, "state %s cannot be reached from the initial state %s", s.Name, initial.Name)
		ok = false
	}
	if !ok {
		return nil
	}
	m.States = append([]*State{initial}, deleteState(order, initial)...)
	return m
}

// move is a step that a transition makes from one state to another; a nil
// from is any state.
type move struct{ from, to *State }

// stateRef resolves a transition's reference to a state; one left out for
// an error of its own (bad) is not reported again.
func (d *decoder) stateRef(n *yaml.Node, key string, states map[string]*State, order []*State, bad map[string]bool) *State {
	name, ok := d.str(n, "transition: "+key)
	if !ok {
		return nil
	}
	s := states[name]
	if s == nil && !bad[name] {
		d.errorf(n, "transition: %s: unknown state %q%s", key, name, didYouMean(name, stateNames(order)))
	}
	return s
}

// machineName checks a state or event name.
func (d *decoder) machineName(n *yaml.Node, what, name string) bool {
	if !machineName.MatchString(name) {
		d.errorf(n, "%s %q: use ASCII letters, digits and underscores, starting with a letter", what, name)
		return false
	}
	return true
}

// unreachable returns the states that no path of moves reaches from the
// initial state, in spec order.
func unreachable(initial *State, states []*State, moves []move) []*State {
	reached := map[*State]bool{initial: true}
	for grew := true; grew; {
		grew = false
		for _, mv := range moves {
			if (mv.from == nil || reached[mv.from]) && !reached[mv.to] {
				reached[mv.to] = true
				grew = true
			}
		}
	}
	var out []*State
	for _, s := range states {
		if !reached[s] {
			out = append(out, s)
		}
	}
	return out
}

func stateNames(states []*State) []string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = s.Name
	}
	return names
}

func deleteState(states []*State, drop *State) []*State {
	var out []*State
	for _, s := range states {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// camel turns a state or event name into the tail of a Go identifier:
// auth_wait → AuthWait, ready → Ready.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part != "" {
			b.WriteString(upperFirst(part))
		}
	}
	return b.String()
}
