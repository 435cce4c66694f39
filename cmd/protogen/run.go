package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/protogen/protogen/internal/generate"
	"github.com/protogen/protogen/internal/importname"
	"github.com/protogen/protogen/internal/output"
	"github.com/protogen/protogen/spec"
)

// Exit statuses.
const (
	exitOK    = 0
	exitStale = 1 // -check found a stale or missing file, or a hook method missing, of the wrong signature or left over; or a run wrote its files beside a hook method that fails the build (breaksBuild)
	exitError = 2 // bad spec, bad usage, a package file that does not parse, or a file could not be written
)

const usageText = `usage: protogen -spec file.yaml [-spec more.yaml ...] [-out file.go] [-check]
       protogen -init file.yaml
       protogen -version

Protogen generates Go protocol types that embed protoflow.BaseProtocol from
a YAML spec. For example:

	protogen -spec chat.yaml          writes chat.protogen.go (and, once, chat_hooks.go)
	protogen -spec chat.yaml -check   exits 1 with a diff if chat.protogen.go is stale
	protogen -init echo.yaml          writes a starter spec, its code, and a main.go in an empty folder

or from a go:generate line, with protogen as a tool of the module:

	//go:generate go tool protogen -spec chat.yaml

Flags:
`

// specList is the repeatable -spec flag.
type specList []string

func (l *specList) String() string     { return strings.Join(*l, ",") }
func (l *specList) Set(s string) error { *l = append(*l, s); return nil }

// run is protogen's main: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("protogen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var specs specList
	fs.Var(&specs, "spec", "generate from the spec `file` (repeatable)")
	out := fs.String("out", "", "write the generated code to `file` instead of beside the spec (one -spec only)")
	check := fs.Bool("check", false, "write nothing; exit 1 with a diff if a generated file is stale or missing, or a hook method is missing, of the wrong signature or left over")
	version := fs.Bool("version", false, "print the version and exit")
	initPath := fs.String("init", "", "write a commented starter spec at `file.yaml`, the code generated from it, a hook file of a line echo server and, in a folder without Go files, a main.go; never replaces a file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if *version {
		fmt.Fprintln(stdout, "protogen", buildVersion())
		return exitOK
	}
	if *initPath != "" {
		if len(specs) > 0 || *out != "" || *check || fs.NArg() > 0 {
			fmt.Fprintln(stderr, "protogen: -init takes no other flag or argument")
			fs.Usage()
			return exitError
		}
		return initStarter(*initPath, stdout, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "protogen: unexpected argument %q: name specs with -spec\n", fs.Arg(0))
		fs.Usage()
		return exitError
	}
	if len(specs) == 0 {
		fmt.Fprintln(stderr, "protogen: no spec: give one with -spec file.yaml")
		fs.Usage()
		return exitError
	}

	res, err := generate.Files(specs, generate.Options{
		DefaultPackage: os.Getenv("GOPACKAGE"),
		OutFile:        *out,
	})
	if err != nil {
		printError(stderr, err)
		return exitError
	}
	if len(res.Warnings) > 0 {
		printError(stderr, res.Warnings)
	}
	if *check {
		current, err := output.Check(res.Files, stdout)
		if err != nil {
			printError(stderr, err)
			return exitError
		}
		for _, m := range res.Missing {
			fmt.Fprintf(stdout, "%s:%v: hook %s: %s has no method %s (protogen would add a stub to %s)\n",
				m.Spec.Path, m.Hook.Pos, m.Hook.SpecName, m.Protocol.Name, m.Hook.User.Name, m.Spec.HooksFile)
		}
		printHookMethods(stdout, res, true)
		if !current || len(res.Missing) > 0 || len(res.Wrong) > 0 || len(res.Stale) > 0 || len(res.Dangling) > 0 || len(res.Redeclared) > 0 {
			return exitStale
		}
		return exitOK
	}
	printHookMethods(stderr, res, false)
	written, err := output.Write(res.Files)
	for _, path := range written {
		for _, f := range res.Files {
			switch {
			case f.Path == path && f.Remove:
				fmt.Fprintf(stdout, "protogen: removed %s, the tests of messages the spec no longer has\n", path)
			case f.Path != path || !f.UserOwned:
			case f.Update == nil:
				fmt.Fprintf(stdout, "protogen: created %s with a stub for each hook method the package lacks; it is yours to edit\n", path)
			default:
				for _, m := range res.Missing {
					if m.Spec.HooksFile == f.Path {
						fmt.Fprintf(stdout, "protogen: added %s to %s (hook %s, %s:%v)\n",
							m.Hook.User.Name, path, m.Hook.SpecName, m.Spec.Path, m.Hook.Pos)
					}
				}
			}
		}
	}
	if err != nil {
		printError(stderr, err)
		return exitError
	}
	if breaksBuild(res) {
		// The package will not build: a go:generate step should fail here
		// rather than pass on to a build error.
		return exitStale
	}
	return exitOK
}

