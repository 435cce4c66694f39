package spec

// HookKind is one of the events a protocol type can hook: the six events
// of a protoflow.Protocol, and the events that framing, a state machine and
// timeouts add.
type HookKind int

// The hooks, in the order the generated code lists them.
const (
	ConnectionMade HookKind = iota
	DataReceived
	FrameReceived // a framed protocol's frames, in place of DataReceived
	EOFReceived
	ConnectionLost
	PauseWriting
	ResumeWriting
	StateChanged // after the state machine moves
	Timeout      // a read or idle timeout expired
	numHooks
)

// Hook is a declared hook: for it the generated type defines Method, which
// runs the BaseProtocol behaviour and then UserMethod, which the user
// writes in the same package.
type Hook struct {
	Kind HookKind // which event it hooks
	Pos  Pos      // where the spec declares it
	hookInfo
}

// hookInfo is what a hook kind fixes: its names and signature.
type hookInfo struct {
	// SpecName is the hook's name in a spec, such as "data_received".
	SpecName string
	// Method is the method of the generated type that runs the hook, such
	// as "DataReceived": a protoflow.Protocol method, protoflow's optional
	// "Timeout", or an unexported one for the hooks that the generated code
	// calls itself (frame_received, state_changed).
	Method string
	// UserMethod is the unexported method the user writes, such as
	// "onDataReceived".
	UserMethod string
	// Params are the parameters of both methods.
	Params []Param
	// Result is the result type of both methods, or nil.
	Result *Type
	// Doc says, for the stub the user starts from, when the hook runs.
	Doc string
	// StubBody is the body of the stub: empty, or a return statement.
	StubBody string
}

// Param is one parameter of a hook method.
type Param struct {
	Name string // the parameter's name, such as "data"
	Type *Type  // its type, such as []byte
}

// hookInfos holds the fixed part of each hook kind, indexed by kind.
var hookInfos = [numHooks]hookInfo{
	ConnectionMade: {
		SpecName: "connection_made", Method: "ConnectionMade", UserMethod: "onConnectionMade",
		Params: []Param{{"t", mustType(RuntimePath + ".Transport")}},
		Doc:    "runs once the connection is ready, after the base ConnectionMade has stored t.",
	},
	DataReceived: {
		SpecName: "data_received", Method: "DataReceived", UserMethod: "onDataReceived",
		Params: []Param{{"data", mustType("[]byte")}},
		Doc:    "runs for the bytes read from the peer; data is only valid during the call.",
	},
	EOFReceived: {
		SpecName: "eof_received", Method: "EOFReceived", UserMethod: "onEOFReceived",
		Result:   mustType("bool"),
		Doc:      "runs when the peer closes its write side; return true to keep the write side open.",
		StubBody: "return false",
	},
	ConnectionLost: {
		SpecName: "connection_lost", Method: "ConnectionLost", UserMethod: "onConnectionLost",
		Params: []Param{{"err", mustType("error")}},
		Doc:    "runs once when the connection is closed (err is nil for a clean close), after the base ConnectionLost has woken every Drain.",
	},
	PauseWriting: {
		SpecName: "pause_writing", Method: "PauseWriting", UserMethod: "onPauseWriting",
		Doc: "runs when the transport's write buffer rises above its high-water mark.",
	},
	ResumeWriting: {
		SpecName: "resume_writing", Method: "ResumeWriting", UserMethod: "onResumeWriting",
		Doc: "runs when the write buffer has drained to its low-water mark.",
	},
	FrameReceived: {
		SpecName: "frame_received", Method: "frameReceived", UserMethod: "onFrameReceived",
		Params: []Param{{"frame", mustType("[]byte")}},
		Doc:    "runs for each frame read from the peer, without its framing; frame is only valid during the call.",
	},
	StateChanged: {
		SpecName: "state_changed", Method: "stateChanged", UserMethod: "onStateChanged",
		// Params are set per protocol: they have the protocol's state type.
		Doc: "runs after Fire has moved the state machine from one state to another.",
	},
	Timeout: {
		SpecName: "timeout", Method: "Timeout", UserMethod: "onTimeout",
		Params: []Param{{"kind", mustType(RuntimePath + ".TimeoutKind")}},
		Doc:    "runs when the read or idle timeout expires, in place of closing the connection; the timer starts again.",
	},
}

// AllHooks returns every hook kind in order.
func AllHooks() []HookKind {
	kinds := make([]HookKind, numHooks)
	for i := range kinds {
		kinds[i] = HookKind(i)
	}
	return kinds
}

// Describe returns the names and signature of hook kind k, as a Hook with
// no position.
func Describe(k HookKind) *Hook { return &Hook{Kind: k, hookInfo: hookInfos[k]} }

// SpecName returns the hook's name in a spec.
func (k HookKind) SpecName() string { return hookInfos[k].SpecName }

// UserMethod returns the name of the method the user writes for the hook.
func (k HookKind) UserMethod() string { return hookInfos[k].UserMethod }

// hookBySpecName finds a hook kind by its spec name.
func hookBySpecName(name string) (HookKind, bool) {
	for k, info := range hookInfos {
		if info.SpecName == name {
			return HookKind(k), true
		}
	}
	return 0, false
}

func hookSpecNames() []string {
	names := make([]string, numHooks)
	for k, info := range hookInfos {
		names[k] = info.SpecName
	}
	return names
}

func mustType(src string) *Type {
	t, err := ParseType(src)
	if err != nil {
		panic("spec: bad built-in type " + src + ": " + err.Error())
	}
	return t
}
