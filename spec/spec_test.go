package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/protogen/protogen/internal/golden" // registers -update for go test ./... -update
)

func TestParseType(t *testing.T) {
	tests := []struct {
		src   string
		paths []string // import paths referred to, in order
		err   string   // substring of the error; "" for success
	}{
		{"string", nil, ""},
		{"time.Time", []string{"time"}, ""},
		{"map[string]*example.com/chat/rooms.Room", []string{"example.com/chat/rooms"}, ""},
		{"*gopkg.in/yaml.v3.Node", []string{"gopkg.in/yaml.v3"}, ""},
		{"func(context.Context, net/netip.Addr) error", []string{"context", "net/netip"}, ""},
		{"*sync/atomic.Pointer[example.com/x.T]", []string{"sync/atomic", "example.com/x"}, ""},
		{"struct { A int `json:\"a.b\"` }", nil, ""},
		{"github.com/a-b/c_d.E", []string{"github.com/a-b/c_d"}, ""},
		{"map[string]", nil, "not a Go type"},
		{"time.now", nil, "not exported"},
		{"[...]int", nil, "give the length"},
		{"1 + 2", nil, "is not a type"},
		{"", nil, "empty type"},
		{"time", nil, ""}, // a local type that happens to be named time
	}
	for _, tt := range tests {
		typ, err := ParseType(tt.src)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseType(%q) = %v, want an error containing %q", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseType(%q): %v", tt.src, err)
			continue
		}
		if diff := cmp.Diff(tt.paths, typ.ImportPaths()); diff != "" {
			t.Errorf("ParseType(%q) import paths (-want +got):\n%s", tt.src, diff)
		}
		if typ.Expr == nil {
			t.Errorf("ParseType(%q) has no expression", tt.src)
		}
	}
}

func TestTypeFormat(t *testing.T) {
	typ, err := ParseType("map[string]*example.com/chat/rooms.Room")
	if err != nil {
		t.Fatal(err)
	}
	got := typ.Format(func(path string) string { return "pkg" })
	if want := "map[string]*pkg.Room"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

func TestLowerFirst(t *testing.T) {
	tests := map[string]string{"ChatServer": "chatServer", "HTTPServer": "httpServer", "KV": "kv", "X": "x", "ID2": "id2"}
	for in, want := range tests {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"65536", 65536, ""},
		{"64KiB", 65536, ""},
		{"64 KiB", 65536, ""},
		{"1MiB", 1 << 20, ""},
		{"1GiB", 1 << 30, ""},
		{"0", 0, ""},
		{"12B", 12, ""},
		{"64KB", 0, "did you mean KiB"},
		{"1.5MiB", 0, "not a size"},
		{"-1", 0, "not a size"},
		{"4GiB", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseSize(%q) = %d, %v; want an error containing %q", tt.in, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"version", "package", "protocols"}
	tests := map[string]string{"versoin": "version", "pakage": "package", "protocol": "protocols", "colour": "", "v": "", "prot": "protocols"}
	for in, want := range tests {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	// A word refused for another reason is not suggested to itself.
	if got := suggest("varint", []string{"varint", "uvarint"}); got != "uvarint" {
		t.Errorf("suggest(varint) among varint and uvarint = %q, want uvarint", got)
	}
}

// A name that must be exported gets an example only when upper-casing its
// first letter gives one.
func TestExportedExample(t *testing.T) {
	for name, want := range map[string]string{
		"chat":  `protocol name "chat" must be exported: start it with an upper-case letter, as in Chat`,
		"_chat": `protocol name "_chat" must be exported: start it with an upper-case letter`,
		"日本":    `protocol name "日本" must be exported: start it with an upper-case letter`,
	} {
		_, err := Parse("e.yaml", []byte("version: 1\npackage: p\nprotocols:\n  - name: \""+name+"\"\n"), Options{})
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 || list[0].Msg != want {
			t.Errorf("protocol %q: error %v, want %q", name, err, want)
		}
	}
}

// A spec whose aliases multiply the nodes walked (here 3,000 protocols
// each aliasing a list of 3,000 fields: nine million nodes from a spec of
// a few kilobytes) stops at the node budget with one error.
func TestAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\npackage: p\nx-fields: &f\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - {name: f%d, type: int}\n", i)
	}
	b.WriteString("x-proto: &p {name: P, fields: *f}\nprotocols: [")
	for i := range 3000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*p")
	}
	b.WriteString("]\n")
	_, err := Parse("bomb.yaml", []byte(b.String()), Options{})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse = %v, want an ErrorList", err)
	}
	if !strings.Contains(list.Error(), "spec too large") {
		t.Errorf("errors do not mention the node budget:\n%.500s", list.Error())
	}
}

func TestErrorListSorted(t *testing.T) {
	_, err := Parse("s.yaml", []byte("protocols: [{name: b}, {name: a}]\nversion: 9\n"), Options{})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse = %v, want an ErrorList", err)
	}
	for i := 1; i < len(list); i++ {
		a, b := list[i-1].Pos, list[i].Pos
		if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
			t.Errorf("errors out of order: %v before %v", list[i-1], list[i])
		}
	}
	for _, e := range list {
		if !strings.HasPrefix(e.Error(), "s.yaml:") {
			t.Errorf("error %q lacks the file:line:col prefix", e)
		}
	}
}

