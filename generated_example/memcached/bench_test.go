package memcached

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/protogen/protogen/runtime/protoflowtest"
)

// binaryRequest is a binary protocol request with no extras but set's.
func binaryRequest(op byte, extras []byte, key, value string) []byte {
	b := []byte{0x80, op}
	b = binary.BigEndian.AppendUint16(b, uint16(len(key)))
	b = append(b, byte(len(extras)), 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(extras)+len(key)+len(value)))
	b = append(b, make([]byte, 12)...)
	return append(append(append(b, extras...), key...), value...)
}

// BenchmarkCommand feeds reads of memcbench's requests (a 100-byte value
// under a key of 10 bytes) to a server connection, one request per read
// (-P 1) or 16 (-P 16), and reports the time and allocations per request.
// A get allocates nothing; a set allocates the stored copy of its value
// (and, for a new key, its entry and key).
func BenchmarkCommand(b *testing.B) {
	value := string(bytes.Repeat([]byte("v"), 100))
	const key = "key:000042"
	cases := []struct {
		name    string
		request []byte
	}{
		{"text_get", []byte("get " + key + "\r\n")},
		{"text_set", []byte("set " + key + " 0 0 100\r\n" + value + "\r\n")},
		{"binary_get", binaryRequest(0x00, nil, key, "")},
		{"binary_set", binaryRequest(0x01, make([]byte, 8), key, value)},
	}
	for _, tc := range cases {
		for _, pipeline := range []int{1, 16} {
			name := tc.name + "/P1"
			if pipeline == 16 {
				name = tc.name + "/P16"
			}
			b.Run(name, func(b *testing.B) {
				cache := NewCache(Config{})
				cache.Store(ModeSet, []byte(key), 0, 0, []byte(value), 0)
				p := cache.Protocol()
				var t protoflowtest.Discard
				p.ConnectionMade(&t)
				read := bytes.Repeat(tc.request, pipeline)
				p.DataReceived(read) // warm up the buffers
				before := t.Written
				b.SetBytes(int64(len(tc.request)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += pipeline {
					p.DataReceived(read)
				}
				b.StopTimer()
				if t.Written == before {
					b.Fatal("the server wrote no reply")
				}
				if hits := cache.Counters.getHits.Load(); tc.name[len(tc.name)-3:] == "get" && hits == 0 {
					b.Fatal("no get hit")
				}
				p.ConnectionLost(nil)
			})
		}
	}
}
