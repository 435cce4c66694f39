//go:build unix

package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// From nothing to a running server in three commands, in a new module, as
// the README shows them, with Go's tool directive:
//
//	go get -tool github.com/protogen/protogen/cmd/protogen
//	go tool protogen -init echo.yaml
//	go run .
//
// then go tool protogen -version, and go generate (main.go's
// "//go:generate go tool protogen -spec echo.yaml") after an edit of the
// spec. The module replaces github.com/protogen/protogen with this tree,
// and GOPROXY=off makes the go command use only that tree and the module
// cache: with a replace directive and no version, go get resolves the
// module to the replacement.
func TestStarterWithGoTool(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds protogen and a server with the go command")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	// What go mod init example.com/echo and go mod edit -replace write.
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module example.com/echo\n\ngo 1.26\n\n"+
		"replace github.com/protogen/protogen => "+root+"\n"))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.sum"), sum)
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=")
	goCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = env
		return cmd
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := goCmd(args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// 1. protogen becomes a tool of the module.
	run("get", "-tool", "github.com/protogen/protogen/cmd/protogen")
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(gomod, []byte("\ntool github.com/protogen/protogen/cmd/protogen\n")) {
		t.Fatalf("go get -tool left go.mod without the tool directive:\n%s", gomod)
	}
	if out, want := run("tool", "protogen", "-version"), "protogen development build: from "+root+" (a replace directive)"; !strings.HasPrefix(out, want) {
		t.Errorf("go tool protogen -version = %q, want it to start %q", out, want)
	}

	// 2. The starter: spec, generated code, hooks and main.go.
	out := run("tool", "protogen", "-init", "echo.yaml")
	if !strings.Contains(out, "go run .") {
		t.Errorf("-init does not say what to run next:\n%s", out)
	}

	// 3. go run . serves it.
	addr := goRunServer(t, goCmd("run", ".", "-addr", "127.0.0.1:0"))
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "hello\nworld\r\n"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("hello\nworld\n"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello\nworld\n" {
		t.Errorf("the starter echoed %q, %v; want %q", got, err, "hello\nworld\n")
	}

	// The spec gains a hook: go generate runs go tool protogen, which
	// appends its stub, and the package still builds and vets.
	specPath := filepath.Join(mod, "echo.yaml")
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "hooks: [connection_made,", "hooks: [eof_received, connection_made,", 1)
	if edited == string(data) {
		t.Fatal("the starter spec has no hooks line to edit")
	}
	writeFile(t, specPath, []byte(edited))
	if out := run("generate"); !strings.Contains(out, "protogen: added onEOFReceived to echo_hooks.go") {
		t.Errorf("go generate did not add the stub:\n%s", out)
	}
	run("vet", "./...")
	run("tool", "protogen", "-check", "-spec", "echo.yaml")
}

// goRunServer starts cmd, a go run of the starter's main, in a process
// group of its own (so that the server that go run starts dies with it),
// and returns the address it serves, from its log.
func goRunServer(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	serving := regexp.MustCompile(`serving Echo on (\S+)`)
	found := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("go run . exited without serving:\n%s", log.String())
		}
		return addr
	case <-time.After(2 * time.Minute):
		t.Fatalf("go run . did not serve within 2 minutes")
	}
	return ""
}
