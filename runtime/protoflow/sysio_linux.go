//go:build linux && !race

package protoflow

import (
	"syscall"
	"unsafe"
)

// The socket system calls use RawSyscall: the descriptors are
// non-blocking, so a call never parks its thread, and telling the
// scheduler about each one (entersyscall, exitsyscall) costs more than the
// call: it let sysmon hand the P to another thread during a long loopback
// write, a futex wake-up and a context switch for nothing (measured under
// redis-benchmark: 5,330 sysmon sleeps and 1,010 futex calls per 100,000
// requests before, 196 and 45 after). A long write (a full writev of
// queued chunks) delays a stop-the-world by its length, about a
// millisecond at worst. A descriptor put into blocking mode behind the
// transport's back (NetConn().File() then Fd()) would stall the process:
// NetConn's documentation forbids it.
//
// A socket is read with recvfrom and written with sendto or sendmsg (as
// nginx does, with recv, send and sendmsg), not read, write and writev:
// those pass through the file layer first (the position lock,
// rw_verify_area, the security and fsnotify hooks), about 1 % of a
// loopback request's CPU (perf, memcached -P 1), and sendto and sendmsg
// take MSG_NOSIGNAL, so a write to a peer gone returns EPIPE without
// raising SIGPIPE for the runtime to ignore.
//
// Under the race detector sysio_race.go uses syscall.Read and
// syscall.Write instead, which tell the detector that bytes written to a
// socket happen before their reading: without that, a program whose peer
// writes to the same process would see false reports.

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0, 0, 0)
	return int(n), errno
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), syscall.MSG_NOSIGNAL, 0, 0)
	return int(n), errno
}

func sysWritev(fd uintptr, iov []iovec) (int, syscall.Errno) {
	msg := syscall.Msghdr{Iov: unsafe.SliceData(iov)}
	setLen(&msg.Iovlen, len(iov))
	n, _, errno := syscall.RawSyscall(syscall.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&msg)), syscall.MSG_NOSIGNAL)
	return int(n), errno
}

// setLen stores n in a length field of a system call's structure, which is
// 32 or 64 bits wide as the architecture's size_t is.
func setLen[T ~uint32 | ~uint64](field *T, n int) { *field = T(n) }
