package protoflow

import (
	"net"
	"syscall"
)

// iovec is one entry of a writev call.
type iovec = syscall.Iovec

// maxIovecs caps one writev call, as the kernel's IOV_MAX does.
const maxIovecs = 1024

// rawConnOf returns the file descriptor access of a TCP or Unix stream
// socket, through which the transport writes without blocking and waits for
// readability without holding a buffer; nil for any other connection, which
// then takes the portable path.
func rawConnOf(nc net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// shutdownSocket shuts both directions of the socket fd down: the peer sees
// the end, and a read or write waiting on it returns.
func shutdownSocket(fd uintptr) { _ = syscall.Shutdown(int(fd), syscall.SHUT_RDWR) }

// rawRead reads once from the non-blocking socket fd. It returns EAGAIN when
// nothing is ready and (0, nil) at end of file.
func rawRead(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return retryEINTR(sysRead, fd, p)
}

// rawWritev writes bufs to the non-blocking fd with one writev call and
// returns how many bytes the kernel took; EAGAIN means none.
func rawWritev(fd uintptr, iov []iovec, bufs [][]byte) (int, []iovec, error) {
	iov = iov[:0]
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if len(iov) == maxIovecs {
			break
		}
		v := iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	if len(iov) == 0 {
		return 0, iov, nil
	}
	n, err := retryEINTR(sysWritev, fd, iov)
	return n, iov, err
}

// rawWrite writes p to the non-blocking socket fd with one system call.
func rawWrite(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return retryEINTR(sysWrite, fd, p)
}

// retryEINTR makes one system call, again while a signal interrupts it,
// and returns its errno as an error.
func retryEINTR[T any](call func(uintptr, T) (int, syscall.Errno), fd uintptr, arg T) (int, error) {
	for {
		n, errno := call(fd, arg)
		switch errno {
		case 0:
			return n, nil
		case syscall.EINTR:
			continue
		}
		return 0, errno
	}
}
