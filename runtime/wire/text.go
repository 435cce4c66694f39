package wire

// Text messages are lines of space-separated tokens. These helpers split
// and parse them in place, without allocating, for generated decoders.

// Token returns the first token of line, after any spaces, and the rest of
// line after it (starting with the space that ended it, if any). tok is
// empty when line holds only spaces.
func Token(line []byte) (tok, rest []byte) {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	j := i
	for j < len(line) && line[j] != ' ' {
		j++
	}
	return line[i:j:j], line[j:]
}

// Rest returns what follows the previous token: rest without the one space
// that separates it, so that a value that starts with spaces keeps them.
// It is the value of a text field that takes the rest of the line.
func Rest(rest []byte) []byte {
	if len(rest) > 0 && rest[0] == ' ' {
		return rest[1:]
	}
	return rest
}

// TrimSpaces returns line without leading and trailing spaces.
func TrimSpaces(line []byte) []byte {
	i, j := 0, len(line)
	for i < j && line[i] == ' ' {
		i++
	}
	for j > i && line[j-1] == ' ' {
		j--
	}
	return line[i:j]
}

// LastToken returns the last token of line and line without it (and
// without the spaces before it). It serves flags that a text message
// recognizes at the end of its line, such as memcached's noreply.
func LastToken(line []byte) (tok, before []byte) {
	j := len(line)
	for j > 0 && line[j-1] == ' ' {
		j--
	}
	i := j
	for i > 0 && line[i-1] != ' ' {
		i--
	}
	k := i
	for k > 0 && line[k-1] == ' ' {
		k--
	}
	return line[i:j:j], line[:k]
}

// ParseUint parses b as a decimal number that fits in bits bits (8, 16,
// 32 or 64): digits only, at least one, no sign. ok is false otherwise.
func ParseUint(b []byte, bits int) (v uint64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	max := uint64(1)<<bits - 1
	if bits >= 64 {
		max = ^uint64(0)
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// ParseInt parses b as a decimal number, with an optional leading '-',
// that fits in a signed integer of bits bits. ok is false otherwise.
func ParseInt(b []byte, bits int) (v int64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	limit := uint64(1) << (bits - 1) // the magnitude of the most negative value
	u, ok := ParseUint(b, 64)
	if !ok || u > limit || !neg && u == limit {
		return 0, false
	}
	if neg {
		return -int64(u-1) - 1, true // -limit does not overflow
	}
	return int64(u), true
}

// ValidToken reports whether b can be written as one token of a text
// message: not empty, and free of spaces and line breaks.
func ValidToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c == ' ' || c == '\n' || c == '\r' {
			return false
		}
	}
	return true
}

// ValidRest reports whether b can be written as the rest of a line: free
// of line breaks.
func ValidRest(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			return false
		}
	}
	return true
}

// CutLine splits a text frame into its line, without the "\n" or "\r\n"
// that ends it, and what follows: a data block and its terminator. A frame
// without a line break is all line.
func CutLine(frame []byte) (line, after []byte) {
	for i, c := range frame {
		if c == '\n' {
			line = frame[:i]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			return line, frame[i+1:]
		}
	}
	return frame, nil
}

// EqualFold reports whether the token b equals the verb s, ignoring the
// case of ASCII letters.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// LowerASCII appends b to dst with its ASCII letters in lower case, for a
// switch over case-insensitive verbs that allocates nothing.
func LowerASCII(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
