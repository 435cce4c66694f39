package spec

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Framing is a protocol's framing, resolved to one of the runtime's codecs:
// the generated code builds the codec as a composite literal of type Codec
// with Fields, and feeds every read through a wire.Framer.
type Framing struct {
	Pos Pos // the framing's kind in the spec
	// Kind is the spec's name for the framing: line, delimiter, length or
	// fixed.
	Kind string
	// Codec is the runtime's codec type, such as "LineCodec".
	Codec string
	// Fields are the codec's fields that differ from their zero value, in
	// the order the codec declares them.
	Fields []CodecField
	// Summary describes the framing in a few words, for doc comments.
	Summary string
}

// CodecField is one field of a codec literal. Value is an int, a bool, or
// a string that the codec holds as []byte.
type CodecField struct {
	Name  string // the field of the codec, such as "Max"
	Value any    // its value
}

// Default maximum frame sizes, as the runtime's codecs apply them: 64 KiB
// for a line (asyncio's stream limit) and 8 MiB for a length-prefixed frame
// (tokio's LengthDelimitedCodec).
const (
	defaultMaxLine   = 64 << 10
	defaultMaxLength = 8 << 20
)

// framingKinds are the keys of a framing mapping; exactly one is given.
var framingKinds = []string{"line", "delimiter", "length", "fixed"}

// Keys of each kind's settings.
var (
	lineKeys      = []string{"max", "crlf", "keep"}
	delimiterKeys = []string{"delimiter", "max", "keep"}
	lengthKeys    = []string{"size", "endian", "includes_header", "max"}
	fixedKeys     = []string{"size"}
)

// framing decodes a protocol's framing: a mapping with one kind as its key
// ({line: {max: 8KiB}}), or just the kind's name for its defaults (line).
func (d *decoder) framing(n *yaml.Node) *Framing {
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		kind, ok := d.str(n, "framing")
		if !ok {
			return nil
		}
		if !isFramingKind(kind) {
			d.errorf(n, "unknown framing %q%s (framings are %s)", kind, didYouMean(kind, framingKinds), listWords(framingKinds))
			return nil
		}
		return d.framingOf(n, kind, nil)
	}
	var f *Framing
	count := 0
	if !d.mapping(n, "framing", framingKinds, func(key string, k, v *yaml.Node) {
		count++
		if count == 2 {
			d.errorf(k, "framing: %s is a second framing; give exactly one of %s", key, listWords(framingKinds))
		}
		if count == 1 {
			f = d.framingOf(k, key, v)
		}
	}) {
		return nil
	}
	if count == 0 && len(n.Content) == 0 { // else its unknown keys are reported
		d.errorf(n, "framing: give one of %s", listWords(framingKinds))
		return nil
	}
	if count > 1 {
		return nil
	}
	return f
}

func isFramingKind(s string) bool {
	for _, k := range framingKinds {
		if k == s {
			return true
		}
	}
	return false
}

