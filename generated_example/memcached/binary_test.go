package memcached

import (
	"reflect"
	"testing"
)

// Binary opcodes, as memcached's protocol_binary.h numbers them.
const (
	opGet, opSet, opAdd, opReplace, opDelete, opIncr, opDecr, opQuit, opFlush = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
	opGetQ, opNoop, opVersion, opGetK, opGetKQ, opAppend, opPrepend, opStat   = 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10
	opSetQ, opAddQ, opDeleteQ, opIncrQ, opQuitQ, opFlushQ, opAppendQ          = 0x11, 0x12, 0x14, 0x15, 0x17, 0x18, 0x19
	opTouch, opGat, opGatQ, opGatK                                            = 0x1c, 0x1d, 0x1e, 0x23
)

func setExtras(flags, exp uint32) []byte { return cat(u32(flags), u32(exp)) }
func incrExtras(delta, initial uint64, exp uint32) []byte {
	return cat(u64(delta), u64(initial), u32(exp))
}

var flags7 = string(u32(7))

// binCases are exchanges of the binary protocol, each on a server of its
// own, whose first CAS value is 1: every command, its quiet variant, and
// the error statuses.
var binCases = []struct {
	name string
	reqs [][]byte
	want []binRes
	eof  bool // the server closes the connection
}{
	{"set get", [][]byte{
		binReq(opSet, 1, 0, setExtras(7, 0), []byte("k"), []byte("hello")),
		binReq(opGet, 2, 0, nil, []byte("k"), nil),
		binReq(opGetK, 3, 0, nil, []byte("k"), nil),
	}, []binRes{
		{op: opSet, opaque: 1, cas: 1},
		{op: opGet, opaque: 2, cas: 1, extras: flags7, value: "hello"},
		{op: opGetK, opaque: 3, cas: 1, extras: flags7, key: "k", value: "hello"},
	}, false},
	{"get miss", [][]byte{
		binReq(opGet, 1, 0, nil, []byte("nokey"), nil),
		binReq(opGetK, 2, 0, nil, []byte("nokey"), nil),
		binReq(opGetQ, 3, 0, nil, []byte("nokey"), nil),
		binReq(opGetKQ, 4, 0, nil, []byte("nokey"), nil),
	}, []binRes{
		{op: opGet, status: 1, opaque: 1, value: "Not found"},
		{op: opGetK, status: 1, opaque: 2, key: "nokey"},
	}, false},
	{"quiet", [][]byte{
		binReq(opSetQ, 1, 0, setExtras(0, 0), []byte("a"), []byte("1")),
		binReq(opGetQ, 2, 0, nil, []byte("a"), nil),
		binReq(opGetKQ, 3, 0, nil, []byte("a"), nil),
		binReq(opAddQ, 4, 0, setExtras(0, 0), []byte("a"), []byte("2")),
		binReq(opAppendQ, 5, 0, nil, []byte("a"), []byte("2")),
		binReq(opIncrQ, 6, 0, incrExtras(1, 0, 0), []byte("a"), nil),
		binReq(opDeleteQ, 7, 0, nil, []byte("a"), nil),
		binReq(opDeleteQ, 8, 0, nil, []byte("a"), nil),
		binReq(opFlushQ, 9, 0, nil, nil, nil),
	}, []binRes{
		{op: opGetQ, opaque: 2, cas: 1, extras: string(u32(0)), value: "1"},
		{op: opGetKQ, opaque: 3, cas: 1, extras: string(u32(0)), key: "a", value: "1"},
		{op: opAddQ, status: 2, opaque: 4, value: "Data exists for key."},
		{op: opDeleteQ, status: 1, opaque: 8, value: "Not found"},
	}, false},
	{"add replace", [][]byte{
		binReq(opReplace, 1, 0, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opAdd, 2, 0, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opAdd, 3, 0, setExtras(0, 0), []byte("k"), []byte("y")),
		binReq(opReplace, 4, 0, setExtras(7, 0), []byte("k"), []byte("z")),
		binReq(opGet, 5, 0, nil, []byte("k"), nil),
	}, []binRes{
		{op: opReplace, status: 1, opaque: 1, value: "Not found"},
		{op: opAdd, opaque: 2, cas: 1},
		{op: opAdd, status: 2, opaque: 3, value: "Data exists for key."},
		{op: opReplace, opaque: 4, cas: 2},
		{op: opGet, opaque: 5, cas: 2, extras: flags7, value: "z"},
	}, false},
	{"cas", [][]byte{
		binReq(opSet, 1, 5, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opSet, 2, 0, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opSet, 3, 9, setExtras(0, 0), []byte("k"), []byte("y")),
		binReq(opSet, 4, 1, setExtras(0, 0), []byte("k"), []byte("z")),
		binReq(opDelete, 5, 1, nil, []byte("k"), nil),
		binReq(opDelete, 6, 2, nil, []byte("k"), nil),
	}, []binRes{
		{op: opSet, status: 1, opaque: 1, value: "Not found"},
		{op: opSet, opaque: 2, cas: 1},
		{op: opSet, status: 2, opaque: 3, value: "Data exists for key."},
		{op: opSet, opaque: 4, cas: 2},
		{op: opDelete, status: 2, opaque: 5, value: "Data exists for key."},
		{op: opDelete, opaque: 6},
	}, false},
	{"append prepend", [][]byte{
		binReq(opAppend, 1, 0, nil, []byte("k"), []byte("x")),
		binReq(opSet, 2, 0, setExtras(3, 0), []byte("k"), []byte("b")),
		binReq(opAppend, 3, 0, nil, []byte("k"), []byte("c")),
		binReq(opPrepend, 4, 0, nil, []byte("k"), []byte("a")),
		binReq(opGet, 5, 0, nil, []byte("k"), nil),
	}, []binRes{
		{op: opAppend, status: 5, opaque: 1, value: "Not stored."},
		{op: opSet, opaque: 2, cas: 1},
		{op: opAppend, opaque: 3, cas: 2},
		{op: opPrepend, opaque: 4, cas: 3},
		{op: opGet, opaque: 5, cas: 3, extras: string(u32(3)), value: "abc"},
	}, false},
	{"delete", [][]byte{
		binReq(opDelete, 1, 0, nil, []byte("k"), nil),
		binReq(opSet, 2, 0, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opDelete, 3, 0, nil, []byte("k"), nil),
	}, []binRes{
		{op: opDelete, status: 1, opaque: 1, value: "Not found"},
		{op: opSet, opaque: 2, cas: 1},
		{op: opDelete, opaque: 3},
	}, false},
	{"incr decr", [][]byte{
		binReq(opIncr, 1, 0, incrExtras(1, 10, 0xffffffff), []byte("n"), nil),
		binReq(opIncr, 2, 0, incrExtras(1, 10, 0), []byte("n"), nil),
		binReq(opIncr, 3, 0, incrExtras(5, 0, 0), []byte("n"), nil),
		binReq(opDecr, 4, 0, incrExtras(100, 0, 0), []byte("n"), nil),
		binReq(opSet, 5, 0, setExtras(0, 0), []byte("s"), []byte("ab")),
		binReq(opIncr, 6, 0, incrExtras(1, 0, 0), []byte("s"), nil),
		binReq(opIncr, 7, 9, incrExtras(1, 0, 0), []byte("n"), nil),
	}, []binRes{
		{op: opIncr, status: 1, opaque: 1, value: "Not found"},
		{op: opIncr, opaque: 2, cas: 1, value: string(u64(10))},
		{op: opIncr, opaque: 3, cas: 2, value: string(u64(15))},
		{op: opDecr, opaque: 4, cas: 3, value: string(u64(0))},
		{op: opSet, opaque: 5, cas: 4},
		{op: opIncr, status: 6, opaque: 6, value: "Non-numeric server-side value for incr or decr"},
		{op: opIncr, status: 2, opaque: 7, value: "Data exists for key."},
	}, false},
	{"touch gat", [][]byte{
		binReq(opTouch, 1, 0, u32(100), []byte("k"), nil),
		binReq(opSet, 2, 0, setExtras(7, 0), []byte("k"), []byte("x")),
		binReq(opTouch, 3, 0, u32(100), []byte("k"), nil),
		binReq(opGat, 4, 0, u32(100), []byte("k"), nil),
		binReq(opGatK, 5, 0, u32(100), []byte("k"), nil),
		binReq(opGatQ, 6, 0, u32(relativeLimit+1), []byte("k"), nil), // a Unix time long past
		binReq(opGet, 7, 0, nil, []byte("k"), nil),
	}, []binRes{
		{op: opTouch, status: 1, opaque: 1, value: "Not found"},
		{op: opSet, opaque: 2, cas: 1},
		{op: opTouch, opaque: 3, cas: 1, extras: flags7},
		{op: opGat, opaque: 4, cas: 1, extras: flags7, value: "x"},
		{op: opGatK, opaque: 5, cas: 1, extras: flags7, key: "k", value: "x"},
		{op: opGatQ, opaque: 6, cas: 1, extras: flags7, value: "x"},
		{op: opGet, status: 1, opaque: 7, value: "Not found"},
	}, false},
	{"flush", [][]byte{
		binReq(opSet, 1, 0, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opFlush, 2, 0, nil, nil, nil),
		binReq(opGet, 3, 0, nil, []byte("k"), nil),
		binReq(opFlush, 4, 0, u32(0), nil, nil),
	}, []binRes{
		{op: opSet, opaque: 1, cas: 1},
		{op: opFlush, opaque: 2},
		{op: opGet, status: 1, opaque: 3, value: "Not found"},
		{op: opFlush, opaque: 4},
	}, false},
	{"version noop", [][]byte{
		binReq(opVersion, 1, 0, nil, nil, nil),
		binReq(opNoop, 2, 0, nil, nil, nil),
	}, []binRes{
		{op: opVersion, opaque: 1, value: DefaultVersion},
		{op: opNoop, opaque: 2},
	}, false},
	{"stat reset and unknown", [][]byte{
		binReq(opStat, 1, 0, nil, []byte("reset"), nil),
		binReq(opStat, 2, 0, nil, []byte("nosuch"), nil),
	}, []binRes{
		{op: opStat, opaque: 1},
		{op: opStat, status: 1, opaque: 2, value: "Not found"},
	}, false},
	{"value over -I", [][]byte{
		binReq(opSet, 1, 0, setExtras(0, 0), []byte("k"), make([]byte, 11)),
	}, []binRes{
		{op: opSet, status: 3, opaque: 1, value: "Too large."},
	}, false},
	{"quit", [][]byte{
		binReq(opQuit, 1, 0, nil, nil, nil),
		binReq(opGet, 2, 0, nil, []byte("k"), nil),
	}, []binRes{{op: opQuit, opaque: 1}}, true},
	{"quiet quit", [][]byte{binReq(opQuitQ, 1, 0, nil, nil, nil)}, nil, true},
	{"empty key", [][]byte{binReq(opGet, 1, 0, nil, nil, nil)}, []binRes{{op: opGet, status: 4, opaque: 1, value: "Invalid arguments"}}, true},

	// Requests memcached refuses and then closes the connection on.
	{"extras on a get", [][]byte{binReq(opGet, 1, 0, u32(0), []byte("k"), nil)}, nil, true},
	{"set without extras", [][]byte{binReq(opSet, 1, 0, nil, []byte("k"), []byte("x"))}, nil, true},
	{"key over 250 bytes", [][]byte{binReq(opGet, 1, 0, nil, make([]byte, 251), nil)}, nil, true},
	{"bad magic", [][]byte{{0x80, 0, 0, 0}, cat([]byte{0x81}, make([]byte, 23))}, nil, true},
	{"unknown opcode", [][]byte{binReq(0x40, 1, 0, nil, nil, []byte("x"))}, nil, true},
}

