package wire

import (
	"strconv"
	"testing"
)

func TestToken(t *testing.T) {
	tests := []struct{ line, tok, rest string }{
		{"", "", ""},
		{"   ", "", ""},
		{"get", "get", ""},
		{"get key", "get", " key"},
		{"  get   key  ", "get", "   key  "},
		{"a\tb c", "a\tb", " c"},
	}
	for _, tt := range tests {
		tok, rest := Token([]byte(tt.line))
		if string(tok) != tt.tok || string(rest) != tt.rest {
			t.Errorf("Token(%q) = %q, %q; want %q, %q", tt.line, tok, rest, tt.tok, tt.rest)
		}
		if cap(tok) != len(tok) {
			t.Errorf("Token(%q): cap(tok) = %d, want %d: an append to tok must not overwrite the line", tt.line, cap(tok), len(tok))
		}
	}
}

func TestRest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{" value", "value"},
		{"  two spaces", " two spaces"},
		{"x", "x"},
	}
	for _, tt := range tests {
		if got := Rest([]byte(tt.in)); string(got) != tt.want {
			t.Errorf("Rest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTrimSpaces(t *testing.T) {
	for in, want := range map[string]string{"": "", "   ": "", " a b ": "a b", "a": "a"} {
		if got := TrimSpaces([]byte(in)); string(got) != want {
			t.Errorf("TrimSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLastToken(t *testing.T) {
	tests := []struct{ line, tok, before string }{
		{"", "", ""},
		{"set k 0 0 5 noreply", "noreply", "set k 0 0 5"},
		{"set k 0 0 5   noreply  ", "noreply", "set k 0 0 5"},
		{"noreply", "noreply", ""},
		{"  noreply", "noreply", ""},
	}
	for _, tt := range tests {
		tok, before := LastToken([]byte(tt.line))
		if string(tok) != tt.tok || string(before) != tt.before {
			t.Errorf("LastToken(%q) = %q, %q; want %q, %q", tt.line, tok, before, tt.tok, tt.before)
		}
	}
}

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		bits int
		want uint64
		ok   bool
	}{
		{"0", 8, 0, true},
		{"007", 8, 7, true},
		{"255", 8, 255, true},
		{"256", 8, 0, false},
		{"65535", 16, 65535, true},
		{"65536", 16, 0, false},
		{"4294967295", 32, 4294967295, true},
		{"4294967296", 32, 0, false},
		{"18446744073709551615", 64, 1<<64 - 1, true},
		{"18446744073709551616", 64, 0, false},
		{"99999999999999999999", 64, 0, false},
		{"", 64, 0, false},
		{"-1", 64, 0, false},
		{"+1", 64, 0, false},
		{"1a", 64, 0, false},
		{" 1", 64, 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseUint([]byte(tt.in), tt.bits)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseUint(%q, %d) = %d, %v; want %d, %v", tt.in, tt.bits, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		bits int
		want int64
		ok   bool
	}{
		{"0", 8, 0, true},
		{"-0", 8, 0, true},
		{"127", 8, 127, true},
		{"128", 8, 0, false},
		{"-128", 8, -128, true},
		{"-129", 8, 0, false},
		{"-2147483648", 32, -2147483648, true},
		{"2147483648", 32, 0, false},
		{"9223372036854775807", 64, 1<<63 - 1, true},
		{"9223372036854775808", 64, 0, false},
		{"-9223372036854775808", 64, -1 << 63, true},
		{"-9223372036854775809", 64, 0, false},
		{"-", 64, 0, false},
		{"", 64, 0, false},
		{"--1", 64, 0, false},
		{"+1", 64, 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseInt([]byte(tt.in), tt.bits)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseInt(%q, %d) = %d, %v; want %d, %v", tt.in, tt.bits, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseNumbers checks ParseUint and ParseInt against strconv, which
// differs only in accepting a leading '+'.
func FuzzParseNumbers(f *testing.F) {
	for _, s := range []string{"0", "255", "-128", "18446744073709551615", "-9223372036854775808", "12x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, bits := range []int{8, 16, 32, 64} {
			u, ok := ParseUint([]byte(s), bits)
			su, err := strconv.ParseUint(s, 10, bits)
			if len(s) > 0 && s[0] == '+' {
				err = strconv.ErrSyntax
			}
			if ok != (err == nil) || ok && u != su {
				t.Errorf("ParseUint(%q, %d) = %d, %v; strconv says %d, %v", s, bits, u, ok, su, err)
			}
			i, ok := ParseInt([]byte(s), bits)
			si, err := strconv.ParseInt(s, 10, bits)
			if len(s) > 0 && s[0] == '+' {
				err = strconv.ErrSyntax
			}
			if ok != (err == nil) || ok && i != si {
				t.Errorf("ParseInt(%q, %d) = %d, %v; strconv says %d, %v", s, bits, i, ok, si, err)
			}
		}
	})
}

func TestValidTokenAndRest(t *testing.T) {
	tokens := map[string]bool{"": false, "key": true, "a b": false, "a\r": false, "a\n": false, "ü": true}
	for in, want := range tokens {
		if got := ValidToken([]byte(in)); got != want {
			t.Errorf("ValidToken(%q) = %v, want %v", in, got, want)
		}
	}
	rests := map[string]bool{"": true, "a b": true, "a\r": false, "\n": false}
	for in, want := range rests {
		if got := ValidRest([]byte(in)); got != want {
			t.Errorf("ValidRest(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestTextHelpersDoNotAllocate(t *testing.T) {
	line := []byte("set key 123 -45 noreply")
	allocs := testing.AllocsPerRun(100, func() {
		tok, rest := Token(line)
		for len(tok) > 0 {
			_, _ = ParseUint(tok, 64)
			_, _ = ParseInt(tok, 64)
			tok, rest = Token(rest)
		}
		_, _ = LastToken(line)
		_ = Rest(rest)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func TestCutLine(t *testing.T) {
	tests := []struct{ frame, line, after string }{
		{"", "", ""},
		{"get k", "get k", ""},
		{"set k 0 0 2\r\nhi\r\n", "set k 0 0 2", "hi\r\n"},
		{"set k 0 0 2\nhi\r\n", "set k 0 0 2", "hi\r\n"},
		{"\r\n", "", ""},
	}
	for _, tt := range tests {
		line, after := CutLine([]byte(tt.frame))
		if string(line) != tt.line || string(after) != tt.after {
			t.Errorf("CutLine(%q) = %q, %q; want %q, %q", tt.frame, line, after, tt.line, tt.after)
		}
	}
}

func TestEqualFoldAndLowerASCII(t *testing.T) {
	tests := []struct {
		tok, verb string
		want      bool
	}{
		{"GET", "get", true},
		{"gEt", "GET", true},
		{"get", "gets", false},
		{"gets", "get", false},
		{"g3t", "G3T", true},
		{"[et", "{et", false}, // '[' and '{' differ by 0x20 but are not letters
		{"", "", true},
	}
	for _, tt := range tests {
		if got := EqualFold([]byte(tt.tok), tt.verb); got != tt.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", tt.tok, tt.verb, got, tt.want)
		}
	}
	if got := LowerASCII([]byte("x:"), []byte("GeT-Ü9")); string(got) != "x:get-Ü9" {
		t.Errorf("LowerASCII = %q, want %q", got, "x:get-Ü9")
	}
}
