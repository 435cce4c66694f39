package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fuzz targets feed a random stream to a Framer in one piece and in
// random pieces, with and without fn refusing frames, and require the same
// payloads and the same error: neither where the reads fall nor a pause
// may change what the peer is understood to have sent. They also re-encode
// each payload and decode it back.

// frSizes turns the bytes of splits into the piece sizes for frFeed: 0 is
// an empty Feed, bytes up to 199 are that many bytes, larger ones are
// hundreds of bytes, so that frames longer than the Framer's first buffer
// get split too.
func frSizes(splits []byte) []int {
	sizes := make([]int, len(splits))
	for i, s := range splits {
		sizes[i] = int(s)
		if s >= 200 {
			sizes[i] = (int(s) - 199) * 100
		}
	}
	return sizes
}

// frSameError reports whether a and b are the same failure.
func frSameError(a, b error) bool {
	var ta, tb *FrameTooLargeError
	switch {
	case a == nil || b == nil:
		return a == b
	case errors.As(a, &ta) != errors.As(b, &tb):
		return false
	case ta != nil:
		return *ta == *tb
	default: // ErrBadFrame or a configuration error
		return a.Error() == b.Error()
	}
}

// frFeedRefusing is frFeed with an fn that refuses the frame of its call
// number i if bit i%64 of refuse is set, but never twice in a row; after
// each piece it feeds nil until no refused frame is held. It returns the
// payloads fn took. With a host, the Framer uses it, and a misuse of it
// after any Feed is returned as an error.
func frFeedRefusing(c Codec, stream []byte, refuse uint64, h *frHost, sizes ...int) ([]string, error) {
	f := NewFramer(c)
	if h != nil {
		f.SetHost(h)
	}
	var got []string
	calls, refused := 0, false
	fn := func(p []byte) bool {
		calls++
		if !refused && refuse>>(calls%64)&1 == 1 {
			refused = true
			return false
		}
		refused = false
		got = append(got, string(p))
		return true
	}
	feed := func(p []byte) error {
		err := f.Feed(p, fn)
		for err == nil && f.held {
			err = f.Feed(nil, fn)
		}
		if h != nil {
			if problems := h.check(f); len(problems) > 0 {
				return fmt.Errorf("host misused: %v", problems)
			}
		}
		return err
	}
	for _, n := range sizes {
		n = min(n, len(stream))
		if err := feed(stream[:n]); err != nil {
			return got, err
		}
		stream = stream[n:]
	}
	return got, feed(stream)
}

// frFuzzCheck is the property the fuzz targets share.
func frFuzzCheck(t *testing.T, c Codec, stream, splits []byte, refuse uint64) {
	want, wantErr := frFeed(c, stream)
	got, err := frFeed(c, stream, frSizes(splits)...)
	if !frSameError(wantErr, err) {
		t.Fatalf("%#v: split Feed error = %v; one Feed error = %v", c, err, wantErr)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%#v: payloads of split Feeds differ from one Feed (-one +split):\n%s", c, diff)
	}
	got, err = frFeedRefusing(c, stream, refuse, nil, frSizes(splits)...)
	if !frSameError(wantErr, err) {
		t.Fatalf("%#v: split Feed with refusals error = %v; one Feed error = %v", c, err, wantErr)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%#v: payloads of split Feeds with refusals differ from one Feed (-one +split):\n%s", c, diff)
	}
	// A host that poisons the buffers it takes back catches a Framer that
	// keeps using one.
	got, err = frFeedRefusing(c, stream, refuse, newFrHost(), frSizes(splits)...)
	if !frSameError(wantErr, err) {
		t.Fatalf("%#v: split Feed with refusals and a host: error = %v; one Feed error = %v", c, err, wantErr)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%#v: payloads of split Feeds with refusals and a host differ from one Feed (-one +split):\n%s", c, diff)
	}
	if wantErr != nil && !errors.Is(wantErr, ErrFrameTooLarge) && !errors.Is(wantErr, ErrBadFrame) {
		if v, ok := c.(interface{ Validate() error }); !ok || v.Validate() == nil {
			t.Fatalf("%#v: Feed error %v, which is neither a frame error nor a configuration error", c, wantErr)
		}
	}
	for _, p := range want {
		enc, err := c.AppendFrame(nil, []byte(p))
		if err != nil {
			continue // a payload the codec cannot write back unambiguously
		}
		n, q, err := c.Next(enc, 0)
		if err != nil || n != len(enc) || string(q) != p {
			t.Fatalf("%#v: Next(AppendFrame(%q) = %q) = %d, %q, %v; want %d, the payload, nil", c, p, enc, n, q, err, len(enc))
		}
	}
}

func FuzzLineCodec(f *testing.F) {
	f.Add(false, false, uint16(0), []byte("GET a\r\nSET b 1\nQUIT\n"), []byte{3, 0, 1, 1}, uint64(0b1010))
	f.Add(true, false, uint16(8), []byte("abc\r\n1234567\r\nx\r"), []byte{4, 1}, uint64(0))
	f.Add(false, true, uint16(4), []byte("ab\r\nabcd\n"), []byte{1, 1, 1}, uint64(0xffff))
	f.Add(true, true, uint16(1), []byte("\r\n"), []byte{1}, uint64(0b110))
	f.Fuzz(func(t *testing.T, crlf, keep bool, maxLen uint16, stream, splits []byte, refuse uint64) {
		frFuzzCheck(t, LineCodec{CRLF: crlf, Keep: keep, Max: int(maxLen % 1024)}, stream, splits, refuse)
	})
}

