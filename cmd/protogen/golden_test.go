package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/protogen/protogen/internal/diff"
	"github.com/protogen/protogen/internal/golden"
)

// A golden case is a txtar archive under testdata/golden. Its comment holds
// a description and these lines:
//
//	args: the command line, after "protogen"
//	env: NAME=value (optional, repeatable)
//	exit: the expected exit status
//
// Files are the input tree the command runs in, except:
//
//	want/PATH   PATH's content after the run (every file the run creates or
//	            changes must be listed; inputs not listed must be unchanged)
//	stdout      the expected standard output (empty when absent)
//	stderr      the expected standard error (empty when absent)
//
// go test -run Golden -update rewrites want/, stdout, stderr and exit from
// what the command does.
type goldenCase struct {
	name    string
	path    string
	archive *txtar.Archive
	args    []string
	env     [][2]string
	exit    int
	inputs  []txtar.File
	want    map[string][]byte // want/ files, by path
	stdout  []byte
	stderr  []byte
}

func loadGoldenCases(t *testing.T) []*goldenCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden cases found (%v)", err)
	}
	var cases []*goldenCase
	for _, path := range paths {
		if path, err = filepath.Abs(path); err != nil { // tests chdir
			t.Fatal(err)
		}
		a, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := &goldenCase{
			name:    strings.TrimSuffix(filepath.Base(path), ".txtar"),
			path:    path,
			archive: a,
			want:    make(map[string][]byte),
		}
		for _, line := range strings.Split(string(a.Comment), "\n") {
			key, value, ok := strings.Cut(line, ": ")
			switch {
			case !ok:
			case key == "args":
				c.args = strings.Fields(value)
			case key == "env":
				name, val, _ := strings.Cut(value, "=")
				c.env = append(c.env, [2]string{name, val})
			case key == "exit":
				if c.exit, err = strconv.Atoi(value); err != nil {
					t.Fatalf("%s: bad exit line %q", path, line)
				}
			}
		}
		if c.args == nil {
			t.Fatalf("%s: no args line in the comment", path)
		}
		for _, f := range a.Files {
			switch {
			case f.Name == "stdout":
				c.stdout = f.Data
			case f.Name == "stderr":
				c.stderr = f.Data
			case strings.HasPrefix(f.Name, "want/"):
				c.want[strings.TrimPrefix(f.Name, "want/")] = f.Data
			default:
				c.inputs = append(c.inputs, f)
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// runGolden runs the case's command in a fresh folder holding its inputs and
// returns the folder, the outputs and the exit status.
func (c *goldenCase) run(t *testing.T) (dir string, stdout, stderr []byte, exit int) {
	t.Helper()
	dir = t.TempDir()
	for _, f := range c.inputs {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOPACKAGE", "")
	for _, kv := range c.env {
		t.Setenv(kv[0], kv[1])
	}
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	exit = run(c.args, &out, &errOut)
	return dir, out.Bytes(), errOut.Bytes(), exit
}

// TestGolden runs every golden case in-process and compares what it writes
// and prints.
func TestGolden(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir, stdout, stderr, exit := c.run(t)
			got := changedFiles(t, dir, c.inputs)
			if *golden.Update {
				c.rewrite(t, got, stdout, stderr, exit)
				return
			}
			if exit != c.exit {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", exit, c.exit, stderr)
			}
			compare(t, "stdout", c.stdout, stdout)
			compare(t, "stderr", c.stderr, stderr)
			for _, name := range sortedKeys(c.want, got) {
				want, inWant := c.want[name]
				data, inGot := got[name]
				switch {
				case !inGot:
					t.Errorf("want/%s: the run did not create or change it", name)
				case !inWant:
					t.Errorf("the run created or changed %s, which the case does not list:\n%s", name, data)
				default:
					compare(t, name, want, data)
				}
			}
		})
	}
}

// changedFiles returns the files under dir that are new or differ from the
// inputs.
func changedFiles(t *testing.T, dir string, inputs []txtar.File) map[string][]byte {
	t.Helper()
	orig := make(map[string][]byte)
	for _, f := range inputs {
		orig[f.Name] = f.Data
	}
	got := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if old, ok := orig[rel]; !ok || !bytes.Equal(old, data) {
			got[rel] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func compare(t *testing.T, name string, want, got []byte) {
	t.Helper()
	if d := diff.Unified("want/"+name, "got/"+name, want, got); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, d)
	}
}

func sortedKeys(maps ...map[string][]byte) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// rewrite updates the archive from a run.
func (c *goldenCase) rewrite(t *testing.T, got map[string][]byte, stdout, stderr []byte, exit int) {
	t.Helper()
	var comment []string
	for _, line := range strings.Split(strings.TrimRight(string(c.archive.Comment), "\n"), "\n") {
		if !strings.HasPrefix(line, "exit: ") {
			comment = append(comment, line)
		}
	}
	comment = append(comment, fmt.Sprintf("exit: %d", exit))
	a := &txtar.Archive{Comment: []byte(strings.Join(comment, "\n") + "\n")}
	a.Files = append(a.Files, c.inputs...)
	for _, name := range sortedKeys(got) {
		a.Files = append(a.Files, txtar.File{Name: "want/" + name, Data: got[name]})
	}
	if len(stdout) > 0 {
		a.Files = append(a.Files, txtar.File{Name: "stdout", Data: stdout})
	}
	if len(stderr) > 0 {
		a.Files = append(a.Files, txtar.File{Name: "stderr", Data: stderr})
	}
	if err := os.WriteFile(c.path, txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
}
