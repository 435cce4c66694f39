package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// frNextCase is one call of a codec's Next.
type frNextCase struct {
	name    string
	codec   Codec
	buf     string
	scanned int
	wantN   int
	want    string // payload
	wantErr error  // matched with errors.Is
}

func frCheckNext(t *testing.T, tests []frNextCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := []byte(tt.buf)
			n, payload, err := tt.codec.Next(buf, tt.scanned)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("%#v.Next(%q, %d) error = %v; want %v", tt.codec, tt.buf, tt.scanned, err, tt.wantErr)
			}
			if n != tt.wantN || string(payload) != tt.want {
				t.Errorf("%#v.Next(%q, %d) = %d, %q; want %d, %q", tt.codec, tt.buf, tt.scanned, n, payload, tt.wantN, tt.want)
			}
			if n > 0 && len(payload) > 0 && !frWithin(payload, buf[:n]) {
				t.Errorf("payload %q does not lie within buf[:%d]", payload, n)
			}
		})
	}
}

// frWithin reports whether p is a subslice of b, without unsafe.
func frWithin(p, b []byte) bool {
	for i := range b {
		if &b[i] == &p[0] {
			return i+len(p) <= len(b)
		}
	}
	return false
}

func TestLineCodecNext(t *testing.T) {
	frCheckNext(t, []frNextCase{
		{name: "lf", codec: LineCodec{}, buf: "abc\ndef", wantN: 4, want: "abc"},
		{name: "crlf accepted", codec: LineCodec{}, buf: "abc\r\ndef", wantN: 5, want: "abc"},
		{name: "one cr stripped", codec: LineCodec{}, buf: "a\r\r\n", wantN: 4, want: "a\r"},
		{name: "cr elsewhere kept", codec: LineCodec{}, buf: "a\rb\n", wantN: 4, want: "a\rb"},
		{name: "lf keep", codec: LineCodec{Keep: true}, buf: "abc\r\nx", wantN: 5, want: "abc\r\n"},
		{name: "empty line", codec: LineCodec{}, buf: "\nabc", wantN: 1, want: ""},
		{name: "empty crlf line", codec: LineCodec{}, buf: "\r\n", wantN: 2, want: ""},
		{name: "empty buf", codec: LineCodec{}, buf: ""},
		{name: "incomplete", codec: LineCodec{}, buf: "abc"},
		{name: "scanned", codec: LineCodec{}, buf: "abcdef\n", scanned: 6, wantN: 7, want: "abcdef"},
		{name: "crlf", codec: LineCodec{CRLF: true}, buf: "a\nb\r\nc", wantN: 5, want: "a\nb"},
		{name: "crlf keep", codec: LineCodec{CRLF: true, Keep: true}, buf: "ab\r\n", wantN: 4, want: "ab\r\n"},
		{name: "crlf incomplete cr", codec: LineCodec{CRLF: true}, buf: "abc\r"},
		{name: "crlf cr before scanned", codec: LineCodec{CRLF: true}, buf: "abc\r\n", scanned: 4, wantN: 5, want: "abc"},
		{name: "crlf keeps lone cr", codec: LineCodec{CRLF: true}, buf: "a\r\r\n", wantN: 4, want: "a\r"},
		{name: "max exact", codec: LineCodec{Max: 4}, buf: "abc\nxyz", wantN: 4, want: "abc"},
		{name: "max+1", codec: LineCodec{Max: 4}, buf: "abcd\n", wantErr: ErrFrameTooLarge},
		{name: "max-1 unterminated", codec: LineCodec{Max: 4}, buf: "abc"},
		{name: "max unterminated", codec: LineCodec{Max: 4}, buf: "abcd", wantErr: ErrFrameTooLarge},
		{name: "max counts cr", codec: LineCodec{Max: 4}, buf: "abc\r\n", wantErr: ErrFrameTooLarge},
		{name: "crlf max exact", codec: LineCodec{CRLF: true, Max: 5}, buf: "abc\r\n", wantN: 5, want: "abc"},
		{name: "crlf max+1", codec: LineCodec{CRLF: true, Max: 5}, buf: "abcd\r\n", wantErr: ErrFrameTooLarge},
		{name: "crlf max with cr only", codec: LineCodec{CRLF: true, Max: 5}, buf: "abcd\r", wantErr: ErrFrameTooLarge},
		{name: "default max", codec: LineCodec{}, buf: strings.Repeat("x", DefaultMaxLine), wantErr: ErrFrameTooLarge},
		{name: "default max exact", codec: LineCodec{}, buf: strings.Repeat("x", DefaultMaxLine-1) + "\n", wantN: DefaultMaxLine, want: strings.Repeat("x", DefaultMaxLine-1)},
	})
}

func TestDelimiterCodecNext(t *testing.T) {
	nul := []byte{0}
	bars := []byte("||")
	frCheckNext(t, []frNextCase{
		{name: "nul", codec: DelimiterCodec{Delim: nul}, buf: "ab\x00cd\x00", wantN: 3, want: "ab"},
		{name: "nul keep", codec: DelimiterCodec{Delim: nul, Keep: true}, buf: "ab\x00", wantN: 3, want: "ab\x00"},
		{name: "empty frame", codec: DelimiterCodec{Delim: bars}, buf: "||x", wantN: 2, want: ""},
		{name: "two bytes", codec: DelimiterCodec{Delim: bars}, buf: "a|b||c", wantN: 5, want: "a|b"},
		{name: "incomplete delim", codec: DelimiterCodec{Delim: bars}, buf: "ab|"},
		{name: "delim across scanned", codec: DelimiterCodec{Delim: []byte("END")}, buf: "abcEND", scanned: 5, wantN: 6, want: "abc"},
		{name: "overlapping delim", codec: DelimiterCodec{Delim: []byte("aa")}, buf: "xaaa", wantN: 3, want: "x"},
		{name: "max exact", codec: DelimiterCodec{Delim: bars, Max: 5}, buf: "abc||", wantN: 5, want: "abc"},
		{name: "max+1", codec: DelimiterCodec{Delim: bars, Max: 5}, buf: "abcd||", wantErr: ErrFrameTooLarge},
		{name: "max unterminated", codec: DelimiterCodec{Delim: bars, Max: 5}, buf: "abcd|", wantErr: ErrFrameTooLarge},
		{name: "max-1 unterminated", codec: DelimiterCodec{Delim: bars, Max: 5}, buf: "abc|"},
	})
}

// frHeader returns a big-endian header of size bytes holding v.
func frHeader(size int, v uint64) string {
	b := binary.BigEndian.AppendUint64(nil, v)
	return string(b[8-size:])
}

