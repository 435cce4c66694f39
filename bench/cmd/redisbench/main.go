// Command redisbench runs redis-benchmark against the Redis-protocol server
// built with protogen (generated_example/redis) and against redis-server,
// side by side, and prints a Markdown table of requests per second and
// requests per second of server CPU time.
//
//	cd bench && go run ./cmd/redisbench                 # 5 interleaved runs, a few minutes
//	cd bench && go run ./cmd/redisbench -runs 1 -n 50000 # a quick look
//	cd bench && go run ./cmd/redisbench -cpuprofile /tmp/redis.prof -runs 1 -only protoflow
//
// For each run and each pipeline depth (-P 1, -P 16) each server starts
// afresh, pinned to CPU 1 (taskset -c 1; our server with GOMAXPROCS=1,
// redis-server single-threaded as it is by default), and redis-benchmark
// runs pinned to CPU 0, once per test (ping_mbulk, set, get) so that the
// server's CPU time (utime+stime from /proc) is measured for each test
// alone. redis-server runs without persistence (an empty --save and
// --appendonly no). The order of the servers alternates from run to run.
// Figures are medians with the min–max range.
//
// The table also shows how busy redis-benchmark kept its own CPU. Near
// 100%, the client bounds requests/s whatever the server, and the server's
// CPU per request tells more. With -pin=false nothing is pinned
// (GOMAXPROCS stays 1): server and client share both CPUs, as they would
// on a developer's machine, and CPU a server saves can go to the client.
//
// redis-server and redis-benchmark come from Debian's redis-server and
// redis-tools packages; redisbench installs them with apt-get when it can.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/protogen/protogen/bench/internal/proc"
	"github.com/protogen/protogen/bench/internal/stats"
)

// The CPUs of the servers and of redis-benchmark, unless -pin=false.
const (
	serverCPU = 1
	clientCPU = 0
)

// server is one implementation under test.
type server struct {
	name  string
	start func(port int) *exec.Cmd
}

// sample is what one redis-benchmark run measured.
type sample struct {
	rps        float64 // requests per second, as redis-benchmark reports
	perCPU     float64 // requests per second of server CPU time
	clientBusy float64 // redis-benchmark's CPU time over its wall time: near 1, it is the bottleneck
}

func main() {
	runs := flag.Int("runs", 5, "interleaved runs of every test on every server")
	requests := flag.Int("n", 200000, "requests of each redis-benchmark run (-n)")
	clients := flag.Int("c", 50, "connections of redis-benchmark (-c)")
	tests := flag.String("t", "ping_mbulk,set,get", "redis-benchmark tests (-t), each run and measured alone")
	pipelines := flag.String("P", "1,16", "comma-separated pipeline depths (-P)")
	only := flag.String("only", "", "run only the servers whose names contain this (protoflow or redis-server)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of our server to `file` (of its last run)")
	pin := flag.Bool("pin", true, "pin the server to CPU 1 and redis-benchmark to CPU 0; with false they share both")
	backend := flag.String("backend", "", "PROTOFLOW_BACKEND for our server: loop, epoll or goroutine (default: the runtime's default)")
	clientsFlag := flag.String("client", "redis-benchmark,redisload", "comma-separated load generators: redis-benchmark, and redisload (bench/cmd/redisload, Go on protoflow's loop backend)")
	flag.Parse()

	cfg := config{runs: *runs, requests: *requests, clients: *clients, tests: strings.Split(*tests, ","), only: *only, cpuprofile: *cpuprofile,
		serverCPU: serverCPU, clientCPU: clientCPU, loadgens: strings.Split(*clientsFlag, ","), backend: *backend}
	if !*pin {
		cfg.serverCPU, cfg.clientCPU = -1, -1
	}
	for _, p := range strings.Split(*pipelines, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "redisbench: bad -P %q\n", p)
			os.Exit(2)
		}
		cfg.pipelines = append(cfg.pipelines, n)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "redisbench:", err)
		os.Exit(1)
	}
}

type config struct {
	runs, requests, clients int
	tests                   []string
	pipelines               []int
	only, cpuprofile        string
	serverCPU, clientCPU    int      // the CPU each runs on; -1: any
	loadgens                []string // redis-benchmark, redisload
	bin                     string   // the folder of built binaries
	backend                 string   // PROTOFLOW_BACKEND for our server, if set
}

