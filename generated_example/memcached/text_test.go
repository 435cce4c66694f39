package memcached

import (
	"fmt"
	"strings"
	"testing"
)

// textCases are exchanges of the text protocol, each on a server of its
// own: every command, its replies, and memcached's error replies for bad
// input. A server's first CAS value is 1. The differential test
// (differential_test.go) compares seeded random sequences with a running
// memcached.
var textCases = []struct {
	name, in, want string
}{
	{"set get", "set k 5 0 3\r\nabc\r\nget k\r\n", "STORED\r\nVALUE k 5 3\r\nabc\r\nEND\r\n"},
	{"set empty value", "set k 0 0 0\r\n\r\nget k\r\n", "STORED\r\nVALUE k 0 0\r\n\r\nEND\r\n"},
	{"lf line ends", "set k 0 0 1\nx\r\nget k\n", "STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"},
	{"extra spaces", "set  k  0 0 1 \r\nx\r\nget   k  \r\n", "STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"},
	{"get several", "set a 1 0 1\r\n1\r\nset c 3 0 1\r\n3\r\nget a b c a\r\n",
		"STORED\r\nSTORED\r\nVALUE a 1 1\r\n1\r\nVALUE c 3 1\r\n3\r\nVALUE a 1 1\r\n1\r\nEND\r\n"},
	{"get miss", "get nokey\r\n", "END\r\n"},
	{"gets", "set k 0 0 1\r\nx\r\nset k 0 0 1\r\ny\r\ngets k\r\n", "STORED\r\nSTORED\r\nVALUE k 0 1 2\r\ny\r\nEND\r\n"},
	{"gat", "set k 0 0 1\r\nx\r\ngat 100 k nokey\r\n", "STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"},
	{"gats", "set k 0 0 1\r\nx\r\ngats 100 k\r\n", "STORED\r\nVALUE k 0 1 1\r\nx\r\nEND\r\n"},
	{"gat without keys", "gat 100\r\ngats 100\r\n", "END\r\nEND\r\n"},
	{"gat expires", "set k 0 0 1\r\nx\r\ngat -1 k\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\nEND\r\n"},
	{"set noreply", "set k 0 0 1 noreply\r\nx\r\nget k\r\n", "VALUE k 0 1\r\nx\r\nEND\r\n"},
	{"set expired", "set k 0 -1 1\r\nx\r\nget k\r\n", "STORED\r\nEND\r\n"},
	{"add", "add k 0 0 1\r\nx\r\nadd k 0 0 1\r\ny\r\nget k\r\n", "STORED\r\nNOT_STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"},
	{"add noreply", "add k 0 0 1 noreply\r\nx\r\nadd k 0 0 1 noreply\r\ny\r\nget k\r\n", "VALUE k 0 1\r\nx\r\nEND\r\n"},
	{"replace", "replace k 0 0 1\r\nx\r\nset k 0 0 1\r\nx\r\nreplace k 7 0 1\r\ny\r\nget k\r\n",
		"NOT_STORED\r\nSTORED\r\nSTORED\r\nVALUE k 7 1\r\ny\r\nEND\r\n"},
	{"append prepend", "append k 0 0 1\r\nx\r\nset k 3 0 1\r\nb\r\nappend k 9 9 1\r\nc\r\nprepend k 9 9 1\r\na\r\nget k\r\n",
		"NOT_STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nVALUE k 3 3\r\nabc\r\nEND\r\n"},
	{"prepend missing", "prepend k 0 0 1 noreply\r\nx\r\nget k\r\n", "END\r\n"},
	{"cas", "cas k 0 0 1 1\r\nx\r\nset k 0 0 1\r\nx\r\ncas k 0 0 1 9\r\ny\r\ncas k 2 0 1 1\r\nz\r\ngets k\r\n",
		"NOT_FOUND\r\nSTORED\r\nEXISTS\r\nSTORED\r\nVALUE k 2 1 2\r\nz\r\nEND\r\n"},
	{"cas noreply", "set k 0 0 1\r\nx\r\ncas k 0 0 1 1 noreply\r\ny\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\ny\r\nEND\r\n"},
	{"delete", "set k 0 0 1\r\nx\r\ndelete k\r\ndelete k\r\nget k\r\n", "STORED\r\nDELETED\r\nNOT_FOUND\r\nEND\r\n"},
	{"delete hold and noreply", "set k 0 0 1\r\nx\r\ndelete k 0\r\nset k 0 0 1\r\nx\r\ndelete k noreply\r\nset k 0 0 1\r\nx\r\ndelete k 0 noreply\r\nget k\r\n",
		"STORED\r\nDELETED\r\nSTORED\r\nSTORED\r\nEND\r\n"},
	{"incr decr", "set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr n 18446744073709551615\r\nincr nokey 1\r\ndecr nokey 1\r\n",
		"STORED\r\n15\r\n0\r\n18446744073709551615\r\nNOT_FOUND\r\nNOT_FOUND\r\n"},
	{"incr wraps", "set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\nget n\r\n", "STORED\r\n1\r\nVALUE n 0 20\r\n1                   \r\nEND\r\n"},
	{"decr keeps the length", "set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\nincr n 901\r\nget n\r\n",
		"STORED\r\n99\r\nVALUE n 0 3\r\n99 \r\nEND\r\n1000\r\nVALUE n 0 4\r\n1000\r\nEND\r\n"},
	{"incr noreply", "set n 0 0 1\r\n1\r\nincr n 1 noreply\r\ndecr n 5 noreply\r\nincr nokey 1 noreply\r\nget n\r\n", "STORED\r\nVALUE n 0 1\r\n0\r\nEND\r\n"},
	{"incr non-numeric", "set n 0 0 2\r\nab\r\nincr n 1\r\nset e 0 0 0\r\n\r\ndecr e 1\r\n",
		"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
	{"incr leading space", "set n 0 0 2\r\n 5\r\nincr n 1\r\n", "STORED\r\n6\r\n"},
	{"touch", "touch k 10\r\nset k 0 0 1\r\nx\r\ntouch k 10\r\ntouch k -1 noreply\r\nget k\r\n", "NOT_FOUND\r\nSTORED\r\nTOUCHED\r\nEND\r\n"},
	{"flush_all", "set k 0 0 1\r\nx\r\nflush_all\r\nget k\r\nset k 0 0 1\r\ny\r\nget k\r\nflush_all 0\r\nflush_all noreply\r\nflush_all 0 noreply\r\nget k\r\n",
		"STORED\r\nOK\r\nEND\r\nSTORED\r\nVALUE k 0 1\r\ny\r\nEND\r\nOK\r\nEND\r\n"},
	{"flush_all delayed", "set k 0 0 1\r\nx\r\nflush_all 100\r\nget k\r\n", "STORED\r\nOK\r\nVALUE k 0 1\r\nx\r\nEND\r\n"},
	{"verbosity", "verbosity 1\r\nverbosity 0 noreply\r\n", "OK\r\n"},
	{"stats reset", "stats reset\r\n", "RESET\r\n"},
	{"quit", "set k 0 0 1\r\nx\r\nquit\r\nget k\r\n", "STORED\r\n<EOF>"},
	{"quit with arguments", "quit now\r\n", "<EOF>"},

	// Bad input: memcached's replies, and what follows them.
	{"unknown command", "foo\r\nGET k\r\nx\r\n\r\n", "ERROR\r\nERROR\r\nERROR\r\nERROR\r\n"},
	{"too few tokens", "get\r\nset k 0 0\r\ndelete\r\nincr k\r\ntouch k\r\nverbosity\r\ncas k 0 0 1\r\n",
		"ERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n"},
	{"too many tokens", "delete a 0 noreply x\r\nverbosity 1 noreply x\r\nflush_all 1 noreply x\r\nincr a 1 noreply x\r\ntouch a 1 noreply x\r\nset k 0 0 1 noreply x\r\nx\r\n",
		strings.Repeat("ERROR\r\n", 7)},
	{"bad numbers in a storage line", "set k x 0 1\r\nx\r\nset k 0 y 1\r\nx\r\nset k 0 0 -1\r\nx\r\nset k 0 0 z\r\nx\r\ncas k 0 0 1 q\r\nx\r\nget k\r\n",
		strings.Repeat("CLIENT_ERROR bad command line format\r\nERROR\r\n", 5) + "END\r\n"},
	{"negative flags", "set k -1 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{"key of 250 bytes", "set " + strings.Repeat("k", 250) + " 0 0 1\r\nx\r\nget " + strings.Repeat("k", 250) + "\r\n",
		"STORED\r\nVALUE " + strings.Repeat("k", 250) + " 0 1\r\nx\r\nEND\r\n"},
	{"key over 250 bytes", "set " + strings.Repeat("k", 251) + " 0 0 1\r\nx\r\nget " + strings.Repeat("k", 251) + "\r\ndelete " + strings.Repeat("k", 251) + "\r\n",
		"CLIENT_ERROR bad command line format\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\n"},
	{"data block without \\r\\n", "set k 0 0 1\r\nxyz\r\nget k\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n"},
	{"data block ending in \\n", "set k 0 0 1\r\nx\nget k\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"},
	{"bad delta", "incr k x\r\ndecr k -1\r\nincr k 18446744073709551616\r\n", strings.Repeat("CLIENT_ERROR invalid numeric delta argument\r\n", 3)},
	{"bad exptime", "touch k x\r\ngat x k\r\nflush_all x\r\n", strings.Repeat("CLIENT_ERROR invalid exptime argument\r\n", 3)},
	{"bad verbosity", "verbosity x\r\n", "CLIENT_ERROR bad command line format\r\n"},
	{"bad delete", "delete k 1\r\ndelete k x y\r\n", strings.Repeat("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n", 2)},
	{"unknown stats", "stats nosuch\r\n", "ERROR\r\n"},
}

func TestTextCommands(t *testing.T) {
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, Config{})
			if got := textExchange(t, ts.addr, tc.in); got != tc.want {
				t.Errorf("%q\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// The stats command reports the general section with real counters.
func TestTextStats(t *testing.T) {
	ts := startServer(t, Config{Memory: 8 << 20})
	got := textExchange(t, ts.addr, "set a 0 0 1\r\n1\r\nget a b\r\ndelete b\r\nincr a 1\r\nstats\r\n")
	for _, want := range []string{
		"STAT cmd_get 2\r\n", "STAT cmd_set 1\r\n", "STAT get_hits 1\r\n", "STAT get_misses 1\r\n",
		"STAT delete_misses 1\r\n", "STAT incr_hits 1\r\n", "STAT curr_items 1\r\n", "STAT total_items 2\r\n",
		"STAT limit_maxbytes 8388608\r\n", "STAT curr_connections 1\r\n", "STAT version " + DefaultVersion + "\r\n",
		"STAT time 1800000000\r\n", "STAT uptime 0\r\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stats lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "\r\nEND\r\n") {
		t.Errorf("stats does not end in END:\n%s", got)
	}
}

// Items expire at their time, relative up to 30 days and absolute past
// it, and a delayed flush_all kills what was stored before its time.
func TestTextExpiry(t *testing.T) {
	ts := startServer(t, Config{})
	abs := "1800000100" // 100 s after the test clock's start
	got := textExchange(t, ts.addr, "set rel 0 10 1\r\nr\r\nset abs 0 "+abs+" 1\r\na\r\nflush_all 50\r\n")
	if got != "STORED\r\nSTORED\r\nOK\r\n" {
		t.Fatalf("setting up: %q", got)
	}
	ts.advance(9)
	if got := textExchange(t, ts.addr, "get rel abs\r\n"); got != "VALUE rel 0 1\r\nr\r\nVALUE abs 0 1\r\na\r\nEND\r\n" {
		t.Errorf("after 9 s: %q", got)
	}
	ts.advance(1)
	if got := textExchange(t, ts.addr, "get rel abs\r\nset late 0 0 1\r\nl\r\n"); got != "VALUE abs 0 1\r\na\r\nEND\r\nSTORED\r\n" {
		t.Errorf("after 10 s: %q", got)
	}
	ts.advance(40)
	if got := textExchange(t, ts.addr, "get abs late\r\nset new 0 0 1\r\nn\r\nget new\r\n"); got != "END\r\nSTORED\r\nVALUE new 0 1\r\nn\r\nEND\r\n" {
		t.Errorf("after the delayed flush_all: %q", got)
	}
}

// A value over -I is refused as memcached refuses it, and set drops the
// item it would have replaced.
func TestTextItemMax(t *testing.T) {
	ts := startServer(t, Config{ItemMax: 10})
	in := "set k 0 0 1\r\nx\r\nset k 0 0 11\r\n01234567890\r\nget k\r\nset k 0 0 10\r\n0123456789\r\nappend k 0 0 1\r\nx\r\nset k 0 0 11 noreply\r\n01234567890\r\n"
	want := "STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\nSTORED\r\nSERVER_ERROR object too large for cache\r\n"
	if got := textExchange(t, ts.addr, in); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// An item bigger than the memory a shard may hold is refused, and counted
// as memcached counts it, in store_no_memory.
func TestTextOutOfMemory(t *testing.T) {
	ts := startServer(t, Config{Memory: 1 << 20}) // 64 KiB a shard
	value := strings.Repeat("v", 70_000)
	got := textExchange(t, ts.addr, "set k 0 0 "+itoa(len(value))+"\r\n"+value+"\r\nstats\r\n")
	if !strings.HasPrefix(got, "SERVER_ERROR out of memory storing object\r\n") || !strings.Contains(got, "STAT store_no_memory 1\r\n") {
		t.Errorf("got %.300q", got)
	}
}

// The cache evicts the least recently used items to stay within its
// memory limit.
func TestTextEviction(t *testing.T) {
	ts := startServer(t, Config{Memory: 16 << 20})
	value := strings.Repeat("v", 100<<10)
	var in strings.Builder
	for i := range 400 { // 40 MiB through a 16 MiB cache
		in.WriteString("set k" + itoa(i) + " 0 0 " + itoa(len(value)) + " noreply\r\n" + value + "\r\n")
	}
	textExchange(t, ts.addr, in.String())
	var bytes int64
	for i := range ts.cache.shards {
		bytes += ts.cache.shards[i].bytes
	}
	if bytes > 16<<20 {
		t.Errorf("the cache holds %d bytes, over its limit of 16 MiB", bytes)
	}
	if ts.cache.Counters.evictions.Load() == 0 || ts.cache.Len() >= 400 {
		t.Errorf("%d evictions, %d items: want evictions", ts.cache.Counters.evictions.Load(), ts.cache.Len())
	}
	if got := textExchange(t, ts.addr, "get k399\r\n"); !strings.HasPrefix(got, "VALUE k399 ") {
		t.Errorf("the last item stored is gone: %.40q", got)
	}
	if got := textExchange(t, ts.addr, "get k0\r\n"); got != "END\r\n" {
		t.Errorf("the first item stored is still there: %.40q", got)
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + string(appendInt(nil, i))) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// A multiget of as many keys as the spec allows (1024), each of the
// longest (250 bytes), fits the text line's maximum: memcached reads a get
// line of any length, and clients send such lines.
func TestTextLongMultiget(t *testing.T) {
	ts := startServer(t, Config{})
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("%0250d", i)
	}
	in := "set " + keys[7] + " 0 0 1\r\na\r\nset " + keys[1023] + " 0 0 1\r\nb\r\nget " + strings.Join(keys, " ") + "\r\n"
	want := "STORED\r\nSTORED\r\nVALUE " + keys[7] + " 0 1\r\na\r\nVALUE " + keys[1023] + " 0 1\r\nb\r\nEND\r\n"
	if got := textExchange(t, ts.addr, in); got != want {
		t.Errorf("a get of 1024 keys of 250 bytes (%d bytes) answered %.200q", len(in), got)
	}
}
