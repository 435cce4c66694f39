package spec

import (
	"strings"
	"testing"
	"time"
)

// A protocol that receives a set framing itself by its header has no
// framing key, and may not have one: a frame timeout is still valid there,
// since the protocol reads frames. Without framing or receives it is not.
func TestFrameTimeoutNeedsFrames(t *testing.T) {
	const msgs = `version: 1
package: p
messages:
  - set: Req
    max: 1KiB
    header:
      - {name: op, type: u8, tag: true}
      - {name: len, type: u16, counts: body}
    messages:
      - {name: Echo, tag: 1, fields: [{name: text, type: string, length: rest}]}
protocols:
`
	tests := []struct {
		name, protocol string
		err            string // substring of the error; "" for success
	}{
		{"self-framed", "  - name: P\n    receives: Req\n    frame_timeout: 3s\n", ""},
		{"framing", "  - name: P\n    framing: {line: {}}\n    frame_timeout: 3s\n    hooks: [frame_received]\n", ""},
		{"no frames", "  - name: P\n    frame_timeout: 3s\n", "frame_timeout times the frames that framing splits"},
	}
	for _, tt := range tests {
		s, err := Parse("ft.yaml", []byte(msgs+tt.protocol), Options{})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: Parse = %v, want an error containing %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.name, err)
			continue
		}
		p := s.Protocols[0]
		if p.FrameTimeout != 3*time.Second || !p.Framed() {
			t.Errorf("%s: frame timeout %v, framed %v; want 3s and framed", tt.name, p.FrameTimeout, p.Framed())
		}
	}
}
