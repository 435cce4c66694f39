package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/wire"
)

// A framing resolves to the runtime's own codec, configured as the spec
// says; a default that the length header cuts is written out.
func TestFramingCodec(t *testing.T) {
	tests := []struct {
		framing string
		want    wire.Codec
		summary string
	}{
		{"line", wire.LineCodec{}, `lines ending in "\n" (a "\r" before it is dropped too), at most 65536 bytes each`},
		{"{line: {crlf: true, keep: true, max: 8KiB}}", wire.LineCodec{CRLF: true, Keep: true, Max: 8192}, `lines ending in "\r\n", kept, at most 8192 bytes each`},
		{`{delimiter: {delimiter: "\0", max: 1KiB}}`, wire.DelimiterCodec{Delim: []byte{0}, Max: 1024}, `frames ending in "\x00", at most 1024 bytes each`},
		{"length", wire.LengthCodec{Size: 4}, "frames after a 4-byte big-endian length of the payload, at most 8388608 bytes of payload each"},
		{"{length: {size: 1}}", wire.LengthCodec{Size: 1, Max: 255}, "frames after a 1-byte big-endian length of the payload, at most 255 bytes of payload each"},
		{"{length: {size: 2, endian: little, includes_header: true}}", wire.LengthCodec{Size: 2, LittleEndian: true, IncludesHeader: true, Max: 65533},
			"frames after a 2-byte little-endian length of the header and the payload, at most 65533 bytes of payload each"},
		{"{fixed: {size: 16}}", wire.FixedCodec{Size: 16}, "frames of exactly 16 bytes"},
	}
	for _, tt := range tests {
		src := "version: 1\npackage: p\nprotocols:\n  - name: P\n    framing: " + tt.framing + "\n    hooks: [frame_received]\n"
		s, err := Parse("spec.yaml", []byte(src), Options{})
		if err != nil {
			t.Errorf("framing %s: %v", tt.framing, err)
			continue
		}
		f := s.Protocols[0].Framing
		if diff := cmp.Diff(tt.want, f.Codec); diff != "" {
			t.Errorf("framing %s: codec (-want +got):\n%s", tt.framing, diff)
		}
		if f.Summary != tt.summary {
			t.Errorf("framing %s: summary %q, want %q", tt.framing, f.Summary, tt.summary)
		}
	}
}
