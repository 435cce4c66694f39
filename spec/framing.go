package spec

import (
	"cmp"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/protogen/protogen/runtime/wire"
)

// Framing is a protocol's framing, resolved to a valid codec of the
// runtime's wire package: the generated code builds Codec as a composite
// literal of its fields that differ from their zero value, and feeds every
// read through a wire.Framer.
type Framing struct {
	Pos Pos // the framing's kind in the spec
	// Kind is the spec's name for the framing: line, delimiter, length or
	// fixed.
	Kind string
	// Codec is the codec, a value of one of the wire package's codec types,
	// configured as the spec says; its Validate accepts it.
	Codec wire.Codec
	// Summary describes the framing in a few words, for doc comments.
	Summary string
}

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

// codecFields maps each field of a codec that a spec sets to its key in
// the spec, so that an error of the codec's Validate points at the setting
// behind it.
var codecFields = map[string]string{
	"CRLF": "crlf", "Keep": "keep", "Max": "max", "Delim": "delimiter",
	"Size": "size", "LittleEndian": "endian", "IncludesHeader": "includes_header",
}

// framingOf decodes the settings v (nil or null for the defaults) of the
// framing kind named at k into a codec, and has the codec check them.
func (d *decoder) framingOf(k *yaml.Node, kind string, v *yaml.Node) *Framing {
	f := &Framing{Pos: posOf(k), Kind: kind}
	if v != nil && isNull(v) {
		v = nil
	}
	what := "framing " + kind
	ok := true
	given := make(map[string]*yaml.Node) // the settings' values, by key
	bad := make(map[string]bool)         // the settings already reported
	// each decodes the settings mapping, when there is one.
	each := func(keys []string, fn func(key string, v *yaml.Node)) {
		if v == nil {
			return
		}
		if !d.mapping(v, what, keys, func(key string, _, val *yaml.Node) {
			given[key] = val
			reported := len(d.errs)
			fn(key, val)
			bad[key] = len(d.errs) > reported
		}) {
			ok = false
		}
	}
	missing := false // a required setting is missing
	switch kind {
	case "line":
		var c wire.LineCodec
		each(lineKeys, func(key string, v *yaml.Node) {
			switch key {
			case "max":
				c.Max, ok = d.frameMax(v, what, c.Max, ok)
			case "crlf":
				c.CRLF, ok = d.boolSetting(v, what+": crlf", c.CRLF, ok)
			case "keep":
				c.Keep, ok = d.boolSetting(v, what+": keep", c.Keep, ok)
			}
		})
		f.Codec = c
		term := `"\n" (a "\r" before it is dropped too)`
		if c.CRLF {
			term = `"\r\n"`
		}
		if c.Keep {
			term += ", kept"
		}
		f.Summary = fmt.Sprintf("lines ending in %s, at most %d bytes each", term, cmp.Or(c.Max, wire.DefaultMaxLine))
	case "delimiter":
		var c wire.DelimiterCodec
		each(delimiterKeys, func(key string, v *yaml.Node) {
			switch key {
			case "delimiter":
				if s, good := d.str(v, what+": delimiter"); good {
					c.Delim = []byte(s)
				} else {
					ok = false
				}
			case "max":
				c.Max, ok = d.frameMax(v, what, c.Max, ok)
			case "keep":
				c.Keep, ok = d.boolSetting(v, what+": keep", c.Keep, ok)
			}
		})
		if given["delimiter"] == nil && ok {
			d.missingf(k, "%s: missing delimiter, as in {delimiter: \"\\0\"}", what)
			missing = true
		}
		f.Codec = c
		f.Summary = fmt.Sprintf("frames ending in %q, at most %d bytes each", c.Delim, cmp.Or(c.Max, wire.DefaultMaxLine))
	case "length":
		c := wire.LengthCodec{Size: 4}
		each(lengthKeys, func(key string, v *yaml.Node) {
			switch key {
			case "size":
				if n, good := d.integer(v, what+": size"); good {
					c.Size = n
				} else {
					ok = false
				}
			case "endian":
				if s, good := d.str(v, what+": endian"); !good {
					ok = false
				} else if s != "big" && s != "little" {
					d.errorf(v, "%s: endian %q: write big or little", what, s)
					ok = false
				} else {
					c.LittleEndian = s == "little"
				}
			case "includes_header":
				c.IncludesHeader, ok = d.boolSetting(v, what+": includes_header", c.IncludesHeader, ok)
			case "max":
				c.Max, ok = d.frameMax(v, what, c.Max, ok)
			}
		})
		if c.Max == 0 && c.MaxPayload() < wire.DefaultMaxLength {
			// The default, cut to what the header can express (MaxPayload
			// is 0 for an invalid codec, reported below): written out, so
			// that the generated code shows the limit.
			c.Max = c.MaxPayload()
		}
		f.Codec = c
		order := "big-endian"
		if c.LittleEndian {
			order = "little-endian"
		}
		counts := "the payload"
		if c.IncludesHeader {
			counts = "the header and the payload"
		}
		f.Summary = fmt.Sprintf("frames after a %d-byte %s length of %s, at most %d bytes of payload each", c.Size, order, counts, c.MaxPayload())
	case "fixed":
		var c wire.FixedCodec
		each(fixedKeys, func(key string, v *yaml.Node) {
			if n, good := d.size(v, what+": size"); good {
				c.Size = n
			} else {
				ok = false
			}
		})
		if given["size"] == nil && ok {
			d.missingf(k, "%s: missing size, as in {size: 16}", what)
			missing = true
		}
		f.Codec = c
		f.Summary = fmt.Sprintf("frames of exactly %d bytes", c.Size)
	}
	// The codec checks the settings that decoded, even when others did not,
	// so that every problem is reported at once.
	if missing || !d.validCodec(k, what, f.Codec, given, bad) || !ok {
		return nil
	}
	return f
}

// validCodec reports whether the codec's own Validate accepts it. If not,
// it reports the codec's error at the setting of the field at fault, or at
// the framing's kind when the spec left that field to its default, unless
// that setting's own error was reported already.
func (d *decoder) validCodec(k *yaml.Node, what string, c wire.Codec, given map[string]*yaml.Node, bad map[string]bool) bool {
	err := c.(interface{ Validate() error }).Validate()
	if err == nil {
		return true
	}
	var ce *wire.ConfigError
	if !errors.As(err, &ce) {
		d.errorf(k, "%s: %v", what, err)
		return false
	}
	key := codecFields[ce.Field]
	if bad[key] {
		return false
	}
	at := k
	if n := given[key]; n != nil {
		at = n
	}
	d.errorf(at, "%s: %s %s", what, key, ce.Reason)
	return false
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
