package spec

import (
	"go/ast"
	"reflect"
	"strings"

	"github.com/protogen/protogen/runtime/protoflow"
)

// This file is the table of every name that generated code declares or asks
// the user to write: each member's name, kind and signature is written
// here once. Validation refuses a state field that takes a member's name,
// the emitter prints members by their role, and the hook file's stubs,
// the scaffold and the starter's hook file print the hook methods from
// here. A new generated member (typed messages will add many: a type per
// message, Send<Msg> and Append<Msg>, a hook on<Msg>) is a new role and a
// new row of declareMembers, with a loop over the messages.

// MemberKind says what kind of declaration a member is.
type MemberKind int

// The kinds of member.
const (
	// KindEmbedded is a type that the protocol type embeds.
	KindEmbedded MemberKind = iota
	// KindField is a field of the protocol type.
	KindField
	// KindMethod is a method: one the generated code defines, or one the
	// protocol type has through what it embeds.
	KindMethod
	// KindHookMethod is a hook method that the user writes.
	KindHookMethod
	// KindType, KindFunc and KindConst are package-level declarations of
	// the generated code.
	KindType
	KindFunc
	KindConst
)

// PackageLevel reports whether k is a package-level declaration rather
// than a member of a type.
func (k MemberKind) PackageLevel() bool { return k >= KindType }

// Role says what a member is for. The emitter finds each member by its
// role and prints the name and signature the table gives it. Roles that
// several members share (one per hook) are told apart by Member.Hook.
type Role int

// The roles of members.
const (
	RoleType           Role = iota // the protocol type
	RoleConstructor                // the function that returns a new value
	RoleHooksInterface             // the interface of the hook methods the user writes
	RoleBase                       // the embedded protoflow.BaseProtocol
	RolePromoted                   // a method of BaseProtocol that no other role names
	RoleHookRunner                 // the method that runs a hook
	RoleUserHook                   // the hook method the user writes
	RoleFramer                     // a framed protocol's framer
	RoleFeed                       // the method that passes data to the framer
	RolePauseReading               // a framed protocol's PauseReading, which pauses the framer too
	RoleResumeReading              // a framed protocol's ResumeReading, which passes held frames on
	RoleState                      // the state machine's current state
	RoleStateMethod                // the method that returns it
	RoleFire                       // the method that moves the state machine
	RoleStateType                  // the enum of the states
	RoleEventType                  // the enum of the events
	RoleStateConst                 // a state's constant
	RoleEventConst                 // an event's constant
	RoleNext                       // the state type's transition table
	RoleStateString                // the state type's String
	RoleEventString                // the event type's String
)

// Member is one name that the generated code declares or asks the user to
// write.
type Member struct {
	Role Role       // what it is for
	Kind MemberKind // what kind of declaration it is
	Name string     // its Go name
	// Recv is the type whose field or method the member is: the protocol
	// type, or its state or event type; empty for a package-level name.
	Recv string
	// Hook is the hook of a RoleHookRunner or RoleUserHook member.
	Hook HookKind
	// Type is a field's type, or the type that a package-level type or
	// constant is declared with.
	Type *Type
	// Params and Results are the signature of a function or of a method
	// that the generated code declares or the user writes; nil for a
	// method promoted from BaseProtocol, which the runtime declares.
	Params, Results []Param
	// What says what the member is, for an error about a name that
	// collides with it.
	What string
}

// Types returns the types that the member's declaration writes: its
// field's type and those of its signature.
func (m *Member) Types() []*Type {
	var ts []*Type
	if m.Type != nil {
		ts = append(ts, m.Type)
	}
	for _, prm := range m.Params {
		ts = append(ts, prm.Type)
	}
	for _, prm := range m.Results {
		ts = append(ts, prm.Type)
	}
	return ts
}