// framingOf decodes the settings v (nil or null for the defaults) of the
// framing kind named at k.
func (d *decoder) framingOf(k *yaml.Node, kind string, v *yaml.Node) *Framing {
	f := &Framing{Pos: posOf(k), Kind: kind}
	if v != nil && isNull(v) {
		v = nil
	}
	what := "framing " + kind
	ok := true
	// each decodes the settings mapping, when there is one.
	each := func(keys []string, fn func(key string, v *yaml.Node)) {
		if v == nil {
			return
		}
		if !d.mapping(v, what, keys, func(key string, _, val *yaml.Node) { fn(key, val) }) {
			ok = false
		}
	}
	switch kind {
	case "line":
		var crlf, keep bool
		max := defaultMaxLine
		each(lineKeys, func(key string, v *yaml.Node) {
			switch key {
			case "max":
				max, ok = d.frameMax(v, what, max, ok)
			case "crlf":
				crlf, ok = d.boolSetting(v, what+": crlf", crlf, ok)
			case "keep":
				keep, ok = d.boolSetting(v, what+": keep", keep, ok)
			}
		})
		f.Codec = "LineCodec"
		f.add("CRLF", crlf)
		f.add("Keep", keep)
		f.addMax(max, defaultMaxLine)
		term := `"\n" (a "\r" before it is dropped too)`
		if crlf {
			term = `"\r\n"`
		}
		if keep {
			term += ", kept"
		}
		f.Summary = fmt.Sprintf("lines ending in %s, at most %d bytes each", term, max)
	case "delimiter":
		var delim string
		var keep bool
		max := defaultMaxLine
		given := false
		each(delimiterKeys, func(key string, v *yaml.Node) {
			switch key {
			case "delimiter":
				given = true
				if s, good := d.str(v, what+": delimiter"); !good {
					ok = false
				} else if s == "" {
					d.errorf(v, "%s: delimiter is empty", what)
					ok = false
				} else {
					delim = s
				}
			case "max":
				max, ok = d.frameMax(v, what, max, ok)
			case "keep":
				keep, ok = d.boolSetting(v, what+": keep", keep, ok)
			}
		})
		if !given && ok {
			d.errorf(k, "%s: missing delimiter, as in {delimiter: \"\\0\"}", what)
			ok = false
		}
		f.Codec = "DelimiterCodec"
		f.add("Delim", delim)
		f.add("Keep", keep)
		f.addMax(max, defaultMaxLine)
		f.Summary = fmt.Sprintf("frames ending in %q, at most %d bytes each", delim, max)
	case "length":
		size, little, includes := 4, false, false
		max := defaultMaxLength
		maxGiven := false
		each(lengthKeys, func(key string, v *yaml.Node) {
			switch key {
			case "size":
				if n, good := d.integer(v, what+": size"); !good {
					ok = false
				} else if n != 1 && n != 2 && n != 4 && n != 8 {
					d.errorf(v, "%s: size %d: the length header is 1, 2, 4 or 8 bytes", what, n)
					ok = false
				} else {
					size = n
				}
			case "endian":
				if s, good := d.str(v, what+": endian"); !good {
					ok = false
				} else if s != "big" && s != "little" {
					d.errorf(v, "%s: endian %q: write big or little", what, s)
					ok = false
				} else {
					little = s == "little"
				}
			case "includes_header":
				includes, ok = d.boolSetting(v, what+": includes_header", includes, ok)
			case "max":
				maxGiven = true
				max, ok = d.frameMax(v, what, max, ok)
			}
		})
		if ok && size < 8 {
			limit := 1<<(8*size) - 1
			if includes {
				limit -= size
			}
			switch {
			case max <= limit:
			case maxGiven:
				d.errorf(k, "%s: max %d cannot be written in a %d-byte header", what, max, size)
				ok = false
			default:
				max = limit // the default, cut to what the header can say
			}
		}
		f.Codec = "LengthCodec"
		f.add("Size", size)
		f.add("LittleEndian", little)
		f.add("IncludesHeader", includes)
		f.addMax(max, defaultMaxLength)
		order := "big-endian"
		if little {
			order = "little-endian"
		}
		counts := "the payload"
		if includes {
			counts = "the header and the payload"
		}
		f.Summary = fmt.Sprintf("frames after a %d-byte %s length of %s, at most %d bytes of payload each", size, order, counts, max)
	case "fixed":
		size := 0
		each(fixedKeys, func(key string, v *yaml.Node) {
			if n, good := d.size(v, what+": size"); !good {
				ok = false
			} else if n <= 0 {
				d.errorf(v, "%s: size must be at least 1", what)
				ok = false
			} else {
				size = n
			}
		})
		if size == 0 && ok {
			d.errorf(k, "%s: missing size, as in {size: 16}", what)
			ok = false
		}
		f.Codec = "FixedCodec"
		f.add("Size", size)
		f.Summary = fmt.Sprintf("frames of exactly %d bytes", size)
	}
	if !ok {
		return nil
	}
	return f
}

// add records a codec field unless it holds its zero value.
func (f *Framing) add(name string, value any) {
	switch v := value.(type) {
	case bool:
		if !v {
			return
		}
	case int:
		if v == 0 {
			return
		}
	case string:
		if v == "" {
			return
		}
	}
	f.Fields = append(f.Fields, CodecField{name, value})
}

// addMax records Max unless it is the codec's default, which the runtime
// applies to a zero Max.
func (f *Framing) addMax(max, def int) {
	if max != def {
		f.add("Max", max)
	}
}

// frameMax decodes a maximum frame size; ok carries the decoding's state.
func (d *decoder) frameMax(v *yaml.Node, what string, cur int, ok bool) (int, bool) {
	n, good := d.size(v, what+": max")
	switch {
	case !good:
		return cur, false
	case n <= 0:
		d.errorf(v, "%s: max must be at least 1 byte", what)
		return cur, false
	}
	return n, ok
}

// boolSetting decodes a boolean setting; ok carries the decoding's state.
func (d *decoder) boolSetting(v *yaml.Node, what string, cur, ok bool) (bool, bool) {
	b, good := d.boolean(v, what)
	if !good {
		return cur, false
	}
	return b, ok
}
