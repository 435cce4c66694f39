package memcached

// Tests against clients and a server that nobody here wrote: Debian's
// libmemcached-tools (memccp, memccat... in both protocols) and memcached
// itself, answering the same bytes side by side. They skip, saying why,
// when the tools are not installed; .ci/run installs them.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lookTool returns the path of a tool, or skips the test.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install %s), so this test cannot run: %v", name, pkg, err)
	}
	return path
}

// startMemcached runs memcached on a free loopback port for the length of
// the test, with args, and returns its address.
func startMemcached(t *testing.T, args ...string) string {
	t.Helper()
	path := lookTool(t, "memcached", "memcached")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	args = append([]string{"-p", port, "-l", "127.0.0.1", "-U", "0"}, args...)
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // memcached refuses to run as root without -u
	}
	cmd := exec.Command(path, args...)
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
			t.Fatalf("memcached did not listen on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memc runs one of libmemcached's tools against addr, in dir.
func memc(t *testing.T, dir, tool, addr string, binary bool, args ...string) (string, error) {
	t.Helper()
	path := lookTool(t, tool, "libmemcached-tools")
	args = append([]string{"--servers=" + addr}, args...)
	if binary {
		args = append([]string{"--binary"}, args...)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The real clients store files of many sizes, from 0 bytes to 1 MiB, read
// them back byte for byte, and run every other tool, in both protocols.
func TestMemcachedTools(t *testing.T) {
	lookTool(t, "memccp", "libmemcached-tools")
	ts := startServer(t, Config{})
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(18, 1))
	sizes := []int{0, 1, 2, 100, 1023, 4096, 65535, 65536, 65537, 100_000, 500_000, 1<<20 - 1, 1 << 20}
	var names []string
	for _, n := range sizes {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if n > 2 {
			copy(b[n/2:], "\r\nEND\r\n") // what a text client must not take for the end of a reply
		}
		name := fmt.Sprintf("file%d", n)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	for _, binary := range []bool{false, true} {
		t.Run(fmt.Sprintf("binary=%v", binary), func(t *testing.T) {
			run := func(tool string, args ...string) string {
				t.Helper()
				out, err := memc(t, dir, tool, ts.addr, binary, args...)
				if err != nil {
					t.Fatalf("%s %q: %v\n%s", tool, args, err, out)
				}
				return out
			}
			run("memcflush")
			run("memccp", names...)
			for _, name := range names {
				out := filepath.Join(dir, "out-"+name)
				run("memccat", "--file="+out, name)
				want, _ := os.ReadFile(filepath.Join(dir, name))
				got, err := os.ReadFile(out)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: memccat wrote %d bytes (%v), want the %d bytes memccp stored", name, len(got), err, len(want))
				}
			}
			run("memcexist", names[3])
			run("memctouch", "--expire=100", names[3])
			run("memcrm", names[3])
			if out, err := memc(t, dir, "memcexist", ts.addr, binary, names[3]); err == nil {
				t.Errorf("memcexist found %s after memcrm: %s", names[3], out)
			}
			if !binary { // memcping takes no --binary
				run("memcping")
			}
			if out := run("memcstat"); !strings.Contains(out, "curr_items:") || !strings.Contains(out, "version: "+DefaultVersion) {
				t.Errorf("memcstat printed %q", out)
			}
			run("memcflush")
			if out, err := memc(t, dir, "memcexist", ts.addr, binary, names[0]); err == nil {
				t.Errorf("memcexist found %s after memcflush: %s", names[0], out)
			}
		})
	}
}

// memcslap, libmemcached's load generator, runs its mixes of gets and sets
// from several concurrent clients without an error, in both protocols.
func TestMemcslap(t *testing.T) {
	lookTool(t, "memcslap", "libmemcached-tools")
	ts := startServer(t, Config{})
	for _, binary := range []bool{false, true} {
		out, err := memc(t, t.TempDir(), "memcslap", ts.addr, binary, "--concurrency=4", "--execute-number=2000", "--initial-load=200")
		if err != nil {
			t.Fatalf("memcslap (binary %v): %v\n%s", binary, err, out)
		}
		if strings.Contains(strings.ToLower(out), "fail") {
			t.Errorf("memcslap (binary %v) reports a failure:\n%s", binary, out)
		}
	}
}
