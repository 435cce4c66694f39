//go:build !linux

package protoflow

import (
	"net"
	"syscall"
)

// rawConnOf returns nil: outside Linux every connection takes the portable
// path (blocking reads on the reader goroutine, writes on a flusher
// goroutine).
func rawConnOf(net.Conn) syscall.RawConn { return nil }

type iovec struct{}

func shutdownSocket(uintptr) {}

func rawRead(uintptr, []byte) (int, error) { return 0, syscall.ENOTSUP }

func rawWrite(uintptr, []byte) (int, error) { return 0, syscall.ENOTSUP }

func rawWritev(_ uintptr, iov []iovec, _ [][]byte) (int, []iovec, error) {
	return 0, iov, syscall.ENOTSUP
}
