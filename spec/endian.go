package spec

import (
	"slices"
	"strings"
)

// setEndian gives f byte order e: its integer's and its length or count
// prefix's.
func setEndian(f *MessageField, e Endian) {
	f.Int.Endian = e
	f.Length.Prefix.Endian = e
	f.Count.Prefix.Endian = e
}

// String names the byte order as a spec does.
func (e Endian) String() string {
	if e == LittleEndian {
		return "little"
	}
	return "big"
}

// structUse is a field whose type is a struct type, and the message, set
// header or type that holds it.
type structUse struct {
	f     *MessageField
	owner *Message
}

// typeEndians gives the fields of the spec's types their byte order: the
// field's own (endian: on the field), else the type's (endian: on the
// type), else that of the binary sets whose messages use the type,
// directly or through other types: a struct is written as the message
// around it is. A type that sets of both orders use must say which it is,
// if the order changes its bytes; one that nothing uses is big-endian, as
// a set is by default.
func (d *decoder) typeEndians(types []*Message, sets []*MessageSet, sc *messageScope) {
	uses := make(map[*Message][]structUse) // by the type used
	owners := slices.Clone(types)
	for _, s := range sets {
		if s.Encoding == Binary {
			owners = append(append(owners, &Message{Set: s, Fields: s.Header}), s.Messages...)
		}
	}
	for _, o := range owners {
		for _, f := range AllFields(o.Fields) {
			if f.Kind != WireStruct || f.Struct == nil {
				continue
			}
			uses[f.Struct] = append(uses[f.Struct], structUse{f, o})
			// A field that holds a type of a given order may not ask for
			// another.
			if e, given := sc.typeEndian[f.Struct]; given && sc.ownEndian[f] && e != f.Int.Endian {
				d.errorAt(f.Pos, "field %s: endian: %s, but type %s gives its own byte order, %s: drop one of them", f.Name, f.Int.Endian, f.Struct.Name, e)
			}
		}
	}
	// sensitive reports whether the byte order t takes changes its bytes:
	// whether a field that takes it (giving none of its own) is a number
	// wider than a byte, has such a prefix, or holds a type that is
	// sensitive and gives no order of its own.
	sensitiveMemo := make(map[*Message]bool)
	var sensitive func(t *Message) bool
	sensitive = func(t *Message) bool {
		if r, done := sensitiveMemo[t]; done {
			return r
		}
		sensitiveMemo[t] = false // a cycle, reported elsewhere, ends here
		wide := func(it IntType) bool { return !it.Varint && it.Bits > 8 }
		for _, f := range AllFields(t.Fields) {
			if sc.ownEndian[f] {
				continue
			}
			_, given := sc.typeEndian[f.Struct]
			number := f.Kind == WireUint || f.Kind == WireInt || f.Kind == WireEnum || f.Kind == WireFloat
			if number && wide(f.Int) ||
				f.Length.Kind == LengthPrefix && wide(f.Length.Prefix) ||
				f.Count.Kind == LengthPrefix && wide(f.Count.Prefix) ||
				f.Kind == WireStruct && f.Struct != nil && !given && sensitive(f.Struct) {
				sensitiveMemo[t] = true
				return true
			}
		}
		return false
	}
	// order returns t's byte order and whether anything settles it. A type
	// in a cycle, which checkTypeCycles reports, is unsettled while its
	// order is sought, so that the recursion ends.
	type settled struct {
		order Endian
		ok    bool
	}
	memo := make(map[*Message]settled)
	var order func(t *Message) (Endian, bool)
	order = func(t *Message) (Endian, bool) {
		if r, done := memo[t]; done {
			return r.order, r.ok
		}
		if e, given := sc.typeEndian[t]; given {
			memo[t] = settled{e, true}
			return e, true
		}
		memo[t] = settled{}
		var r settled
		var by [2][]string // where each order is asked for
		for _, u := range uses[t] {
			// A set's fields have their order already; a type's take its
			// type's, unless they give their own.
			e, ok := u.f.Int.Endian, true
			if u.owner.Set == nil && !sc.ownEndian[u.f] {
				e, ok = order(u.owner)
			}
			if ok {
				r = settled{e, true}
				by[e] = append(by[e], u.owner.what()+", field "+u.f.Name)
			}
		}
		if len(by[BigEndian]) > 0 && len(by[LittleEndian]) > 0 && sensitive(t) {
			d.errorAt(t.Pos, "type %s is written big-endian by %s and little-endian by %s: give it endian: big or little (or the fields that use it endian:)",
				t.Name, strings.Join(by[BigEndian], "; "), strings.Join(by[LittleEndian], "; "))
		}
		memo[t] = r
		return r.order, r.ok
	}
	for _, t := range types {
		e, ok := order(t)
		if !ok {
			continue
		}
		for _, f := range AllFields(t.Fields) {
			if !sc.ownEndian[f] {
				setEndian(f, e)
			}
		}
	}
}
