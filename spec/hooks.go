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
	BadMessage   // a received message did not decode, or the machine refused it
	// MessageReceived is the hook of one received message: implicit, one
	// per message that the protocol receives, never listed in hooks.
	MessageReceived
	numHooks
)

// Hook is a declared hook: for it the generated type has Runner, which runs
// the BaseProtocol behaviour and then User, the method the user writes in
// the same package. Both come from the table of members (members.go).
type Hook struct {
	Kind HookKind // which event it hooks
	Pos  Pos      // where the spec declares it
	// SpecName is the hook's name in a spec, such as "data_received".
	SpecName string
	// Doc says, for the stub the user starts from, when the hook runs.
	Doc string
	// StubBody is the body of the stub, Go statements and comments on
	// lines of their own: what the protocol does without the hook (empty
	// for most hooks, which run after the base behaviour).
	StubBody string
	// Runner is the method that runs the hook, or nil for state_changed,
	// which Fire runs.
	Runner *Member
	// User is the hook method the user writes.
	User *Member
	// Message is the message of a MessageReceived hook.
	Message *Message
}

// AllHooks returns every hook kind in order.
func AllHooks() []HookKind {
	kinds := make([]HookKind, numHooks)
	for i := range kinds {
		kinds[i] = HookKind(i)
	}
	return kinds
}

// SpecName returns the hook's name in a spec.
func (k HookKind) SpecName() string { return hookInfos[k].specName }

// UserMethod returns the name of the method the user writes for the hook.
func (k HookKind) UserMethod() string { return hookInfos[k].user }

// StubCalls lists the generated methods that the hook's stub calls. A
// protocol declares them while it has what they need (the timeout stub's
// abortOnTimeout needs a timeout), not necessarily the hook: a stub left
// over from a removed hook may call one that is gone.
func (k HookKind) StubCalls() []string { return hookInfos[k].stubCalls }

// Doc says when the hook runs.
func (k HookKind) Doc() string { return hookInfos[k].doc }

// HookBySpecName finds a hook kind by its name in a spec.
func HookBySpecName(name string) (HookKind, bool) {
	for k, info := range hookInfos {
		if info.specName == name && !info.implicit {
			return HookKind(k), true
		}
	}
	return 0, false
}

// hookSpecNames lists the hooks a spec may declare.
func hookSpecNames() []string {
	var names []string
	for _, info := range hookInfos {
		if !info.implicit {
			names = append(names, info.specName)
		}
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
