package protoflow

import (
	"bytes"
	"errors"
	"os"
	"strconv"
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
			r.onData = func(r *recorder, p []byte) { _, _ = r.Transport().Write(p) } // echo
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
			before, _ := readSyscalls()
			for range msgs {
				echo()
			}
			after, _ := readSyscalls()
			transport := int(after-before) - peerReads
			perMsg := 1
			if !tr.(*conn).epoll() {
				perMsg = 2
			}
			t.Logf("%d messages: %d reads by the transport, %d by the peer", msgs, transport, peerReads)
			// Some slack for a burst that ends when the machine stalls the
			// test for the linger time.
			if transport > msgs*perMsg+msgs/4 {
				t.Errorf("the transport made %d read system calls for %d messages, want about %d per message", transport, msgs, perMsg)
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