// breaksBuild reports whether code that protogen leaves to the user fails
// the build: a hook method of the wrong signature, a left-over one that
// uses a method the generated code no longer declares, a method that
// names a type nothing declares any more, or a declaration of a name that
// the generated code declares too.
func breaksBuild(res *generate.Result) bool {
	if len(res.Wrong) > 0 || len(res.Dangling) > 0 {
		return true
	}
	for _, r := range res.Redeclared {
		if r.GeneratedFrom == "" { // else maybe another spec's stale output: a warning
			return true
		}
	}
	for _, m := range res.Stale {
		if len(m.Gone) > 0 {
			return true
		}
	}
	return false
}

// printHookMethods prints a line for each hook method that protogen
// leaves to the user: one whose signature is not its hook's (the build
// fails on it), and one of a hook that the spec no longer declares. A
// left-over method that builds is a warning when generating, and one of
// -check's failures (check), which says so without "warning:".
func printHookMethods(w io.Writer, res *generate.Result, check bool) {
	for _, m := range res.Wrong {
		want := m.Hook.User.Signature(importname.Guess)
		fmt.Fprintf(w, "%v: %s.%s%s has the wrong signature for hook %s (%s:%v); it must be func (p *%s) %s%s\n",
			m.Pos, m.Protocol.Name, m.Hook.User.Name, m.Have, m.Hook.SpecName, m.Spec.Path, m.Hook.Pos,
			m.Protocol.Name, m.Hook.User.Name, want)
	}
	for _, r := range res.Redeclared {
		what := "the package"
		if r.Tests {
			what = "the package's tests"
		}
		if r.GeneratedFrom != "" {
			// Maybe stale: a message that moved here from that spec.
			warning := "warning: "
			if check {
				warning = ""
			}
			fmt.Fprintf(w, "%s:%v: %s%s, the %s, is declared at %v too, which %s generated: %s will not build until one of them goes; regenerate %s if the name moved here from it, or rename one\n",
				r.Spec.Path, r.Pos, warning, r.Name, r.What, r.At, r.GeneratedFrom, what, r.GeneratedFrom)
			continue
		}
		fmt.Fprintf(w, "%s:%v: %s, the %s, is declared at %v too, so %s will not build; rename one of them\n",
			r.Spec.Path, r.Pos, r.Name, r.What, r.At, what)
	}
	for _, m := range res.Dangling {
		fmt.Fprintf(w, "%v: %s.%s uses type %s, which nothing declares (%s has no message or type of that name any more), "+
			"so the package will not build; change or delete the method (protogen never deletes your code)\n",
			m.Pos, m.Protocol.Name, m.Method, m.Type, m.Spec.Path)
	}
	for _, m := range res.Stale {
		// A left-over method that builds is a warning when generating.
		warning, why := "warning: ", "nothing calls the method; "
		if check {
			warning = ""
		}
		if len(m.Gone) > 0 {
			warning, why = "", "it uses "+strings.Join(m.Gone, ", ")+", which the generated code no longer declares, so the package will not build; "
		}
		fmt.Fprintf(w, "%v: %s%s.%s, the method of hook %s, is left over: %s:%v does not list the hook, and %s"+
			"delete it (protogen never deletes your code) or list the hook again\n",
			m.Pos, warning, m.Protocol.Name, m.Kind.UserMethod(), m.Kind.SpecName(), m.Spec.Path, m.Protocol.HooksPos, why)
	}
}

// printError prints spec errors as file:line:col: message, each followed
// by its line of the spec with a caret under the column, and other errors
// with the command's name.
func printError(w io.Writer, err error) {
	var list spec.ErrorList
	for _, e := range flatten(err) {
		if errors.As(e, &list) {
			for _, se := range list {
				fmt.Fprintf(w, "%v\n%s", se, se.Excerpt())
			}
			continue
		}
		fmt.Fprintln(w, "protogen:", e)
	}
}

// flatten undoes errors.Join.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// buildVersion describes the build of protogen that is running.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version: the binary has no build information)"
	}
	return versionOf(info)
}

// zeroVersion is the version that the go command gives a module required
// at no real version and replaced by a folder: a clone, a fork.
const zeroVersion = "v0.0.0-00010101000000-000000000000"

// versionOf describes a build from its build information: the module
// version that go install, go run or go tool built it from; or, for a
// development build (a clone, by a replace directive or in its own tree),
// the version control revision, time and state that go build records,
// and where it was built from.
func versionOf(info *debug.BuildInfo) string {
	mod := info.Main // protogen's module, which holds the main package
	if mod.Version != "" && mod.Version != "(devel)" && mod.Version != zeroVersion {
		return mod.Version
	}
	settings := make(map[string]string)
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var parts []string
	if rev := settings["vcs.revision"]; rev != "" {
		part := "revision " + rev
		if t := settings["vcs.time"]; t != "" {
			part += " of " + t
		}
		if settings["vcs.modified"] == "true" {
			part += ", with uncommitted changes"
		}
		parts = append(parts, part)
	}
	switch {
	case mod.Replace != nil:
		part := "from " + mod.Replace.Path + " (a replace directive)"
		if settings["vcs.revision"] == "" {
			part += "; the go command records no revision for a replaced module"
		}
		parts = append(parts, part)
	case settings["vcs.revision"] == "":
		parts = append(parts, "no version control information (go build records it; go run and -buildvcs=false do not)")
	}
	return "development build: " + strings.Join(parts, "; ")
}