func TestLengthCodecNext(t *testing.T) {
	le := func(size int, v uint64) string {
		b := binary.LittleEndian.AppendUint64(nil, v)
		return string(b[:size])
	}
	frCheckNext(t, []frNextCase{
		{name: "size 1", codec: LengthCodec{Size: 1}, buf: "\x03abcx", wantN: 4, want: "abc"},
		{name: "size 2", codec: LengthCodec{Size: 2}, buf: frHeader(2, 3) + "abcx", wantN: 5, want: "abc"},
		{name: "size 2 le", codec: LengthCodec{Size: 2, LittleEndian: true}, buf: le(2, 3) + "abc", wantN: 5, want: "abc"},
		{name: "size 4", codec: LengthCodec{Size: 4}, buf: frHeader(4, 3) + "abc", wantN: 7, want: "abc"},
		{name: "size 4 le", codec: LengthCodec{Size: 4, LittleEndian: true}, buf: le(4, 3) + "abc", wantN: 7, want: "abc"},
		{name: "size 8", codec: LengthCodec{Size: 8}, buf: frHeader(8, 3) + "abc", wantN: 11, want: "abc"},
		{name: "size 8 le", codec: LengthCodec{Size: 8, LittleEndian: true}, buf: le(8, 3) + "abc", wantN: 11, want: "abc"},
		{name: "empty payload", codec: LengthCodec{Size: 1}, buf: "\x00\x05", wantN: 1, want: ""},
		{name: "includes header", codec: LengthCodec{Size: 2, IncludesHeader: true}, buf: frHeader(2, 5) + "abc", wantN: 5, want: "abc"},
		{name: "includes header empty", codec: LengthCodec{Size: 2, IncludesHeader: true}, buf: frHeader(2, 2), wantN: 2, want: ""},
		{name: "includes header short", codec: LengthCodec{Size: 2, IncludesHeader: true}, buf: frHeader(2, 1), wantErr: ErrBadFrame},
		{name: "includes header zero", codec: LengthCodec{Size: 8, IncludesHeader: true}, buf: frHeader(8, 0), wantErr: ErrBadFrame},
		{name: "partial header", codec: LengthCodec{Size: 4}, buf: "\x00\x00\x00"},
		{name: "partial payload", codec: LengthCodec{Size: 4}, buf: frHeader(4, 3) + "ab"},
		{name: "max exact", codec: LengthCodec{Size: 2, Max: 3}, buf: frHeader(2, 3) + "abc", wantN: 5, want: "abc"},
		{name: "max+1 header only", codec: LengthCodec{Size: 2, Max: 3}, buf: frHeader(2, 4), wantErr: ErrFrameTooLarge},
		{name: "includes header max+1", codec: LengthCodec{Size: 2, Max: 3, IncludesHeader: true}, buf: frHeader(2, 6), wantErr: ErrFrameTooLarge},
		{name: "size 1 full range", codec: LengthCodec{Size: 1}, buf: "\xff" + strings.Repeat("x", 255), wantN: 256, want: strings.Repeat("x", 255)},
		{name: "default max", codec: LengthCodec{Size: 4}, buf: frHeader(4, DefaultMaxLength+1), wantErr: ErrFrameTooLarge},
	})
}

func TestFixedCodecNext(t *testing.T) {
	frCheckNext(t, []frNextCase{
		{name: "one", codec: FixedCodec{Size: 1}, buf: "ab", wantN: 1, want: "a"},
		{name: "three", codec: FixedCodec{Size: 3}, buf: "abcd", wantN: 3, want: "abc"},
		{name: "short", codec: FixedCodec{Size: 3}, buf: "ab"},
	})
}

func TestCodecAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		codec   Codec
		payload string
		want    string // appended to "pre"
		wantErr error
	}{
		{"line", LineCodec{}, "abc", "abc\n", nil},
		{"line empty", LineCodec{}, "", "\n", nil},
		{"line crlf", LineCodec{CRLF: true}, "abc", "abc\r\n", nil},
		{"line lf in payload", LineCodec{}, "a\nb", "", ErrBadFrame},
		{"line trailing cr", LineCodec{}, "abc\r", "", ErrBadFrame},
		{"line inner cr", LineCodec{}, "a\rb", "a\rb\n", nil},
		{"line crlf trailing cr", LineCodec{CRLF: true}, "abc\r", "abc\r\r\n", nil},
		{"line crlf lone lf", LineCodec{CRLF: true}, "a\nb", "a\nb\r\n", nil},
		{"line crlf in payload", LineCodec{CRLF: true}, "a\r\nb", "", ErrBadFrame},
		{"line keep terminated", LineCodec{Keep: true}, "abc\n", "abc\n", nil},
		{"line keep crlf terminated", LineCodec{Keep: true}, "abc\r\n", "abc\r\n", nil},
		{"line keep unterminated", LineCodec{Keep: true}, "abc", "abc\n", nil},
		{"line keep lf inside", LineCodec{Keep: true}, "a\nb\n", "", ErrBadFrame},
		{"line crlf keep", LineCodec{CRLF: true, Keep: true}, "abc\r\n", "abc\r\n", nil},
		{"line max exact", LineCodec{Max: 4}, "abc", "abc\n", nil},
		{"line max+1", LineCodec{Max: 4}, "abcd", "", ErrFrameTooLarge},
		{"line crlf max exact", LineCodec{CRLF: true, Max: 5}, "abc", "abc\r\n", nil},
		{"line crlf max+1", LineCodec{CRLF: true, Max: 5}, "abcd", "", ErrFrameTooLarge},
		{"delim", DelimiterCodec{Delim: []byte("||")}, "abc", "abc||", nil},
		{"delim inside", DelimiterCodec{Delim: []byte("||")}, "a||b", "", ErrBadFrame},
		{"delim across end", DelimiterCodec{Delim: []byte("||")}, "a|", "", ErrBadFrame},
		{"delim across end self-overlap", DelimiterCodec{Delim: []byte("aa")}, "xa", "", ErrBadFrame},
		{"delim prefix at end is fine", DelimiterCodec{Delim: []byte("ab")}, "xa", "xaab", nil},
		{"delim keep", DelimiterCodec{Delim: []byte{0}, Keep: true}, "abc\x00", "abc\x00", nil},
		{"delim max+1", DelimiterCodec{Delim: []byte{0}, Max: 3}, "abc", "", ErrFrameTooLarge},
		{"length 1", LengthCodec{Size: 1}, "abc", "\x03abc", nil},
		{"length 2", LengthCodec{Size: 2}, "abc", "\x00\x03abc", nil},
		{"length 2 le", LengthCodec{Size: 2, LittleEndian: true}, "abc", "\x03\x00abc", nil},
		{"length 4", LengthCodec{Size: 4}, "abc", "\x00\x00\x00\x03abc", nil},
		{"length 4 le", LengthCodec{Size: 4, LittleEndian: true}, "abc", "\x03\x00\x00\x00abc", nil},
		{"length 8", LengthCodec{Size: 8}, "abc", frHeader(8, 3) + "abc", nil},
		{"length 8 le", LengthCodec{Size: 8, LittleEndian: true}, "abc", "\x03\x00\x00\x00\x00\x00\x00\x00abc", nil},
		{"length includes header", LengthCodec{Size: 2, IncludesHeader: true}, "abc", "\x00\x05abc", nil},
		{"length empty", LengthCodec{Size: 4}, "", "\x00\x00\x00\x00", nil},
		{"length max exact", LengthCodec{Size: 4, Max: 3}, "abc", "\x00\x00\x00\x03abc", nil},
		{"length max+1", LengthCodec{Size: 4, Max: 3}, "abcd", "", ErrFrameTooLarge},
		{"length header full", LengthCodec{Size: 1}, strings.Repeat("x", 255), "\xff" + strings.Repeat("x", 255), nil},
		{"length header overflow", LengthCodec{Size: 1}, strings.Repeat("x", 256), "", ErrFrameTooLarge},
		{"length includes header overflow", LengthCodec{Size: 1, IncludesHeader: true}, strings.Repeat("x", 255), "", ErrFrameTooLarge},
		{"fixed", FixedCodec{Size: 3}, "abc", "abc", nil},
		{"fixed short", FixedCodec{Size: 3}, "ab", "", ErrBadFrame},
		{"fixed long", FixedCodec{Size: 3}, "abcd", "", ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.codec.AppendFrame([]byte("pre"), []byte(tt.payload))
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("%#v.AppendFrame(%q) error = %v; want %v", tt.codec, tt.payload, err, tt.wantErr)
			}
			if string(got) != "pre"+tt.want {
				t.Errorf("%#v.AppendFrame(%q) = %q; want %q", tt.codec, tt.payload, got, "pre"+tt.want)
			}
		})
	}
}

