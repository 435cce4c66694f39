package memcached

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
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

// BenchmarkCacheGetSet gets or sets keys chosen at random among n stored,
// 100-byte values under 10-byte keys, as memcbench does: with n large the
// items are out of the processor's caches, and what a lookup costs is its
// cache misses.
func BenchmarkCacheGetSet(b *testing.B) {
	value := bytes.Repeat([]byte("v"), 100)
	for _, n := range []int{1_000, 10_000, 1_000_000} {
		// The cache is filled once for both operations, and only when -bench
		// selects one of them.
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			cache := NewCache(Config{Memory: 1 << 30})
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "key:%06d", i)
				cache.Store(ModeSet, keys[i], 0, 0, value, 0)
			}
			// A fixed random order, so that choosing a key costs the same
			// for every build compared.
			order := rand.New(rand.NewPCG(1, 2)).Perm(n)
			for _, op := range []string{"get", "set"} {
				b.Run(op, func(b *testing.B) {
					i := 0
					for b.Loop() {
						k := keys[order[i]]
						if i++; i == n {
							i = 0
						}
						if op == "get" {
							if _, ok := cache.Get(k, false, 0); !ok {
								b.Fatalf("get %s: missing", k)
							}
						} else if res, _ := cache.Store(ModeSet, k, 0, 0, value, 0); res != StoreOK {
							b.Fatalf("set %s: %v", k, res)
						}
					}
				})
			}
		})
	}
}
