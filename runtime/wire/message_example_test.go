package wire_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/protogen/protogen/runtime/wire"
)

// A HeaderCodec frames messages whose header holds their length. This is
// PostgreSQL's layout: a type byte, then a 4-byte length that counts
// itself and what follows.
func ExampleHeaderCodec() {
	f := wire.NewFramer(wire.HeaderCodec{Offset: 1, Size: 4, From: 1, Max: 1 << 20})
	stream := []byte("Q\x00\x00\x00\x0bSELECT\x00X\x00\x00\x00\x04")
	for _, read := range [][]byte{stream[:7], stream[7:]} {
		err := f.Feed(read, func(msg []byte) bool {
			fmt.Printf("%c %q\n", msg[0], msg[5:])
			return true
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// Q "SELECT\x00"
	// X ""
}

// A BlockCodec frames lines, some of which announce a data block that
// follows them: memcached's "set <key> <flags> <exptime> <bytes>" line,
// then <bytes> bytes and "\r\n". The frame is the line and its block.
func ExampleBlockCodec() {
	codec := wire.BlockCodec{MaxLine: 256, MaxBlock: 1 << 20, Block: func(line []byte) int {
		if !bytes.HasPrefix(line, []byte("set ")) {
			return -1 // a line without a block
		}
		tok, _ := wire.LastToken(line)
		n, ok := wire.ParseUint(tok, 32)
		if !ok {
			return -1
		}
		return int(n)
	}}
	f := wire.NewFramer(codec)
	err := f.Feed([]byte("set k 0 0 7\r\nhel\r\nlo\r\nget k\r\n"), func(frame []byte) bool {
		line, block := wire.CutLine(frame)
		fmt.Printf("%q %q\n", line, block)
		return true
	})
	fmt.Println(err)
	// Output:
	// "set k 0 0 7" "hel\r\nlo\r\n"
	// "get k" ""
	// <nil>
}

// A SniffCodec lets one port take two protocols: a stream that starts with
// a magic is framed by the first codec, any other by the second. This is
// how memcached tells its binary protocol (first byte 0x80) from its text
// one.
func ExampleSniffCodec() {
	for _, stream := range []string{"\x80\x00\x03abc", "get k\r\n"} {
		sniff := &wire.SniffCodec{
			Magics: [][]byte{{0x80}},
			Codecs: []wire.Codec{
				wire.HeaderCodec{Offset: 1, Size: 2, From: 3, Max: 1024},
				wire.LineCodec{Max: 1024},
			},
		}
		f := wire.NewFramer(sniff)
		err := f.Feed([]byte(stream), func(frame []byte) bool {
			fmt.Printf("codec %d: %q\n", sniff.Chosen(), frame)
			return true
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// codec 0: "\x80\x00\x03abc"
	// codec 1: "get k"
}

// A generated decoder fails with a *DecodeError that says which message,
// which field, at which byte and why; errors.Is matches the reason, and
// ErrBadMessage matches every decode error.
func ExampleDecodeError() {
	err := wire.DecodeFail("Set", "key", 3, wire.ErrTooLong, wire.Over(300, 250))
	fmt.Println(err)
	var de *wire.DecodeError
	if errors.As(err, &de) {
		fmt.Println(de.Message, de.Field, de.Offset)
	}
	fmt.Println(errors.Is(err, wire.ErrTooLong), errors.Is(err, wire.ErrBadMessage), errors.Is(err, wire.ErrTruncated))
	// Output:
	// wire: Set.key at byte 3: value over its maximum (300 bytes, at most 250)
	// Set key 3
	// true true false
}
