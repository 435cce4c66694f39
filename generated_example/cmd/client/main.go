// Client sends its standard input to a server, closes its side of the
// connection for writing, and prints what the server sends back until the
// server closes the connection: what nc -N (OpenBSD's netcat) or nc -q1
// (Debian's) do, on every system Go runs on. It is for trying the example
// servers of generated_example, which close a connection once they have
// answered everything before the client's end of file:
//
//	go build -o kvserver ./generated_example/cmd/server
//	./kvserver -addr 127.0.0.1:7070 &
//	printf 'SET greeting hello world\nGET greeting\n' | go run ./generated_example/cmd/client -addr 127.0.0.1:7070
//
// The flags are:
//
//	-addr host:port   the server's address (default 127.0.0.1:7070); an
//	                  address with a slash is a Unix socket path
//	-wait duration    how long to wait for the server to listen and accept,
//	                  and then for each reply (default 10s)
//
// The exit status is 0 when the server closed the connection cleanly, and
// 1 on any error, such as a server that does not answer within -wait.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "client:", err)
		}
		os.Exit(1)
	}
}

// run sends stdin to the server, half-closes, and copies the server's
// replies to stdout until it closes.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:7070", "the server's `host:port` (or a Unix socket path)")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the server to listen and accept, and for each reply")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the requests come from standard input", fs.Arg(0))
	}
	network := "tcp"
	if strings.Contains(*addr, "/") {
		network = "unix"
	}
	c, err := dial(func(timeout time.Duration) (net.Conn, error) {
		return net.DialTimeout(network, *addr, timeout)
	}, *wait)
	if err != nil {
		return err
	}
	defer c.Close()
	// The requests go out on a goroutine of their own, which exits once
	// stdin ends or the connection fails; a server that replies while it
	// reads never waits for us.
	sent := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, stdin)
		if err == nil {
			err = c.(interface{ CloseWrite() error }).CloseWrite()
		}
		sent <- err
	}()
	buf := make([]byte, 32<<10)
	for {
		c.SetReadDeadline(time.Now().Add(*wait))
		n, err := c.Read(buf)
		if _, werr := stdout.Write(buf[:n]); werr != nil {
			return werr
		}
		switch {
		case errors.Is(err, io.EOF):
			select {
			case err := <-sent: // at once, unless stdin has not ended
				return err
			case <-time.After(*wait):
				return errors.New("the server closed the connection before the end of the requests")
			}
		case err != nil:
			return err
		}
	}
}

// dial connects with connect, trying again while nothing listens yet (a
// server started a moment before, in the background), for at most wait.
func dial(connect func(timeout time.Duration) (net.Conn, error), wait time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(wait)
	for {
		c, err := connect(time.Until(deadline))
		refused := errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist)
		if err == nil || !refused || time.Now().Add(retryEvery).After(deadline) {
			return c, err
		}
		time.Sleep(retryEvery)
	}
}

// retryEvery is how often dial tries again.
const retryEvery = 50 * time.Millisecond
