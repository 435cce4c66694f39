package redis

import "strconv"

// RESP2 replies, appended to a buffer that the server writes in batches.

// Replies that never change.
const (
	replyOK   = "+OK\r\n"
	replyPong = "+PONG\r\n"
	replyNil  = "$-1\r\n"
)

// appendHeader appends a type byte, n and CRLF: "*3\r\n", "$5\r\n", ":1\r\n".
func appendHeader(out []byte, kind byte, n int64) []byte {
	out = append(out, kind)
	out = strconv.AppendInt(out, n, 10)
	return append(out, '\r', '\n')
}

func appendInt(out []byte, n int64) []byte { return appendHeader(out, ':', n) }

func appendArray(out []byte, n int) []byte { return appendHeader(out, '*', int64(n)) }

func appendBulk(out, b []byte) []byte {
	out = appendHeader(out, '$', int64(len(b)))
	out = append(out, b...)
	return append(out, '\r', '\n')
}

func appendBulkString(out []byte, s string) []byte {
	out = appendHeader(out, '$', int64(len(s)))
	out = append(out, s...)
	return append(out, '\r', '\n')
}

func appendStatus(out []byte, s string) []byte {
	out = append(out, '+')
	out = append(out, s...)
	return append(out, '\r', '\n')
}

// appendError appends "-ERR " and msg, which must hold no CR or LF.
func appendError(out []byte, msg string) []byte {
	out = append(out, "-ERR "...)
	out = append(out, msg...)
	return append(out, '\r', '\n')
}

// appendQuoted appends b as Redis's "%.*s" prints it in an error reply:
// cut at a NUL byte and at limit bytes, CR and LF turned into spaces. It
// returns the bytes it printed.
func appendQuoted(out, b []byte, limit int) ([]byte, int) {
	if len(b) > limit {
		b = b[:limit]
	}
	n := 0
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, sanitizeByte(c))
		n++
	}
	return out, n
}
