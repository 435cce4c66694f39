package wire

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// frHost is a Host that checks how a Framer uses it: every buffer it lends
// is bigger than the Framer's own, comes back once, and is poisoned when
// it does and must stay so, as if another connection had it now;
// Partial(false) follows a Partial(true). It records the calls.
type frHost struct {
	lent     map[*byte]int // first byte of each buffer out → its capacity
	out      int           // bytes of capacity lent and not given back
	peak     int           // the most out ever was
	back     [][]byte      // the buffers given back, poisoned
	buffers  []frBufferCall
	partials []bool
	problems []string
}

type frBufferCall struct{ size, frame int }

func newFrHost() *frHost { return &frHost{lent: make(map[*byte]int)} }

func (h *frHost) Buffer(size, frame int) []byte {
	h.buffers = append(h.buffers, frBufferCall{size, frame})
	if size <= keepFramerBuf {
		h.problems = append(h.problems, fmt.Sprintf("Buffer(%d, %d): a size the Framer keeps for itself", size, frame))
	}
	if frame < size {
		h.problems = append(h.problems, fmt.Sprintf("Buffer(%d, %d): frame below size", size, frame))
	}
	b := make([]byte, 0, size)
	h.lent[&b[:1][0]] = size
	h.out += size
	h.peak = max(h.peak, h.out)
	return b
}

func (h *frHost) Release(b []byte) {
	if cap(b) == 0 {
		h.problems = append(h.problems, "Release of an empty buffer")
		return
	}
	p := &b[:1][0]
	n, ok := h.lent[p]
	if !ok {
		h.problems = append(h.problems, "Release of a buffer not lent, or given back twice")
		return
	}
	delete(h.lent, p)
	h.out -= n
	full := b[:cap(b)]
	for i := range full {
		full[i] = 0xA5
	}
	h.back = append(h.back, full)
}

func (h *frHost) Partial(begun bool) {
	if !begun && (len(h.partials) == 0 || !h.partials[len(h.partials)-1]) {
		h.problems = append(h.problems, "Partial(false) without a Partial(true) before it")
	}
	h.partials = append(h.partials, begun)
}

// frNotPoison returns the offset of the first byte of b that is not the
// poison, or -1.
func frNotPoison(b []byte) int {
	for i, c := range b {
		if c != 0xA5 {
			return i
		}
	}
	return -1
}

// holding reports what the host was last told.
func (h *frHost) holding() bool { return len(h.partials) > 0 && h.partials[len(h.partials)-1] }

// check returns what went wrong, given what the Framer holds now.
func (h *frHost) check(f *Framer) []string {
	problems := h.problems
	if f.Buffered() == 0 && len(h.lent) > 0 {
		problems = append(problems, fmt.Sprintf("the Framer holds nothing but kept %d lent buffers", len(h.lent)))
	}
	if len(h.lent) > 1 {
		problems = append(problems, fmt.Sprintf("%d buffers lent at once", len(h.lent)))
	}
	if held := f.Buffered() > 0; held != h.holding() {
		problems = append(problems, fmt.Sprintf("Buffered() = %d, but the host was last told Partial(%v)", f.Buffered(), h.holding()))
	}
	for _, b := range h.back {
		if i := frNotPoison(b); i >= 0 {
			problems = append(problems, fmt.Sprintf("a buffer given back was written to afterwards, at offset %d", i))
			break
		}
	}
	return problems
}

// frHosted is a Framer for c with a new frHost.
func frHosted(c Codec) (*Framer, *frHost) {
	f := NewFramer(c)
	h := newFrHost()
	f.SetHost(h)
	return f, h
}

