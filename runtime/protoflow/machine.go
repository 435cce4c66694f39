package protoflow

import (
	"errors"
	"fmt"
)

// ErrBadTransition is matched by every [*TransitionError].
var ErrBadTransition = errors.New("protoflow: no such transition")

// TransitionError is returned by the Fire method that protogen generates
// for a protocol with a state machine, when the current state has no
// transition on the event. The state is left as it was.
type TransitionError struct {
	Machine string // the protocol type, such as "Server"
	State   string // the current state's name in the spec
	Event   string // the event's name in the spec
}

// Error names the machine, the event and the state.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("protoflow: %s: no transition on event %s from state %s", e.Machine, e.Event, e.State)
}

// Is reports whether target is [ErrBadTransition].
func (e *TransitionError) Is(target error) bool { return target == ErrBadTransition }
