package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be protogen itself: with PROTOGEN_TEST_MAIN
// set it runs main, so that the tests below exercise the real process (exit
// status, os.Args) without a separate go build.
func TestMain(m *testing.M) {
	if os.Getenv("PROTOGEN_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// protogen runs the test binary as protogen in dir and returns its output
// and exit status.
func protogen(t *testing.T, dir string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PROTOGEN_TEST_MAIN=1", "GOPACKAGE=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

const cliSpec = `version: 1
package: chat
protocols:
  - name: Chat
    fields:
      - {name: nick, type: string}
    hooks: [data_received]
`

func TestCLIExitStatus(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(cliSpec))

	steps := []struct {
		name string
		args []string
		edit string // new spec content before the step, if any
		exit int
	}{
		{"check before generating: missing", []string{"-spec", "chat.yaml", "-check"}, "", 1},
		{"generate", []string{"-spec", "chat.yaml"}, "", 0},
		{"check: current", []string{"-spec", "chat.yaml", "-check"}, "", 0},
		{"check after a spec change: stale", []string{"-spec", "chat.yaml", "-check"},
			strings.Replace(cliSpec, "[data_received]", "[data_received, connection_lost]", 1), 1},
		{"bad spec", []string{"-spec", "chat.yaml"}, "version: 1\nprotocols: 3\n", 2},
		{"bad spec under -check", []string{"-spec", "chat.yaml", "-check"}, "", 2},
		{"usage", []string{"-nope"}, "", 2},
		{"-init with another flag", []string{"-init", "new.yaml", "-check"}, "", 2},
		{"help", []string{"-h"}, "", 0},
	}
	for _, st := range steps {
		if st.edit != "" {
			writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(st.edit))
		}
		_, stderr, exit := protogen(t, dir, st.args...)
		if exit != st.exit {
			t.Errorf("%s: protogen %s exited %d, want %d\nstderr:\n%s", st.name, strings.Join(st.args, " "), exit, st.exit, stderr)
		}
	}
}

func TestCLIVersion(t *testing.T) {
	stdout, stderr, exit := protogen(t, t.TempDir(), "-version")
	if exit != 0 || !strings.HasPrefix(stdout, "protogen ") || stderr != "" {
		t.Errorf("protogen -version = %q, %q, exit %d; want \"protogen VERSION\", nothing, 0", stdout, stderr, exit)
	}
}

// A bad spec writes, creates and touches nothing: existing outputs keep
// their bytes and modification times, and no temporary file is left.
func TestCLIBadSpecTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(cliSpec))
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("generate: exit %d\n%s", exit, stderr)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	before := snapshot(t, dir, old)

	bad := strings.Replace(cliSpec, "name: Chat", "name: chat", 1) + "    flow: {high_water: 1KB}\n"
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(bad))
	if err := os.Chtimes(filepath.Join(dir, "chat.yaml"), old, old); err != nil {
		t.Fatal(err)
	}
	before["chat.yaml"] = fileState{data: bad, mtime: old}
	_, stderr, exit := protogen(t, dir, "-spec", "chat.yaml")
	if exit != 2 {
		t.Fatalf("bad spec: exit %d, want 2", exit)
	}
	if n := strings.Count(stderr, "chat.yaml:"); n != 2 {
		t.Errorf("stderr reports %d positioned errors, want 2 (every error at once):\n%s", n, stderr)
	}
	after := snapshot(t, dir, time.Time{})
	for name, st := range before {
		if got := after[name]; got != st {
			t.Errorf("%s changed: %v → %v", name, st.mtime, got.mtime)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("the failed run created %s", name)
		}
	}
}

// Regenerating an unchanged spec leaves the file untouched, keeping its
// modification time (and the build cache); a changed spec rewrites only
// the generated file, never the hook file.
func TestCLIUnchangedKeepsModTime(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(cliSpec))
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("generate: exit %d\n%s", exit, stderr)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	before := snapshot(t, dir, old)
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("regenerate: exit %d\n%s", exit, stderr)
	}
	if after := snapshot(t, dir, time.Time{}); after["chat.protogen.go"] != before["chat.protogen.go"] {
		t.Errorf("an unchanged chat.protogen.go was rewritten")
	}

	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(strings.Replace(cliSpec, "nick", "name", 1)))
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("regenerate after a change: exit %d\n%s", exit, stderr)
	}
	after := snapshot(t, dir, time.Time{})
	if after["chat.protogen.go"] == before["chat.protogen.go"] || !strings.Contains(after["chat.protogen.go"].data, "\tname string") {
		t.Errorf("chat.protogen.go was not regenerated after the spec changed")
	}
	if after["chat_hooks.go"] != before["chat_hooks.go"] {
		t.Errorf("the user-owned chat_hooks.go was touched")
	}
}

