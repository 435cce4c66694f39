package protoflow

import (
	"errors"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/wire"
)

// foreignTransport is a transport not made by this package that handles
// SetTimeouts, SetFrameTimeout, HostFramer and AbortWithError itself, as
// protoflowtest's does.
type foreignTransport struct {
	fakeTransport
	read, idle time.Duration
	frame      time.Duration
	hosted     *wire.Framer
	setErr     error
	aborted    []error
}

func (f *foreignTransport) SetFrameTimeout(d time.Duration) error {
	f.frame = d
	return f.setErr
}

func (f *foreignTransport) HostFramer(fr *wire.Framer) { f.hosted = fr }

func (f *foreignTransport) SetTimeouts(read, idle time.Duration) error {
	f.read, f.idle = read, idle
	return f.setErr
}

func (f *foreignTransport) AbortWithError(err error) { f.aborted = append(f.aborted, err) }

// TestForeignTransportHooks checks that SetTimeouts, SetFrameTimeout,
// HostFramer and AbortWithError pass the call on to a transport not made by this package that implements
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
	if err := SetFrameTimeout(f, 3*time.Second); err != errSet || f.frame != 3*time.Second {
		t.Errorf("SetFrameTimeout = %v, the transport got %v; want its own error, and 3s", err, f.frame)
	}
	var fr wire.Framer
	HostFramer(f, &fr)
	if f.hosted != &fr {
		t.Errorf("HostFramer did not pass the framer on: the transport got %p, want %p", f.hosted, &fr)
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
	if err := SetFrameTimeout(plain, time.Second); !errors.Is(err, ErrNotSupported) {
		t.Errorf("SetFrameTimeout on a transport without the method = %v, want ErrNotSupported", err)
	}
	HostFramer(plain, &fr) // does nothing
	AbortWithError(plain, cause)
	if calls := plain.Calls(); len(calls) != 1 || calls[0] != "Abort" {
		t.Errorf("AbortWithError on a transport without the method called %v, want [Abort]", calls)
	}
}
