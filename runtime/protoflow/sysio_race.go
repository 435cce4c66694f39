//go:build linux && race

package protoflow

import (
	"syscall"
	"unsafe"
)

// Under the race detector the socket reads and writes go through
// syscall.Read and syscall.Write, whose annotations say that bytes written
// to a socket happen before their reading (see sysio_linux.go).

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	return sysResult(syscall.Read(int(fd), p))
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	return sysResult(syscall.Write(int(fd), p))
}

func sysWritev(fd uintptr, iov []iovec) (int, syscall.Errno) {
	// syscall has no writev with the annotation, and the detector's own
	// calls are internal: a write of nothing makes syscall.Write say it
	// (TestPeerReadHappensAfterQueuedWrite). Race builds only.
	_, _ = syscall.Write(int(fd), nil)
	n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)))
	return int(n), errno
}

func sysResult(n int, err error) (int, syscall.Errno) {
	if err != nil {
		return 0, err.(syscall.Errno)
	}
	return n, 0
}