func run(cfg config) error {
	if err := ensureRedis(); err != nil {
		return err
	}
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("%d CPU: the servers and redis-benchmark need a CPU each", runtime.NumCPU())
	}
	bin, err := os.MkdirTemp("", "protogen-redisbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	fmt.Fprintln(os.Stderr, "building our server...")
	cfg.bin = bin
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./servers/protoflow", "./cmd/redisload")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	servers := []server{
		{"protoflow (generated)", func(port int) *exec.Cmd {
			argv := []string{filepath.Join(bin, "protoflow"), "-proto", "redis", "-addr", "127.0.0.1:" + strconv.Itoa(port)}
			if cfg.cpuprofile != "" {
				argv = append(argv, "-cpuprofile", cfg.cpuprofile)
			}
			cmd := proc.Pinned(cfg.serverCPU, argv...)
			if cfg.backend != "" {
				cmd.Env = append(cmd.Env, "PROTOFLOW_BACKEND="+cfg.backend)
			}
			return cmd
		}},
		{"redis-server", func(port int) *exec.Cmd {
			return proc.Pinned(cfg.serverCPU, "redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
		}},
	}
	if cfg.only != "" {
		servers = slices.DeleteFunc(servers, func(s server) bool { return !strings.Contains(s.name, cfg.only) })
	}
	loadBefore := proc.LoadAverage()
	results := make(map[string][]sample) // key(server, test, P) → samples
	for r := range cfg.runs {
		for _, pipe := range cfg.pipelines {
			for k := range servers {
				s := servers[(k+r)%len(servers)] // alternate the order from run to run
				if err := measure(cfg, s, pipe, r, results); err != nil {
					return fmt.Errorf("%s, -P %d: %w", s.name, pipe, err)
				}
			}
		}
	}
	printTable(os.Stdout, cfg, servers, results, loadBefore, proc.LoadAverage())
	return nil
}

func key(server, client, test string, pipe int) string {
	return fmt.Sprintf("%s|%s|%s|%d", server, client, test, pipe)
}

// measure starts s afresh and runs each test on it once.
func measure(cfg config, s server, pipe, r int, results map[string][]sample) error {
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	cmd := s.start(port)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer proc.Stop(cmd) // our server writes its profile when interrupted
	if err := proc.WaitListening("127.0.0.1:" + strconv.Itoa(port)); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	for _, test := range cfg.tests {
		for _, client := range cfg.loadgens {
			before := proc.CPUSeconds(pid)
			var rps, clientBusy float64
			var err error
			if client == "redisload" {
				rps, clientBusy, err = redisLoad(port, test, cfg, pipe)
			} else {
				rps, clientBusy, err = redisBenchmark(port, test, cfg, pipe)
			}
			if err != nil {
				return err
			}
			cpu := proc.CPUSeconds(pid) - before
			smp := sample{rps: rps, clientBusy: clientBusy}
			if cpu > 0 {
				smp.perCPU = float64(cfg.requests) / cpu
			}
			fmt.Fprintf(os.Stderr, "run %d/%d  -P %-2d  %-10s  %-22s %-15s %10.0f requests/s  %10.0f requests/CPU-s  client busy %3.0f%%\n",
				r+1, cfg.runs, pipe, test, s.name, client, smp.rps, smp.perCPU, 100*smp.clientBusy)
			k := key(s.name, client, test, pipe)
			results[k] = append(results[k], smp)
		}
	}
	return nil
}

// redisBenchmark runs one test and returns the requests per second it
// reports, and how busy it kept its own CPU (its CPU time over its wall
// time, from the rusage of its exit).
func redisBenchmark(port int, test string, cfg config, pipe int) (rps, busy float64, err error) {
	cmd := proc.Pinned(cfg.clientCPU, "redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-t", test, "-n", strconv.Itoa(cfg.requests), "-c", strconv.Itoa(cfg.clients), "-P", strconv.Itoa(pipe), "--csv")
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("redis-benchmark -t %s: %w", test, err)
	}
	wall := time.Since(start)
	busy = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds() / wall.Seconds()
	// --csv prints a header, then "TEST","rps",...
	records, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil {
		return 0, 0, fmt.Errorf("redis-benchmark printed %q: %w", out, err)
	}
	for _, rec := range records {
		if len(rec) >= 2 && strings.EqualFold(rec[0], test) {
			rps, err = strconv.ParseFloat(rec[1], 64)
			return rps, busy, err
		}
	}
	return 0, 0, fmt.Errorf("redis-benchmark printed no result for %s: %q", test, out)
}

