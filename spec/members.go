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
	// KindType, KindFunc, KindConst and KindVar are package-level
	// declarations of the generated code.
	KindType
	KindFunc
	KindConst
	KindVar
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
	RoleTimeoutDefault             // the method that does what an expired timeout does without the timeout hook
	RoleDispatch                   // the method that decodes a received message and passes it to its hook
	RoleSend                       // a method that sends a message, one per message the protocol sends
	RoleSendCodec                  // the package variable that holds the codec Send methods frame with
	RoleCalls                      // a client protocol's calls waiting for replies
	RoleStream                     // a client protocol's replies of a stream under way
	RoleNextID                     // a client protocol's next correlation id
	RoleCall                       // a client protocol's method that sends a request and waits for its reply
	RoleDeliver                    // a client protocol's method that hands a received message to its call
	RoleClient                     // the generated client type
	RoleClientDial                 // the function that dials a client
	RoleClientNew                  // the function that makes a client over a net.Conn
	RoleClientMethod               // a client's method for a request
	RoleSniff                      // the codec that chooses among several received sets, per connection
	RoleSniffTemplate              // the package variable each connection copies RoleSniff from

	// The roles of the messages part's package-level names.
	RoleEnum          // an enum type
	RoleEnumConst     // an enum's constant
	RoleStruct        // a struct type of the spec's types
	RoleSet           // a set's interface
	RoleSetDecode     // the function that decodes any message of a set
	RoleSetHeader     // the struct of a set's header fields, embedded in its messages
	RoleSetBlockLen   // the function that gives a text set's codec a data block's length
	RoleSetCodec      // the function that returns the codec of a set that frames itself
	RoleMessageStruct // a message's type
	RoleSetFuzz       // a fuzz test of a set, in the generated test file
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
	// Pos is where the spec names what the member is derived from, for a
	// member of the messages part (a message's hook, a set's decoder...);
	// zero for one the protocol itself implies.
	Pos Pos
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
	withMessages // receives messages
)

func (p *Protocol) uses(f feature) bool {
	switch f {
	case framed:
		return p.Framed()
	case withMachine:
		return p.Machine != nil
	case withTimeouts:
		return p.HasTimeouts() || p.FrameTimeout > 0
	case withMessages:
		return len(p.Receives) > 0
	}
	return true
}

// timeoutDefaultName is the method of RoleTimeoutDefault, which the
// timeout hook's stub calls.
const timeoutDefaultName = "abortOnTimeout"

// hookInfo is what a hook kind fixes: its name in a spec, the text of its
// stub, and the methods that run it and that the user writes.
type hookInfo struct {
	specName string // such as "data_received"
	doc      string // when the hook runs, for the stub the user starts from
	// stub returns the body of the stub, which does what the protocol does
	// without the hook (see Protocol.stubBody); nil for an empty body.
	stub func(p *Protocol, params []Param) string
	// stubCalls lists the generated methods that the stub calls, which
	// a spec without the feature they need lacks (StubCalls).
	stubCalls []string
	needs     feature
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
	// implicit marks a hook that a spec does not list: one per received
	// message, whose names come from the message.
	implicit bool
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
		doc: "runs when the peer closes its write side; return true to keep the write side open.",
		// BaseProtocol.EOFReceived returns false: the transport closes.
		stub: func(*Protocol, []Param) string { return "return false" },
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
		// Without the hook, protoflow aborts the connection with a
		// *protoflow.TimeoutError: so does the stub, through the method
		// of RoleTimeoutDefault, until the user changes it.
		stubCalls: []string{timeoutDefaultName},
		stub: func(p *Protocol, params []Param) string {
			def := p.Member(RoleTimeoutDefault)
			return "// As without the timeout hook, abort the connection: ConnectionLost\n" +
				"// receives a *protoflow.TimeoutError. Replace this line with what you\n" +
				"// want; without it the connection stays open and the timer starts again.\n" +
				"p." + def.Name + "(" + params[0].Name + ")"
		},
	},
	BadMessage: {
		specName: "bad_message", runner: "badMessage", user: "onBadMessage", needs: withMessages,
		params:      []Param{{"err", errorType}},
		userResults: []Param{{"", boolType}},
		doc: "runs for a received message that did not decode (a *wire.DecodeError) or that the state machine refused " +
			"(a *protoflow.TransitionError), in place of its hook; return true to keep the connection open, false to " +
			"abort it with err, which ConnectionLost receives (what happens without this hook). A frame over its " +
			"maximum or malformed (matching wire.ErrFrameTooLarge or wire.ErrBadFrame) comes here too, and ends the " +
			"connection either way: true closes it once what you wrote is flushed.",
		// Without the hook, a bad message aborts the connection: so
		// does the stub's false.
		stub: func(*Protocol, []Param) string { return "return false" },
	},
	MessageReceived: {
		specName: "message", implicit: true, needs: withMessages,
		doc: "runs for each message of its type that the peer sends, after its machine event, if any, has fired; " +
			"its byte fields are valid only during the call (Clone keeps a copy).",
	},
}