// Signature prints m's parameters and results as Go source, such as
// "(frame []byte) bool", writing each import path as the package name that
// name returns for it.
func (m *Member) Signature(name func(path string) string) string {
	list := func(ps []Param) string {
		parts := make([]string, len(ps))
		for i, prm := range ps {
			parts[i] = strings.TrimSpace(prm.Name + " " + prm.Type.Format(name))
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	sig := list(m.Params)
	switch {
	case len(m.Results) == 1 && m.Results[0].Name == "":
		sig += " " + m.Results[0].Type.Format(name)
	case len(m.Results) > 0:
		sig += " " + list(m.Results)
	}
	return sig
}

// Param is one parameter or result of a member's signature.
type Param struct {
	Name string // the parameter's name, such as "data"; empty for a result
	Type *Type  // its type, such as []byte
}

// feature is what a protocol must use for the generated type to have a
// member: the names of a feature are reserved only when the protocol uses
// it, so that a spec written before the feature existed stays valid.
type feature int

const (
	always feature = iota
	framed
	withMachine
	withTimeouts
)

func (p *Protocol) uses(f feature) bool {
	switch f {
	case framed:
		return p.Framing != nil
	case withMachine:
		return p.Machine != nil
	case withTimeouts:
		return p.HasTimeouts() || p.FrameTimeout > 0
	}
	return true
}

// hookInfo is what a hook kind fixes: its name in a spec, the text of its
// stub, and the methods that run it and that the user writes.
type hookInfo struct {
	specName string // such as "data_received"
	doc      string // when the hook runs, for the stub the user starts from
	stubBody string // the stub's body: empty, or a return statement
	needs    feature
	// runner is the method of the generated type that runs the hook, such
	// as "DataReceived": a protoflow.Protocol method, protoflow's optional
	// "Timeout", or an unexported one that the generated code calls
	// itself; empty when the generated code calls the user's method
	// directly (Fire calls onStateChanged).
	runner   string
	protocol bool // the runner is a method of protoflow.Protocol
	// user is the hook method the user writes, such as "onDataReceived".
	user string
	// params are the parameters of both methods (the runner passes its own
	// on); nil for state_changed, whose have the protocol's state type.
	params []Param
	// runnerResults and userResults are the methods' results.
	runnerResults, userResults []Param
}

// hookInfos is the table's row for each hook kind, indexed by kind.
var hookInfos = [numHooks]hookInfo{
	ConnectionMade: {
		specName: "connection_made", runner: "ConnectionMade", protocol: true, user: "onConnectionMade",
		params: []Param{{"t", transportType}},
		doc:    "runs once the connection is ready, after the base ConnectionMade has stored t.",
	},
	DataReceived: {
		specName: "data_received", runner: "DataReceived", protocol: true, user: "onDataReceived",
		params: []Param{{"data", bytesType}},
		doc:    "runs for the bytes read from the peer; data is only valid during the call.",
	},
	FrameReceived: {
		specName: "frame_received", runner: "frameReceived", user: "onFrameReceived", needs: framed,
		params: []Param{{"frame", bytesType}},
		// false refuses the frame: the framer holds it (see wire.Framer.Feed).
		runnerResults: []Param{{"", boolType}},
		doc:           "runs for each frame read from the peer, without its framing; frame is only valid during the call.",
	},
	EOFReceived: {
		specName: "eof_received", runner: "EOFReceived", protocol: true, user: "onEOFReceived",
		runnerResults: []Param{{"", boolType}}, userResults: []Param{{"", boolType}},
		doc:      "runs when the peer closes its write side; return true to keep the write side open.",
		stubBody: "return false",
	},
	ConnectionLost: {
		specName: "connection_lost", runner: "ConnectionLost", protocol: true, user: "onConnectionLost",
		params: []Param{{"err", errorType}},
		doc:    "runs once when the connection is closed (err is nil for a clean close), after the base ConnectionLost has woken every Drain.",
	},
	PauseWriting: {
		specName: "pause_writing", runner: "PauseWriting", protocol: true, user: "onPauseWriting",
		doc: "runs when the transport's write buffer rises above its high-water mark.",
	},
	ResumeWriting: {
		specName: "resume_writing", runner: "ResumeWriting", protocol: true, user: "onResumeWriting",
		doc: "runs when the write buffer has drained to its low-water mark.",
	},
	StateChanged: {
		specName: "state_changed", user: "onStateChanged", needs: withMachine,
		doc: "runs after Fire has moved the state machine from one state to another.",
	},
	Timeout: {
		specName: "timeout", runner: "Timeout", user: "onTimeout", needs: withTimeouts,
		params: []Param{{"kind", timeoutKindType}},
		doc:    "runs when the read, idle or frame timeout expires, in place of closing the connection; the timer starts again.",
	},
}

// Naming rules of the package-level names that the table and the state
// machine's decoding share.
func constructorName(protocol string) string    { return "New" + protocol }
func hooksInterfaceName(protocol string) string { return lowerFirst(protocol) + "Hooks" }
func stateTypeName(protocol string) string      { return protocol + "State" }
func eventTypeName(protocol string) string      { return protocol + "Event" }
func enumConstName(enum, name string) string    { return enum + camel(name) }

// declareMembers lists every member of p's generated code whose feature p
// uses. It runs once the protocol's name, hooks, framing, state machine and
// timeouts are decoded.
func declareMembers(p *Protocol) []*Member {
	var ms []*Member
	add := func(m Member) { ms = append(ms, &m) }
	method := func(role Role, name, what string, params, results []Param) {
		add(Member{Role: role, Kind: KindMethod, Recv: p.Name, Name: name, Params: params, Results: results, What: what})
	}

	// The package-level names.
	add(Member{Role: RoleType, Kind: KindType, Name: p.Name, What: "type"})
	add(Member{Role: RoleConstructor, Kind: KindFunc, Name: constructorName(p.Name), What: "constructor",
		Results: []Param{{"", &Type{Src: "*" + p.Name, Expr: &ast.StarExpr{X: ast.NewIdent(p.Name)}}}}})
	if len(p.Hooks) > 0 {
		add(Member{Role: RoleHooksInterface, Kind: KindType, Name: hooksInterfaceName(p.Name), What: "hooks interface"})
	}

	// What every protocol type has: BaseProtocol and the six methods of a
	// protoflow.Protocol, run by hooks.
	add(Member{Role: RoleBase, Kind: KindEmbedded, Recv: p.Name, Name: "BaseProtocol", Type: baseProtocolType,
		What: "the embedded protoflow.BaseProtocol"})
	for k := range HookKind(numHooks) {
		info := hookInfos[k]
		if !p.uses(info.needs) {
			continue
		}
		params := info.params
		if k == StateChanged {
			state := localType(p.Machine.StateType)
			params = []Param{{"from", state}, {"to", state}}
		}
		if info.runner != "" {
			what := "the method that runs the " + info.specName + " hook"
			if info.protocol {
				what = "a method of protoflow.Protocol"
			}
			add(Member{Role: RoleHookRunner, Kind: KindMethod, Recv: p.Name, Hook: k, Name: info.runner,
				Params: params, Results: info.runnerResults, What: what})
		}
		add(Member{Role: RoleUserHook, Kind: KindHookMethod, Recv: p.Name, Hook: k, Name: info.user,
			Params: params, Results: info.userResults, What: "the " + info.specName + " hook method"})
	}

	// Framing: the framer, and the reading methods that pass frames on.
	if p.uses(framed) {
		add(Member{Role: RoleFramer, Kind: KindField, Recv: p.Name, Name: "frames", Type: framerType,
			What: "the framer of a framed protocol"})
		method(RoleFeed, "feed", "the method that passes data to the framer", []Param{{"data", bytesType}}, nil)
		errResult := []Param{{"", errorType}}
		method(RolePauseReading, "PauseReading", "a method of protoflow.BaseProtocol", nil, errResult)
		method(RoleResumeReading, "ResumeReading", "a method of protoflow.BaseProtocol", nil, errResult)
	}

	// The state machine: its state, the methods that read and move it, and
	// its enums.
	if m := p.Machine; p.uses(withMachine) {
		state, event := localType(m.StateType), localType(m.EventType)
		add(Member{Role: RoleState, Kind: KindField, Recv: p.Name, Name: "state", Type: state,
			What: "the current state of the state machine"})
		method(RoleStateMethod, "State", "the method that returns the current state", nil, []Param{{"", state}})
		method(RoleFire, "Fire", "the method that moves the state machine", []Param{{"e", event}}, []Param{{"", errorType}})
		add(Member{Role: RoleStateType, Kind: KindType, Name: m.StateType, Type: uint8Type, What: "state type"})
		add(Member{Role: RoleEventType, Kind: KindType, Name: m.EventType, Type: uint8Type, What: "event type"})
		for _, s := range m.States {
			add(Member{Role: RoleStateConst, Kind: KindConst, Name: s.Const, Type: state, What: "state constant"})
		}
		for _, e := range m.Events {
			add(Member{Role: RoleEventConst, Kind: KindConst, Name: e.Const, Type: event, What: "event constant"})
		}
		str := []Param{{"", stringType}}
		add(Member{Role: RoleNext, Kind: KindMethod, Recv: m.StateType, Name: "next",
			Params: []Param{{"e", event}}, Results: []Param{{"", state}, {"", boolType}}})
		add(Member{Role: RoleStateString, Kind: KindMethod, Recv: m.StateType, Name: "String", Results: str})
		add(Member{Role: RoleEventString, Kind: KindMethod, Recv: m.EventType, Name: "String", Results: str})
	}

	// Every other method that the protocol type has through BaseProtocol.
	for _, name := range baseMethods {
		if !hasMember(ms, p.Name, name) {
			method(RolePromoted, name, "a method of protoflow.BaseProtocol", nil, nil)
		}
	}
	return ms
}

// baseMethods are the methods of *protoflow.BaseProtocol, which a protocol
// type has through embedding it.
var baseMethods = func() []string {
	bp := reflect.TypeFor[*protoflow.BaseProtocol]()
	names := make([]string, bp.NumMethod())
	for i := range names {
		names[i] = bp.Method(i).Name
	}
	return names
}()

func hasMember(ms []*Member, recv, name string) bool {
	for _, m := range ms {
		if !m.Kind.PackageLevel() && m.Recv == recv && m.Name == name {
			return true
		}
	}
	return false
}

// Member returns p's member of role r, or nil if p has none: for a role
// that several members share, the first.
func (p *Protocol) Member(r Role) *Member {
	for _, m := range p.Members {
		if m.Role == r {
			return m
		}
	}
	return nil
}

// HookRunner returns the member that runs hook k on p: a method of the
// generated type, which may come from BaseProtocol. It is nil when p lacks
// the feature the hook needs, and for state_changed, which Fire runs.
func (p *Protocol) HookRunner(k HookKind) *Member { return p.hookMember(RoleHookRunner, k) }

// UserHook returns the member for the hook method of kind k that the user
// writes, or nil when p lacks the feature the hook needs.
func (p *Protocol) UserHook(k HookKind) *Member { return p.hookMember(RoleUserHook, k) }

func (p *Protocol) hookMember(r Role, k HookKind) *Member {
	for _, m := range p.Members {
		if m.Role == r && m.Hook == k {
			return m
		}
	}
	return nil
}

// PackageNames lists the package-level members of p, so that two
// protocols of one package cannot clash.
func (p *Protocol) PackageNames() []*Member {
	var ms []*Member
	for _, m := range p.Members {
		if m.Kind.PackageLevel() {
			ms = append(ms, m)
		}
	}
	return ms
}

// typeMember returns the field or method of p's type, hook methods
// included, that is called name, or nil.
func (p *Protocol) typeMember(name string) *Member {
	for _, m := range p.Members {
		if !m.Kind.PackageLevel() && m.Recv == p.Name && m.Name == name {
			return m
		}
	}
	return nil
}

// The types the table writes, parsed once.
var (
	baseProtocolType = mustType(RuntimePath + ".BaseProtocol")
	transportType    = mustType(RuntimePath + ".Transport")
	timeoutKindType  = mustType(RuntimePath + ".TimeoutKind")
	framerType       = mustType(WirePath + ".Framer")
	boolType         = mustType("bool")
	bytesType        = mustType("[]byte")
	errorType        = mustType("error")
	stringType       = mustType("string")
	uint8Type        = mustType("uint8")
)

// localType is the type declared in the output's package as name, which
// is not parsed: the names that protogen derives from a protocol's are
// checked as the protocol's is, and the table is built even for a protocol
// whose name is not valid, to report its fields' collisions too.
func localType(name string) *Type { return &Type{Src: name, Expr: ast.NewIdent(name)} }
