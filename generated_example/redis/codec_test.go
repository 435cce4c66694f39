package redis

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/wire"
)

// splitCommands splits in with a Framer fed in pieces of the given sizes
// (cycled; the rest at once when sizes is empty) and returns each
// command's arguments, quoted, and the Framer's error.
func splitCommands(in []byte, limits Limits, sizes []int) ([]string, error) {
	var c Codec
	c.Limits = limits
	f := wire.NewFramer(&c)
	var got []string
	fn := func(frame []byte) bool {
		got = append(got, fmt.Sprintf("%q", c.Args(frame)))
		return true
	}
	for i := 0; len(in) > 0; i++ {
		n := len(in)
		if len(sizes) > 0 {
			n = min(max(sizes[i%len(sizes)], 1), len(in))
		}
		if err := f.Feed(in[:n], fn); err != nil {
			return got, err
		}
		in = in[n:]
	}
	return got, nil
}

func TestCodecArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{`["GET" "k"]`}},
		{"*1\r\n$0\r\n\r\n", []string{`[""]`}},
		{"*0\r\n*-1\r\n\r\n\n", []string{`[]`, `[]`, `[]`, `[]`}},
		{"GET k\r\nSET k 'a b' \"c\\x41\\n\"\n", []string{`["GET" "k"]`, `["SET" "k" "a b" "cA\n"]`}},
		{"x\"a b\"  y\r\n", []string{`["xa b" "y"]`}},
		{"a\v\fb \t c\r\n", []string{`["a\v\fb" "c"]`}},
		{"'it\\'s' \"\\q\\\\\"\r\n", []string{`["it's" "q\\"]`}},
		{"\"\\x4\" \"\\xZZ\"\r\n", []string{`["x4" "xZZ"]`}},
		{"ECHO \"\"\r\n", []string{`["ECHO" ""]`}},
	}
	for _, tc := range cases {
		for _, sizes := range [][]int{nil, {1}, {2, 3}} {
			got, err := splitCommands([]byte(tc.in), Limits{}, sizes)
			if err != nil || strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("%q in pieces of %v: %v, %v; want %v", tc.in, sizes, got, err, tc.want)
			}
		}
	}
}

func TestParseInt(t *testing.T) {
	good := map[string]int64{"0": 0, "1": 1, "-1": -1, "42": 42, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63}
	for s, want := range good {
		if got, ok := parseInt([]byte(s)); !ok || got != want {
			t.Errorf("parseInt(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", "-0", "01", "+1", " 1", "1 ", "1a", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "12345678901234567890123"} {
		if got, ok := parseInt([]byte(s)); ok {
			t.Errorf("parseInt(%q) = %d, true; want false", s, got)
		}
	}
}

// AppendFrame takes exactly one command and nothing else.
func TestCodecAppendFrame(t *testing.T) {
	var c Codec
	one := cmd("SET", "k", "v")
	if got, err := c.AppendFrame([]byte("x"), one); err != nil || !bytes.Equal(got, append([]byte("x"), one...)) {
		t.Errorf("AppendFrame(one command) = %q, %v", got, err)
	}
	for _, bad := range [][]byte{append(cmd("A"), cmd("B")...), one[:len(one)-1], []byte("*1\r\n+x\r\n")} {
		if got, err := c.AppendFrame(nil, bad); err == nil {
			t.Errorf("AppendFrame(%q) = %q, nil; want an error", bad, got)
		}
	}
}

// FuzzCodec checks that any input splits into the same commands, and ends
// with the same error, however the reads cut it, and never panics.
func FuzzCodec(f *testing.F) {
	for _, tc := range replyCases {
		if len(tc.in) < 1024 { // the 64 KiB ones make minimizing slow
			f.Add([]byte(tc.in), uint8(1), uint8(7))
		}
	}
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nGET k\r\n"), uint8(3), uint8(5))
	limits := Limits{MaxBulkLen: 64, MaxArgs: 8, MaxCommandLen: 256}
	f.Fuzz(func(t *testing.T, in []byte, a, b uint8) {
		whole, wholeErr := splitCommands(in, limits, nil)
		split, splitErr := splitCommands(in, limits, []int{int(a), int(b)})
		if strings.Join(whole, "\n") != strings.Join(split, "\n") {
			t.Fatalf("%q: whole %v, split by %d,%d %v", in, whole, a, b, split)
		}
		if wholeErr != splitErr && !errors.Is(splitErr, wholeErr) {
			// A split stream may only find an error that needs more bytes
			// later, never another one.
			t.Fatalf("%q: whole ends with %v, split by %d,%d with %v", in, wholeErr, a, b, splitErr)
		}
	})
}

// A command that arrives a byte at a time costs time linear in its length:
// the codec goes on where it stopped, rather than parsing again from the
// start (which takes minutes here).
func TestTrickledCommandIsLinear(t *testing.T) {
	const n = 20_000
	multibulk := []byte("*" + fmt.Sprint(n+1) + "\r\n$4\r\nMSET\r\n")
	for range n {
		multibulk = append(multibulk, "$1\r\na\r\n"...)
	}
	inline := append(bytes.Repeat([]byte("a "), MaxInlineLen/2-1), '\n')
	for _, tc := range []struct {
		name string
		in   []byte
		args int
	}{{"multibulk", multibulk, n + 1}, {"inline", inline, MaxInlineLen/2 - 1}} {
		start := time.Now()
		got, err := splitCommands(tc.in, Limits{}, []int{1})
		elapsed := time.Since(start)
		if err != nil || len(got) != 1 || strings.Count(got[0], `"a"`)+strings.Count(got[0], `"MSET"`) != tc.args {
			t.Errorf("%s: %d commands, %v", tc.name, len(got), err)
		}
		if elapsed > 5*time.Second {
			t.Errorf("%s: %d bytes, one at a time, took %v", tc.name, len(tc.in), elapsed)
		}
		t.Logf("%s: %d bytes, one at a time, in %v", tc.name, len(tc.in), elapsed)
	}
}