// A hook the spec gains gets its stub appended to the hook file once: the
// next run finds the method, prints nothing and touches no file, and
// -check finds everything current.
func TestCLIAppendsStubOnce(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(cliSpec))
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("generate: exit %d\n%s", exit, stderr)
	}
	hooks, err := os.ReadFile(filepath.Join(dir, "chat_hooks.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(strings.Replace(cliSpec, "[data_received]", "[data_received, connection_lost]", 1)))
	stdout, stderr, exit := protogen(t, dir, "-spec", "chat.yaml")
	const added = "protogen: added onConnectionLost to chat_hooks.go (hook connection_lost, chat.yaml:7:28)\n"
	if exit != 0 || stdout != added {
		t.Fatalf("after adding a hook: exit %d, stdout %q, want 0 and %q\nstderr:\n%s", exit, stdout, added, stderr)
	}
	updated, err := os.ReadFile(filepath.Join(dir, "chat_hooks.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(updated, hooks) || !bytes.Contains(updated[len(hooks):], []byte("func (p *Chat) onConnectionLost(err error) {")) {
		t.Errorf("chat_hooks.go does not keep its bytes and end with the new stub:\n%s", updated)
	}

	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	before := snapshot(t, dir, old)
	if stdout, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 || stdout != "" {
		t.Fatalf("second run: exit %d, stdout %q; want 0 and nothing\nstderr:\n%s", exit, stdout, stderr)
	}
	after := snapshot(t, dir, time.Time{})
	for name, st := range before {
		if after[name] != st {
			t.Errorf("the second run touched %s", name)
		}
	}
	if stdout, _, exit := protogen(t, dir, "-spec", "chat.yaml", "-check"); exit != 0 {
		t.Errorf("-check after the stub was added: exit %d, want 0\n%s", exit, stdout)
	}
}

type fileState struct {
	data  string
	mtime time.Time
}

// snapshot records every file in dir, first setting its modification time
// to mtime unless mtime is zero.
func snapshot(t *testing.T, dir string, mtime time.Time) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]fileState)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !mtime.IsZero() {
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = fileState{string(data), st.ModTime()}
	}
	return m
}

// The same spec gives the same bytes whatever the working folder and
// however the spec path is written.
func TestDeterminism(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "full.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(spec), "-- chat.yaml --\n")
	body, _, _ = strings.Cut(body, "\n-- ")
	var outputs []string
	for i, how := range []string{"relative", "absolute", "from above", "again"} {
		dir := filepath.Join(t.TempDir(), "pkg")
		writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(body+"\n"))
		runDir, path := dir, "chat.yaml"
		switch how {
		case "absolute":
			path = filepath.Join(dir, "chat.yaml")
		case "from above":
			runDir, path = filepath.Dir(dir), filepath.Join("pkg", "chat.yaml")
		}
		if _, stderr, exit := protogen(t, runDir, "-spec", path); exit != 0 {
			t.Fatalf("run %d (%s): exit %d\n%s", i, how, exit, stderr)
		}
		data, err := os.ReadFile(filepath.Join(dir, "chat.protogen.go"))
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(data))
		if outputs[i] != outputs[0] {
			t.Errorf("run %d (%s) produced different bytes from run 0", i, how)
		}
	}
}

