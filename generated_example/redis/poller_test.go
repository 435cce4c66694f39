package redis

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestPollerCloseDeadlock guards against a deadlock that protoflow's epoll
// backend had (fixed in runtime/protoflow/poll_linux.go, with its own
// regression test there): when the last connection left, the poller's
// epoll file was closed with pollMu held, while the poller goroutine,
// dispatching an event inside its read of that file, waited for pollMu;
// from then on the server accepted nothing and Shutdown hung. Connections
// that come and go one at a time, as redis-cli runs do, hit it: this test
// hung in 3 runs of 3 on the loaded 2-core development machine. When the
// server stops answering it prints every goroutine's stack and exits, as
// Shutdown would hang.
func TestPollerCloseDeadlock(t *testing.T) {
	ts := startServer(t, Limits{})
	progress := make(chan int)
	go func() { // ends after the rounds, or with the process when the server hangs
		defer close(progress)
		for i := range 1000 {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Error(err)
				return
			}
			io.WriteString(c, "PING\r\n")
			buf := make([]byte, len("+PONG\r\n"))
			_, err = io.ReadFull(c, buf)
			c.Close()
			if err != nil {
				t.Errorf("round %d: %v", i, err)
				return
			}
			progress <- i
			time.Sleep(time.Millisecond) // let the poller empty, as between redis-cli runs
		}
	}()
	for {
		select {
		case _, ok := <-progress:
			if !ok {
				return
			}
		case <-time.After(10 * time.Second):
			stacks := make([]byte, 1<<20)
			stacks = stacks[:runtime.Stack(stacks, true)]
			fmt.Fprintf(os.Stderr, "%s\n--- FAIL: TestPollerCloseDeadlock: the server stopped answering: see pollUnregister and poller.dispatch in the stacks above\n", stacks)
			os.Exit(1)
		}
	}
}
