package protoflow

import "testing"

// TestFrameClass checks the size classes of the reassembly buffers: eight
// per doubling, each the smallest that holds the request, none above
// 64 MiB.
func TestFrameClass(t *testing.T) {
	for _, tc := range []struct {
		n, idx, size int
		ok           bool
	}{
		{1, 0, 8 << 10, true},
		{8 << 10, 0, 8 << 10, true},
		{8<<10 + 1, 1, 9 << 10, true},
		{9 << 10, 1, 9 << 10, true},
		{16 << 10, 8, 16 << 10, true},
		{16<<10 + 1, 9, 18 << 10, true},
		{1<<20 + 4, 57, 1<<20 + 128<<10, true}, // a kvbin frame: 1 MiB and its header
		{64 << 20, 104, 64 << 20, true},
		{64<<20 + 1, 0, 0, false},
	} {
		idx, size, ok := frameClass(tc.n)
		if idx != tc.idx || size != tc.size || ok != tc.ok {
			t.Errorf("frameClass(%d) = %d, %d, %v; want %d, %d, %v", tc.n, idx, size, ok, tc.idx, tc.size, tc.ok)
		}
	}
	// Every class holds what maps to it, and wastes at most an eighth.
	for n := 1; n <= 64<<20; n += 1 + n/7 {
		_, size, _ := frameClass(n)
		if size < n || n > minFrameClass && size-n > size/8 {
			t.Fatalf("frameClass(%d) gives %d bytes", n, size)
		}
	}
	if len(framePools) != 105 {
		t.Errorf("%d pools; want 105, one per class", len(framePools))
	}
}

// TestFrameBufPool checks that the pooled buffers have their class's
// capacity, come back empty, and that one of no class is not pooled.
func TestFrameBufPool(t *testing.T) {
	for _, n := range []int{5000, 100 << 10, 1<<20 + 4, 65 << 20} {
		b := getFrameBuf(n)
		if len(b) != 0 || cap(b) != frameSize(n) || cap(b) < n {
			t.Errorf("getFrameBuf(%d): len %d, cap %d; want 0, %d", n, len(b), cap(b), frameSize(n))
		}
		b = append(b, "dirty"...)
		putFrameBuf(b)
		if c := getFrameBuf(n); len(c) != 0 || cap(c) != frameSize(n) {
			t.Errorf("getFrameBuf(%d) after a put: len %d, cap %d", n, len(c), cap(c))
		}
	}
	putFrameBuf(make([]byte, 0, 10000)) // no class's size: dropped, not pooled as 10 KiB
	for range 4 {
		if b := getFrameBuf(10 << 10); cap(b) != 10<<10 {
			t.Fatalf("getFrameBuf(10 KiB) has capacity %d", cap(b))
		}
	}
}
