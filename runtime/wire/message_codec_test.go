package wire

import (
	"errors"
	"testing"
)

func TestHeaderCodecNext(t *testing.T) {
	memcached := HeaderCodec{Offset: 8, Size: 4, From: 24, Max: 100}
	header := func(body byte) string {
		return "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + string(body) + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	}
	frCheckNext(t, []frNextCase{
		{name: "header only", codec: memcached, buf: header(0), wantN: 24, want: header(0)},
		{name: "body", codec: memcached, buf: header(3) + "abcde", wantN: 27, want: header(3) + "abc"},
		{name: "not yet the length", codec: memcached, buf: "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
		{name: "not yet the body", codec: memcached, buf: header(3) + "ab"},
		{name: "over max at once", codec: memcached, buf: "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x4d", wantErr: ErrFrameTooLarge},
		{name: "hostile length", codec: memcached, buf: "\x80\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff", wantErr: ErrFrameTooLarge},
		{name: "counting itself", codec: HeaderCodec{Offset: 1, Size: 4, From: 1}, buf: "Q\x00\x00\x00\x04X", wantN: 5, want: "Q\x00\x00\x00\x04"},
		{name: "shorter than its length field", codec: HeaderCodec{Offset: 1, Size: 4, From: 1}, buf: "Q\x00\x00\x00\x03", wantErr: ErrBadFrame},
		{name: "8-byte length at the limit", codec: HeaderCodec{Size: 8, From: 8}, buf: "\xff\xff\xff\xff\xff\xff\xff\xff", wantErr: ErrFrameTooLarge},
	})
}

func TestBlockCodecNext(t *testing.T) {
	c := testBlockCodec // lines of at most 64 bytes; blocks of at most 1000
	frCheckNext(t, []frNextCase{
		{name: "line", codec: c, buf: "get k\r\nnext", wantN: 7, want: "get k"},
		{name: "lf line", codec: c, buf: "get k\nnext", wantN: 6, want: "get k"},
		{name: "block", codec: c, buf: "set k 2\r\nhi\r\nget", wantN: 13, want: "set k 2\r\nhi\r\n"},
		{name: "block after an lf line", codec: c, buf: "set k 2\nhi\r\n", wantN: 12, want: "set k 2\nhi\r\n"},
		{name: "block not yet complete", codec: c, buf: "set k 2\r\nhi\r"},
		{name: "block, scanned past the line", codec: c, buf: "set k 2\r\nhi\r\n", scanned: 12, wantN: 13, want: "set k 2\r\nhi\r\n"},
		{name: "bad terminator is the decoder's", codec: c, buf: "set k 2\r\nhiXY", wantN: 13, want: "set k 2\r\nhiXY"},
		{name: "block over max before its bytes", codec: c, buf: "set k 1001\r\n", wantErr: ErrFrameTooLarge},
		{name: "line too long", codec: c, buf: "get " + string(make([]byte, 60)), wantErr: ErrFrameTooLarge},
	})
}

// A hostile block length is refused by a Framer the moment its line is
// complete: nothing of the block is buffered or waited for.
func TestBlockCodecHostileLength(t *testing.T) {
	got, err := frFeed(testBlockCodec, []byte("get a\r\nset k 4294967295\r\n"), 3)
	var tooLarge *FrameTooLargeError
	if !errors.As(err, &tooLarge) || len(got) != 1 {
		t.Fatalf("Feed = %q, %v; want one frame and a *FrameTooLargeError", got, err)
	}
	if tooLarge.Size <= int64(testBlockCodec.MaxBlock) {
		t.Errorf("FrameTooLargeError.Size = %d, want more than the block maximum", tooLarge.Size)
	}
}

func TestMessageCodecsValidate(t *testing.T) {
	tests := []struct {
		codec interface{ Validate() error }
		field string // the ConfigError's field; "" for a valid codec
	}{
		{HeaderCodec{Size: 4}, ""},
		{HeaderCodec{Size: 3}, "Size"},
		{HeaderCodec{Size: 4, Offset: -1}, "Offset"},
		{HeaderCodec{Size: 4, From: -1}, "From"},
		{HeaderCodec{Size: 4, Max: -1}, "Max"},
		{HeaderCodec{Size: 4, Offset: 8, Max: 11}, "Max"},
		{testBlockCodec, ""},
		{BlockCodec{}, "Block"},
		{BlockCodec{MaxLine: -1, Block: testBlockLen}, "MaxLine"},
		{BlockCodec{MaxBlock: -1, Block: testBlockLen}, "MaxBlock"},
	}
	for _, tt := range tests {
		err := tt.codec.Validate()
		var ce *ConfigError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%#v.Validate() = %v, want nil", tt.codec, err)
		case tt.field != "" && (!errors.As(err, &ce) || ce.Field != tt.field):
			t.Errorf("%#v.Validate() = %v, want a ConfigError about %s", tt.codec, err, tt.field)
		}
	}
}

func TestMessageCodecsAppendFrame(t *testing.T) {
	h := HeaderCodec{Offset: 1, Size: 2, From: 3, Max: 10}
	if got, err := h.AppendFrame(nil, []byte("T\xff\xffab")); err != nil || string(got) != "T\x00\x02ab" {
		t.Errorf("HeaderCodec.AppendFrame = %q, %v; want the length field written", got, err)
	}
	if _, err := h.AppendFrame(nil, []byte("T\x00")); !errors.Is(err, ErrBadFrame) {
		t.Errorf("HeaderCodec.AppendFrame(short) error = %v, want ErrBadFrame", err)
	}
	if _, err := h.AppendFrame(nil, make([]byte, 11)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("HeaderCodec.AppendFrame(over Max) error = %v, want ErrFrameTooLarge", err)
	}
	b := testBlockCodec
	if got, err := b.AppendFrame(nil, []byte("get k")); err != nil || string(got) != "get k\r\n" {
		t.Errorf("BlockCodec.AppendFrame(line) = %q, %v", got, err)
	}
	if _, err := b.AppendFrame(nil, []byte("set k 5\r\nab\r\n")); !errors.Is(err, ErrBadFrame) {
		t.Errorf("BlockCodec.AppendFrame(a block shorter than announced) error = %v, want ErrBadFrame", err)
	}
	if _, err := b.AppendFrame(nil, []byte("get k\r")); !errors.Is(err, ErrBadFrame) {
		t.Errorf("BlockCodec.AppendFrame(a line ending in \\r) error = %v, want ErrBadFrame", err)
	}
}
