package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGoldenCompiles builds and vets the output of every golden case that
// succeeds, together with the runtime, in a temporary module (and runs
// staticcheck over it when $PROTOGEN_STATICCHECK names the binary): the generated
// file, the hook stubs and the case's own Go files make a package that
// builds and vets at once. A case whose comment says "build-fails: NAME"
// must instead fail to build with an error naming NAME (a hook method of
// the wrong type); one that says "staticcheck-finds: TEXT" must vet, and
// staticcheck must report TEXT (a method that nothing calls). A case with its own _test.go files also runs them, so
// that the generated code's behaviour, not just its types, is checked.
func TestGoldenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds every golden output with the go command")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	goMod := "module example.com/golden\n\ngo 1.26\n\n" +
		"require (\n\tgithub.com/protogen/protogen v0.0.0\n\tgopkg.in/yaml.v3 v3.0.1\n\tgo.uber.org/goleak v1.3.0\n)\n\n" +
		"replace github.com/protogen/protogen => " + root + "\n"
	writeFile(t, filepath.Join(mod, "go.mod"), []byte(goMod))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.sum"), sum)
	// The packages of this module that golden specs refer to.
	stubs := filepath.Join(root, "testdata", "golden", "stub")
	err = filepath.WalkDir(stubs, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(stubs, path)
		writeFile(t, filepath.Join(mod, "stub", rel), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var vet []string     // packages expected to build and vet
	var test []string    // packages with the case's own tests
	var vetOnly []string // packages expected to vet, and to fail staticcheck
	type failing struct{ pkg, name string }
	var fail []failing
	var lintFail []failing // packages that staticcheck must find fault with, saying name
	for _, c := range loadGoldenCases(t) {
		if c.exit != 0 || strings.Contains(strings.Join(c.args, " "), "-check") {
			continue
		}
		dirs := make(map[string]bool)
		add := func(name string, data []byte) {
			if strings.HasSuffix(name, ".go") {
				writeFile(t, filepath.Join(mod, c.name, filepath.FromSlash(name)), data)
				dirs["./"+filepath.ToSlash(filepath.Join(c.name, filepath.Dir(name)))] = true
			}
		}
		for _, f := range c.inputs {
			add(f.Name, f.Data)
			if strings.HasSuffix(f.Name, "_test.go") {
				test = append(test, "./"+filepath.ToSlash(filepath.Join(c.name, filepath.Dir(f.Name))))
			}
		}
		for name, data := range c.want {
			add(name, data)
		}
		failsWith, lintFinds := "", ""
		for _, line := range strings.Split(string(c.archive.Comment), "\n") {
			if v, ok := strings.CutPrefix(line, "build-fails: "); ok {
				failsWith = v
			}
			if v, ok := strings.CutPrefix(line, "staticcheck-finds: "); ok {
				lintFinds = v
			}
		}
		if err := addNextSteps(mod, c, dirs); err != nil {
			t.Fatal(err)
		}
		for dir := range dirs {
			switch {
			case failsWith != "":
				fail = append(fail, failing{dir, failsWith})
			case lintFinds != "":
				lintFail = append(lintFail, failing{dir, lintFinds})
				vetOnly = append(vetOnly, dir)
			default:
				vet = append(vet, dir)
			}
		}
	}
	if len(vet) == 0 {
		t.Fatal("no golden case to compile")
	}
	goCmd := func(args ...string) (string, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Logf("vetting %v", slices.Concat(vet, vetOnly))
	if out, err := goCmd(append([]string{"vet"}, slices.Concat(vet, vetOnly)...)...); err != nil {
		t.Fatalf("go vet of the golden outputs failed: %v\n%s", err, out)
	}
	// CI names a staticcheck binary: generated code must pass it too.
	// (staticcheck applies its correctness checks to a file marked as
	// generated, and leaves out most style and simplification checks.)
	if sc := os.Getenv("PROTOGEN_STATICCHECK"); sc != "" {
		cmd := exec.Command(sc, vet...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("staticcheck of the golden outputs failed: %v\n%s", err, out)
		}
		// A case that shows what protogen warns of, such as a method left
		// over from a removed hook, must be what staticcheck finds too.
		for _, f := range lintFail {
			cmd := exec.Command(sc, f.pkg)
			cmd.Dir = mod
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), f.name) {
				t.Errorf("staticcheck %s: %v, want it to find %q:\n%s", f.pkg, err, f.name, out)
			}
		}
	} else {
		t.Log("PROTOGEN_STATICCHECK is not set: staticcheck of the golden outputs skipped")
	}
	if len(test) > 0 {
		t.Logf("testing %v", test)
		if out, err := goCmd(append([]string{"test", "-race"}, test...)...); err != nil {
			t.Fatalf("the golden cases' own tests failed: %v\n%s", err, out)
		}
	}
	for _, f := range fail {
		out, err := goCmd("build", f.pkg)
		if err == nil {
			t.Errorf("%s built, want a build error naming %s", f.pkg, f.name)
		} else if !strings.Contains(out, f.name) {
			t.Errorf("%s: the build error does not name %s:\n%s", f.pkg, f.name, out)
		}
	}
}

// nextStep is a Go statement that -init prints, to serve what it wrote.
var nextStep = regexp.MustCompile(`protoflow\.NewServer\(([A-Za-z0-9_]+\.)?[A-Za-z0-9_]+\)\.Serve\(listener\)`)

// addNextSteps adds to the module a use of each statement that the -init
// of case c prints: one without a package name in a file of the package
// it wrote, one with a package name in a package that imports it. So
// what -init says to write compiles; and it must say something when it
// writes no main.go.
func addNextSteps(mod string, c *goldenCase, dirs map[string]bool) error {
	if len(c.args) == 0 || c.args[0] != "-init" {
		return nil
	}
	specDir := filepath.Dir(filepath.FromSlash(c.args[1]))
	pkgDir := filepath.Join(mod, c.name, specDir)
	pkg := "main"
	if data, err := os.ReadFile(filepath.Join(pkgDir, strings.TrimSuffix(filepath.Base(c.args[1]), filepath.Ext(c.args[1]))+".protogen.go")); err == nil {
		if m := regexp.MustCompile(`(?m)^package (\w+)$`).FindSubmatch(data); m != nil {
			pkg = string(m[1])
		}
	}
	steps := nextStep.FindAllStringSubmatch(string(c.stdout), -1)
	if _, withMain := c.want[filepath.ToSlash(filepath.Join(specDir, "main.go"))]; !withMain && len(steps) == 0 {
		return fmt.Errorf("%s: -init wrote no main.go, and prints no statement that serves the protocol:\n%s", c.name, c.stdout)
	}
	for i, m := range steps {
		stmt, dir, imports := m[0], pkgDir, ""
		if m[1] != "" { // qualified by the package name
			dir = filepath.Join(mod, c.name, "next"+strconv.Itoa(i))
			imports = fmt.Sprintf("\t%q\n", "example.com/golden/"+filepath.ToSlash(filepath.Join(c.name, specDir)))
			pkg = "next"
		}
		src := fmt.Sprintf("package %s\n\nimport (\n\t\"net\"\n\n\t\"github.com/protogen/protogen/runtime/protoflow\"\n%s)\n\nfunc _() {\n\tvar listener net.Listener\n\t_ = %s\n}\n", pkg, imports, stmt)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("next%d.go", i)), []byte(src), 0o644); err != nil {
			return err
		}
		rel, _ := filepath.Rel(mod, dir)
		dirs["./"+filepath.ToSlash(rel)] = true
	}
	return nil
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
