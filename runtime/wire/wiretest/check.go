package wiretest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/protogen/protogen/runtime/wire"
)

// Message is what a generated message is to these checks: it encodes
// itself.
type Message interface {
	// Append appends the message's encoding to dst, or returns an
	// *wire.EncodeError for a message it cannot encode.
	Append(dst []byte) ([]byte, error)
}

// CheckDecode checks what a generated decoder makes of any bytes b, as a
// fuzz test hands them over. decode (DecodeRequest, say) must fail with a
// *wire.DecodeError, or give a message that keeps within its maximums
// (bounds checks that, and may be nil) and encodes to bytes that decode to
// a message that encodes to the same bytes again.
func CheckDecode[M Message](t testing.TB, b []byte, decode func([]byte) (M, error), bounds func(testing.TB, M)) {
	t.Helper()
	m, err := decode(b)
	if err != nil {
		var de *wire.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("decoding %q: error %v (%T), want a *wire.DecodeError", b, err, err)
		}
		return
	}
	if bounds != nil {
		bounds(t, m)
	}
	enc, err := m.Append(nil)
	if err != nil {
		t.Fatalf("%T decoded from %q does not encode: %v", m, b, err)
	}
	back, err := decode(enc)
	if err != nil {
		t.Fatalf("%T decoded from %q encodes to %q, which does not decode: %v", m, b, enc, err)
	}
	if again, err := back.Append(nil); err != nil || !bytes.Equal(again, enc) {
		t.Fatalf("%T decoded from %q encodes to %q, then to %q (%v) after a round trip", m, b, enc, again, err)
	}
}

// CheckRoundTrip checks message m, built from fuzz input (by Fill): its
// encoding must fail with a *wire.EncodeError, or decode back, with decode,
// to a message equal to m once normalize (which may be nil) has zeroed in m
// the fields that its encoding leaves out.
func CheckRoundTrip[M Message](t testing.TB, m M, decode func([]byte) (M, error), normalize func(M)) {
	t.Helper()
	b, err := m.Append(nil)
	if err != nil {
		var ee *wire.EncodeError
		if !errors.As(err, &ee) {
			t.Fatalf("%#v does not encode, with %v (%T); want a *wire.EncodeError", m, err, err)
		}
		return
	}
	got, err := decode(b)
	if err != nil {
		t.Fatalf("%#v encodes to %q, which does not decode: %v", m, b, err)
	}
	if normalize != nil {
		normalize(m)
	}
	if !Equal(m, got) {
		t.Fatalf("%#v encodes to %q, which decodes to %#v", m, b, got)
	}
}