// TestFramerHostBuffers checks which buffers a Framer takes from its host:
// none for frames inside a read or small ones split across reads; for a
// big split frame, buffers for that frame (its length as the bound) given
// back once it is complete, and poisoned then without harm.
func TestFramerHostBuffers(t *testing.T) {
	codec := LengthCodec{Size: 4, Max: 1 << 20}
	frame := func(n int, c byte) string { return frHeader(4, uint64(n)) + strings.Repeat(string(c), n) }
	tests := []struct {
		name    string
		stream  string
		step    int
		buffers bool // the host lends buffers
	}{
		{"within reads", frame(100, 'a') + frame(3000, 'b'), 1 << 20, false},
		{"big within a read", frame(200<<10, 'a') + frame(300<<10, 'b'), 1 << 20, false}, // zero-copy: nothing borrowed, nothing counted
		{"small split", frame(100, 'a') + frame(3000, 'b'), 700, false},
		{"big split", frame(200<<10, 'a') + frame(10, 'b') + frame(300<<10, 'c'), 16 << 10, true},
		{"big split bytewise tail", frame(9000, 'a'), 8999, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _ := frFeed(codec, []byte(tt.stream))
			f, h := frHosted(codec)
			var got []string
			for s := tt.stream; len(s) > 0; {
				n := min(tt.step, len(s))
				if err := f.Feed([]byte(s[:n]), func(p []byte) bool { got = append(got, string(p)); return true }); err != nil {
					t.Fatal(err)
				}
				if p := h.check(f); len(p) > 0 {
					t.Fatalf("after %d bytes: %v", len(tt.stream)-len(s)+n, p)
				}
				s = s[n:]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("payloads differ from one Feed (-want +got):\n%s", diff)
			}
			if lent := len(h.buffers) > 0; lent != tt.buffers {
				t.Errorf("host lent %d buffers (%v); want some: %v", len(h.buffers), h.buffers, tt.buffers)
			}
			for _, b := range h.buffers {
				if b.frame != 4+200<<10 && b.frame != 4+300<<10 && b.frame != 4+9000 {
					t.Errorf("Buffer(%d, %d): the bound is not the frame's length", b.size, b.frame)
				}
			}
			if len(h.lent) != 0 || h.holding() {
				t.Errorf("at the end: %d buffers still lent, holding %v; want none, false", len(h.lent), h.holding())
			}
		})
	}
}

// TestFramerHostPartial checks when the host hears that a frame began:
// once per frame that is left incomplete at the end of a Feed, also when
// one Feed completes a frame and begins the next, and never while the
// same frame stays incomplete.
func TestFramerHostPartial(t *testing.T) {
	codec := LineCodec{}
	tests := []struct {
		name  string
		feeds []string
		want  []bool
	}{
		{"whole lines", []string{"a\nb\n", "c\n"}, nil},
		{"one split line", []string{"ab", "cd", "ef\n"}, []bool{true, false}},
		{"each read ends inside a line", []string{"a\nb", "b\nc", "c\nd", "\n"}, []bool{true, true, true, false}},
		{"a line begins after whole ones", []string{"a\nb\nc", "\n"}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, h := frHosted(codec)
			for _, d := range tt.feeds {
				if err := f.Feed([]byte(d), func([]byte) bool { return true }); err != nil {
					t.Fatal(err)
				}
			}
			if !cmp.Equal(h.partials, tt.want) {
				t.Errorf("Partial calls %v; want %v", h.partials, tt.want)
			}
			if len(h.problems) > 0 {
				t.Error(h.problems)
			}
		})
	}
}

// TestFramerHostHeldFrames checks frames held while fn refuses them: the
// host lends the buffer for them with the bytes themselves as the bound,
// hears of them as held bytes, and gets the buffer back once they are
// passed on.
func TestFramerHostHeldFrames(t *testing.T) {
	codec := LengthCodec{Size: 4}
	var stream string
	for i := range 10 {
		stream += frHeader(4, 1000) + strings.Repeat(string(rune('a'+i)), 1000)
	}
	f, h := frHosted(codec)
	var got []string
	take := func(p []byte) bool { got = append(got, string(p)); return true }
	refuse := func([]byte) bool { return false }
	if err := f.Feed([]byte(stream), refuse); err != nil {
		t.Fatal(err)
	}
	if f.Buffered() != len(stream) || len(h.buffers) == 0 {
		t.Fatalf("after refusing: Buffered() = %d, buffers lent %v; want %d, some", f.Buffered(), h.buffers, len(stream))
	}
	for _, b := range h.buffers {
		if b.frame != b.size {
			t.Errorf("Buffer(%d, %d) for held frames; want the size as the bound", b.size, b.frame)
		}
	}
	if p := h.check(f); len(p) > 0 {
		t.Fatal(p)
	}
	if err := f.Feed(nil, take); err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[9] != strings.Repeat("j", 1000) {
		t.Errorf("passed %d frames after the refusal; want 10, intact", len(got))
	}
	if p := h.check(f); len(p) > 0 || len(h.lent) != 0 {
		t.Errorf("%v; %d buffers still lent", p, len(h.lent))
	}
}

