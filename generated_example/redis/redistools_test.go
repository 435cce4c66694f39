package redis

// Tests against clients and a server that nobody here wrote: the real
// redis-cli, and redis-server answering the same bytes side by side. They
// skip, saying why, when Debian's redis-tools or redis-server is not
// installed; .ci/run installs both.

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lookTool returns the path of a Redis tool, or skips the test.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install %s), so this test cannot run: %v", name, pkg, err)
	}
	return path
}

// startRedisServer runs redis-server on a free loopback port, without
// persistence, for the length of the test, and returns its address.
func startRedisServer(t *testing.T) string {
	t.Helper()
	path := lookTool(t, "redis-server", "redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSideBySide sends every case of replyCases to redis-server and to
// this server: both must answer each byte for byte as the case says.
func TestSideBySide(t *testing.T) {
	redisAddr := startRedisServer(t)
	version, _ := exec.Command("redis-server", "--version").Output()
	t.Logf("comparing with %s", bytes.TrimSpace(version))
	ts := startServer(t, Limits{})
	for _, tc := range replyCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := exchange(t, redisAddr, "FLUSHALL\r\n", "+OK\r\n"); got != "+OK\r\n" {
				t.Fatalf("FLUSHALL on redis-server: %q", got)
			}
			ts.db.mu.Lock()
			clear(ts.db.m)
			ts.db.mu.Unlock()
			theirs := exchange(t, redisAddr, tc.in, tc.want)
			ours := exchange(t, ts.addr, tc.in, tc.want)
			if theirs != ours {
				t.Errorf("%q\nredis-server: %q\n        ours: %q", short(tc.in), short(theirs), short(ours))
			} else if theirs != tc.want {
				t.Errorf("%q: both answer %q; the case wants %q", short(tc.in), short(theirs), short(tc.want))
			}
		})
	}
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "..." + strconv.Itoa(len(s)) + " bytes"
	}
	return s
}

// redisCLI runs redis-cli against addr with args and stdin, and returns
// its standard output and error together.
func redisCLI(t *testing.T, addr, stdin string, args ...string) (string, error) {
	t.Helper()
	path := lookTool(t, "redis-cli", "redis-tools")
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(path, append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// redis-cli runs commands given as arguments, and from its standard input
// (where it first asks for COMMAND DOCS).
func TestRedisCLI(t *testing.T) {
	lookTool(t, "redis-cli", "redis-tools")
	ts := startServer(t, Limits{})
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG\n"},
		{[]string{"SET", "greeting", "hello world"}, "OK\n"},
		{[]string{"GET", "greeting"}, "hello world\n"},
		{[]string{"SET", "greeting", "bye", "NX"}, "\n"},
		{[]string{"MSET", "a", "1", "b", "2"}, "OK\n"},
		{[]string{"MGET", "a", "b", "nokey"}, "1\n2\n\n"},
		{[]string{"INCR", "a"}, "2\n"},
		{[]string{"DECR", "a"}, "1\n"},
		{[]string{"EXISTS", "a", "b", "c"}, "2\n"},
		{[]string{"DEL", "a", "c"}, "1\n"},
		{[]string{"ECHO", "line\nbreak"}, "line\nbreak\n"},
		{[]string{"SET", "k", "v", "EX", "100"}, "OK\n"},
		{[]string{"CONFIG", "GET", "save"}, "save\n\n"},
		{[]string{"COMMAND", "COUNT"}, fmt.Sprintf("%d\n", len(commandList))},
		{[]string{"NOSUCH", "x"}, "ERR unknown command 'NOSUCH', with args beginning with: 'x' \n\n"},
		{[]string{"GET"}, "ERR wrong number of arguments for 'get' command\n\n"},
	}
	for _, s := range steps {
		got, err := redisCLI(t, ts.addr, "", s.args...)
		if err != nil {
			t.Fatalf("redis-cli %q: %v\n%s", s.args, err, got)
		}
		if got != s.want {
			t.Errorf("redis-cli %q = %q, want %q", s.args, got, s.want)
		}
	}
	stdin := "SET x 10\nINCRBY x 5\nGET x\nFOO\n"
	want := "OK\n15\n15\nERR unknown command 'FOO', with args beginning with: \n\n"
	if got, err := redisCLI(t, ts.addr, stdin); err != nil || got != want {
		t.Errorf("redis-cli with commands on stdin = %q, %v; want %q", got, err, want)
	}
}

// redis-cli --pipe sends a stream of many commands, multibulk and inline,
// without waiting for replies, and counts them.
func TestRedisCLIPipe(t *testing.T) {
	lookTool(t, "redis-cli", "redis-tools")
	ts := startServer(t, Limits{})
	const n = 20_000
	var in []byte
	for i := range n {
		if i%2 == 0 {
			in = append(in, cmd("SET", "key:"+strconv.Itoa(i), strconv.Itoa(i))...)
		} else {
			in = fmt.Appendf(in, "SET key:%d \"%d\"\r\n", i, i)
		}
	}
	got, err := redisCLI(t, ts.addr, string(in), "--pipe")
	if err != nil {
		t.Fatalf("redis-cli --pipe: %v\n%s", err, got)
	}
	if !strings.Contains(got, fmt.Sprintf("errors: 0, replies: %d", n)) {
		t.Errorf("redis-cli --pipe printed %q, want errors: 0, replies: %d", got, n)
	}
	if ts.db.Len() != n {
		t.Errorf("the server holds %d keys, want %d", ts.db.Len(), n)
	}
	if got, _ := redisCLI(t, ts.addr, "", "GET", "key:12345"); got != "12345\n" {
		t.Errorf("GET key:12345 = %q", got)
	}
}

// A malformed stream through redis-cli --pipe: the server answers the
// commands before it, then the protocol error, and closes the connection.
// With redis-server installed, redis-cli prints the same for both.
func TestRedisCLIPipeMalformed(t *testing.T) {
	lookTool(t, "redis-cli", "redis-tools")
	ts := startServer(t, Limits{})
	inputs := []string{
		"SET a 1\r\n*1\r\n$x\r\nPING\r\n",
		"SET a 1\r\n*2\r\n$3\r\nGET\r\n+a\r\n",
		"PING \"unbalanced\r\n",
		"SET a 1\r\nFOO\r\n",
	}
	redisAddr := ""
	if _, err := exec.LookPath("redis-server"); err == nil {
		redisAddr = startRedisServer(t)
	} else {
		t.Logf("redis-server is not installed: checking our replies only")
	}
	for _, in := range inputs {
		ours, err := redisCLI(t, ts.addr, in, "--pipe")
		if err == nil {
			t.Errorf("redis-cli --pipe %q succeeded, want an exit status of 1", in)
		}
		if !strings.Contains(ours, "ERR ") {
			t.Errorf("redis-cli --pipe %q printed %q, want an error", in, ours)
		}
		if redisAddr != "" {
			if theirs, _ := redisCLI(t, redisAddr, in, "--pipe"); theirs != ours {
				t.Errorf("redis-cli --pipe %q:\nredis-server: %q\n        ours: %q", in, theirs, ours)
			}
		}
	}
	if lost := ts.waitLost(t, len(inputs)); len(lost) != len(inputs) {
		t.Errorf("%d connections ended, want %d", len(lost), len(inputs))
	}
}
