// Package output writes generated files all or nothing, and checks them
// against the disk for protogen -check.
package output

import (
	"bytes"
	"errors"
	"fmt"
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
}

// Write writes files through a temporary file in the same folder and a
// rename, so that a reader never sees half a file. A file whose bytes are
// unchanged, and a user-owned file that exists, are left untouched
// (keeping their modification times and the build cache). Every file is
// checked before any is written; the rename of one file cannot undo
// another's, so on a write error the report says which were written.
// Write returns the paths it wrote.
func Write(files []File) ([]string, error) {
	var todo []File
	for _, f := range files {
		old, err := os.ReadFile(f.Path)
		switch {
		case err == nil && (f.UserOwned || bytes.Equal(old, f.Data)):
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
		todo = append(todo, f)
	}
	var written []string
	for _, f := range todo {
		if err := writeAtomic(f.Path, f.Data); err != nil {
			if len(written) > 0 {
				err = fmt.Errorf("%w (already written: %v)", err, written)
			}
			return written, err
		}
		written = append(written, f.Path)
	}
	return written, nil
}

// writeAtomic writes data to path through a temporary file and a rename.
// A new file gets mode 0644 less the umask, as os.WriteFile would give it;
// an existing file keeps its mode.
func writeAtomic(path string, data []byte) (err error) {
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil {
		if err := tmp.Chmod(st.Mode().Perm()); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// createTemp creates a new hidden file beside path, with mode 0644 less the
// umask (os.CreateTemp would give 0600).
func createTemp(path string) (*os.File, error) {
	for {
		name := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%d.tmp", filepath.Base(path), rand.Uint32()))
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
