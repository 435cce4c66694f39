//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartYourOwn follows the README's "Start your own" with this tree as
// the clone, as a new user does before protogen is published: a
// throwaway module that requires protogen at a placeholder version,
// replaces it with the clone, and has it as a tool; go tool protogen -init;
// go run . serving the echo starter. Then, in that module:
//
//   - go tool protogen -version says it is a development build from the
//     clone;
//   - the README's CI command passes protogen's exit status through: 0 for
//     a current tree, 1 for a stale one, 2 for a spec that does not load
//     (where go run would say 1);
//   - go generate, after an edit of the spec, appends the new hook's stub;
//   - -init in a folder that holds a package prints statements that build,
//     and its hook file's go:generate line works.
//
// It skips, saying why, only when the go command is missing, or when the
// module proxy is unreachable and the module cache lacks protogen's
// dependencies.
func TestStartYourOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds protogen and a server with the go command")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("the go command is not installed: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := shellBlock(t, string(readme), "## Start your own")
	ciSteps := shellBlock(t, string(readme), "## CI")

	parent := t.TempDir()
	dir := parent
	env := append(os.Environ(), "GOWORK=off")
	goCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = env
		return cmd
	}
	goRun := func(args ...string) string {
		t.Helper()
		out, err := goCmd(args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// The README's commands, with the clone's folder in $clone.
	vars := map[string]string{"clone": root}
	served := false
	for _, line := range steps {
		switch {
		case line == "clone=$(pwd)":
		case line == "cd .. && mkdir myecho && cd myecho":
			dir = filepath.Join(parent, "myecho")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		case line == "go run .":
			addr := goRunServer(t, goCmd("run", ".", "-addr", "127.0.0.1:0"))
			checkEcho(t, addr)
			served = true
		case strings.HasPrefix(line, "go "):
			args := shellWords(t, line, vars)[1:]
			out, err := goCmd(args...).CombinedOutput()
			if err != nil && args[0] == "mod" && args[1] == "tidy" {
				skipIfProxyUnreachable(t, out)
			}
			if err != nil {
				t.Fatalf("README, Start your own: %s: %v\n%s", line, err, out)
			}
		default:
			t.Fatalf("README, Start your own: this test does not know how to follow %q", line)
		}
	}
	if !served {
		t.Fatalf("README, Start your own: no step serves the starter (go run .):\n%s", strings.Join(steps, "\n"))
	}

	// -version: a development build, from the clone.
	if out, want := goRun("tool", "protogen", "-version"), "protogen development build: from "+root+" (a replace directive)"; !strings.HasPrefix(out, want) {
		t.Errorf("go tool protogen -version = %q, want it to start %q", out, want)
	}

	// The README's CI command, on the starter's spec: exit statuses 0, 2
	// and 1 come through go tool; go run says 1 for all but 0.
	if len(ciSteps) != 1 || !strings.Contains(ciSteps[0], "-spec chat.yaml") {
		t.Fatalf("README, CI: want one command that checks chat.yaml, have %q", ciSteps)
	}
	ci := func(spec string) (string, int) {
		t.Helper()
		args := shellWords(t, strings.ReplaceAll(ciSteps[0], "chat.yaml", spec), vars)
		if args[0] != "go" {
			t.Fatalf("README, CI: %q does not run the go command", ciSteps[0])
		}
		out, err := goCmd(args[1:]...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, exit := ci("echo.yaml"); exit != 0 {
		t.Errorf("README's CI command on the starter: exit %d, want 0\n%s", exit, out)
	}
	writeFile(t, filepath.Join(dir, "bad.yaml"), []byte("version: 1\npackage: main\nprotocols:\n  - name: Bad\n   hooks: [data_received]\n"))
	if out, exit := ci("bad.yaml"); exit != 2 {
		t.Errorf("README's CI command on a malformed spec: exit %d, want 2\n%s", exit, out)
	}
	if _, err := goCmd("run", "github.com/protogen/protogen/cmd/protogen", "-check", "-spec", "bad.yaml").CombinedOutput(); err == nil || err.(*exec.ExitError).ExitCode() != 1 {
		t.Errorf("go run protogen -check of a malformed spec: %v, want exit status 1, which the README warns of", err)
	}
	os.Remove(filepath.Join(dir, "bad.yaml"))
	specPath := filepath.Join(dir, "echo.yaml")
	spec, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(spec), "hooks: [connection_made,", "hooks: [eof_received, connection_made,", 1)
	if edited == string(spec) {
		t.Fatal("the starter spec has no hooks line to edit")
	}
	writeFile(t, specPath, []byte(edited))
	if out, exit := ci("echo.yaml"); exit != 1 {
		t.Errorf("README's CI command after an edit of the spec: exit %d, want 1 (stale)\n%s", exit, out)
	}

	// go generate runs main.go's go:generate line: the new hook's stub.
	if out := goRun("generate"); !strings.Contains(out, "protogen: added onEOFReceived to echo_hooks.go") {
		t.Errorf("go generate did not add the stub:\n%s", out)
	}
	if out, exit := ci("echo.yaml"); exit != 0 {
		t.Errorf("README's CI command after go generate: exit %d, want 0\n%s", exit, out)
	}

	// -init in a folder that holds a package: what it prints builds, from
	// the package and from another, and its go:generate line works.
	writeFile(t, filepath.Join(dir, "chat", "doc.go"), []byte("// Package chat chats.\npackage chat\n"))
	out := goRun("tool", "protogen", "-init", filepath.Join("chat", "chat.yaml"))
	stmts := regexp.MustCompile(`protoflow\.NewServer\((chat\.)?NewChat\)\.Serve\(listener\)`).FindAllStringSubmatch(out, -1)
	if len(stmts) != 2 {
		t.Fatalf("-init in package chat printed %d statements to serve it, want 2:\n%s", len(stmts), out)
	}
	use := "import (\n\t\"net\"\n\n\t\"github.com/protogen/protogen/runtime/protoflow\"\n%s)\n\nfunc _() {\n\tvar listener net.Listener\n\t_ = %s\n}\n"
	for _, m := range stmts {
		if m[1] == "" {
			writeFile(t, filepath.Join(dir, "chat", "serve.go"), []byte("package chat\n\n"+fmt.Sprintf(use, "", m[0])))
		} else {
			writeFile(t, filepath.Join(dir, "chatserver", "main.go"), []byte("package main\n\n"+fmt.Sprintf(use, "\t\"example.com/myecho/chat\"\n", m[0])+"\nfunc main() {}\n"))
		}
	}
	goRun("vet", "./...")
	chatSpec := filepath.Join(dir, "chat", "chat.yaml")
	data, err := os.ReadFile(chatSpec)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, chatSpec, bytes.Replace(data, []byte("hooks: [connection_made,"), []byte("hooks: [eof_received, connection_made,"), 1))
	if out := goRun("generate", "./chat"); !strings.Contains(out, "protogen: added onEOFReceived to chat_hooks.go") {
		t.Errorf("go generate ./chat did not run the hook file's go:generate line:\n%s", out)
	}
	goRun("vet", "./...")
}

// shellBlock returns the lines of the first sh code block after heading in
// the README, with continued lines joined.
func shellBlock(t *testing.T, readme, heading string) []string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("the README has no %q", heading)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatalf("the README's %q has no sh block", heading)
	}
	block, _, _ = strings.Cut(block, "```")
	block = strings.ReplaceAll(block, "\\\n", "")
	var lines []string
	for _, line := range strings.Split(block, "\n") {
		if line, _, _ = strings.Cut(line, " #"); strings.TrimSpace(line) != "" {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}

// shellWords splits a command line of the README as sh would: at spaces,
// keeping double-quoted text together and replacing $name by vars[name].
func shellWords(t *testing.T, line string, vars map[string]string) []string {
	t.Helper()
	line = regexp.MustCompile(`\$([a-z]+)`).ReplaceAllStringFunc(line, func(v string) string {
		val, ok := vars[v[1:]]
		if !ok {
			t.Fatalf("the README's %q uses %s, which this test does not know", line, v)
		}
		return val
	})
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
			}
			inWord = false
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// skipIfProxyUnreachable skips the test when go mod tidy failed because
// the module proxy cannot be reached (and the module cache lacks what it
// needs), and returns otherwise.
func skipIfProxyUnreachable(t *testing.T, out []byte) {
	t.Helper()
	proxy, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(proxy)), ",")
	first, _, _ = strings.Cut(first, "|")
	switch first {
	case "off":
		t.Skipf("GOPROXY=off, and the module cache lacks protogen's dependencies for go mod tidy:\n%s", out)
	case "direct", "":
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(first, "/")+"/golang.org/x/mod/@v/list", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Skipf("the module proxy %s is unreachable (%v), and the module cache lacks protogen's dependencies for go mod tidy:\n%s", first, err, out)
	}
	resp.Body.Close()
}

// checkEcho checks that the server at addr echoes lines.
func checkEcho(t *testing.T, addr string) {
	t.Helper()
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
