// Package spec reads protogen's YAML spec and resolves it into the model
// that the generator prints: every Go name, hook signature and output file
// is decided here, so that the emitter invents nothing. Types hold the full
// import paths of the packages they use; naming those packages in a file
// is the printer's business (internal/importname).
//
// A spec that fails to load returns an [ErrorList] holding every problem at
// once, each as "spec.yaml:LINE:COL: message", sorted by position.
package spec

import (
	"fmt"
	"go/ast"
	"reflect"
	"time"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

// The import paths of the runtime packages that generated code imports,
// taken from the packages themselves: RuntimePath, the transport and
// BaseProtocol's (protoflow), and WirePath, the framing's (wire).
var (
	RuntimePath = reflect.TypeFor[protoflow.BaseProtocol]().PkgPath()
	WirePath    = reflect.TypeFor[wire.Framer]().PkgPath()
)

// Spec is a loaded, validated and resolved spec.
type Spec struct {
	// Path is the spec's path as given to Load.
	Path string
	// Package is the Go package name of the output.
	Package string
	// Protocols are the protocol types, in spec order.
	Protocols []*Protocol
	// OutFile is the generated file's path; HooksFile is the path of the
	// user-owned file of hook stubs, created when missing.
	OutFile, HooksFile string
	// TestFile is the path of the generated tests of the spec's messages,
	// beside OutFile. A spec without messages has none, and protogen
	// removes one it generated before.
	TestFile string
	// Source is the spec's path relative to OutFile's folder, with forward
	// slashes, for the generated file's header.
	Source string

	// Enums are the enums that messages use, in spec order.
	Enums []*Enum
	// Types are the struct types that messages use, in spec order.
	Types []*Message
	// Sets are the sets of messages that protocols receive and send.
	Sets []*MessageSet
	// Members are the package-level names that the messages part declares
	// (a protocol's are in its own Members).
	Members []*Member

	data []byte // the spec file's content, for the excerpts of errors
	// incomplete marks a spec with errors, as LoadPartial returns it: only
	// what it was sure of is in the model.
	incomplete bool
}

// Errorf returns an error about the spec at pos, which holds the text of
// pos's line for its Excerpt.
func (s *Spec) Errorf(pos Pos, format string, args ...any) *Error {
	e := &Error{File: s.Path, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	withSource(ErrorList{e}, s.Path, s.data)
	return e
}

// PackageIdents returns the identifiers that the model knows the output's
// package to hold: those the generated code declares at package level, and
// those its types use unqualified (types the user declares, or predeclared
// ones). An import name in a file of the package must be none of them.
func (s *Spec) PackageIdents() []string {
	var names []string
	for _, m := range s.Members {
		names = append(names, m.Name)
	}
	for _, p := range s.Protocols {
		for _, f := range p.Fields {
			names = append(names, f.Type.LocalNames()...)
		}
		for _, m := range p.Members {
			if m.Kind.PackageLevel() {
				names = append(names, m.Name)
			}
			for _, t := range m.Types() {
				names = append(names, t.LocalNames()...)
			}
		}
	}
	return names
}

// TypeNames lists the types that the code generated from s declares: the
// protocols' types and the messages part's (message, enum, struct, set and
// header types).
func (s *Spec) TypeNames() []string {
	var names []string
	for _, p := range s.Protocols {
		for _, m := range p.PackageNames() {
			if m.Kind == KindType {
				names = append(names, m.Name)
			}
		}
	}
	for _, m := range s.Members {
		if m.Kind == KindType {
			names = append(names, m.Name)
		}
	}
	return names
}

// HasHooks reports whether any protocol declares a hook, and so whether the
// spec has a hook file.
func (s *Spec) HasHooks() bool {
	for _, p := range s.Protocols {
		if len(p.Hooks) > 0 {
			return true
		}
	}
	return false
}

// Protocol is one protocol type.
type Protocol struct {
	Pos Pos // the protocol's name in the spec
	// Name is the exported Go name of the type.
	Name string
	// Doc is the type's doc comment, without comment markers; empty if none.
	Doc string
	// Fields are the state fields, in spec order.
	Fields []*Field
	// Hooks are the declared hooks, in the order of [AllHooks].
	Hooks []*Hook
	// HooksPos is where the spec lists the hooks: the hooks key's value,
	// or the protocol's name when it has none.
	HooksPos Pos
	// HighWater and LowWater are the write-buffer limits set on the
	// transport in ConnectionMade; both are -1 when the spec sets none.
	HighWater, LowWater int
	// PauseReadingWithWriting makes reading pause while writing is paused,
	// so that a peer that does not read its replies is pushed back by TCP:
	// PauseWriting pauses reading, ResumeWriting resumes it, and a framed
	// protocol checks after each frame whether its replies paused writing.
	PauseReadingWithWriting bool
	// NoDelay is the TCP_NODELAY setting; false turns Nagle's algorithm
	// back on after the base ConnectionMade.
	NoDelay bool
	// Framing is the codec that splits the byte stream into frames, or nil
	// for an unframed protocol.
	Framing *Framing
	// Machine is the protocol's state machine, or nil.
	Machine *Machine
	// ReadTimeout and IdleTimeout are set on the transport in
	// ConnectionMade; 0 means none.
	ReadTimeout, IdleTimeout time.Duration
	// FrameTimeout, of a framed protocol, is set with
	// protoflow.SetFrameTimeout in ConnectionMade: a frame whose first
	// bytes have arrived must be complete within it; 0 means none.
	FrameTimeout time.Duration
	// Receives are the sets whose messages the protocol decodes and passes
	// to a hook each; Sends are those it has a Send method for.
	Receives, Sends []*MessageSet
	// SendCodec names the package variable that holds the codec its Send
	// methods frame with; empty when no message it sends needs one.
	SendCodec string
	// Client is the Go name of the client that protogen generates for the
	// protocol: a method per request it sends that declares its reply,
	// over the protocol, whose received messages then go to the waiting
	// calls and not to hooks. Empty for none.
	Client string
	// Members are the names that the generated code declares for the
	// protocol or asks the user to write, from the table of members.
	Members []*Member
}

// Framed reports whether the protocol reads frames: it has a framing, or
// it receives a set that frames itself.
func (p *Protocol) Framed() bool {
	if p.Framing != nil {
		return true
	}
	for _, s := range p.Receives {
		if s.FrameLength != nil {
			return true
		}
	}
	return false
}

// HasTimeouts reports whether the spec sets a read or an idle timeout.
func (p *Protocol) HasTimeouts() bool { return p.ReadTimeout > 0 || p.IdleTimeout > 0 }

// HasFlow reports whether the spec sets write-buffer limits.
func (p *Protocol) HasFlow() bool { return p.HighWater >= 0 }

// Hook returns the declared hook of kind k, or nil.
func (p *Protocol) Hook(k HookKind) *Hook {
	for _, h := range p.Hooks {
		if h.Kind == k {
			return h
		}
	}
	return nil
}

// Field is one state field of a protocol type.
type Field struct {
	Pos  Pos    // the field's name in the spec
	Name string // the Go name of the field
	Doc  string // its comment, from the spec; empty if none
	Type *Type  // its Go type
	// TypePos is where the spec writes the type: the start of the type
	// key's value (its quote, if it is quoted).
	TypePos Pos
}

// Type is a Go type expression. In Expr every qualified identifier is an
// *ast.SelectorExpr whose X is an *ast.Ident holding the full import path
// (not a package name), so "map[string]*example.com/chat/rooms.Room" is a
// map from string to a pointer to Room of that path.
type Type struct {
	Src  string   // the type as the spec writes it
	Expr ast.Expr // the type, parsed
}
