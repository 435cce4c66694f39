package spec

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"path/filepath"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// checkIdent reports whether name can name a Go declaration.
func (d *decoder) checkIdent(n *yaml.Node, what, name string) bool {
	switch {
	case token.IsKeyword(name):
		d.errorf(n, "%s %q is a Go keyword", what, name)
	case name == "_":
		d.errorf(n, "%s: the blank identifier _ cannot name anything", what)
	case !token.IsIdentifier(name):
		d.errorf(n, "%s %q is not a Go identifier", what, name)
	default:
		return true
	}
	return false
}

// checkExported reports whether name is an exported Go identifier.
func (d *decoder) checkExported(n *yaml.Node, what, name string) bool {
	if !d.checkIdent(n, what, name) {
		return false
	}
	if !ast.IsExported(name) {
		example := ""
		if up := upperFirst(name); ast.IsExported(up) {
			example = ", as in " + up // not for _S or 日本, which have no upper case
		}
		d.errorf(n, "%s %q must be exported: start it with an upper-case letter%s", what, name, example)
		return false
	}
	return true
}

// checkFieldNames reports fields that share a name or take the name of a
// member of the generated type (table of members, members.go): its
// embedded BaseProtocol, a method it has or defines, or a hook method the
// user writes or may write.
func (d *decoder) checkFieldNames(p *Protocol) {
	seen := make(map[string]Pos)
	for _, f := range p.Fields {
		if m := p.typeMember(f.Name); m != nil {
			d.errorAt(f.Pos, "field %q of %s collides with %s", f.Name, p.Name, m.What)
			continue
		}
		if first, dup := seen[f.Name]; dup {
			d.errorAt(f.Pos, "field %q of %s is declared twice (first at %v%s)", f.Name, p.Name, first, throughAlias(first, f.Pos))
			continue
		}
		seen[f.Name] = f.Pos
	}
}

// checkMemberClashes reports two members of a generated type with one
// name: a message whose hook or Send method takes the name of another
// hook's, or of a method the type has already.
func (d *decoder) checkMemberClashes(p *Protocol) {
	type key struct{ recv, name string }
	first := make(map[key]*Member)
	for _, m := range p.Members {
		if m.Kind.PackageLevel() {
			continue
		}
		k := key{m.Recv, m.Name}
		prev := first[k]
		if prev == nil {
			first[k] = m
			continue
		}
		at := cmp.Or(m.Pos, prev.Pos, p.Pos)
		d.errorAt(at, "protocol %s: %s and %s would both be the method %s.%s; rename the message", p.Name, prev.What, m.What, m.Recv, m.Name)
	}
}

// checkProtocolNames reports protocols that share a name, and generated
// package-level names that collide (type ChatServer and a protocol named
// NewChatServer, say).
func (d *decoder) checkProtocolNames(protocols []*Protocol) {
	type owner struct {
		p    *Protocol
		what string
	}
	taken := make(map[string]owner)
	for _, p := range protocols {
		if prev, dup := taken[p.Name]; dup && prev.what == "type" {
			d.errorAt(p.Pos, "protocol %s is declared twice (first at %v%s)", p.Name, prev.p.Pos, throughAlias(prev.p.Pos, p.Pos))
			continue
		}
		for _, decl := range p.PackageNames() {
			if prev, dup := taken[decl.Name]; dup {
				d.errorAt(p.Pos, "protocol %s: its %s %s collides with the %s of protocol %s (at %v)",
					p.Name, decl.What, decl.Name, prev.what, prev.p.Name, prev.p.Pos)
				continue
			}
			taken[decl.Name] = owner{p, decl.What}
		}
	}
}

// checkMessageNames reports package-level names of the messages part that
// collide with one another or with a protocol's.
func (d *decoder) checkMessageNames(s *Spec) {
	taken := make(map[string]string)
	for _, p := range s.Protocols {
		for _, m := range p.PackageNames() {
			taken[m.Name] = fmt.Sprintf("the %s of protocol %s (at %v)", m.What, p.Name, p.Pos)
		}
	}
	for _, m := range s.Members {
		if prev, dup := taken[m.Name]; dup {
			d.errorAt(m.Pos, "%s %s collides with %s", m.What, m.Name, prev)
			continue
		}
		taken[m.Name] = m.Name + ", the " + m.What
	}
}

// placeOutput decides the output files and the header's source path.
func (d *decoder) placeOutput(s *Spec, opts Options) error {
	out := opts.OutFile
	if out == "" {
		base := filepath.Base(s.Path)
		base = strings.TrimSuffix(base, filepath.Ext(base))
		out = filepath.Join(filepath.Dir(s.Path), base+".protogen.go")
	}
	if strings.ContainsFunc(s.Path+out, unicode.IsControl) {
		return fmt.Errorf("spec %q or output %q: control characters in a path would break the generated header", s.Path, out)
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(out), ".go"), ".protogen")
	s.OutFile = out
	s.HooksFile = filepath.Join(filepath.Dir(out), stem+"_hooks.go")
	s.TestFile = strings.TrimSuffix(out, ".go") + "_test.go"
	for _, f := range []string{s.OutFile, s.HooksFile} {
		if err := checkGoFileName(f); err != nil {
			return err
		}
	}
	absSpec, err1 := filepath.Abs(s.Path)
	absDir, err2 := filepath.Abs(filepath.Dir(out))
	rel, err3 := filepath.Rel(absDir, absSpec)
	if err := cmp.Or(err1, err2, err3); err != nil {
		return fmt.Errorf("locating spec %s from output %s: %w", s.Path, out, err)
	}
	s.Source = filepath.ToSlash(rel)
	return nil
}

// lowerFirst makes an exported name unexported, lowering a leading
// initialism as a whole: ChatServer → chatServer, HTTPServer → httpServer.
func lowerFirst(name string) string {
	r := []rune(name)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n > 1 && n < len(r) && unicode.IsLower(r[n]) {
		n-- // the last capital starts the next word
	}
	for i := range n {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

func upperFirst(name string) string {
	r := []rune(name)
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// throughAlias explains a duplicate found at its own position: the same
// node reached twice through a YAML alias.
func throughAlias(first, again Pos) string {
	if first == again {
		return ", repeated through an alias"
	}
	return ""
}
