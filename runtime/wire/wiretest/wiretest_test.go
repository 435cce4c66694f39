package wiretest_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/protogen/protogen/runtime/wire/wiretest"
)

type item struct {
	N int8
}

type message struct {
	Op    uint8
	Delta int16
	OK    bool
	Ratio float32
	Key   []byte
	Name  string
	ID    [3]byte
	Items []item
	hid   uint8 // unexported: Fill leaves it
}

var _ = message{}.hid // read, so that it stays in the test

func TestFill(t *testing.T) {
	data := []byte{
		7,          // Op
		0xfe, 0xff, // Delta = -2
		3,                // OK: odd is true
		0, 0, 0x80, 0x3f, // Ratio = 1.0
		2, 'a', 'b', // Key
		1, 'z', // Name
		'x', 'y', 'w', // ID
		9,    // 9 % 8: one item
		0xff, // its N = -1
		1, 2, // left over
	}
	var m message
	used := wiretest.Fill(&m, data)
	var want message // hid is unexported: Fill leaves it
	want.Op, want.Delta, want.OK, want.Ratio = 7, -2, true, 1
	want.Key, want.Name, want.ID, want.Items = []byte("ab"), "z", [3]byte{'x', 'y', 'w'}, []item{{N: -1}}
	if diff := cmp.Diff(want, m, cmp.AllowUnexported(message{})); diff != "" {
		t.Errorf("Fill (-want +got):\n%s", diff)
	}
	if used != len(data)-2 {
		t.Errorf("Fill used %d bytes; want %d", used, len(data)-2)
	}
}

// TestFillEmbedded checks that an exported embedded struct, as a set's
// header is, is filled first, and that a short input leaves zeros.
func TestFillEmbedded(t *testing.T) {
	type Header struct{ Seq uint16 }
	type msg struct {
		Header
		Key []byte
		N   uint32
	}
	var m msg
	wiretest.Fill(&m, []byte{5, 0, 255, 3, 0, 'a', 'b'})
	want := msg{Header: Header{Seq: 5}, Key: []byte("ab\x00")}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Fill (-want +got):\n%s", diff)
	}
}

func TestEqual(t *testing.T) {
	type msg struct {
		Key   []byte
		Items []uint16
		F     float64
		G     float32
	}
	nan := math.Float64frombits(0x7ff8000000000001)
	for _, tt := range []struct {
		name string
		a, b any
		want bool
	}{
		{"same", &msg{Key: []byte("a")}, &msg{Key: []byte("a")}, true},
		{"nil and empty bytes", &msg{}, &msg{Key: []byte{}, Items: []uint16{}}, true},
		{"NaN equals itself", &msg{F: nan, G: float32(math.NaN())}, &msg{F: nan, G: float32(math.NaN())}, true},
		{"zero and minus zero differ", &msg{F: 0}, &msg{F: math.Copysign(0, -1)}, false},
		{"different bytes", &msg{Key: []byte("a")}, &msg{Key: []byte("b")}, false},
		{"different lengths", &msg{Items: []uint16{1}}, &msg{Items: []uint16{1, 2}}, false},
		{"different types", &msg{}, &struct{ Key []byte }{}, false},
		{"nil pointers", (*msg)(nil), (*msg)(nil), true},
		{"nil and not", (*msg)(nil), &msg{}, false},
	} {
		if got := wiretest.Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: Equal = %v; want %v", tt.name, got, tt.want)
		}
	}
}
