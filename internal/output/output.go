// Package output writes generated files all or nothing, and checks them
// against the disk for protogen -check.
package output

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/protogen/protogen/internal/diff"
)

// File is one file protogen produces, rendered and formatted in memory.
type File struct {
	Path string
	Data []byte
	// UserOwned marks a file the user edits (the hook stubs): it is written
	// only when it does not exist, and never compared.
	UserOwned bool
	// Update, on a user-owned file, lets Write replace the file with Data
	// when it exists. Without it, an existing user-owned file is left
	// alone.
	Update *Update
	// Remove marks a file that protogen generated before and no longer
	// does (the tests of a spec that has no messages now): Write removes
	// it if it exists and carries the generated-code line, and Check
	// reports it. Data is unused.
	Remove bool
}

// Update allows the one change protogen makes to an existing user-owned
// file: Old is the file as protogen read it, and Data (of the File) what
// it becomes. Write makes the change only while the file still holds Old,
// so an edit saved since is never lost.
type Update struct {
	Old []byte
}

// Write writes files all or nothing. Every file to write first goes to a
// temporary file in its folder; only when all of them are written are they
// renamed into place, so a reader never sees half a file and a failure
// leaves every file as it was. A file whose bytes are unchanged is left
// untouched (keeping its modification time and the build cache), and so is
// a user-owned file that exists, unless its Update changes it. Write
// refuses to replace a file that protogen did not generate, and writes
// through a symbolic link to its target. Last, it removes the generated
// files marked Remove. It returns the paths it wrote or removed.
func Write(files []File) ([]string, error) {
	type pending struct {
		path, tmp string
	}
	var todo []pending
	var remove []string
	cleanup := func() {
		for _, p := range todo {
			_ = os.Remove(p.tmp)
		}
	}
	for _, f := range files {
		path, err := resolve(f.Path)
		if err != nil {
			cleanup()
			return nil, err
		}
		old, err := os.ReadFile(path)
		switch {
		case f.Remove:
			if err == nil && isGenerated(old) {
				remove = append(remove, path)
			}
			continue
		case err == nil && f.UserOwned && f.Update == nil:
			continue
		case err == nil && f.UserOwned:
			if !bytes.Equal(old, f.Update.Old) {
				cleanup()
				return nil, fmt.Errorf("%s changed while protogen ran: run it again", f.Path)
			}
			if bytes.Equal(old, f.Data) {
				continue
			}
		case err == nil && bytes.Equal(old, f.Data):
			continue
		case err == nil && !isGenerated(old):
			cleanup()
			return nil, fmt.Errorf("%s exists and was not generated (no \"// Code generated ... DO NOT EDIT.\" line): protogen will not replace it", f.Path)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			cleanup()
			return nil, err
		}
		tmp, err := writeTemp(path, f.Data)
		if err != nil {
			cleanup()
			return nil, err
		}
		todo = append(todo, pending{path, tmp})
	}
	var written []string
	for i, p := range todo {
		if err := os.Rename(p.tmp, p.path); err != nil {
			todo = todo[i:]
			cleanup()
			return written, fmt.Errorf("%w (already written: %v)", err, written)
		}
		written = append(written, p.path)
	}
	for _, path := range remove {
		if err := os.Remove(path); err != nil {
			return written, fmt.Errorf("%w (already written: %v)", err, written)
		}
		written = append(written, path)
	}
	return written, nil
}

// resolve follows a symbolic link at path to the file it names, and checks
// that the folder exists.
func resolve(path string) (string, error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("cannot write %s: folder %s does not exist", path, dir)
	}
	return path, nil
}

// isGenerated reports whether src carries the standard generated-code line
// before its package clause, as go/ast.IsGenerated reads it.
func isGenerated(src []byte) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly|parser.ParseComments)
	return err == nil && ast.IsGenerated(f)
}

// writeTemp writes data to a new temporary file beside path and returns
// its name. The file gets mode 0644 less the umask, as os.WriteFile would
// give it, or the mode of the file at path if there is one.
func writeTemp(path string, data []byte) (name string, err error) {
	tmp, err := createTemp(path)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", err
	}
	if st, err := os.Stat(path); err == nil {
		if err := tmp.Chmod(st.Mode().Perm()); err != nil {
			return "", err
		}
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	return tmp.Name(), tmp.Close()
}

// createTemp creates a new hidden file beside path, with mode 0644 less the
// umask (os.CreateTemp would give 0600).
func createTemp(path string) (*os.File, error) {
	for {
		name := filepath.Join(filepath.Dir(path), fmt.Sprintf(".protogen-%08x.tmp", rand.Uint32()))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// Check compares files with the disk and prints to w a unified diff for
// each generated file that differs and a line for each file that is
// missing. It reports whether everything is current.
func Check(files []File, w io.Writer) (current bool, err error) {
	current = true
	for _, f := range files {
		old, err := os.ReadFile(f.Path)
		if f.Remove {
			if err == nil && isGenerated(old) {
				current = false
				fmt.Fprintf(w, "stale generated file: %s (protogen no longer generates it, and would remove it)\n", f.Path)
			}
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			current = false
			what := "generated file"
			if f.UserOwned {
				what = "hook file (protogen creates it)"
			}
			fmt.Fprintf(w, "missing %s: %s\n", what, f.Path)
			continue
		}
		if err != nil {
			return false, err
		}
		if f.UserOwned {
			continue
		}
		if d := diff.Unified("a/"+filepath.ToSlash(f.Path), "b/"+filepath.ToSlash(f.Path), old, f.Data); d != "" {
			current = false
			fmt.Fprintf(w, "stale generated file: %s\n%s", f.Path, d)
		}
	}
	return current, nil
}