func TestBinaryCommands(t *testing.T) {
	for _, tc := range binCases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, Config{ItemMax: 10})
			got, eof := binExchange(t, ts.addr, tc.reqs...)
			if !reflect.DeepEqual(got, tc.want) || eof != tc.eof {
				t.Errorf("got %+v (closed %v)\nwant %+v (closed %v)", got, eof, tc.want, tc.eof)
			}
		})
	}
}

// stat with no key sends a response per counter, then an empty one.
func TestBinaryStats(t *testing.T) {
	ts := startServer(t, Config{})
	got, _ := binExchange(t, ts.addr,
		binReq(opSet, 1, 0, setExtras(0, 0), []byte("k"), []byte("x")),
		binReq(opStat, 2, 0, nil, nil, nil))
	stats := map[string]string{}
	for _, r := range got[1:] {
		if r.op != opStat || r.opaque != 2 {
			t.Fatalf("response %+v to stat", r)
		}
		stats[r.key] = r.value
	}
	if last := got[len(got)-1]; last.key != "" || last.value != "" {
		t.Errorf("the last response %+v is not empty", last)
	}
	if stats["cmd_set"] != "1" || stats["curr_items"] != "1" || stats["version"] != DefaultVersion {
		t.Errorf("stats %v", stats)
	}
}
