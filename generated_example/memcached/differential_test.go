package memcached

// The differential test: the same seeded random commands, good and bad,
// sent to this server and to a real memcached, which must answer the same
// bytes, but for what legitimately differs: the version string, and CAS
// values, which must be consistent (the same value where memcached has
// the same value) rather than equal.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// diffSeed is the seed of a differential test: 18, or
// $MEMCACHED_DIFF_SEED, to replay a failure or explore ("random" for one
// from the clock).
func diffSeed(t *testing.T) uint64 {
	switch s := os.Getenv("MEMCACHED_DIFF_SEED"); s {
	case "":
		return 18
	case "random":
		return uint64(time.Now().UnixNano())
	default:
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MEMCACHED_DIFF_SEED=%q: %v", s, err)
		}
		return seed
	}
}

// casMap numbers the CAS values a server sends in the order they first
// appear, so that two servers' values compare by consistency.
type casMap map[uint64]int

func (m casMap) id(v uint64) int {
	if v == 0 {
		return 0
	}
	if _, ok := m[v]; !ok {
		m[v] = len(m) + 1
	}
	return m[v]
}

// side is one server under the differential test: its connection, what it
// said, and the CAS values it gave each key, to send back in cas commands.
type side struct {
	name string
	addr string
	conn net.Conn
	cas  casMap
	last map[string]uint64
}

func (s *side) dial(t *testing.T) {
	t.Helper()
	if s.conn != nil {
		s.conn.Close()
	}
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	s.conn = c
}

var (
	valueLine  = regexp.MustCompile(`(?m)^VALUE (\S+) (\d+) (\d+) (\d+)\r$`)
	paddedItem = regexp.MustCompile(`(?m)^VALUE (\S+) (\d+) \d+([^\r\n]*)\r\n([0-9]+) +\r\n`)
)

// unpad drops the spaces after a counter that incr or decr made shorter.
// memcached pads it to its old length when it rewrites the item in place,
// which it does only when no other thread holds a reference to it (its LRU
// maintainer may), so whether it pads is not determined by the commands:
// this server always pads, and the test compares counters without it.
func unpad(reply string) string {
	return paddedItem.ReplaceAllStringFunc(reply, func(item string) string {
		f := paddedItem.FindStringSubmatch(item)
		return fmt.Sprintf("VALUE %s %s %d%s\r\n%s\r\n", f[1], f[2], len(f[4]), f[3], f[4])
	})
}

var paddedCounter = regexp.MustCompile(`^([0-9]+) +$`)

// normalize replaces the CAS values of a text reply by their consistent
// numbers, noting each key's last.
func (s *side) normalize(reply string) string {
	return valueLine.ReplaceAllStringFunc(reply, func(line string) string {
		f := valueLine.FindStringSubmatch(line)
		v, _ := strconv.ParseUint(f[4], 10, 64)
		s.last[f[1]] = v
		return fmt.Sprintf("VALUE %s %s %s cas#%d\r", f[1], f[2], f[3], s.cas.id(v))
	})
}

// textGen makes random text commands from a seed: each is a function of
// a side, so that a cas command carries the CAS value that side gave.
type textGen struct{ r *rand.Rand }

var diffKeys = []string{"a", "b", "c", "counter", "k0", "k1"}

func (g *textGen) key() string { return diffKeys[g.r.IntN(len(diffKeys))] }

func (g *textGen) value() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \r\n"
	n := g.r.IntN(40)
	switch g.r.IntN(20) {
	case 0:
		n = 1000 + g.r.IntN(60_000)
	case 1, 2, 3:
		return strconv.FormatUint(g.counter(), 10)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	if len(bytes.TrimLeft(b, " \r\n")) == 0 && n > 0 {
		// memcached's incr reads a value of spaces alone past its end,
		// into whatever its memory holds next: no value is only spaces.
		b[0] = 'x'
	}
	return string(b)
}