// redisLoad runs bench/cmd/redisload for one test and returns the requests
// per second it reports, and how busy it kept the CPUs it may use.
func redisLoad(port int, test string, cfg config, pipe int) (rps, busy float64, err error) {
	threads := 1
	if cfg.clientCPU < 0 {
		threads = runtime.NumCPU()
	}
	cmd := proc.Pinned(cfg.clientCPU, filepath.Join(cfg.bin, "redisload"), "-addr", "127.0.0.1:"+strconv.Itoa(port),
		"-t", test, "-n", strconv.Itoa(cfg.requests), "-c", strconv.Itoa(cfg.clients), "-P", strconv.Itoa(pipe), "-threads", strconv.Itoa(threads))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("redisload -t %s: %w", test, err)
	}
	var res struct {
		RPS  float64 `json:"rps"`
		Busy float64 `json:"busy"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, 0, fmt.Errorf("redisload printed %q: %w", out, err)
	}
	return res.RPS, res.Busy, nil
}

// ensureRedis installs redis-server and redis-tools with apt-get when one
// is missing and we are root.
func ensureRedis() error {
	missing := func() []string {
		var m []string
		for _, tool := range []string{"redis-server", "redis-benchmark", "taskset"} {
			if _, err := exec.LookPath(tool); err != nil {
				m = append(m, tool)
			}
		}
		return m
	}
	m := missing()
	if len(m) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s not installed, and installing needs root (apt-get install redis-server redis-tools util-linux)", strings.Join(m, ", "))
	}
	fmt.Fprintln(os.Stderr, "installing redis-server and redis-tools with apt-get...")
	cmd := exec.Command("apt-get", "install", "-y", "-q", "redis-server", "redis-tools", "util-linux")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install: %w: %s", err, proc.LastLine(out))
	}
	if m := missing(); len(m) > 0 {
		return errors.New(strings.Join(m, ", ") + " still missing after apt-get install")
	}
	return nil
}

// printTable prints the results as Markdown.
func printTable(w io.Writer, cfg config, servers []server, results map[string][]sample, loadBefore, loadAfter string) {
	pinning := "server pinned to CPU 1, redis-benchmark to CPU 0"
	if cfg.serverCPU < 0 {
		pinning = "nothing pinned"
	}
	fmt.Fprintf(w, "redis-benchmark -n %d -c %d, %s, %s/%s, %d CPUs (%s), %s, %s, %s; %s; load average %s before, %s after; %d interleaved runs; median (min–max).\n\n",
		cfg.requests, cfg.clients, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), proc.CPUModel(),
		runtime.Version(), toolVersion("redis-server"), toolVersion("redis-benchmark"), pinning, loadBefore, loadAfter, cfg.runs)
	fmt.Fprint(w, "| test | figure |")
	for _, s := range servers {
		fmt.Fprintf(w, " %s |", s.name)
	}
	// With both servers, the ratio of the medians and the median (min–max)
	// of the per-run ratios: both servers of a run meet the same state of
	// the machine, so the latter cancels the drift between runs.
	ratio := len(servers) == 2
	if ratio {
		fmt.Fprintf(w, " %s / %s, of medians | per run |", servers[0].name, servers[1].name)
	}
	fmt.Fprint(w, "\n|---|---|")
	for range servers {
		fmt.Fprint(w, "---|")
	}
	if ratio {
		fmt.Fprint(w, "---|---|")
	}
	fmt.Fprintln(w)
	percent := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
	figures := []struct {
		name   string
		get    func(sample) float64
		format func(float64) string
		ratio  bool // print the ratio columns
	}{
		{"requests/s", func(s sample) float64 { return s.rps }, stats.Thousands, true},
		{"requests per server CPU-second", func(s sample) float64 { return s.perCPU }, stats.Thousands, true},
		// Near 100%, the load generator is what bounds requests/s, and a
		// faster server cannot show it there.
		{"the load generator's use of its CPU", func(s sample) float64 { return s.clientBusy }, percent, false},
	}
	for _, client := range cfg.loadgens {
		for _, pipe := range cfg.pipelines {
			for _, test := range cfg.tests {
				for _, f := range figures {
					fmt.Fprintf(w, "| %s: `%s` -P %d | %s |", client, test, pipe, f.name)
					var runs [][]float64
					var medians []float64
					for _, s := range servers {
						var vals []float64
						for _, smp := range results[key(s.name, client, test, pipe)] {
							vals = append(vals, f.get(smp))
						}
						runs = append(runs, vals)
						sum, ok := stats.Summarize(stats.Measured(vals))
						medians = append(medians, sum.Median)
						if !ok {
							fmt.Fprint(w, " — |")
							continue
						}
						fmt.Fprintf(w, " %s%s |", sum.FormatWith(f.format), sum.Shortfall(cfg.runs))
					}
					switch {
					case ratio && !f.ratio:
						fmt.Fprint(w, " | |")
					case ratio:
						if medians[1] > 0 {
							fmt.Fprintf(w, " %.2f× |", medians[0]/medians[1])
						} else {
							fmt.Fprint(w, " — |")
						}
						if sum, ok := stats.Summarize(stats.Ratios(runs[0], runs[1])); ok {
							fmt.Fprintf(w, " %s |", sum.Format("%.2f×"))
						} else {
							fmt.Fprint(w, " — |")
						}
					}
					fmt.Fprintln(w)
				}
			}
		}
	}
}

func toolVersion(tool string) string {
	out, err := exec.Command(tool, "--version").Output()
	if err != nil {
		return tool + " (version unknown)"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	// "Redis server v=7.0.15 sha=..." and "redis-benchmark 7.0.15".
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return tool + " " + v
		}
	}
	if f := strings.Fields(line); len(f) >= 2 {
		return tool + " " + f[1]
	}
	return line
}
