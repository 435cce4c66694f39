// Package proc runs benchmark processes pinned to a CPU and reads what
// they used from /proc, as bench/cmd/compare does: utime+stime of the
// process for CPU time, VmRSS and VmHWM for memory.
package proc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Pinned returns a command that runs argv on CPU cpu alone (taskset -c),
// or on any CPU if cpu is below 0. taskset execs argv, so the command's
// PID is argv's own. Go programs get GOMAXPROCS=1 either way, so that they
// run one thread of Go code, as an event loop does.
func Pinned(cpu int, argv ...string) *exec.Cmd {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	return cmd
}

// CPUSeconds returns the user+system CPU time of process pid so far, all
// its threads included, or 0 if it cannot be read.
func CPUSeconds(pid int) float64 {
	user, sys := CPUTimes(pid)
	return user + sys
}

// CPUTimes returns the user and the system CPU time of process pid so far,
// in seconds, all its threads included, or zeros if they cannot be read.
// System time is the kernel working for the process: on loopback TCP most
// of it is the TCP stack, which is the same work for every server.
func CPUTimes(pid int) (user, sys float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	// The fields after the command name, which is in parentheses.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return utime / 100, stime / 100 // USER_HZ is 100 on Linux
}

// MemKiB returns a field of /proc/PID/status in KiB, such as VmRSS or
// VmHWM, or 0.
func MemKiB(pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			n, _ := strconv.ParseFloat(f[0], 64)
			return n
		}
	}
	return 0
}

// CPUModel returns the model name of the first CPU in /proc/cpuinfo.
func CPUModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}

// LoadAverage returns the first three fields of /proc/loadavg.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// WaitListening waits until a TCP connection to addr succeeds, for 20 s at
// most.
func WaitListening(addr string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not listen on %s within 20 s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FreePort returns a loopback TCP port free a moment ago, for a server
// that is told its port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Stop interrupts a started command (a server of ours writes its profile
// then) and waits for it to exit, killing it after 10 s.
func Stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // ends when the process exits
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// LastLine returns the last non-empty line of a command's output, for an
// error message.
func LastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
