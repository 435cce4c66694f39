package importname

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGuess(t *testing.T) {
	tests := map[string]string{
		"time":                      "time",
		"net/netip":                 "netip",
		"math/rand/v2":              "rand",
		"gopkg.in/yaml.v3":          "yaml",
		"github.com/x/go-bar":       "bar",
		"github.com/x/bar-go":       "bar",
		"github.com/x/some-thing":   "something",
		"example.com/chat/rooms":    "rooms",
		"example.com/x/2d":          "pkg2d",
		"example.com/x/type":        "pkgtype",
		"github.com/x/Capital.Name": "capitalname",
	}
	for path, want := range tests {
		if got := Guess(path); got != want {
			t.Errorf("Guess(%q) = %q, want %q", path, got, want)
		}
	}
}

// A name never hides a predeclared identifier, a reserved or avoided name,
// or another import; a clash gets the first free number from 2, and the
// first path to ask keeps the plain name.
func TestNamer(t *testing.T) {
	n := New()
	n.Reserve("rooms")
	n.Avoid(func(name string) bool { return name == "err" })
	n.Adopt("example.com/mine/protoflow", "pf")
	asks := []struct{ path, want string }{
		{"github.com/protogen/protogen/runtime/protoflow", "protoflow"},
		{"example.com/golden/stub/any", "any2"}, // the predeclared any
		{"example.com/chat/rooms", "rooms2"},    // a reserved name
		{"example.com/other/rooms", "rooms3"},   // and the import before it
		{"example.com/x/err", "err2"},           // an avoided name
		{"gopkg.in/yaml.v3", "yaml"},            // written with its name
		{"example.com/chat/rooms", "rooms2"},    // asked again
		{"example.com/mine/protoflow", "pf"},    // adopted
		{"example.com/other/pf", "pf2"},         // the adopted name is taken
		{"example.com/chat/time", "time"},       // first come
		{"time", "time2"},                       // first served
		{"github.com/protogen/protogen/runtime/wire", "wire"},
	}
	for _, a := range asks {
		if got := n.Name(a.path); got != a.want {
			t.Errorf("Name(%q) = %q, want %q", a.path, got, a.want)
		}
	}
	want := []Import{
		{"github.com/protogen/protogen/runtime/protoflow", "protoflow", false},
		{"example.com/golden/stub/any", "any2", true},
		{"example.com/chat/rooms", "rooms2", true},
		{"example.com/other/rooms", "rooms3", true},
		{"example.com/x/err", "err2", true},
		{"gopkg.in/yaml.v3", "yaml", true},
		{"example.com/other/pf", "pf2", true},
		{"example.com/chat/time", "time", false},
		{"time", "time2", true},
		{"github.com/protogen/protogen/runtime/wire", "wire", false},
	}
	if diff := cmp.Diff(want, n.Imports()); diff != "" {
		t.Errorf("Imports() (-want +got):\n%s", diff)
	}
}
