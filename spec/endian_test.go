package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTypeEndians checks the byte order of a type's fields: the field's
// own, the type's, else that of the sets that use the type, directly or
// through another type; and of a length or count prefix, which is its
// field's.
func TestTypeEndians(t *testing.T) {
	const sets = `
messages:
  - set: Little
    endian: little
    header: [{name: op, type: u8, tag: true}]
    messages:
      - {name: L, tag: 1, fields: [{name: p, type: Pt}, {name: s, type: string, length: u16}, {name: n, type: u16, count: u16, max_items: 9}]}
`
	const bigSet = "  - set: Big\n    header: [{name: op, type: u8, tag: true}]\n    messages:\n      - {name: B, tag: 1, fields: [{name: q, type: Pt}]}\n"
	tests := []struct {
		name  string
		types string
		extra string            // more sets
		want  map[string]string // "Type.field" (or "L.field", "L.field prefix") to its byte order
		err   string            // the one error, if any
	}{{
		name:  "a type takes the order of the set that uses it",
		types: "  - {name: Pt, fields: [{name: x, type: u32}, {name: b, type: bytes, length: u16}]}\n",
		want:  map[string]string{"Pt.x": "little", "Pt.b prefix": "little", "L.s prefix": "little", "L.n": "little", "L.n count": "little"},
	}, {
		name:  "through another type",
		types: "  - {name: Pt, fields: [{name: in, type: In}]}\n  - {name: In, fields: [{name: y, type: i16}]}\n",
		want:  map[string]string{"In.y": "little"},
	}, {
		name:  "a field's own order stands, and passes to the type it holds",
		types: "  - {name: Pt, fields: [{name: x, type: u32, endian: big}, {name: in, type: In, endian: big}]}\n  - {name: In, fields: [{name: y, type: i16}]}\n",
		want:  map[string]string{"Pt.x": "big", "In.y": "big"},
	}, {
		name:  "a type's own order stands",
		types: "  - {name: Pt, endian: big, fields: [{name: x, type: u32}, {name: z, type: u16, endian: little}]}\n",
		want:  map[string]string{"Pt.x": "big", "Pt.z": "little"},
	}, {
		name:  "a type nothing uses is big-endian",
		types: "  - {name: Pt, fields: [{name: x, type: u32}]}\n  - {name: Lone, fields: [{name: q, type: u32}]}\n",
		want:  map[string]string{"Lone.q": "big"},
	}, {
		name:  "sets of both orders",
		types: "  - {name: Pt, fields: [{name: x, type: u32}]}\n",
		extra: bigSet,
		err:   "type Pt is written big-endian by message B, field q and little-endian by message L, field p: give it endian: big or little (or the fields that use it endian:)",
	}, {
		name:  "sets of both orders, through a header and another type",
		types: "  - {name: Pt, fields: [{name: in, type: In}]}\n  - {name: In, fields: [{name: y, type: i16}]}\n",
		extra: "  - set: Big\n    header: [{name: op, type: u8, tag: true}, {name: h, type: In}]\n    messages:\n      - {name: B, tag: 1}\n",
		err:   "type In is written big-endian by the header of set Big, field h and little-endian by type Pt, field in: give it endian: big or little (or the fields that use it endian:)",
	}, {
		name:  "sets of both orders, of a type whose bytes the order does not change",
		types: "  - {name: Pt, fields: [{name: mac, type: bytes, size: 6}, {name: n, type: uvarint}, {name: w, type: u32, endian: big}, {name: s, type: string, length: u8}]}\n",
		extra: bigSet,
		want:  map[string]string{"Pt.w": "big"},
	}, {
		name:  "a group's order passes to its fields",
		types: "  - {name: Pt, fields: [{name: glen, type: u8}, {group: g, length: glen, endian: big, fields: [{name: a, type: u16}, {name: b, type: u16, endian: little}]}]}\n",
		want:  map[string]string{"Pt.a": "big", "Pt.b": "little"},
	}, {
		name:  "a field asks for an order other than its type's",
		types: "  - {name: Pt, endian: big, fields: [{name: x, type: u32}]}\n  - {name: Q, fields: [{name: p, type: Pt, endian: little}]}\n",
		err:   "field p: endian: little, but type Pt gives its own byte order, big: drop one of them",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\npackage: p\ntypes:\n" + tt.types + sets + tt.extra
			s, err := Parse("e.yaml", []byte(src), Options{})
			if tt.err != "" {
				var list ErrorList
				if !errors.As(err, &list) || len(list) != 1 || !strings.HasSuffix(list[0].Error(), tt.err) {
					t.Fatalf("error = %v, want one ending %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]string)
			fields := make(map[string]*MessageField)
			for _, m := range append(append([]*Message(nil), s.Types...), s.Sets[0].Messages...) {
				for _, f := range AllFields(m.Fields) {
					fields[m.Name+"."+f.Name] = f
				}
			}
			for k := range tt.want {
				name, what, _ := strings.Cut(k, " ")
				f := fields[name]
				if f == nil {
					t.Fatalf("no field %s", name)
				}
				switch what {
				case "prefix":
					got[k] = f.Length.Prefix.Endian.String()
				case "count":
					got[k] = f.Count.Prefix.Endian.String()
				default:
					got[k] = f.Int.Endian.String()
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("byte orders (-want +got):\n%s", diff)
			}
		})
	}
}