func FuzzDelimiterCodec(f *testing.F) {
	f.Add([]byte("||"), false, uint16(0), []byte("a||b|||c"), []byte{2, 1}, uint64(1<<63|5))
	f.Add([]byte("aa"), true, uint16(5), []byte("xaaayaa"), []byte{1, 2, 3}, uint64(0b10))
	f.Add([]byte("\r\n\r\n"), false, uint16(16), []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), []byte{17, 0, 5}, uint64(0b1010))
	f.Add([]byte{}, false, uint16(0), []byte("x"), []byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, delim []byte, keep bool, maxLen uint16, stream, splits []byte, refuse uint64) {
		if len(delim) > 8 {
			delim = delim[:8]
		}
		frFuzzCheck(t, DelimiterCodec{Delim: delim, Keep: keep, Max: int(maxLen % 1024)}, stream, splits, refuse)
	})
}

func FuzzLengthCodec(f *testing.F) {
	f.Add(uint8(1), false, false, uint32(0), []byte("\x03abc\x00\x01x"), []byte{2, 2}, uint64(0xffff))
	f.Add(uint8(2), true, true, uint32(10), []byte("\x05\x00abc\x02\x00"), []byte{1}, uint64(0b110))
	f.Add(uint8(3), false, false, uint32(0), []byte("\x00\x00\x00\x01\x00\x00\x00\x00"), []byte{3}, uint64(1<<63|5))
	f.Add(uint8(3), false, false, uint32(0), []byte("\x80\x00\x00\x00\x00\x00\x00\x00"), []byte{}, uint64(0b10))
	f.Add(uint8(2), false, true, uint32(0), []byte("\x00\x00\x00\x03"), []byte{1, 1}, uint64(0b1010))
	f.Add(uint8(4), false, false, uint32(0), []byte("\x00"), []byte{}, uint64(0))
	big := "\x00\x00\x30\x00" + strings.Repeat("a", 0x3000) + "\x00\x00\x00\x02ab" + "\x00\x00\x20\x00" + strings.Repeat("b", 0x2000)
	f.Add(uint8(2), false, false, uint32(0), []byte(big), []byte{250, 255, 3, 255, 240}, uint64(0b100))
	f.Fuzz(func(t *testing.T, size uint8, le, includes bool, maxLen uint32, stream, splits []byte, refuse uint64) {
		c := LengthCodec{
			Size:           []int{1, 2, 4, 8, 3}[size%5], // 3: an invalid size
			LittleEndian:   le,
			IncludesHeader: includes,
			Max:            int(maxLen % (1 << 20)),
		}
		frFuzzCheck(t, c, stream, splits, refuse)
	})
}

func FuzzFixedCodec(f *testing.F) {
	f.Add(uint16(3), []byte("abcdefgh"), []byte{1, 4}, uint64(0xffff))
	f.Add(uint16(1), []byte("xy"), []byte{0, 1}, uint64(0b110))
	f.Add(uint16(0), []byte("x"), []byte{}, uint64(1<<63|5))
	f.Fuzz(func(t *testing.T, size uint16, stream, splits []byte, refuse uint64) {
		frFuzzCheck(t, FixedCodec{Size: int(size % 2048)}, stream, splits, refuse)
	})
}

func FuzzHeaderCodec(f *testing.F) {
	f.Add(uint8(1), uint8(2), uint8(3), false, uint16(0), []byte("T\x00\x03abcU\x00\x00"), []byte{2, 2}, uint64(0xffff))
	f.Add(uint8(8), uint8(4), uint8(24), false, uint16(100), []byte("\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"+"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00x"), []byte{5, 9}, uint64(0b110))
	f.Add(uint8(1), uint8(4), uint8(1), true, uint16(0), []byte("Q\x04\x00\x00\x00R\x03\x00\x00\x00"), []byte{1}, uint64(0))
	f.Fuzz(func(t *testing.T, offset, size, from uint8, le bool, maxLen uint16, stream, splits []byte, refuse uint64) {
		c := HeaderCodec{
			Offset:       int(offset % 16),
			Size:         []int{1, 2, 4, 8, 3}[size%5], // 3: an invalid size
			LittleEndian: le,
			From:         int(from % 32),
			Max:          int(maxLen % 4096),
		}
		frFuzzCheck(t, c, stream, splits, refuse)
	})
}

func FuzzBlockCodec(f *testing.F) {
	f.Add(uint8(64), uint16(1000), []byte("get a\r\nset k 2\r\nhi\r\nset k 3\nabcXY"), []byte{3, 1, 9}, uint64(0b1010))
	f.Add(uint8(8), uint16(3), []byte("set k 4\r\n"), []byte{1}, uint64(0))
	f.Fuzz(func(t *testing.T, maxLine uint8, maxBlock uint16, stream, splits []byte, refuse uint64) {
		frFuzzCheck(t, BlockCodec{MaxLine: int(maxLine), MaxBlock: int(maxBlock % 2048), Block: testBlockLen}, stream, splits, refuse)
	})
}
