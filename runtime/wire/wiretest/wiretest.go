// Package wiretest builds messages from fuzz input and compares them, for
// the round-trip fuzz tests that protogen generates next to a spec's
// messages (decode(encode(m)) == m for any m the encoder accepts).
//
// It works on any struct by reflection, so that one implementation, tested
// here, serves every generated message: the generated tests stay short, and
// a message type needs no generated filler of its own.
package wiretest

import (
	"encoding/binary"
	"math"
	"reflect"
)

// Fill sets the exported fields of the struct that m points to from data,
// in field order, and returns how many bytes it used. Every value takes
// its bytes from the front of data, so that a fuzzer that changes a byte
// changes one field: an integer takes its size in bytes (little endian), a
// bool one byte, a float its bits; bytes and strings take a length byte
// (255 means a 2-byte length follows) and that many bytes; a list takes a
// count byte (modulo 8) and its items; an array of bytes its size; a
// struct, embedded or not, its fields in order. When data runs out the
// fields left are zero.
func Fill(m any, data []byte) int {
	r := &reader{data: data}
	r.fill(reflect.ValueOf(m).Elem())
	return r.used
}

// reader hands out the bytes of data in order.
type reader struct {
	data []byte
	used int
}

// next returns the next n bytes, zero-padded once data runs out.
func (r *reader) next(n int) []byte {
	out := make([]byte, n)
	r.used += copy(out, r.data[min(r.used, len(r.data)):])
	return out
}

// length reads a length: one byte, or 255 and two more.
func (r *reader) length() int {
	n := int(r.next(1)[0])
	if n == 255 {
		n = int(binary.LittleEndian.Uint16(r.next(2)))
	}
	return n
}

func (r *reader) fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.next(1)[0]&1 == 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(r.uint(int(v.Type().Size())))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		size := int(v.Type().Size())
		u := r.uint(size)
		shift := 64 - 8*size
		v.SetInt(int64(u<<shift) >> shift) // sign-extend
	case reflect.Float32:
		v.SetFloat(float64(math.Float32frombits(uint32(r.uint(4)))))
	case reflect.Float64:
		v.SetFloat(math.Float64frombits(r.uint(8)))
	case reflect.String:
		v.SetString(string(r.next(r.length())))
	case reflect.Array:
		for i := range v.Len() {
			r.fill(v.Index(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(r.next(r.length()))
			return
		}
		n := int(r.next(1)[0] % 8)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			r.fill(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				r.fill(v.Field(i))
			}
		}
	}
}

// uint reads an unsigned integer of size bytes.
func (r *reader) uint(size int) uint64 {
	var b [8]byte
	copy(b[:], r.next(size))
	return binary.LittleEndian.Uint64(b[:])
}

// Equal reports whether a and b hold the same message: the same values,
// where a nil list or byte slice equals an empty one (the wire cannot tell
// them apart) and floats compare by their bits (so that a NaN equals
// itself, as its encoding does).
func Equal(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return equal(va, vb)
}

func equal(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return equal(a.Elem(), b.Elem())
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}
