package protoflow

import (
	"errors"
	"testing"
	"time"
)

// foreignTransport is a transport not made by this package that handles
// SetTimeouts and AbortWithError itself, as protoflowtest's does.
type foreignTransport struct {
	fakeTransport
	read, idle time.Duration
	setErr     error
	aborted    []error
}

func (f *foreignTransport) SetTimeouts(read, idle time.Duration) error {
	f.read, f.idle = read, idle
	return f.setErr
}

func (f *foreignTransport) AbortWithError(err error) { f.aborted = append(f.aborted, err) }

// TestForeignTransportHooks checks that SetTimeouts and AbortWithError pass
// the call on to a transport not made by this package that implements
// them, and keep their answers for one that does not.
func TestForeignTransportHooks(t *testing.T) {
	errSet := errors.New("set refused")
	f := &foreignTransport{setErr: errSet}
	if err := SetTimeouts(f, time.Second, 2*time.Second); err != errSet {
		t.Errorf("SetTimeouts = %v, want the transport's own error", err)
	}
	if f.read != time.Second || f.idle != 2*time.Second {
		t.Errorf("the transport got (%v, %v), want (1s, 2s)", f.read, f.idle)
	}
	cause := errors.New("cause")
	AbortWithError(f, cause)
	if len(f.aborted) != 1 || f.aborted[0] != cause {
		t.Errorf("the transport's AbortWithError got %v, want [cause]", f.aborted)
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("AbortWithError also called %v on the transport", calls)
	}

	plain := &fakeTransport{}
	if err := SetTimeouts(plain, time.Second, 0); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SetTimeouts on a transport without the method = %v, want ErrNotSupported", err)
	}
	AbortWithError(plain, cause)
	if calls := plain.Calls(); len(calls) != 1 || calls[0] != "Abort" {
		t.Errorf("AbortWithError on a transport without the method called %v, want [Abort]", calls)
	}
}