// counter returns a number for a counter or a delta: under 2^40, so that
// no counter reaches 2^63 in a test. memcached's incr looks for a '-' in
// a number over that with strchr, which reads past the item into whatever
// memory follows it, and so may call such a counter non-numeric at random.
func (g *textGen) counter() uint64 { return g.r.Uint64() >> (24 + g.r.IntN(40)) }

func (g *textGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *textGen) noreply() string {
	if g.r.IntN(8) == 0 {
		return " noreply"
	}
	return ""
}

func (g *textGen) exptime() string { return g.pick("0", "0", "0", "-1", "1000", "2592000") }

func (g *textGen) flags() string {
	return g.pick("0", "0", "1", "4294967295", strconv.FormatUint(uint64(g.r.Uint32()), 10))
}

func (g *textGen) next() func(s *side) string {
	k := g.key()
	switch n := g.r.IntN(100); {
	case n < 25:
		verb, v, nr := g.pick("set", "set", "add", "replace", "append", "prepend"), g.value(), g.noreply()
		line := fmt.Sprintf("%s %s %s %s %d%s\r\n%s\r\n", verb, k, g.flags(), g.exptime(), len(v), nr, v)
		return func(*side) string { return line }
	case n < 30:
		v, nr, bogus := g.value(), g.noreply(), g.r.IntN(4) == 0
		return func(s *side) string {
			cas := s.last[k]
			if bogus || cas == 0 {
				cas = 987654321
			}
			return fmt.Sprintf("cas %s 0 0 %d %d%s\r\n%s\r\n", k, len(v), cas, nr, v)
		}
	case n < 50:
		verb := g.pick("get", "gets", "gat 100", "gats 1000", "gat -1")
		keys := []string{k}
		for range g.r.IntN(4) {
			keys = append(keys, g.key())
		}
		line := verb + " " + strings.Join(keys, " ") + "\r\n"
		return func(*side) string { return line }
	case n < 58:
		line := "delete " + k + g.pick("", "", " 0") + g.noreply() + "\r\n"
		return func(*side) string { return line }
	case n < 70:
		verb, delta := "incr", g.pick("0", "1", "7", strconv.FormatUint(g.counter(), 10))
		if g.r.IntN(2) == 0 {
			verb, delta = "decr", g.pick(delta, "18446744073709551615")
		}
		line := verb + " " + g.pick(k, "counter") + " " + delta + g.noreply() + "\r\n"
		return func(*side) string { return line }
	case n < 75:
		line := "touch " + k + " " + g.exptime() + g.noreply() + "\r\n"
		return func(*side) string { return line }
	case n < 77:
		line := "flush_all" + g.pick("", " 0") + g.noreply() + "\r\n"
		return func(*side) string { return line }
	case n < 79:
		line := "verbosity " + g.pick("0", "1") + g.noreply() + "\r\n"
		return func(*side) string { return line }
	}
	// Bad input, and what follows it.
	v := g.value()
	line := g.pick(
		"foo bar\r\n",
		"GET "+k+"\r\n",
		"get\r\n",
		"\r\n",
		"set "+k+" x 0 1\r\nx\r\n",
		"set "+k+" 0 y 1\r\nx\r\n",
		"set "+k+" 0 0 -1\r\nx\r\n",
		"set "+k+" 0 0 abc\r\nx\r\n",
		"set "+k+" 0 0\r\n",
		"set "+strings.Repeat("k", 251)+" 0 0 1\r\nx\r\n",
		"get "+k+" "+strings.Repeat("k", 251)+"\r\n",
		fmt.Sprintf("set %s 0 0 %d\r\n%sxy\r\n", k, len(v), v),
		fmt.Sprintf("set %s 0 0 %d\r\n%s\nx\r\n", k, len(v), v),
		"incr "+k+" x\r\n",
		"incr "+k+" -1\r\n",
		"decr\r\n",
		"touch "+k+" soon\r\n",
		"delete "+k+" 5\r\n",
		"delete "+k+" 0 noreply extra\r\n",
		"verbosity high\r\n",
		"flush_all later\r\n",
		"cas "+k+" 0 0 1\r\n",
		"cas "+k+" 0 0 1 x\r\nx\r\n",
	)
	return func(*side) string { return line }
}

