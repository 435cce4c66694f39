package protoflow

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
)

// On the epoll backend a reader in active use reads the socket once per
// message: it waits in Go's netpoller right after a short read instead of
// first trying a read that finds nothing. (The goroutine backend has no
// poller to report an end of file that came with the data, so it reads
// until EAGAIN: two per message.) The peer reads with blocking system
// calls, so that the process's count of read system calls (/proc/self/io)
// is the peer's one per reply plus the transport's.
func TestReaderReadsOncePerMessage(t *testing.T) {
	if _, err := readSyscalls(); err != nil {
		t.Skipf("no read system call count on this system: %v", err)
	}
	const msgs, size = 2000, 64
	for _, k := range streamKinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder()
			var measuring, notLingering atomic.Int64
			r.onData = func(r *recorder, p []byte) {
				// On the epoll backend a reader in active use lingers; the
				// callback runs on the reader, which owns c.rd.
				if c, ok := r.Transport().(*conn); ok && c.epoll() && measuring.Load() == 1 && c.rd.run.mode != readLingering {
					notLingering.Add(1)
				}
				_, _ = r.Transport().Write(p) // echo
			}
			tr, cli := ttAttach(t, k, r)
			f, err := cli.(interface{ File() (*os.File, error) }).File() // a duplicate in blocking mode
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fd := int(f.Fd())
			msg := bytes.Repeat([]byte("m"), size)
			reply := make([]byte, size)
			peerReads := 0
			echo := func() {
				if _, err := syscall.Write(fd, msg); err != nil {
					t.Fatal(err)
				}
				for got := 0; got < size; {
					n, err := syscall.Read(fd, reply[got:])
					if err != nil || n == 0 {
						t.Fatalf("peer read: %d, %v", n, err)
					}
					got += n
					peerReads++
				}
			}
			echo() // the reader is in active use from here on
			peerReads = 0
			measuring.Store(1)
			before, _ := readSyscalls()
			for range msgs {
				echo()
			}
			after, _ := readSyscalls()
			transport := int(after-before) - peerReads
			// Some slack for a burst that ends when the machine stalls the
			// test for the linger time. The goroutine backend reads until
			// EAGAIN, which a message arriving meanwhile sometimes spares.
			perMsg, slack := 1, msgs/10
			if c, ok := tr.(*conn); ok && !c.epoll() { // the loop backend reads once per message too
				perMsg, slack = 2, msgs/4
			}
			t.Logf("%d messages: %d reads by the transport, %d by the peer; %d delivered by a reader that was not lingering", msgs, transport, peerReads, notLingering.Load())
			if transport > msgs*perMsg+slack {
				t.Errorf("the transport made %d read system calls for %d messages, want about %d per message", transport, msgs, perMsg)
			}
			if n := notLingering.Load(); n > msgs/20 {
				t.Errorf("%d of %d messages were delivered by a reader that was not lingering: a connection in active use should keep its reader", n, msgs)
			}
		})
	}
}

// readSyscalls returns the process's count of read system calls.
func readSyscalls() (uint64, error) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("syscr: ")); ok {
			return strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, errors.New("no syscr in /proc/self/io")
}