// TestFramerHostResetAndFail checks that Reset, a failed Feed and SetHost
// give the lent buffer back and say that nothing is held.
func TestFramerHostResetAndFail(t *testing.T) {
	codec := LengthCodec{Size: 4, Max: 64 << 10}
	start := frHeader(4, 50<<10) + strings.Repeat("x", 20<<10)
	for _, tc := range []struct {
		name string
		end  func(f *Framer) error
	}{
		{"Reset", func(f *Framer) error { f.Reset(); return nil }},
		{"Init", func(f *Framer) error { f.Init(codec); return nil }},
		{"SetHost", func(f *Framer) error { f.SetHost(nil); return nil }},
		{"too large", func(f *Framer) error {
			return f.Feed([]byte(strings.Repeat("x", 30<<10)+frHeader(4, 1<<20)), func([]byte) bool { return true })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, h := frHosted(codec)
			if err := f.Feed([]byte(start), func([]byte) bool { return true }); err != nil {
				t.Fatal(err)
			}
			if len(h.lent) != 1 || !h.holding() {
				t.Fatalf("after the start of a big frame: %d buffers lent, holding %v; want 1, true", len(h.lent), h.holding())
			}
			err := tc.end(f)
			if tc.name == "too large" && err == nil {
				t.Fatal("Feed of a frame over the maximum succeeded")
			}
			if len(h.lent) != 0 || h.holding() || len(h.problems) > 0 {
				t.Errorf("after %s: %d buffers lent, holding %v, problems %v; want 0, false, none", tc.name, len(h.lent), h.holding(), h.problems)
			}
		})
	}
}

// frShortHost lends buffers smaller than asked.
type frShortHost struct{ frHost }

func (*frShortHost) Buffer(size, _ int) []byte { return make([]byte, 0, size/2) }

// TestFramerHostShortBuffer checks that a host breaking Buffer's contract
// makes the Framer panic with a message that says so, rather than corrupt
// a frame.
func TestFramerHostShortBuffer(t *testing.T) {
	f := NewFramer(LengthCodec{Size: 4})
	f.SetHost(&frShortHost{})
	defer func() {
		v := recover()
		if s, _ := v.(string); !strings.Contains(s, "Host.Buffer returned a buffer of capacity") {
			t.Errorf("panic %v; want one that names Host.Buffer", v)
		}
	}()
	_ = f.Feed([]byte(frHeader(4, 100<<10)+strings.Repeat("x", 10<<10)), func([]byte) bool { return true })
	t.Error("Feed returned")
}

// TestFramerGrowthDoubles checks that a frame trickled a byte at a time
// grows the buffer by doubling, whatever the codec tells of the frame's
// length: a codec of your own tells nothing, and a buffer grown to fit
// each byte would copy the frame over and over.
func TestFramerGrowthDoubles(t *testing.T) {
	const n = 64 << 10
	stream := []byte(frHeader(4, n) + strings.Repeat("x", n))
	var examined int
	for _, tc := range []struct {
		name  string
		codec Codec
	}{
		{"builtin", LengthCodec{Size: 4, Max: 1 << 20}},
		{"own codec", frCounting{LengthCodec{Size: 4, Max: 1 << 20}, &examined}},
	} {
		allocs := testing.AllocsPerRun(1, func() {
			f := NewFramer(tc.codec)
			for i := range stream {
				if err := f.Feed(stream[i:i+1], func([]byte) bool { return true }); err != nil {
					t.Fatal(err)
				}
			}
		})
		if allocs > 40 {
			t.Errorf("%s: %v allocations for a frame of %d bytes fed a byte at a time; want the buffer to double", tc.name, allocs, n)
		}
	}
}
