package main

import (
	"errors"
	"fmt"
	"go/build"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/protogen/protogen/internal/codegen"
	"github.com/protogen/protogen/internal/output"
	"github.com/protogen/protogen/spec"
	"github.com/protogen/protogen/templates"
)

// initStarter is protogen -init path: it writes a commented starter spec
// at path, the code generated from it, a hook file whose hooks make a line
// echo server, and, in a folder without Go files, a main.go that serves
// it. It writes every file or none, and refuses to replace any file. It
// returns the exit status.
func initStarter(path string, stdout, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "protogen: -init %s: "+format+"\n", append([]any{path}, args...)...)
		return exitError
	}
	if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
		return fail("name the spec file.yaml")
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fail("folder %s does not exist", dir)
	}
	pkg, withMain := "main", true
	switch p, err := build.ImportDir(dir, 0); {
	case err == nil:
		pkg, withMain = p.Name, false
	case errors.As(err, new(*build.NoGoError)):
	default:
		return fail("%v", err)
	}
	st := templates.Starter{Name: typeName(path), Package: pkg, File: filepath.Base(path), Generate: !withMain}
	specData, err := templates.StarterSpec(st)
	if err != nil {
		return fail("%v", err)
	}
	s, err := spec.Parse(path, specData, spec.Options{})
	if err != nil {
		return fail("no starter spec can go there:\n%v", err)
	}
	code, err := codegen.Generate(s)
	if err != nil {
		return fail("%v", err)
	}
	hooks, err := templates.StarterHooks(st)
	if err != nil {
		return fail("%v", err)
	}
	files := []output.File{
		{Path: path, Data: specData, UserOwned: true},
		{Path: s.OutFile, Data: code},
		{Path: s.HooksFile, Data: hooks, UserOwned: true},
	}
	if withMain {
		main, err := templates.StarterMain(st)
		if err != nil {
			return fail("%v", err)
		}
		files = append(files, output.File{Path: filepath.Join(dir, "main.go"), Data: main, UserOwned: true})
	}
	var exist []string
	for _, f := range files {
		switch _, err := os.Lstat(f.Path); {
		case err == nil:
			exist = append(exist, f.Path)
		case !errors.Is(err, fs.ErrNotExist):
			return fail("%v", err)
		}
	}
	if len(exist) > 0 {
		verb := "exists"
		if len(exist) > 1 {
			verb = "exist"
		}
		return fail("%s already %s; -init writes only new files, and wrote nothing", strings.Join(exist, ", "), verb)
	}
	if _, err := output.Write(files); err != nil {
		return fail("%v", err)
	}

	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	fmt.Fprintf(stdout, "protogen: wrote %s: a line echo server, %s, in package %s\n", strings.Join(names, ", "), st.Name, pkg)
	ctor := "New" + st.Name
	switch {
	case withMain:
		fmt.Fprintf(stdout, `Next, in a module that has protogen as a tool:
	go run .          serves %s on 127.0.0.1:7070; try: nc 127.0.0.1 7070
	go generate       after you edit %s (main.go runs go tool protogen -spec %s)
`, st.Name, path, st.File)
	case pkg == "main":
		fmt.Fprintf(stdout, `Next, in a module that has protogen as a tool:
	serve it from your main with protoflow.NewServer(%s).Serve(listener)
	go generate       after you edit %s (%s runs go tool protogen -spec %s)
`, ctor, path, filepath.Base(s.HooksFile), st.File)
	default:
		fmt.Fprintf(stdout, `Next, in a module that has protogen as a tool:
	serve it with protoflow.NewServer(%s).Serve(listener) in package %s,
	or with protoflow.NewServer(%s.%s).Serve(listener) where you import it
	go generate       after you edit %s (%s runs go tool protogen -spec %s)
`, ctor, pkg, pkg, ctor, path, filepath.Base(s.HooksFile), st.File)
	}
	return exitOK
}

// typeName makes the protocol's type name from the spec's file name:
// echo.yaml gives Echo, my-chat.yaml MyChat. A name that makes no exported
// identifier gives Server.
func typeName(path string) string {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, part := range strings.FieldsFunc(stem, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r, size := utf8.DecodeRuneInString(part)
		b.WriteString(string(unicode.ToUpper(r)) + part[size:])
	}
	name := b.String()
	if name == "" || !unicode.IsUpper([]rune(name)[0]) {
		return "Server"
	}
	return name
}
