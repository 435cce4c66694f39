//go:build linux && !race

// Race builds write with syscall.Write for its annotations (sysio_race.go),
// which raises SIGPIPE as write(2) does: this file is for the others.

package protoflow

import (
	"errors"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"unsafe"
)

// A write to a socket whose sending side is shut raises no SIGPIPE: the
// transport writes with sendto or sendmsg and MSG_NOSIGNAL, so a program that asks
// for SIGPIPE (signal.Notify) hears of its own pipes only. The control
// row writes with write(2), which does raise it, so that the test can
// tell. A signal raised by a system call is the thread's and pending when
// the call returns, before the test sends itself SIGWINCH; os/signal
// hands on pending signals lowest number first (SIGPIPE is 13, SIGWINCH
// 28), so whichever arrives first says whether SIGPIPE was raised.
func TestSocketWriteRaisesNoSIGPIPE(t *testing.T) {
	plainWrite := func(fd uintptr, p []byte) (int, syscall.Errno) {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		return int(n), errno
	}
	tests := []struct {
		name     string
		write    func(uintptr, []byte) (int, syscall.Errno)
		wantPipe bool
	}{
		{"sysWrite", sysWrite, false},
		{"sysWritev", func(fd uintptr, p []byte) (int, syscall.Errno) {
			v := iovec{Base: &p[0]}
			v.SetLen(len(p))
			return sysWritev(fd, []iovec{v})
		}, false},
		{"write(2), the control", plainWrite, true},
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGPIPE, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			peer, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			if err := c.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			rc, err := c.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var errno syscall.Errno
			if err := rc.Control(func(fd uintptr) { _, errno = tt.write(fd, []byte("x")) }); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(errno, syscall.EPIPE) {
				t.Fatalf("write after shutting the sending side: %v, want EPIPE", errno)
			}
			if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
				t.Fatal(err)
			}
			first := <-sigs
			if gotPipe := first == syscall.SIGPIPE; gotPipe != tt.wantPipe {
				t.Errorf("first signal after the write: %v; SIGPIPE raised: %v, want %v", first, gotPipe, tt.wantPipe)
			}
			for first != syscall.SIGWINCH { // leave no signal for the next row
				first = <-sigs
			}
		})
	}
}
