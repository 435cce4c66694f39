package wire

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newSniff is a binary codec for streams that start with 0x80 and a line
// codec for the others, as memcached tells its protocols apart.
func newSniff() *SniffCodec {
	return &SniffCodec{
		Magics: [][]byte{{0x80}},
		Codecs: []Codec{HeaderCodec{Offset: 1, Size: 1, From: 2, Max: 64}, LineCodec{Max: 64}},
	}
}

func TestSniffCodec(t *testing.T) {
	binary := "\x80\x02ab\x80\x00"
	text := "get a\r\nget b\n"
	for _, tt := range []struct {
		stream string
		want   []string
		chosen int
	}{
		{binary, []string{"\x80\x02ab", "\x80\x00"}, 0},
		{text, []string{"get a", "get b"}, 1},
		{"\x81\x02ab\n", []string{"\x81\x02ab"}, 1}, // not the magic: text
	} {
		for _, sizes := range [][]int{nil, frBytewise(len(tt.stream))} {
			c := newSniff()
			got, err := frFeed(c, []byte(tt.stream), sizes...)
			if err != nil {
				t.Fatalf("%q: Feed: %v", tt.stream, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%q: frames (-want +got):\n%s", tt.stream, diff)
			}
			if c.Chosen() != tt.chosen {
				t.Errorf("%q: Chosen() = %d, want %d", tt.stream, c.Chosen(), tt.chosen)
			}
		}
	}
	// The choice holds for the connection: text after binary is not text.
	c := newSniff()
	if _, err := frFeed(c, []byte("\x80\x00get a\n")); !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrBadFrame) {
		t.Errorf("text after a binary message: Feed error = %v, want the binary codec's", err)
	}
	if c := newSniff(); c.Chosen() != -1 {
		t.Errorf("Chosen() before any byte = %d, want -1", c.Chosen())
	}
	if err := (&SniffCodec{Codecs: []Codec{LineCodec{}}, Magics: [][]byte{{1}}}).Validate(); err == nil {
		t.Error("Validate accepted as many magics as codecs")
	}
}
