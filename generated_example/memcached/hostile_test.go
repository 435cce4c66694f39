package memcached

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/protogen/protogen/runtime/wire"
)

// The most a connection's framer may hold: a text line and its data
// block, or a binary request, as the spec bounds them.
const (
	maxTextFrame   = textMaxLine + DefaultItemMax + 2
	maxBinaryFrame = 1048858
)

// Hostile clients get an error or a closed connection, never make the
// server hold more than the spec's maxima, and never stop it serving the
// others.
func TestHostileClients(t *testing.T) {
	ts := startServer(t, Config{})
	honest := dial(t, ts.addr)
	check := func(when string) {
		t.Helper()
		if _, err := io.WriteString(honest, "set honest 0 0 2\r\nok\r\nget honest\r\n"+textSentinel); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, honest); got != "STORED\r\nVALUE honest 0 2\r\nok\r\nEND\r\n" {
			t.Fatalf("%s, an honest client got %q", when, got)
		}
	}
	check("at first")
	binHeader := func(op byte, keyLen uint16, bodyLen uint32) []byte {
		h := make([]byte, 24)
		h[0], h[1] = 0x80, op
		binary.BigEndian.PutUint16(h[2:], keyLen)
		binary.BigEndian.PutUint32(h[8:], bodyLen)
		return h
	}
	rng := rand.New(rand.NewPCG(18, 18))
	random := make([]byte, 4<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 'x' // text; the binary ones start with 0x80 below
	binRandom := append([]byte{0x80}, random[1:]...)
	// Random bytes hold a CRLF every 64 KiB or so, lines the server
	// answers with ERROR; a line over the maximum at the end makes it
	// close the connection.
	textRandom := append(random[:len(random):len(random)], bytes.Repeat([]byte("x"), textMaxLine+1)...)
	cases := []struct {
		name  string
		in    []byte
		reply string // the start of the reply, if any
		// fault is what the connection ends with: nil for a close once
		// the reply is flushed (the text protocol), or an error the
		// connection was aborted with (the binary protocol).
		fault error
	}{
		{"1 GiB data block", []byte("set k 0 0 1073741824\r\n" + strings.Repeat("x", 64<<10)), "SERVER_ERROR object too large for cache\r\n", nil},
		{"4 GiB binary body", append(binHeader(0x01, 1, 0xffffffff), make([]byte, 64<<10)...), "", wire.ErrFrameTooLarge},
		{"1 MiB text key", []byte("get " + strings.Repeat("k", 1<<20) + "\r\n"), "", nil},
		{"64 KiB binary key", append(binHeader(0x00, 0xffff, 0xffff), bytes.Repeat([]byte("k"), 0xffff)...), "", wire.ErrBadMessage},
		{"random text bytes", textRandom, "ERROR\r\n", nil},
		{"random binary bytes", binRandom, "", wire.ErrFrameTooLarge}, // its length field, from the seed, is over the maximum
	}
	var wg sync.WaitGroup
	for i, tc := range cases {
		c := dial(t, ts.addr)
		wg.Go(func() { c.Write(tc.in) }) // fails once the server closes
		got, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("%s: reading: %v", tc.name, err)
		}
		if !strings.HasPrefix(string(got), tc.reply) || tc.reply == "" && len(got) > 0 {
			t.Errorf("%s: the server answered %.80q, want %q", tc.name, got, tc.reply)
		}
		c.Close()
		if lost := ts.waitLost(t, i+1)[i]; tc.fault == nil && lost != nil || tc.fault != nil && !errors.Is(lost, tc.fault) {
			t.Errorf("%s: the connection ended with %v, want %v", tc.name, lost, tc.fault)
		}
		check("after " + tc.name)
	}
	wg.Wait()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.maxHeld > max(maxTextFrame, maxBinaryFrame) {
		t.Errorf("a framer held %d bytes, over the spec's maxima (%d text, %d binary)", ts.maxHeld, maxTextFrame, maxBinaryFrame)
	}
}

// A value over the spec's maximum of 1 MiB, which memcached swallows,
// ends the connection once the reply is flushed.
func TestValueOverSpecMaximum(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.addr)
	go io.WriteString(c, "set k 0 0 1048577\r\n")
	got, _ := io.ReadAll(c)
	if string(got) != "SERVER_ERROR object too large for cache\r\n" {
		t.Errorf("got %q", got)
	}
	if lost := ts.waitLost(t, 1); lost[0] != nil {
		t.Errorf("the connection ended with %v, want a clean close", lost[0])
	}
}
