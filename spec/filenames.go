package spec

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Operating systems and architectures that the go command reads from file
// name suffixes (go/build's lists, which are internal).
var (
	knownOS   = set("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos")
	knownArch = set("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le " +
		"ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm")
)

func set(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// checkGoFileName reports a file name that the go command would ignore, or
// build only on one system or only in tests, as go/build reads names.
func checkGoFileName(path string) error {
	name := filepath.Base(path)
	switch {
	case filepath.Ext(name) != ".go":
		return fmt.Errorf("output file %s: the name must end in .go", path)
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "."):
		return fmt.Errorf(`output file %s: the go command ignores files whose names start with "_" or "."`, path)
	case strings.HasSuffix(name, "_test.go"):
		return fmt.Errorf("output file %s: a _test.go file would only build in tests", path)
	}
	stem, _, _ := strings.Cut(name, ".")
	i := strings.Index(stem, "_")
	if i < 0 {
		return nil
	}
	parts := strings.Split(stem[i:], "_")
	n := len(parts)
	if n >= 2 && knownOS[parts[n-2]] && knownArch[parts[n-1]] || knownOS[parts[n-1]] || knownArch[parts[n-1]] {
		return fmt.Errorf("output file %s: the go command would build it only for %s; rename the spec or use -out", path, parts[n-1])
	}
	return nil
}
