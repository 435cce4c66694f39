package protoflowtest_test

import (
	"testing"

	"github.com/protogen/protogen/runtime/protoflowtest"
)

func TestDiscard(t *testing.T) {
	var d protoflowtest.Discard
	for _, p := range []string{"hello", "", "world!"} {
		if n, err := d.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", p, n, err, len(p))
		}
	}
	if d.Written != 11 || d.WriteBufferSize() != 0 || d.IsClosing() {
		t.Errorf("after writes: Written %d, WriteBufferSize %d, IsClosing %v; want 11, 0, false", d.Written, d.WriteBufferSize(), d.IsClosing())
	}
	if err := d.Close(); err != nil || !d.IsClosing() {
		t.Errorf("Close() = %v, then IsClosing %v; want nil, true", err, d.IsClosing())
	}
}
