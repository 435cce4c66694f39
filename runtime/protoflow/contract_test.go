package protoflow_test

import (
	"net"
	"testing"

	"github.com/protogen/protogen/runtime/internal/contract"
	"github.com/protogen/protogen/runtime/protoflow"
)

// TestContract runs the contract suite that protoflowtest's in-memory
// transport also passes over this package's transport on TCP, Unix sockets
// and pipes: on the loop backend (Linux's default), and on the epoll and
// goroutine backends with PROTOFLOW_BACKEND=epoll or goroutine (as CI runs
// it).
func TestContract(t *testing.T) {
	// The loop backend's loop delivers every transition (Kind.Async).
	loop := protoflow.BackendName == "loop"
	kinds := []contract.Kind{
		{Name: "tcp", Attach: attachOver(protoflow.TCPPair), HalfClose: true, Async: loop},
		{Name: "unix", Attach: attachOver(protoflow.UnixPair), HalfClose: true, ExactQueue: true, Async: loop},
		{Name: "pipe", Attach: attachOver(func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() }), ExactQueue: true},
	}
	for _, k := range kinds {
		t.Run(k.Name, func(t *testing.T) { contract.Run(t, k) })
	}
}

// attachOver returns a contract.Kind's Attach over pairs that pair makes:
// the transport drives the first end, the peer the second.
func attachOver(pair func(testing.TB) (net.Conn, net.Conn)) func(*testing.T, protoflow.Protocol) (protoflow.Transport, contract.Peer) {
	return func(t *testing.T, p protoflow.Protocol) (protoflow.Transport, contract.Peer) {
		t.Helper()
		srv, cli := pair(t)
		// Small kernel buffers, so that a stalled peer backs the queue up
		// after kilobytes rather than megabytes; 64 KiB at least, as less
		// stalls loopback TCP.
		if b, ok := srv.(interface{ SetWriteBuffer(int) error }); ok {
			_ = b.SetWriteBuffer(64 << 10)
		}
		if tcp, ok := cli.(*net.TCPConn); ok {
			_ = tcp.SetReadBuffer(128 << 10) // the kernel would grow it to swallow megabytes
		}
		peer := contract.NetPeer(t, cli)
		tr, err := protoflow.Attach(srv, p)
		if err != nil {
			srv.Close()
			t.Fatalf("Attach: %v", err)
		}
		return tr, peer
	}
}
