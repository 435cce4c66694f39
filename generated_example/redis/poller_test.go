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

// TestPollerCloseDeadlock reproduces a deadlock of protoflow's epoll
// backend (runtime/protoflow/poll_linux.go). When the last connection
// leaves, pollUnregister calls closeIfEmptyLocked, which closes the epoll
// file with pollMu held; os.File.Close waits until the poller goroutine's
// RawRead on that file returns, while that goroutine, dispatching an event
// inside RawRead, waits for pollMu. From then on every new connection
// waits for pollMu in pollRegister: the server accepts nothing more, and
// Shutdown never returns. Connections that come and go one at a time, as
// redis-cli runs do, hit it: on the 2-core development machine under load
// this test hung in 3 runs of 3 (and TestRedisCLI once, with the same
// stacks); on a quieter machine it did not show in 12 runs. The race is
// narrow, but the lock order is there.
//
// It is the runtime's bug, so the test runs only with
// PROTOFLOW_REPRO_POLLER_DEADLOCK=1; when the server stops answering it
// prints every goroutine's stack and exits, as Shutdown would hang. TestMain keeps one connection open for
// the other tests, so that the poller never empties under them.
func TestPollerCloseDeadlock(t *testing.T) {
	if os.Getenv("PROTOFLOW_REPRO_POLLER_DEADLOCK") == "" {
		t.Skip("reproduces a known deadlock of the runtime's epoll poller (see the comment); set PROTOFLOW_REPRO_POLLER_DEADLOCK=1 to run it")
	}
	releaseAnchor() // let the poller empty between connections
	ts := startServer(t, Limits{})
	progress := make(chan int)
	go func() { // ends after the rounds, or with the process when the server hangs
		defer close(progress)
		for i := range 3000 {
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
