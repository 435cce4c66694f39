package memcached

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/protoflowtest"
)

// What the hooks send reads back as messages, as a test of a protocol with
// messages reads it: TextReplyCodec keeps a VALUE line with its data block
// (the protocol's line codec would split them), BinaryReplyCodec frames by
// the header's body length, and the sets' decoders decode each frame.
func TestRepliesReadBack(t *testing.T) {
	c := protoflowtest.New(NewCache(Config{}).Protocol())
	if err := c.Feed([]byte("set k 5 0 5\r\nhello\r\nget k\r\n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []TextReply{
		&Stored{},
		&Value{Key: []byte("k"), Flags: 5, Data: []byte("hello")},
		&End{},
	} {
		frame, err := c.ReadFrame(TextReplyCodec())
		if err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		got, err := DecodeTextReply(frame)
		if err != nil {
			t.Fatalf("DecodeTextReply(%q): %v", frame, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reply %q (-want +got):\n%s", frame, diff)
		}
	}
	c.Finish(t)

	b := protoflowtest.New(NewCache(Config{}).Protocol())
	if err := b.Feed(binaryRequest(0x0a, nil, "", "")); err != nil { // NOOP
		t.Fatal(err)
	}
	frame, err := b.ReadFrame(BinaryReplyCodec())
	if err != nil {
		t.Fatalf("ReadFrame: %v", err)
	}
	if got, err := DecodeBinaryReply(frame); err != nil {
		t.Errorf("DecodeBinaryReply(%q): %v", frame, err)
	} else if _, ok := got.(*BinResult); !ok {
		t.Errorf("DecodeBinaryReply(%q) = %T, want *BinResult", frame, got)
	}
	b.Finish(t)
}
