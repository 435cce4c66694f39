package protoflow

import (
	"math/bits"
	"testing"
)

// Every flag has a name of its own, so that a failure message that prints
// a state shows all of it.
func TestConnStateString(t *testing.T) {
	if got, want := len(stNames), bits.Len32(uint32(stDetached)); got != want {
		t.Fatalf("%d flag names for %d flags", got, want)
	}
	tests := []struct {
		s    connState
		want string
	}{
		{0, "0"},
		{stClosing, "closing"},
		{stGone, "gone"},
		{stToken | stDead, "token|dead"},
		{stNoWrite, "closing|shutWrite|dead"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("connState(%#x).String() = %q, want %q", uint32(tt.s), got, tt.want)
		}
	}
}