// A //go:generate line runs protogen in its package, where the package
// name comes from $GOPACKAGE, and the result builds and vets at once.
func TestGoGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds protogen with the go command")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module example.com/app\n\ngo 1.26\n\n"+
		"require github.com/protogen/protogen v0.0.0\n\nreplace github.com/protogen/protogen => "+root+"\n"))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.sum"), sum)
	writeFile(t, filepath.Join(mod, "chat", "doc.go"), []byte("// Package chat is a chat server.\npackage chat\n\n"+
		"//go:generate go run github.com/protogen/protogen/cmd/protogen -spec chat.yaml\n"))
	writeFile(t, filepath.Join(mod, "chat", "chat.yaml"), []byte(strings.Replace(cliSpec, "package: chat\n", "", 1)))
	for _, args := range [][]string{{"generate", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(mod, "chat", "chat.protogen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("// Code generated by protogen from chat.yaml. DO NOT EDIT.\n\npackage chat\n")) {
		t.Errorf("chat.protogen.go starts:\n%.200s", data)
	}
}

// TestCLIRemovesStaleTests checks that the tests protogen generated for a
// spec's messages go when the spec no longer has messages: -check reports
// them, a run removes them and says so (and that the hook of the message
// is left over, naming a type that is gone), and a test file of that name
// that protogen did not generate stays.
func TestCLIRemovesStaleTests(t *testing.T) {
	const withMessages = `version: 1
package: chat
messages:
  - set: Line
    encoding: text
    messages:
      - {name: Say, fields: [{name: text, type: string, length: rest, max: 100}]}
protocols:
  - name: Chat
    framing: {line: {max: 128}}
    receives: Line
`
	dir := t.TempDir()
	spec, tests := filepath.Join(dir, "chat.yaml"), filepath.Join(dir, "chat.protogen_test.go")
	writeFile(t, spec, []byte(withMessages))
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("first run: exit %d\n%s", exit, stderr)
	}
	if _, err := os.Stat(tests); err != nil {
		t.Fatalf("the run with messages wrote no tests: %v", err)
	}

	writeFile(t, spec, []byte(cliSpec))
	stdout, _, exit := protogen(t, dir, "-check", "-spec", "chat.yaml")
	if exit != 1 || !strings.Contains(stdout, "stale generated file: chat.protogen_test.go") {
		t.Errorf("-check without messages: exit %d, stdout %q; want 1 and the stale tests named", exit, stdout)
	}
	// The hook of the message Say is left, naming a type that is gone: the
	// run writes its files, says so and exits 1, as the package will not
	// build; -check says the same.
	const dangling = "chat_hooks.go:10:16: Chat.onSay uses type Say, which nothing declares (chat.yaml has no message or type of that name any more), " +
		"so the package will not build; change or delete the method (protogen never deletes your code)\n"
	stdout, stderr, exit := protogen(t, dir, "-spec", "chat.yaml")
	if exit != 1 || !strings.Contains(stdout, "removed chat.protogen_test.go") || stderr != dangling {
		t.Errorf("run without messages: exit %d, stdout %q, stderr %q; want 1, the removal said and %q", exit, stdout, stderr, dangling)
	}
	if _, err := os.Stat(tests); !os.IsNotExist(err) {
		t.Errorf("the stale tests are still there (%v)", err)
	}
	if stdout, _, exit := protogen(t, dir, "-check", "-spec", "chat.yaml"); exit != 1 || stdout != dangling {
		t.Errorf("-check after the removal: exit %d, stdout %q; want 1 and %q", exit, stdout, dangling)
	}
	hooksPath := filepath.Join(dir, "chat_hooks.go")
	hooks, err := os.ReadFile(hooksPath)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(hooks, []byte("func (p *Chat) onSay("))
	end := bytes.Index(hooks[start:], []byte("\n}\n"))
	if start < 0 || end < 0 {
		t.Fatalf("no onSay in the hook file:\n%s", hooks)
	}
	writeFile(t, hooksPath, append(hooks[:start:start], hooks[start+end+3:]...))
	if stdout, _, exit := protogen(t, dir, "-check", "-spec", "chat.yaml"); exit != 0 {
		t.Errorf("-check once onSay is deleted: exit %d, stdout %q; want 0", exit, stdout)
	}

	// A hand-written file of that name is not protogen's to remove.
	own := []byte("package chat\n\nimport \"testing\"\n\nfunc TestMine(t *testing.T) {}\n")
	writeFile(t, tests, own)
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("run beside a hand-written test file: exit %d\n%s", exit, stderr)
	}
	if got, err := os.ReadFile(tests); err != nil || !bytes.Equal(got, own) {
		t.Errorf("the hand-written test file changed: %q, %v", got, err)
	}
}