// stubBody returns the body of the stub of the hook method of kind k: what
// the protocol does without the hook, so that declaring a hook changes
// nothing until the user edits its method. Most hooks run after the base
// behaviour, and their stubs are empty; EOFReceived's returns what the
// base returns, and Timeout's, which replaces the runtime's abort, aborts.
func (p *Protocol) stubBody(k HookKind) string {
	info := hookInfos[k]
	if info.stub == nil {
		return ""
	}
	return info.stub(p, p.UserHook(k).Params)
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
		if !p.uses(info.needs) || info.implicit {
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

	// Timeouts: what an expired timeout does without the timeout hook, for
	// the stub of that hook (stubBody) and the user's own.
	if p.uses(withTimeouts) {
		method(RoleTimeoutDefault, timeoutDefaultName, "the method that aborts the connection as an expired timeout does",
			[]Param{{"kind", timeoutKindType}}, nil)
	}

	// Messages: the dispatch of those received, a hook for each, and a Send
	// method for each message sent.
	if p.uses(withMessages) {
		method(RoleDispatch, "dispatch", "the method that decodes a received message", []Param{{"frame", bytesType}}, nil)
		if len(p.Receives) > 1 {
			for _, set := range p.Receives {
				method(RoleDispatch, "dispatch"+set.Name, "the method that decodes a received message of "+set.Name, []Param{{"frame", bytesType}}, nil)
			}
			add(Member{Role: RoleSniff, Kind: KindField, Recv: p.Name, Name: "codec", Type: sniffType,
				What: "the codec that chooses among the received sets"})
			add(Member{Role: RoleSniffTemplate, Kind: KindVar, Name: lowerFirst(p.Name) + "Sniff", Type: sniffType,
				What: "the codec its connections copy"})
		}
		for _, msg := range p.ReceivedMessages() {
			if p.Client != "" {
				add(Member{Role: RoleDeliver, Kind: KindMethod, Recv: p.Name, Name: msg.Hook, Params: []Param{{"m", localType("*" + msg.Name)}},
					What: "the method that hands message " + msg.Name + " to its call", Pos: msg.Pos})
				continue
			}
			add(Member{Role: RoleUserHook, Kind: KindHookMethod, Recv: p.Name, Hook: MessageReceived, Name: msg.Hook,
				Params: []Param{{"m", localType("*" + msg.Name)}}, What: "the hook method of message " + msg.Name, Pos: msg.Pos})
		}
	}
	if p.Client != "" {
		add(Member{Role: RoleCalls, Kind: KindField, Recv: p.Name, Name: "calls", Type: callsType, What: "the calls waiting for replies"})
		add(Member{Role: RoleStream, Kind: KindField, Recv: p.Name, Name: "stream", Type: anySliceType, What: "the replies of a stream under way"})
		add(Member{Role: RoleNextID, Kind: KindField, Recv: p.Name, Name: "nextID", Type: atomicUint64Type, What: "the next correlation id"})
		method(RoleCall, "call", "the method that sends a request and waits for its reply", nil, nil)
		add(Member{Role: RoleClient, Kind: KindType, Name: p.Client, What: "client type"})
		add(Member{Role: RoleClientDial, Kind: KindFunc, Name: "Dial" + p.Client, What: "client's dial function"})
		add(Member{Role: RoleClientNew, Kind: KindFunc, Name: "New" + p.Client, What: "client's constructor"})
		for _, msg := range p.SentMessages() {
			if msg.HasReply() {
				add(Member{Role: RoleClientMethod, Kind: KindMethod, Recv: p.Client, Name: msg.Name, What: "the client's method for " + msg.Name, Pos: msg.Pos})
			}
		}
	}
	for _, msg := range p.SentMessages() {
		add(Member{Role: RoleSend, Kind: KindMethod, Recv: p.Name, Name: msg.Send, Params: []Param{{"m", localType("*" + msg.Name)}}, Results: []Param{{"", errorType}},
			What: "the method that sends message " + msg.Name, Pos: msg.Pos})
	}
	if p.SendCodec != "" && p.Framing != nil {
		codec := mustType(WirePath + "." + reflect.TypeOf(p.Framing.Codec).Name())
		add(Member{Role: RoleSendCodec, Kind: KindVar, Name: p.SendCodec, Type: codec, What: "the codec its Send methods frame with"})
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
	sniffType        = mustType(WirePath + ".SniffCodec")
	headerCodecType  = mustType(WirePath + ".HeaderCodec")
	blockCodecType   = mustType(WirePath + ".BlockCodec")
	callsType        = mustType(RuntimePath + ".Calls[any]")
	anySliceType     = mustType("[]any")
	atomicUint64Type = mustType("sync/atomic.Uint64")
	boolType         = mustType("bool")
	bytesType        = mustType("[]byte")
	errorType        = mustType("error")
	fuzzType         = mustType("*testing.F")
	stringType       = mustType("string")
	uint8Type        = mustType("uint8")
)

// localType is the type declared in the output's package as name, which
// is not parsed: the names that protogen derives from a protocol's are
// checked as the protocol's is, and the table is built even for a protocol
// whose name is not valid, to report its fields' collisions too.
func localType(name string) *Type {
	if base, ok := strings.CutPrefix(name, "*"); ok {
		return &Type{Src: name, Expr: &ast.StarExpr{X: ast.NewIdent(base)}}
	}
	return &Type{Src: name, Expr: ast.NewIdent(name)}
}

// declareMessageMembers lists the package-level names of the messages part
// of s: its enums and their constants, its struct types, and each set's
// interface, decoder, header struct and messages.
func declareMessageMembers(s *Spec) []*Member {
	var ms []*Member
	add := func(m Member) { ms = append(ms, &m) }
	for _, e := range s.Enums {
		add(Member{Role: RoleEnum, Kind: KindType, Name: e.Name, What: "enum", Pos: e.Pos})
		for _, v := range e.Values {
			add(Member{Role: RoleEnumConst, Kind: KindConst, Name: v.Const, Type: localType(e.Name), What: "constant of enum " + e.Name, Pos: v.Pos})
		}
	}
	for _, t := range s.Types {
		add(Member{Role: RoleStruct, Kind: KindType, Name: t.Name, What: "struct type", Pos: t.Pos})
	}
	for _, set := range s.Sets {
		add(Member{Role: RoleSet, Kind: KindType, Name: set.Name, What: "set interface", Pos: set.Pos})
		add(Member{Role: RoleSetDecode, Kind: KindFunc, Name: set.DecodeFunc, What: "decoder of set " + set.Name,
			Params: []Param{{"b", bytesType}}, Results: []Param{{"", localType(set.Name)}, {"", errorType}}, Pos: set.Pos})
		if set.HeaderType != "" {
			add(Member{Role: RoleSetHeader, Kind: KindType, Name: set.HeaderType, What: "header struct of set " + set.Name, Pos: set.Pos})
		}
		if set.BlockLenFunc != "" {
			add(Member{Role: RoleSetBlockLen, Kind: KindFunc, Name: set.BlockLenFunc, What: "data block length function of set " + set.Name, Pos: set.Pos})
		}
		if set.CodecFunc != "" {
			codec := headerCodecType
			if set.FrameLength == nil {
				codec = blockCodecType
			}
			add(Member{Role: RoleSetCodec, Kind: KindFunc, Name: set.CodecFunc, What: "codec function of set " + set.Name,
				Results: []Param{{"", codec}}, Pos: set.Pos})
		}
		for _, name := range []string{set.FuzzDecodeName(), set.FuzzRoundTripName()} {
			add(Member{Role: RoleSetFuzz, Kind: KindFunc, Name: name, What: "fuzz test of set " + set.Name + " in the generated tests",
				Params: []Param{{"f", fuzzType}}, Pos: set.Pos})
		}
		for _, m := range set.Messages {
			add(Member{Role: RoleMessageStruct, Kind: KindType, Name: m.Name, What: "message type", Pos: m.Pos})
		}
	}
	return ms
}