// frFeed feeds stream to a new Framer for c in pieces of the given sizes
// (the rest in one piece), and returns copies of the payloads and the
// first error.
func frFeed(c Codec, stream []byte, sizes ...int) ([]string, error) {
	f := NewFramer(c)
	var got []string
	fn := func(p []byte) bool {
		got = append(got, string(p))
		return true
	}
	for _, n := range sizes {
		n = min(n, len(stream))
		if err := f.Feed(stream[:n], fn); err != nil {
			return got, err
		}
		stream = stream[n:]
	}
	return got, f.Feed(stream, fn)
}

// frBytewise returns n ones: sizes for frFeed that feed a byte at a time.
func frBytewise(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// frRoundTrips are codecs with payloads that each one frames unambiguously.
var frRoundTrips = []struct {
	name     string
	codec    Codec
	payloads []string
}{
	{"line", LineCodec{}, []string{"hello", "", "a\rb", strings.Repeat("x", 3000), "world"}},
	{"line crlf", LineCodec{CRLF: true}, []string{"hello", "", "a\nb", "x\r", strings.Repeat("y", 1500)}},
	{"line keep", LineCodec{Keep: true}, []string{"hello\n", "\n", "crlf\r\n", "last\n"}},
	{"line crlf keep", LineCodec{CRLF: true, Keep: true}, []string{"hello\r\n", "\r\n", "a\nb\r\n"}},
	{"delimiter", DelimiterCodec{Delim: []byte("\r\n\r\n")}, []string{"GET / HTTP/1.1\r\nHost: x", "", "a\r\nb", strings.Repeat("z", 2000)}},
	{"delimiter nul", DelimiterCodec{Delim: []byte{0}, Max: 10}, []string{"a", "", "123456789"}},
	{"length 1", LengthCodec{Size: 1}, []string{"", "a", strings.Repeat("b", 255)}},
	{"length 2 le", LengthCodec{Size: 2, LittleEndian: true}, []string{"abc", "", strings.Repeat("c", 5000)}},
	{"length 4 includes header", LengthCodec{Size: 4, IncludesHeader: true}, []string{"abc", "", "\x00\x00\x00\x00"}},
	{"length 8", LengthCodec{Size: 8, Max: 100}, []string{"abc", strings.Repeat("d", 100)}},
	{"fixed", FixedCodec{Size: 3}, []string{"abc", "\n\n\n", "\x00\x00\x00"}},
	{"header", HeaderCodec{Offset: 1, Size: 2, From: 3}, []string{"T\x00\x03abc", "U\x00\x00", "V\x01\x2c" + strings.Repeat("e", 300)}},
	{"header counting itself", HeaderCodec{Offset: 1, Size: 4, LittleEndian: true, From: 1}, []string{"Q\x04\x00\x00\x00", "R\x07\x00\x00\x00abc"}},
	{"block", testBlockCodec, []string{"get k", "set k 2\r\nhi\r\n", "", "set k 0\r\n\r\n", "set k 4\r\na\r\nb\r\n", "set k 3\r\nabcXY"}},
}

// testBlockCodec frames lines whose last token is a block's length when
// they start with "set ".
var testBlockCodec = BlockCodec{MaxLine: 64, MaxBlock: 1000, Block: testBlockLen}

func testBlockLen(line []byte) int {
	rest, ok := bytes.CutPrefix(line, []byte("set "))
	if !ok {
		return -1
	}
	tok, _ := LastToken(rest)
	n, ok := ParseUint(tok, 32)
	if !ok {
		return -1
	}
	return int(min(n, 1<<30))
}

func TestCodecRoundTrip(t *testing.T) {
	for _, tt := range frRoundTrips {
		t.Run(tt.name, func(t *testing.T) {
			var stream []byte
			for _, p := range tt.payloads {
				var err error
				stream, err = tt.codec.AppendFrame(stream, []byte(p))
				if err != nil {
					t.Fatalf("AppendFrame(%q): %v", p, err)
				}
			}
			splits := map[string][]int{
				"whole":    nil,
				"bytewise": frBytewise(len(stream)),
				"sevens":   {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7},
				"halves":   {len(stream) / 2},
			}
			for name, sizes := range splits {
				got, err := frFeed(tt.codec, stream, sizes...)
				if err != nil {
					t.Fatalf("%s: Feed: %v", name, err)
				}
				if diff := cmp.Diff(tt.payloads, got); diff != "" {
					t.Errorf("%s: payloads mismatch (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

// TestFramerSplits feeds each round-trip stream in two pieces split at
// every offset, and in three pieces at many, and expects the frames of one
// Feed.
func TestFramerSplits(t *testing.T) {
	for _, tt := range frRoundTrips {
		t.Run(tt.name, func(t *testing.T) {
			var stream []byte
			for _, p := range tt.payloads {
				stream, _ = tt.codec.AppendFrame(stream, []byte(p))
			}
			want, err := frFeed(tt.codec, stream)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i <= len(stream); i++ {
				for _, j := range []int{0, 1, 2, 5, 600} {
					got, err := frFeed(tt.codec, stream, i, j)
					if err != nil {
						t.Fatalf("split at %d, %d: %v", i, j, err)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("split at %d, %d: payloads mismatch (-want +got):\n%s", i, j, diff)
					}
				}
			}
		})
	}
}

func TestFramerMaxBoundaries(t *testing.T) {
	tests := []struct {
		name     string
		codec    Codec
		stream   string
		want     []string
		wantErr  *FrameTooLargeError // nil: no error
		buffered int                 // Buffered after a clean feed
	}{
		{"line exactly max", LineCodec{Max: 8}, "1234567\n", []string{"1234567"}, nil, 0},
		{"line max+1", LineCodec{Max: 8}, "a\n12345678\n", []string{"a"}, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"line max-1 unterminated", LineCodec{Max: 8}, "1234567", nil, nil, 7},
		{"line max unterminated", LineCodec{Max: 8}, "12345678", nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"line crlf exactly max", LineCodec{CRLF: true, Max: 8}, "123456\r\n", []string{"123456"}, nil, 0},
		{"line crlf max+1", LineCodec{CRLF: true, Max: 8}, "1234567\r\n", nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"line crlf max with cr", LineCodec{CRLF: true, Max: 8}, "1234567\r", nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"line crlf max-1 with cr", LineCodec{CRLF: true, Max: 8}, "123456\r", nil, nil, 7},
		{"delimiter exactly max", DelimiterCodec{Delim: []byte("||"), Max: 8}, "123456||", []string{"123456"}, nil, 0},
		{"delimiter max+1", DelimiterCodec{Delim: []byte("||"), Max: 8}, "1234567||", nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"delimiter max unterminated", DelimiterCodec{Delim: []byte("||"), Max: 8}, "1234567|", nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"length exactly max", LengthCodec{Size: 2, Max: 8}, frHeader(2, 8) + "12345678", []string{"12345678"}, nil, 0},
		{"length max+1 header only", LengthCodec{Size: 2, Max: 8}, frHeader(2, 9), nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
		{"length max partial", LengthCodec{Size: 2, Max: 8}, frHeader(2, 8) + "1234567", nil, nil, 9},
		{"length includes header exactly max", LengthCodec{Size: 2, Max: 8, IncludesHeader: true}, frHeader(2, 10) + "12345678", []string{"12345678"}, nil, 0},
		{"length includes header max+1", LengthCodec{Size: 2, Max: 8, IncludesHeader: true}, frHeader(2, 11), nil, &FrameTooLargeError{Size: 9, Max: 8}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, bytewise := range []bool{false, true} {
				f := NewFramer(tt.codec)
				var got []string
				fn := func(p []byte) bool { got = append(got, string(p)); return true }
				var err error
				if bytewise {
					for i := 0; i < len(tt.stream) && err == nil; i++ {
						err = f.Feed([]byte(tt.stream[i:i+1]), fn)
					}
				} else {
					err = f.Feed([]byte(tt.stream), fn)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("bytewise %v: payloads mismatch (-want +got):\n%s", bytewise, diff)
				}
				var tle *FrameTooLargeError
				switch {
				case tt.wantErr == nil && err != nil:
					t.Errorf("bytewise %v: Feed error %v; want nil", bytewise, err)
				case tt.wantErr != nil && !errors.As(err, &tle):
					t.Errorf("bytewise %v: Feed error %v; want %v", bytewise, err, tt.wantErr)
				case tt.wantErr != nil && *tle != *tt.wantErr:
					t.Errorf("bytewise %v: Feed error %+v; want %+v", bytewise, *tle, *tt.wantErr)
				case tt.wantErr != nil && !errors.Is(err, ErrFrameTooLarge):
					t.Errorf("bytewise %v: errors.Is(%v, ErrFrameTooLarge) = false", bytewise, err)
				}
				if f.Buffered() != tt.buffered {
					t.Errorf("bytewise %v: Buffered() = %d; want %d", bytewise, f.Buffered(), tt.buffered)
				}
			}
		})
	}
}

func TestLengthCodecHostileHeaders(t *testing.T) {
	le8 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	be := func(size int, v uint64) []byte { return []byte(frHeader(size, v)) }
	tests := []struct {
		name     string
		codec    LengthCodec
		header   []byte
		wantErr  error
		wantSize int64 // for ErrFrameTooLarge
	}{
		{"4 GiB", LengthCodec{Size: 8}, be(8, 1<<32), ErrFrameTooLarge, 1 << 32},
		{"4 GiB le", LengthCodec{Size: 8, LittleEndian: true}, le8(1 << 32), ErrFrameTooLarge, 1 << 32},
		{"2^63", LengthCodec{Size: 8}, be(8, 1<<63), ErrFrameTooLarge, math.MaxInt64},
		{"2^64-1", LengthCodec{Size: 8}, be(8, math.MaxUint64), ErrFrameTooLarge, math.MaxInt64},
		{"2^64-1 includes header", LengthCodec{Size: 8, IncludesHeader: true}, be(8, math.MaxUint64), ErrFrameTooLarge, math.MaxInt64},
		{"4 GiB-1 in 4 bytes", LengthCodec{Size: 4}, be(4, math.MaxUint32), ErrFrameTooLarge, math.MaxUint32},
		{"huge max", LengthCodec{Size: 8, Max: math.MaxInt}, be(8, 1<<63), ErrFrameTooLarge, math.MaxInt64},
		{"includes header below size", LengthCodec{Size: 4, IncludesHeader: true}, be(4, 3), ErrBadFrame, 0},
		{"includes header zero", LengthCodec{Size: 8, IncludesHeader: true}, be(8, 0), ErrBadFrame, 0},
		{"includes header one byte", LengthCodec{Size: 1, IncludesHeader: true}, []byte{0}, ErrBadFrame, 0},
	}
	ok := func([]byte) bool { return true }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The payload never follows: the error must come from the
			// header alone.
			n, _, err := tt.codec.Next(tt.header, 0)
			if n != 0 || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Next(%x) = %d, %v; want 0, %v", tt.header, n, err, tt.wantErr)
			}
			if a := testing.AllocsPerRun(100, func() { tt.codec.Next(tt.header, 0) }); a != 0 {
				t.Errorf("Next allocates %v times; want 0", a)
			}

			f := NewFramer(tt.codec)
			err = f.Feed(tt.header, ok)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Feed(%x) = %v; want %v", tt.header, err, tt.wantErr)
			}
			var tle *FrameTooLargeError
			if errors.As(err, &tle) && tle.Size != tt.wantSize {
				t.Errorf("FrameTooLargeError.Size = %d; want %d", tle.Size, tt.wantSize)
			}
			if a := testing.AllocsPerRun(100, func() {
				f.Reset()
				f.Feed(tt.header, ok)
			}); a != 0 {
				t.Errorf("Reset+Feed allocates %v times; want 0", a)
			}

			// Byte by byte, the Framer holds no more than the header.
			f.Reset()
			for i := range tt.header {
				err = f.Feed(tt.header[i:i+1], ok)
				if f.Buffered() >= tt.codec.Size {
					t.Fatalf("Buffered() = %d after %d header bytes", f.Buffered(), i+1)
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("bytewise Feed = %v; want %v", err, tt.wantErr)
			}
			if cap(f.buf) > minFramerBuf {
				t.Errorf("buffer capacity %d after a hostile header", cap(f.buf))
			}
		})
	}
}

// frValidator is a codec with its Validate method.
type frValidator interface {
	Codec
	Validate() error
}

func TestCodecValidate(t *testing.T) {
	tests := []struct {
		codec frValidator
		field string // the field a *ConfigError names; "" for a valid codec
		msg   string // the error's text; "" for a valid codec
	}{
		{codec: LineCodec{}},
		{codec: LineCodec{Max: 1}},
		{LineCodec{Max: -1}, "Max", "wire: LineCodec.Max is -1, but it must be 0 (for DefaultMaxLine) or more"},
		{LineCodec{CRLF: true, Max: 1}, "Max", `wire: LineCodec.Max is 1, too short for the terminator "\r\n"`},
		{codec: LineCodec{CRLF: true, Max: 2}},
		{codec: DelimiterCodec{Delim: []byte{0}}},
		{DelimiterCodec{}, "Delim", "wire: DelimiterCodec.Delim is empty"},
		{DelimiterCodec{Delim: []byte{}}, "Delim", "wire: DelimiterCodec.Delim is empty"},
		{DelimiterCodec{Delim: []byte{0}, Max: -1}, "Max", "wire: DelimiterCodec.Max is -1, but it must be 0 (for DefaultMaxLine) or more"},
		{DelimiterCodec{Delim: []byte("abc"), Max: 2}, "Max", `wire: DelimiterCodec.Max is 2, too short for the terminator "abc"`},
		{DelimiterCodec{Delim: bytes.Repeat([]byte{0}, DefaultMaxLine+1)}, "Max", "wire: DelimiterCodec.Max is 0, for DefaultMaxLine (65536 bytes), too short for the 65537-byte terminator"},
		{codec: LengthCodec{Size: 1}},
		{codec: LengthCodec{Size: 2}},
		{codec: LengthCodec{Size: 4}},
		{codec: LengthCodec{Size: 8}},
		{LengthCodec{}, "Size", "wire: LengthCodec.Size is 0, but the length header is 1, 2, 4 or 8 bytes"},
		{LengthCodec{Size: 3}, "Size", "wire: LengthCodec.Size is 3, but the length header is 1, 2, 4 or 8 bytes"},
		{LengthCodec{Size: 16}, "Size", "wire: LengthCodec.Size is 16, but the length header is 1, 2, 4 or 8 bytes"},
		{LengthCodec{Size: -4}, "Size", "wire: LengthCodec.Size is -4, but the length header is 1, 2, 4 or 8 bytes"},
		{LengthCodec{Size: 4, Max: -1}, "Max", "wire: LengthCodec.Max is -1, but it must be 0 (for DefaultMaxLength) or more"},
		// A Max that the header cannot express.
		{codec: LengthCodec{Size: 1, Max: 255}},
		{LengthCodec{Size: 1, Max: 256}, "Max", "wire: LengthCodec.Max is 256, more than a 1-byte header can express (255)"},
		{codec: LengthCodec{Size: 1, Max: 254, IncludesHeader: true}},
		{LengthCodec{Size: 1, Max: 255, IncludesHeader: true}, "Max", "wire: LengthCodec.Max is 255, more than a 1-byte header that counts itself can express (254)"},
		{codec: LengthCodec{Size: 2, Max: 65535}},
		{LengthCodec{Size: 2, Max: 65536}, "Max", "wire: LengthCodec.Max is 65536, more than a 2-byte header can express (65535)"},
		{codec: LengthCodec{Size: 4, Max: math.MaxUint32 - 4, IncludesHeader: true}},
		{LengthCodec{Size: 4, Max: math.MaxUint32 - 3, IncludesHeader: true}, "Max", "wire: LengthCodec.Max is 4294967292, more than a 4-byte header that counts itself can express (4294967291)"},
		{codec: LengthCodec{Size: 8, Max: math.MaxInt}},
		{codec: FixedCodec{Size: 1}},
		{FixedCodec{}, "Size", "wire: FixedCodec.Size is 0, but a frame is at least 1 byte"},
		{FixedCodec{Size: -1}, "Size", "wire: FixedCodec.Size is -1, but a frame is at least 1 byte"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%#v", tt.codec)
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			err := tt.codec.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil; want an error")
			}
			if err.Error() != tt.msg || errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrBadFrame) {
				t.Errorf("Validate() = %v; want the configuration error %q", err, tt.msg)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field || !strings.HasPrefix(fmt.Sprintf("%T", tt.codec), "wire."+ce.Codec) {
				t.Errorf("Validate() = %#v; want a *ConfigError naming %T.%s", err, tt.codec, tt.field)
			}
			if _, _, nerr := tt.codec.Next([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\n"), 0); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("Next error = %v; want %v", nerr, err)
			}
			if b, aerr := tt.codec.AppendFrame([]byte("pre"), []byte("x")); aerr == nil || aerr.Error() != err.Error() || string(b) != "pre" {
				t.Errorf("AppendFrame = %q, %v; want %q, %v", b, aerr, "pre", err)
			}
			f := NewFramer(tt.codec)
			for range 2 { // the error is sticky
				if ferr := f.Feed([]byte("x\n"), func([]byte) bool { return true }); ferr == nil || ferr.Error() != err.Error() {
					t.Errorf("Feed error = %v; want %v", ferr, err)
				}
			}
		})
	}
}

// MaxPayload is Max, or the default cut to what the header can express.
func TestLengthCodecMaxPayload(t *testing.T) {
	tests := []struct {
		codec LengthCodec
		want  int
	}{
		{LengthCodec{Size: 1}, 255},
		{LengthCodec{Size: 1, IncludesHeader: true}, 254},
		{LengthCodec{Size: 1, Max: 10}, 10},
		{LengthCodec{Size: 2}, 65535},
		{LengthCodec{Size: 2, IncludesHeader: true}, 65533},
		{LengthCodec{Size: 4}, DefaultMaxLength},
		{LengthCodec{Size: 4, Max: 1 << 30}, 1 << 30},
		{LengthCodec{Size: 8}, DefaultMaxLength},
		{LengthCodec{Size: 8, Max: math.MaxInt}, math.MaxInt - 8},
		{LengthCodec{Size: 3}, 0},
		{LengthCodec{Size: 1, Max: 256}, 0},
	}
	for _, tt := range tests {
		if got := tt.codec.MaxPayload(); got != tt.want {
			t.Errorf("%+v.MaxPayload() = %d; want %d", tt.codec, got, tt.want)
		}
		if tt.want == 0 {
			continue
		}
		// The codec writes a payload of MaxPayload bytes and refuses one
		// byte more.
		if _, err := tt.codec.AppendFrame(nil, make([]byte, min(tt.want, 1<<16))); err != nil {
			t.Errorf("%+v.AppendFrame of %d bytes: %v", tt.codec, min(tt.want, 1<<16), err)
		}
		if tt.want < 1<<16 {
			if _, err := tt.codec.AppendFrame(nil, make([]byte, tt.want+1)); !errors.Is(err, ErrFrameTooLarge) {
				t.Errorf("%+v.AppendFrame of %d bytes: %v; want ErrFrameTooLarge", tt.codec, tt.want+1, err)
			}
		}
	}
}

func TestFramerZeroCopy(t *testing.T) {
	// A payload at (feed, offset) must alias feeds[feed][offset]; feed -1
	// means reassembled, which must alias none of the feeds.
	type at struct {
		payload      string
		feed, offset int
	}
	tests := []struct {
		name  string
		codec Codec
		feeds []string
		want  []at
	}{
		{"line", LineCodec{}, []string{"ab\ncd\r\nef", "g\nhi\n"}, []at{{"ab", 0, 0}, {"cd", 0, 3}, {"efg", -1, 0}, {"hi", 1, 2}}},
		{"delimiter", DelimiterCodec{Delim: []byte("||")}, []string{"ab||c|", "|de||"}, []at{{"ab", 0, 0}, {"c", -1, 0}, {"de", 1, 1}}},
		{"length", LengthCodec{Size: 2}, []string{"\x00\x02ab\x00", "\x02cd\x00\x01e"}, []at{{"ab", 0, 2}, {"cd", -1, 0}, {"e", 1, 5}}},
		{"fixed", FixedCodec{Size: 2}, []string{"abc", "def"}, []at{{"ab", 0, 0}, {"cd", -1, 0}, {"ef", 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFramer(tt.codec)
			feeds := make([][]byte, len(tt.feeds))
			var got []at
			for i, s := range tt.feeds {
				feeds[i] = []byte(s)
				err := f.Feed(feeds[i], func(p []byte) bool {
					a := at{string(p), -1, 0}
					for j := range feeds[i] {
						if &feeds[i][j] == &p[0] {
							a.feed, a.offset = i, j
						}
					}
					got = append(got, a)
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(at{})); diff != "" {
				t.Errorf("payload positions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFramerRefuse checks that a frame fn refuses is held with everything
// after it, and passed first by the next Feed.
func TestFramerRefuse(t *testing.T) {
	tests := []struct {
		name     string
		feeds    []string // "" is Feed(nil)
		refuse   []string // fn refuses these payloads, in this order, once each
		want     []string // the payloads fn took
		buffered []int    // Buffered after each Feed
	}{
		{"in place", []string{"a\nb\nc\nd", "", "e\n"}, []string{"b"}, []string{"a", "b", "c", "de"}, []int{5, 1, 0}},
		{"reassembled", []string{"a", "b\nc\n", ""}, []string{"ab"}, []string{"ab", "c"}, []int{1, 5, 0}},
		{"refused again", []string{"a\nb\n", "c\n", "", ""}, []string{"a", "a"}, []string{"a", "b", "c"}, []int{4, 6, 0, 0}},
		{"refused after release", []string{"a\nb\n", "c\n", ""}, []string{"a", "b"}, []string{"a", "b", "c"}, []int{4, 4, 0}},
		{"partial frame after held", []string{"x\nyy", "", "y\n"}, []string{"x"}, []string{"x", "yyy"}, []int{4, 2, 0}},
		{"last frame", []string{"a\nb\n", ""}, []string{"b"}, []string{"a", "b"}, []int{2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFramer(LineCodec{})
			refuse := tt.refuse
			var got []string
			var buffered []int
			for _, s := range tt.feeds {
				err := f.Feed([]byte(s), func(p []byte) bool {
					if len(refuse) > 0 && string(p) == refuse[0] {
						refuse = refuse[1:]
						return false
					}
					got = append(got, string(p))
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
				buffered = append(buffered, f.Buffered())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("payloads mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.buffered, buffered); diff != "" {
				t.Errorf("Buffered mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// Reset drops held frames.
	f := NewFramer(LineCodec{})
	f.Feed([]byte("a\nb\n"), func([]byte) bool { return false })
	f.Reset()
	if got, err := frCollect(f, "c\n"); !cmp.Equal(got, []string{"c"}) || err != nil || f.Buffered() != 0 {
		t.Errorf("after Reset: got %q, %v, Buffered %d; want [c], nil, 0", got, err, f.Buffered())
	}
}

// TestFramerPause: a paused framer passes no frame, holding them with the
// bytes after them, in place or reassembled; a frame's fn that pauses keeps
// its own frame; Resume lets the next Feed pass the held frames first, in
// order, and a held frame that pauses again stops them there. Pause and
// Resume inside fn act on the running Feed. The actions are, in order: a
// feed ("" is Feed(nil)), "P" Pause, "R" Resume; inFn says what fn does
// after taking a frame, once.
func TestFramerPause(t *testing.T) {
	tests := []struct {
		name     string
		actions  []string
		inFn     map[string]string // payload → "P" or "R": what fn does after taking it
		want     []string          // the payloads fn took and the actions P and R, in order
		paused   bool              // Paused at the end
		buffered int               // Buffered at the end
	}{
		{"paused before a feed", []string{"P", "a\nb\n", "R", ""}, nil, []string{"P", "R", "a", "b"}, false, 0},
		{"held while paused across feeds", []string{"P", "a\nb", "\nc\n", "", "R", "d\n"}, nil, []string{"P", "R", "a", "b", "c", "d"}, false, 0},
		{"paused by a frame", []string{"a\nb\nc\n"}, map[string]string{"a": "P"}, []string{"a"}, true, 4},
		{"resumed by the next feed", []string{"a\nb\nc\n", "R", ""}, map[string]string{"a": "P"}, []string{"a", "R", "b", "c"}, false, 0},
		{"paused again by a held frame", []string{"a\nb\nc\n", "R", ""}, map[string]string{"a": "P", "b": "P"}, []string{"a", "R", "b"}, true, 2},
		{"paused and resumed in one frame", []string{"a\nb\n"}, map[string]string{"a": "PR"}, []string{"a", "b"}, false, 0},
		{"reassembled frame waits", []string{"a", "P", "b\n", "R", ""}, nil, []string{"P", "R", "ab"}, false, 0},
		{"split frame after a pause", []string{"a\nbb", "R", "b\n"}, map[string]string{"a": "P"}, []string{"a", "R", "bbb"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFramer(LineCodec{})
			var got []string
			fn := func(p []byte) bool {
				got = append(got, string(p))
				for _, op := range tt.inFn[string(p)] {
					if op == 'P' {
						f.Pause()
					} else {
						f.Resume()
					}
				}
				if tt.inFn[string(p)] != "" {
					delete(tt.inFn, string(p)) // once
				}
				return true
			}
			for _, a := range tt.actions {
				switch a {
				case "P":
					f.Pause()
					got = append(got, a)
				case "R":
					f.Resume()
					got = append(got, a)
				default:
					if err := f.Feed([]byte(a), fn); err != nil {
						t.Fatal(err)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("payloads mismatch (-want +got):\n%s", diff)
			}
			if f.Paused() != tt.paused || f.Buffered() != tt.buffered {
				t.Errorf("Paused %v, Buffered %d; want %v, %d", f.Paused(), f.Buffered(), tt.paused, tt.buffered)
			}
		})
	}

	// Init ends a pause; Reset, which drops bytes, does not.
	f := NewFramer(LineCodec{})
	f.Pause()
	f.Reset()
	if !f.Paused() {
		t.Error("Reset ended the pause")
	}
	f.Init(LineCodec{})
	if f.Paused() {
		t.Error("Init kept the pause")
	}
}

// TestFramerNestedFeed: fn may call Feed(nil), which leaves the held
// frames to the running Feed (each still passed once, in order); Feed with
// data from inside fn is refused, as it would overtake frames to come.
func TestFramerNestedFeed(t *testing.T) {
	f := NewFramer(LineCodec{})
	var got []string
	refused := false
	var nestedErr error
	fn := func(p []byte) bool {
		if string(p) == "b" && !refused {
			refused = true
			return false
		}
		got = append(got, string(p))
		if err := f.Feed(nil, nil); err != nil {
			t.Errorf("nested Feed(nil): %v", err)
		}
		if nestedErr == nil {
			nestedErr = f.Feed([]byte("x\n"), nil)
		}
		return true
	}
	if err := f.Feed([]byte("a\nb\nc\n"), fn); err != nil {
		t.Fatal(err)
	}
	if err := f.Feed(nil, fn); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("payloads mismatch (-want +got):\n%s", diff)
	}
	if nestedErr == nil {
		t.Error("a nested Feed with data was accepted")
	}
	if f.Buffered() != 0 {
		t.Errorf("Buffered = %d after every frame was taken, want 0", f.Buffered())
	}
}

// frCollect feeds data to f and returns copies of the payloads.
func frCollect(f *Framer, data string) ([]string, error) {
	var got []string
	err := f.Feed([]byte(data), func(p []byte) bool {
		got = append(got, string(p))
		return true
	})
	return got, err
}

func TestFramerErrorSticky(t *testing.T) {
	f := NewFramer(LineCodec{Max: 4})
	got, err := frCollect(f, "ab\nabcdef")
	if !cmp.Equal(got, []string{"ab"}) || !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Feed = %q, %v; want [ab], ErrFrameTooLarge", got, err)
	}
	got, err2 := frCollect(f, "x\n")
	if len(got) != 0 || err2 != err {
		t.Errorf("Feed after error = %q, %v; want none, %v", got, err2, err)
	}
	f.Reset()
	got, err = frCollect(f, "x\n")
	if !cmp.Equal(got, []string{"x"}) || err != nil {
		t.Errorf("Feed after Reset = %q, %v; want [x], nil", got, err)
	}

	var zero Framer
	if err := zero.Feed([]byte("x\n"), func([]byte) bool { return true }); err == nil {
		t.Error("Feed on a zero Framer = nil; want an error")
	}
	zero.Init(LineCodec{})
	if got, err := frCollect(&zero, "x\n"); !cmp.Equal(got, []string{"x"}) || err != nil {
		t.Errorf("Feed after Init = %q, %v; want [x], nil", got, err)
	}
}

func TestFramerReset(t *testing.T) {
	f := NewFramer(LineCodec{})
	frCollect(f, "abc")
	if f.Buffered() != 3 {
		t.Fatalf("Buffered() = %d; want 3", f.Buffered())
	}
	small := cap(f.buf)
	f.Reset()
	if f.Buffered() != 0 || cap(f.buf) != small {
		t.Errorf("after Reset: Buffered() = %d, cap %d; want 0, %d (small buffer kept)", f.Buffered(), cap(f.buf), small)
	}
	if got, _ := frCollect(f, "de\n"); !cmp.Equal(got, []string{"de"}) {
		t.Errorf("after Reset got %q; want [de]", got)
	}

	g := NewFramer(LengthCodec{Size: 4})
	frCollect(g, frHeader(4, 100<<10)+strings.Repeat("x", 50<<10))
	if g.Buffered() != 4+50<<10 {
		t.Fatalf("Buffered() = %d; want %d", g.Buffered(), 4+50<<10)
	}
	g.Reset()
	if g.Buffered() != 0 || cap(g.buf) > keepFramerBuf {
		t.Errorf("after Reset: Buffered() = %d, cap %d; want 0, at most %d", g.Buffered(), cap(g.buf), keepFramerBuf)
	}
}

// TestFramerBufferBound checks that the Framer's buffer never outgrows the
// codec's largest frame, however the stream is split.
func TestFramerBufferBound(t *testing.T) {
	tests := []struct {
		name   string
		codec  Codec
		stream []byte
		limit  int
	}{
		{"line max", LineCodec{Max: 1000}, []byte(strings.Repeat("x", 999) + "\n" + strings.Repeat("y", 999) + "\n"), 1000},
		{"line too long", LineCodec{Max: 1000}, []byte(strings.Repeat("x", 5000)), 1000},
		{"delimiter max", DelimiterCodec{Delim: []byte("END"), Max: 3000}, []byte(strings.Repeat("x", 2997) + "END"), 3000},
		{"length max", LengthCodec{Size: 4, Max: 100 << 10}, []byte(frHeader(4, 100<<10) + strings.Repeat("x", 100<<10)), 4 + 100<<10},
		{"fixed", FixedCodec{Size: 700}, bytes.Repeat([]byte("z"), 2100), 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, step := range []int{1, 7, 300, 4096, 64 << 10} {
				f := NewFramer(tt.codec)
				high := 0
				for s := tt.stream; len(s) > 0; {
					n := min(step, len(s))
					if err := f.Feed(s[:n], func([]byte) bool { return true }); err != nil {
						break
					}
					high = max(high, cap(f.buf))
					s = s[n:]
				}
				if high > tt.limit {
					t.Errorf("step %d: buffer capacity reached %d; want at most %d", step, high, tt.limit)
				}
			}
		})
	}
}

// frCounting is a codec outside the fast path that adds up the bytes the
// Framer asks it to examine: len(buf) - scanned per call.
type frCounting struct {
	c        Codec
	examined *int
}

func (c frCounting) Next(buf []byte, scanned int) (int, []byte, error) {
	*c.examined += len(buf) - scanned
	return c.c.Next(buf, scanned)
}

func (c frCounting) AppendFrame(dst, p []byte) ([]byte, error) { return c.c.AppendFrame(dst, p) }

// TestFramerLinearScan feeds a 64 KiB line a byte at a time and checks that
// the scanned hint keeps the work linear, also when "\r" and "\n" of a
// CRLF terminator arrive in different Feeds.
func TestFramerLinearScan(t *testing.T) {
	for _, c := range []LineCodec{{}, {CRLF: true}} {
		line := []byte(strings.Repeat("x", DefaultMaxLine-2) + string(c.term()))
		var examined int
		got, err := frFeed(frCounting{c, &examined}, line, frBytewise(len(line))...)
		if err != nil || len(got) != 1 || len(got[0]) != DefaultMaxLine-2 {
			t.Fatalf("%+v: Feed got %d frames, error %v; want the line", c, len(got), err)
		}
		if examined > 2*len(line) {
			t.Errorf("%+v: the codec examined %d bytes for a %d-byte line fed bytewise; want O(n)", c, examined, len(line))
		}
	}
	// And the codec itself starts from the hint, stepping back only over a
	// possible partial terminator.
	if n, p, _ := (LineCodec{CRLF: true}).Next([]byte("\r\nabc\r\n"), 3); n != 7 || string(p) != "\r\nabc" {
		t.Errorf("Next with scanned past a CRLF = %d, %q; want 7, %q (bytes before the hint are not rescanned)", n, p, "\r\nabc")
	}
}

// frTransport is a writer that records each Write as one element.
type frTransport struct {
	mu     sync.Mutex
	writes [][]byte
	err    error
}

func (t *frTransport) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return 0, t.err
	}
	t.writes = append(t.writes, bytes.Clone(p))
	return len(p), nil
}

// frDiscard is a writer whose Write does nothing, for counting
// allocations.
type frDiscard struct{}

func (frDiscard) Write(p []byte) (int, error) { return len(p), nil }

func TestWriteFrame(t *testing.T) {
	tests := []struct {
		name    string
		codec   Codec
		payload string
		want    string
	}{
		{"line", LineCodec{}, "hello", "hello\n"},
		{"crlf", LineCodec{CRLF: true}, "hello", "hello\r\n"},
		{"delimiter", DelimiterCodec{Delim: []byte{0}}, "hello", "hello\x00"},
		{"length", LengthCodec{Size: 2}, "hello", "\x00\x05hello"},
		{"fixed", FixedCodec{Size: 5}, "hello", "hello"},
		{"big", LengthCodec{Size: 4}, strings.Repeat("b", 100<<10), frHeader(4, 100<<10) + strings.Repeat("b", 100<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := new(frTransport)
			for range 2 {
				if err := WriteFrame(tr, tt.codec, []byte(tt.payload)); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff([]string{tt.want, tt.want}, frStrings(tr.writes)); diff != "" {
				t.Errorf("writes mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("encode error", func(t *testing.T) {
		tr := new(frTransport)
		err := WriteFrame(tr, LineCodec{}, []byte("a\nb"))
		if !errors.Is(err, ErrBadFrame) || len(tr.writes) != 0 {
			t.Errorf("WriteFrame = %v with %d writes; want ErrBadFrame and none", err, len(tr.writes))
		}
	})
	t.Run("write error", func(t *testing.T) {
		werr := errors.New("write failed")
		tr := &frTransport{err: werr}
		if err := WriteFrame(tr, LineCodec{}, []byte("a")); err != werr {
			t.Errorf("WriteFrame = %v; want %v", err, werr)
		}
	})
	t.Run("allocs", func(t *testing.T) {
		var c Codec = LengthCodec{Size: 4}
		p := []byte("steady state")
		var tr io.Writer = frDiscard{}
		WriteFrame(tr, c, p)
		if a := testing.AllocsPerRun(1000, func() { WriteFrame(tr, c, p) }); a != 0 {
			t.Errorf("WriteFrame allocates %v times; want 0", a)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// Each Write holds one whole frame, whatever the other writers do.
		tr := new(frTransport)
		c := LengthCodec{Size: 2}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 100 {
					WriteFrame(tr, c, []byte(strings.Repeat(string(rune('a'+w)), i)))
				}
			})
		}
		wg.Wait()
		if len(tr.writes) != 800 {
			t.Fatalf("%d writes; want 800", len(tr.writes))
		}
		for _, w := range tr.writes {
			n, p, err := c.Next(w, 0)
			if err != nil || n != len(w) || len(p) > 0 && !bytes.Equal(p, bytes.Repeat(p[:1], len(p))) {
				t.Fatalf("write %q is not one whole frame", w)
			}
		}
	})
}

func frStrings(bs [][]byte) []string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return s
}

// BenchmarkFramer feeds steady-state streams of 100-byte payloads in reads
// of 16 KiB (most frames inside a read) and of 4 KiB payloads in reads of
// 1500 bytes (every frame split across reads).
func BenchmarkFramer(b *testing.B) {
	codecs := []struct {
		name  string
		codec Codec
	}{
		{"line", LineCodec{}},
		{"crlf", LineCodec{CRLF: true}},
		{"delimiter", DelimiterCodec{Delim: []byte("\r\n\r\n")}},
		{"length", LengthCodec{Size: 4}},
		{"fixed", nil}, // sized per workload
	}
	workloads := []struct {
		name          string
		payload, read int
	}{
		{"within", 100, 16 << 10},
		{"split", 4 << 10, 1500},
	}
	for _, c := range codecs {
		for _, w := range workloads {
			b.Run(c.name+"/"+w.name, func(b *testing.B) {
				codec := c.codec
				if codec == nil {
					codec = FixedCodec{Size: w.payload}
				}
				payload := bytes.Repeat([]byte("p"), w.payload)
				var stream []byte
				for len(stream) < 256<<10 {
					stream, _ = codec.AppendFrame(stream, payload)
				}
				f := NewFramer(codec)
				frames := 0
				fn := func([]byte) bool { frames++; return true }
				b.SetBytes(int64(len(stream)))
				b.ReportAllocs()
				for b.Loop() {
					for s := stream; len(s) > 0; {
						n := min(w.read, len(s))
						if err := f.Feed(s[:n], fn); err != nil {
							b.Fatal(err)
						}
						s = s[n:]
					}
				}
				if f.Buffered() != 0 || frames == 0 {
					b.Fatalf("Buffered() = %d, %d frames", f.Buffered(), frames)
				}
			})
		}
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	var c Codec = LengthCodec{Size: 4}
	p := bytes.Repeat([]byte("w"), 100)
	var tr io.Writer = frDiscard{}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteFrame(tr, c, p); err != nil {
			b.Fatal(err)
		}
	}
}
