package redis

import (
	"bytes"
	"testing"

	"github.com/protogen/protogen/runtime/protoflowtest"
)

// BenchmarkCommand feeds reads of redis-benchmark's commands to a server
// connection, one command per read (-P 1) or 16 (-P 16), and reports the
// time and allocations per command. In steady state a command allocates
// nothing.
func BenchmarkCommand(b *testing.B) {
	value := bytes.Repeat([]byte("x"), 3) // redis-benchmark's default -d 3
	cases := []struct {
		name    string
		command []byte
	}{
		{"PING_MBULK", cmd("PING")},
		{"SET", AppendCommand(nil, []byte("SET"), []byte("key:__rand_int__"), value)},
		{"GET", cmd("GET", "key:__rand_int__")},
		{"INCR", cmd("INCR", "counter:__rand_int__")},
		{"MSET", cmd("MSET", "k1", "v", "k2", "v", "k3", "v", "k4", "v", "k5", "v", "k6", "v", "k7", "v", "k8", "v", "k9", "v", "k10", "v")},
		{"GET_16KiB", cmd("GET", "big")},
		{"inline_SET", []byte("SET key:__rand_int__ xxx\r\n")},
	}
	for _, tc := range cases {
		for _, pipeline := range []int{1, 16} {
			b.Run(tc.name+"/P"+string(rune('0'+pipeline/10))+string(rune('0'+pipeline%10)), func(b *testing.B) {
				db := NewDB()
				db.mu.Lock()
				db.setLocked([]byte("key:__rand_int__"), value, 0)
				db.setLocked([]byte("big"), bytes.Repeat([]byte("v"), 16<<10), 0)
				db.mu.Unlock()
				p := db.Protocol()
				var t protoflowtest.Discard
				p.ConnectionMade(&t)
				read := bytes.Repeat(tc.command, pipeline)
				p.DataReceived(read) // warm up the buffers
				b.SetBytes(int64(len(tc.command)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += pipeline {
					p.DataReceived(read)
				}
				b.StopTimer()
				if p.err != nil || t.Written == 0 {
					b.Fatalf("the server failed: %v (%d bytes written)", p.err, t.Written)
				}
				p.ConnectionLost(nil)
			})
		}
	}
}