// TestDifferentialText sends the same random text commands to memcached
// and to this server, step by step, and compares their answers.
func TestDifferentialText(t *testing.T) {
	theirs := &side{name: "memcached", addr: startMemcached(t), cas: casMap{}, last: map[string]uint64{}}
	ours := &side{name: "ours", addr: startServer(t, Config{}).addr, cas: casMap{}, last: map[string]uint64{}}
	sides := []*side{theirs, ours}
	for _, s := range sides {
		s.dial(t)
	}
	version, _ := exec.Command("memcached", "-V").Output()
	seed := diffSeed(t)
	t.Logf("comparing with %s, seed %d (MEMCACHED_DIFF_SEED=%d replays it)", bytes.TrimSpace(version), seed, seed)
	g := &textGen{r: rand.New(rand.NewPCG(seed, 18))}
	var history []string
	for step := range 3000 {
		cmd := g.next()
		var replies [2]string
		var sent [2]string
		for i, s := range sides {
			sent[i] = cmd(s)
			if _, err := s.conn.Write([]byte(sent[i] + textSentinel)); err != nil {
				t.Fatalf("step %d, %s: %v", step, s.name, err)
			}
			replies[i] = unpad(s.normalize(readText(t, s.conn)))
		}
		history = append(history, fmt.Sprintf("%.200q -> %.200q", sent[0], replies[0]))
		if replies[0] != replies[1] {
			t.Fatalf("step %d (seed %d): %.300q\nmemcached: %.300q\n     ours: %.300q\nthe 10 steps before:\n%s",
				step, seed, sent[1], replies[0], replies[1], strings.Join(history[max(0, len(history)-11):len(history)-1], "\n"))
		}
		if strings.HasSuffix(replies[0], "<EOF>") {
			for _, s := range sides {
				s.dial(t)
			}
		}
	}
}

// binGen makes random binary requests from a seed.
type binGen struct {
	textGen
	opaque uint32
}

func (g *binGen) next() func(s *side) []byte {
	g.opaque++
	op, k := g.opaque, []byte(g.key())
	quiet := g.r.IntN(6) == 0
	q := func(loud, silent byte) byte {
		if quiet {
			return silent
		}
		return loud
	}
	exp := func() uint32 { return uint32(g.r.IntN(3)) * 1000 }
	switch n := g.r.IntN(100); {
	case n < 25:
		code := q(g.pick2(opSet, opAdd, opReplace), g.pick2(opSetQ, opAddQ, 0x13))
		v, useCas, bogus := []byte(g.value()), g.r.IntN(5) == 0, g.r.IntN(3) == 0
		ex := setExtras(g.r.Uint32(), exp())
		return func(s *side) []byte {
			var cas uint64
			if useCas {
				cas = s.last[string(k)]
				if bogus || cas == 0 {
					cas = 987654321
				}
			}
			return binReq(code, op, cas, ex, k, v)
		}
	case n < 50:
		code := g.pick2(opGet, opGetK, opGetQ, opGetKQ)
		return func(*side) []byte { return binReq(code, op, 0, nil, k, nil) }
	case n < 58:
		code := q(opDelete, opDeleteQ)
		return func(*side) []byte { return binReq(code, op, 0, nil, k, nil) }
	case n < 70:
		code := q(g.pick2(opIncr, opDecr), g.pick2(opIncrQ, 0x16))
		ex := incrExtras(g.counter(), g.counter(), uint32(g.pick2(0, 0xff))*0x01010101)
		key := []byte(g.pick("counter", string(k)))
		return func(*side) []byte { return binReq(code, op, 0, ex, key, nil) }
	case n < 76:
		code := q(g.pick2(opAppend, opPrepend), g.pick2(opAppendQ, 0x1a))
		v := []byte(g.value())
		return func(*side) []byte { return binReq(code, op, 0, nil, k, v) }
	case n < 84:
		code := g.pick2(opTouch, opGat, opGatQ, opGatK, 0x24)
		ex := u32(exp())
		return func(*side) []byte { return binReq(code, op, 0, ex, k, nil) }
	case n < 86:
		code := q(opFlush, opFlushQ)
		return func(*side) []byte { return binReq(code, op, 0, nil, nil, nil) }
	case n < 93:
		return func(*side) []byte { return binReq(opNoop, op, 0, nil, nil, nil) }
	case n < 96:
		return func(*side) []byte { return binReq(opVersion, op, 0, nil, nil, nil) }
	case n < 98:
		return func(*side) []byte { return binReq(q(opQuit, opQuitQ), op, 0, nil, nil, nil) }
	}
	code := g.pick2(opGet, opDelete, opAppend)
	return func(*side) []byte { return binReq(code, op, 0, nil, nil, nil) } // an empty key: refused, then closed
}