// A hook method of the wrong signature, and the method of a hook removed
// from the spec: -check exits 1 naming each at its file:line; generating
// names both and writes, exiting 1 for the wrong signature (the package
// will not build) and 0 for the left-over method; neither run touches the
// hook file.
func TestCLIHookMethods(t *testing.T) {
	dir := t.TempDir()
	const spec = "version: 1\npackage: chat\nprotocols:\n  - name: Chat\n    read_timeout: 30s\n    hooks: [data_received, timeout]\n"
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(spec))
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 {
		t.Fatalf("generate: exit %d\n%s", exit, stderr)
	}
	hooksPath := filepath.Join(dir, "chat_hooks.go")
	hooks, err := os.ReadFile(hooksPath)
	if err != nil {
		t.Fatal(err)
	}
	wrong := bytes.Replace(hooks, []byte("onDataReceived(data []byte)"), []byte("onDataReceived(data string)"), 1)
	if bytes.Equal(wrong, hooks) {
		t.Fatalf("the hook file has no onDataReceived(data []byte):\n%s", hooks)
	}
	writeFile(t, hooksPath, wrong)
	const wrongLine = "chat_hooks.go:13:16: Chat.onDataReceived(data string) has the wrong signature for hook data_received (chat.yaml:6:13); it must be func (p *Chat) onDataReceived(data []byte)\n"
	if stdout, stderr, exit := protogen(t, dir, "-spec", "chat.yaml", "-check"); exit != 1 || stdout != wrongLine {
		t.Errorf("-check with a wrong signature: exit %d, stdout %q; want 1 and %q\nstderr:\n%s", exit, stdout, wrongLine, stderr)
	}
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 1 || stderr != wrongLine {
		t.Errorf("generating with a wrong signature: exit %d, stderr %q; want 1 and %q", exit, stderr, wrongLine)
	}

	writeFile(t, hooksPath, hooks)
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(strings.Replace(spec, ", timeout]", "]", 1)))
	const staleLine = "chat_hooks.go:18:16: warning: Chat.onTimeout, the method of hook timeout, is left over: chat.yaml:6:12 does not list the hook, and nothing calls the method; delete it (protogen never deletes your code) or list the hook again\n"
	if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 0 || stderr != staleLine {
		t.Errorf("generating without the timeout hook: exit %d, stderr %q; want 0 and %q", exit, stderr, staleLine)
	}
	checkLine := strings.Replace(staleLine, "warning: ", "", 1) // a failure of -check, not a warning
	if stdout, stderr, exit := protogen(t, dir, "-spec", "chat.yaml", "-check"); exit != 1 || stdout != checkLine {
		t.Errorf("-check without the timeout hook: exit %d, stdout %q; want 1 and %q\nstderr:\n%s", exit, stdout, checkLine, stderr)
	}
	if after, err := os.ReadFile(hooksPath); err != nil || !bytes.Equal(after, hooks) {
		t.Errorf("the hook file changed (%v):\n%s", err, after)
	}

	// Without the timeout too, the generated code no longer declares
	// abortOnTimeout, which the left-over stub calls: the package will not
	// build, so generating exits 1 (having written the new file, which is
	// right), and -check says the same.
	noTimeout := strings.Replace(strings.Replace(spec, ", timeout]", "]", 1), "    read_timeout: 30s\n", "", 1)
	writeFile(t, filepath.Join(dir, "chat.yaml"), []byte(noTimeout))
	const goneLine = "chat_hooks.go:18:16: Chat.onTimeout, the method of hook timeout, is left over: chat.yaml:5:12 does not list the hook, " +
		"and it uses abortOnTimeout, which the generated code no longer declares, so the package will not build; " +
		"delete it (protogen never deletes your code) or list the hook again\n"
	if stdout, stderr, exit := protogen(t, dir, "-spec", "chat.yaml", "-check"); exit != 1 || !strings.HasSuffix(stdout, goneLine) {
		t.Errorf("-check without the timeout: exit %d, stdout %q; want 1 and a diff, then %q\nstderr:\n%s", exit, stdout, goneLine, stderr)
	}
	for run := range 2 { // the second run, with the new file on disk, knows it as well
		if _, stderr, exit := protogen(t, dir, "-spec", "chat.yaml"); exit != 1 || stderr != goneLine {
			t.Errorf("generating without the timeout (run %d): exit %d, stderr %q; want 1 and %q", run+1, exit, stderr, goneLine)
		}
	}
}
