package redis

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
)

// A client pipelines 100,000 GETs of 16 KiB values, 1.6 GB of replies, and
// reads slowly. The server must not buffer them: it stops reading while
// its replies back up, so its transport's queue stays near the high-water
// mark and its framer holds at most what one read brought. Every reply
// must still arrive, in order. Values over bigValue, which go to the
// transport directly rather than through the batch, are bounded too.
func TestSlowReader(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GB through loopback")
	}
	t.Run("16KiB", func(t *testing.T) { testSlowReader(t, 100_000, 16<<10) })
	t.Run("256KiB", func(t *testing.T) { testSlowReader(t, 2_000, 256<<10) })
}

func testSlowReader(t *testing.T, requests, valueSize int) {
	const (
		keys    = 64
		slowFor = 500 * time.Millisecond
	)
	ts := startServer(t, Limits{})
	values := make([][]byte, keys)
	var setup []byte
	for k := range values {
		values[k] = bytes.Repeat([]byte{byte('A' + k%26), byte('0' + k%10)}, valueSize/2)
		setup = AppendCommand(setup, []byte("SET"), []byte("key"+strconv.Itoa(k)), values[k])
	}
	if got := exchange(t, ts.addr, string(setup), string(bytes.Repeat([]byte("+OK\r\n"), keys))); got != string(bytes.Repeat([]byte("+OK\r\n"), keys)) {
		t.Fatalf("setting the values: %q", short(got))
	}

	c := dial(t, ts.addr)
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	writeDone := make(chan error, 1)
	go func() { // ends when every GET is written or the connection fails
		w := bufio.NewWriterSize(c, 64<<10)
		for i := range requests {
			w.Write(cmd("GET", "key"+strconv.Itoa(i%keys)))
		}
		writeDone <- w.Flush()
	}()

	var server *recorder
	waitUntil(t, func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if len(ts.protocols) == 2 {
			server = ts.protocols[1]
		}
		return server != nil
	})

	// Read slowly: a reply every 2 ms, while sampling the queue.
	r := bufio.NewReaderSize(c, 64<<10)
	next := 0
	readReply := func() {
		t.Helper()
		want := values[next%keys]
		header, err := r.ReadString('\n')
		if err != nil || header != "$"+strconv.Itoa(len(want))+"\r\n" {
			t.Fatalf("reply %d: header %q, %v", next, header, err)
		}
		got := make([]byte, len(want)+2)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("reply %d: %v", next, err)
		}
		if !bytes.Equal(got[:len(want)], want) || string(got[len(want):]) != "\r\n" {
			t.Fatalf("reply %d is not the value of key%d: %.20q...", next, next%keys, got)
		}
		next++
	}
	maxQueued := 0
	start := time.Now()
	for time.Since(start) < slowFor {
		readReply()
		if t := server.Transport(); t != nil {
			maxQueued = max(maxQueued, t.WriteBufferSize())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !server.ReadingPaused() {
		t.Errorf("the server reads on while the client does not read its replies")
	}
	// Then read the rest at full speed.
	for next < requests {
		readReply()
	}
	if err := <-writeDone; err != nil {
		t.Fatalf("writing the GETs: %v", err)
	}

	server.mu.Lock()
	maxHeld, lateResumes := server.maxHeld, server.lateResumes
	server.mu.Unlock()
	if lateResumes > 0 {
		t.Logf("%d ResumeWriting calls came while writing was paused again", lateResumes)
	}
	// The queue stays within the high-water mark plus what one batch of
	// replies and one reply add before the server sees writing paused.
	queueLimit := protoflow.DefaultHighWater + replyBatch + valueSize + 64
	if maxQueued > queueLimit {
		t.Errorf("the server queued %d bytes of replies, want at most %d", maxQueued, queueLimit)
	}
	heldLimit := protoflow.DefaultReadBufferSize + MaxInlineLen
	if maxHeld > heldLimit {
		t.Errorf("the framer held %d bytes, want at most %d", maxHeld, heldLimit)
	}
	t.Logf("%d replies in order; queue peaked at %d bytes (limit %d), framer at %d bytes (limit %d)",
		requests, maxQueued, queueLimit, maxHeld, heldLimit)
}