func (g *binGen) pick2(xs ...byte) byte { return xs[g.r.IntN(len(xs))] }

// normalizeBin numbers a side's CAS values by consistency, notes each
// key's last, and blanks the version.
func (s *side) normalizeBin(res []binRes, reqs map[uint32]string) []binRes {
	out := make([]binRes, len(res))
	for i, r := range res {
		if k := reqs[r.opaque]; k != "" && r.status == 0 && r.cas != 0 {
			s.last[k] = r.cas
		}
		r.cas = uint64(s.cas.id(r.cas))
		if r.op == opVersion {
			r.value = "<version>"
		}
		r.value = paddedCounter.ReplaceAllString(r.value, "$1")
		out[i] = r
	}
	return out
}

// TestDifferentialBinary does for the binary protocol what
// TestDifferentialText does for the text one.
func TestDifferentialBinary(t *testing.T) {
	theirs := &side{name: "memcached", addr: startMemcached(t), cas: casMap{}, last: map[string]uint64{}}
	ours := &side{name: "ours", addr: startServer(t, Config{}).addr, cas: casMap{}, last: map[string]uint64{}}
	sides := []*side{theirs, ours}
	for _, s := range sides {
		s.dial(t)
	}
	seed := diffSeed(t)
	t.Logf("seed %d (MEMCACHED_DIFF_SEED=%d replays it)", seed, seed)
	g := &binGen{textGen: textGen{r: rand.New(rand.NewPCG(seed, 19))}}
	var history []string
	for step := range 3000 {
		req := g.next()
		var got [2][]binRes
		var eof [2]bool
		var sent []byte
		for i, s := range sides {
			sent = req(s)
			keys := map[uint32]string{binary.BigEndian.Uint32(sent[12:]): string(sent[24+int(sent[4]) : 24+int(sent[4])+int(binary.BigEndian.Uint16(sent[2:]))])}
			if _, err := s.conn.Write(append(sent, binReq(opNoop, sentinelOpaque, 0, nil, nil, nil)...)); err != nil {
				t.Fatalf("step %d, %s: %v", step, s.name, err)
			}
			var res []binRes
			res, eof[i] = readBin(t, s.conn)
			got[i] = s.normalizeBin(res, keys)
		}
		history = append(history, fmt.Sprintf("%.120q -> %.200q", sent, fmt.Sprintf("%+v", got[0])))
		if fmt.Sprint(got[0], eof[0]) != fmt.Sprint(got[1], eof[1]) {
			t.Fatalf("step %d (seed %d): request %.100q\nmemcached: %.300q (closed %v)\n     ours: %.300q (closed %v)\nthe 10 requests before:\n%s",
				step, seed, sent, fmt.Sprintf("%+v", got[0]), eof[0], fmt.Sprintf("%+v", got[1]), eof[1], strings.Join(history[max(0, len(history)-11):len(history)-1], "\n"))
		}
		if eof[0] {
			for _, s := range sides {
				s.dial(t)
			}
		}
	}
}
