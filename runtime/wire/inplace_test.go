package wire

import (
	"bytes"
	"errors"
	"testing"
)

// inPlace is what every codec of this package offers for framing in place.
type inPlace interface {
	Codec
	BeginFrame(dst []byte) []byte
	EndFrame(dst []byte, start int) ([]byte, error)
}

// Framing in place gives the bytes AppendFrame gives, and the same errors,
// with dst's earlier bytes kept.
func TestFrameInPlace(t *testing.T) {
	for _, tt := range frRoundTrips {
		c, ok := tt.codec.(inPlace)
		if !ok {
			t.Fatalf("%s: %T does not frame in place", tt.name, tt.codec)
		}
		for _, p := range tt.payloads {
			want, wantErr := c.AppendFrame([]byte("pre"), []byte(p))
			b := c.BeginFrame([]byte("pre"))
			got, err := c.EndFrame(append(b, p...), 3)
			if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
				t.Errorf("%s: in place %q, %v; AppendFrame %q, %v", tt.name, got, err, want, wantErr)
			}
		}
	}
	refused := []struct {
		codec   inPlace
		payload string
	}{
		{LineCodec{}, "a\nb"},
		{LineCodec{Max: 3}, "abcd"},
		{LengthCodec{Size: 1}, string(make([]byte, 256))},
		{FixedCodec{Size: 2}, "abc"},
		{HeaderCodec{Offset: 1, Size: 2, From: 3}, "x"},
	}
	for _, tt := range refused {
		_, wantErr := tt.codec.AppendFrame(nil, []byte(tt.payload))
		got, err := tt.codec.EndFrame(append(tt.codec.BeginFrame([]byte("pre")), tt.payload...), 3)
		if err == nil || wantErr == nil || string(got) != "pre" || errors.Is(err, ErrFrameTooLarge) != errors.Is(wantErr, ErrFrameTooLarge) {
			t.Errorf("%#v, %q: in place %q, %v; AppendFrame's error %v; want dst[:start] and the same error", tt.codec, tt.payload, got, err, wantErr)
		}
	}
}

func TestFrameInPlaceDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 256)
	var c LengthCodec = LengthCodec{Size: 4}
	var l LineCodec
	if n := testing.AllocsPerRun(100, func() {
		b := append(c.BeginFrame(buf[:0]), "payload"...)
		b, _ = c.EndFrame(b, 0)
		b = append(l.BeginFrame(b[:0]), "line"...)
		_, _ = l.EndFrame(b, 0)
	}); n != 0 {
		t.Errorf("framing in place: %v allocations, want 0", n)
	}
}
