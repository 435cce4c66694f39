package wiretest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/protogen/protogen/runtime/wire"
	"github.com/protogen/protogen/runtime/wire/wiretest"
)

// note is a message of one byte, a length, then that many bytes, with
// codecs that a test may break.
type note struct {
	Text []byte
}

func (n *note) Append(dst []byte) ([]byte, error) {
	if len(n.Text) > 255 {
		return dst, wire.EncodeFail("note", "text", wire.ErrTooLong, "")
	}
	return append(append(dst, byte(len(n.Text))), n.Text...), nil
}

func decodeNote(b []byte) (*note, error) {
	if len(b) == 0 || int(b[0]) != len(b)-1 {
		return nil, wire.DecodeFail("note", "text", 0, wire.ErrInvalid, "")
	}
	return &note{Text: b[1:]}, nil
}

// fatal records what a check reported, in place of failing the test.
type fatal struct {
	testing.TB
	msg string
}

func (f *fatal) Helper() {}
func (f *fatal) Fatalf(format string, args ...any) {
	if f.msg == "" { // the first, as a real Fatalf would stop there
		f.msg = fmt.Sprintf(format, args...)
	}
}

func TestCheckDecode(t *testing.T) {
	bad := func(b []byte) (*note, error) { return nil, errors.New("not typed") }
	lossy := func(b []byte) (*note, error) { // drops the last byte
		n, err := decodeNote(b)
		if err == nil && len(n.Text) > 0 {
			n.Text = n.Text[:len(n.Text)-1]
		}
		return n, err
	}
	short := func(t testing.TB, n *note) {
		if len(n.Text) > 2 {
			t.Fatalf("over")
		}
	}
	for _, tt := range []struct {
		name   string
		b      string
		decode func([]byte) (*note, error)
		bounds func(testing.TB, *note)
		want   string // a part of the failure; "" for none
	}{
		{"decodes", "\x02ab", decodeNote, nil, ""},
		{"a typed error", "\x05ab", decodeNote, nil, ""},
		{"an untyped error", "x", bad, nil, "want a *wire.DecodeError"},
		{"over its bounds", "\x03abc", decodeNote, short, "over"},
		{"does not round-trip", "\x02ab", lossy, nil, "after a round trip"},
	} {
		f := &fatal{TB: t}
		wiretest.CheckDecode(f, []byte(tt.b), tt.decode, tt.bounds)
		if tt.want == "" && f.msg != "" || !strings.Contains(f.msg, tt.want) {
			t.Errorf("%s: reported %q, want %q", tt.name, f.msg, tt.want)
		}
	}
}

func TestCheckRoundTrip(t *testing.T) {
	lossy := func(b []byte) (*note, error) { return &note{}, nil }
	for _, tt := range []struct {
		name      string
		m         *note
		decode    func([]byte) (*note, error)
		normalize func(*note)
		want      string
	}{
		{"round trip", &note{Text: []byte("hi")}, decodeNote, nil, ""},
		{"refused with an EncodeError", &note{Text: make([]byte, 300)}, decodeNote, nil, ""},
		{"decodes to another", &note{Text: []byte("hi")}, lossy, nil, "which decodes to"},
		{"normalized to what decodes", &note{Text: []byte("hi")}, lossy, func(n *note) { n.Text = nil }, ""},
	} {
		f := &fatal{TB: t}
		wiretest.CheckRoundTrip(f, tt.m, tt.decode, tt.normalize)
		if tt.want == "" && f.msg != "" || !strings.Contains(f.msg, tt.want) {
			t.Errorf("%s: reported %q, want %q", tt.name, f.msg, tt.want)
		}
	}
}