func TestOutputPlacement(t *testing.T) {
	src := []byte("version: 1\npackage: p\nprotocols: [{name: P, hooks: [data_received]}]\n")
	tests := []struct {
		spec, out                   string
		wantOut, wantHooks, wantSrc string
	}{
		{"dir/chat.yaml", "", "dir/chat.protogen.go", "dir/chat_hooks.go", "chat.yaml"},
		{"chat.yml", "", "chat.protogen.go", "chat_hooks.go", "chat.yml"},
		{"specs/kv.yaml", "gen/kv.go", "gen/kv.go", "gen/kv_hooks.go", "../specs/kv.yaml"},
		{"linux.yaml", "", "linux.protogen.go", "linux_hooks.go", "linux.yaml"},
	}
	for _, tt := range tests {
		s, err := Parse(tt.spec, src, Options{OutFile: tt.out})
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.spec, err)
		}
		got := []string{s.OutFile, s.HooksFile, s.Source}
		want := []string{tt.wantOut, tt.wantHooks, tt.wantSrc}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s -out %q: (-want +got)\n%s", tt.spec, tt.out, diff)
		}
	}
}

// Output names that the go command would ignore, or build only on one
// system or in tests, are refused.
func TestOutputNamesRefused(t *testing.T) {
	src := []byte("version: 1\npackage: p\nprotocols: [{name: P}]\n")
	for _, tt := range []struct{ spec, out string }{
		{"chat_windows.yaml", ""},
		{"chat_linux_amd64.yaml", ""},
		{"chat_arm64.yaml", ""},
		{"_chat.yaml", ""},
		{".chat.yaml", ""},
		{"chat.yaml", "chat_test.go"},
		{"chat.yaml", "chat.txt"},
		{"chat.yaml", "gen/_x.go"},
		{"chat.yaml", "x_darwin.go"},
	} {
		if _, err := Parse(tt.spec, src, Options{OutFile: tt.out}); err == nil {
			t.Errorf("Parse(%s) with -out %q succeeded, want an error", tt.spec, tt.out)
		}
	}
}

// A machine of one state needs no transitions (this used to panic).
func TestMachineOneState(t *testing.T) {
	const src = "version: 1\npackage: p\nprotocols:\n  - name: P\n    machine: {initial: only, states: [only]}\n"
	s, err := Parse("one.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Protocols[0].Machine; m == nil || len(m.States) != 1 || len(m.Transitions) != 0 {
		t.Errorf("machine = %+v, want one state and no transitions", m)
	}
}

// A machine's problems are reported all at once: an unreachable state
// beside a duplicate transition or a bad event, but no state is called
// unreachable when a transition that might reach it is itself in error.
func TestMachineProblemsAtOnce(t *testing.T) {
	tests := []struct {
		name        string
		transitions string
		want        []string // the messages, in order
	}{{
		name:        "a duplicate transition and an unreachable state",
		transitions: "[{from: a, on: go, to: b}, {from: a, on: go, to: c}]",
		want: []string{
			"state island cannot be reached from the initial state a",
			"transition from a on go is declared twice (first at 8:28): a state has one transition per event",
		},
	}, {
		name:        "a bad event and an unreachable state",
		transitions: `[{from: a, on: "go!", to: b}, {from: b, on: on, to: c}]`,
		want: []string{
			"state island cannot be reached from the initial state a",
			`event "go!": use ASCII letters, digits and underscores, starting with a letter`,
		},
	}, {
		name:        "an unknown source counts as any state",
		transitions: "[{from: a, on: go, to: b}, {from: bb, on: go, to: c}]",
		want: []string{
			"state island cannot be reached from the initial state a",
			`transition: from: unknown state "bb"; did you mean b?`,
		},
	}, {
		name:        "an unknown target: reachability unknown",
		transitions: "[{from: a, on: go, to: b}, {from: b, on: go, to: cc}, {from: c, on: go, to: island}]",
		want:        []string{`transition: to: unknown state "cc"; did you mean c?`},
	}, {
		name:        "a missing target: reachability unknown",
		transitions: "[{from: a, on: go, to: b}, {from: b, on: go}, {from: c, on: go, to: island}]",
		want:        []string{"transition: missing to"},
	}}
	for _, tt := range tests {
		src := "version: 1\npackage: p\nprotocols:\n  - name: P\n    machine:\n      initial: a\n" +
			"      states: [a, b, c, island]\n      transitions: " + tt.transitions + "\n"
		_, err := Parse("m.yaml", []byte(src), Options{})
		var list ErrorList
		if !errors.As(err, &list) {
			t.Errorf("%s: Parse = %v, want an ErrorList", tt.name, err)
			continue
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Msg)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: messages (-want +got):\n%s", tt.name, diff)
		}
	}
}
