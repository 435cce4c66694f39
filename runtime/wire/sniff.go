package wire

import "bytes"

// SniffCodec frames a connection with one of several codecs, chosen by the
// first bytes of the stream and kept for the connection's life: Codecs[i]
// when the stream starts with Magics[i], and the last codec, which has no
// magic, for every other stream. memcached serves its binary protocol
// (whose requests start with 0x80) and its text protocol on one port so.
//
// It holds the choice, so a Framer needs a pointer to it, and one
// connection's: Init a Framer with &c. Its zero value is not usable, and
// its fields must not change once it frames: it validates them once.
type SniffCodec struct {
	// Magics are the first bytes of the streams each codec but the last
	// frames: len(Magics) is len(Codecs)-1.
	Magics [][]byte
	// Codecs are the codecs to choose from.
	Codecs []Codec
	chosen int  // 1 + the index of the codec chosen; 0 before the first bytes
	valid  bool // Validate has passed (check): the configuration does not change once in use
}

// Chosen returns the index of the codec chosen for the stream, or -1
// before the stream has said.
func (c *SniffCodec) Chosen() int { return c.chosen - 1 }

// Validate reports whether c's configuration is usable: at least one codec,
// one magic fewer, none of them empty, and each codec valid.
func (c *SniffCodec) Validate() error {
	switch {
	case len(c.Codecs) == 0:
		return &ConfigError{"SniffCodec", "Codecs", "is empty"}
	case len(c.Magics) != len(c.Codecs)-1:
		return &ConfigError{"SniffCodec", "Magics", "must have one magic for each codec but the last"}
	}
	for _, m := range c.Magics {
		if len(m) == 0 {
			return &ConfigError{"SniffCodec", "Magics", "holds an empty magic"}
		}
	}
	for _, cc := range c.Codecs {
		if v, ok := cc.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// check is Validate, asked once: Next runs for every frame, and Validate
// asks each codec through an interface.
func (c *SniffCodec) check() error {
	if c.valid {
		return nil
	}
	if err := c.Validate(); err != nil {
		return err
	}
	c.valid = true
	return nil
}

// choose picks the codec for a stream that starts with buf, and reports
// whether buf says enough to choose.
func (c *SniffCodec) choose(buf []byte) bool {
	if c.chosen > 0 {
		return true
	}
	for i, m := range c.Magics {
		n := min(len(buf), len(m))
		if !bytes.Equal(buf[:n], m[:n]) {
			continue
		}
		if n < len(m) {
			return false // the stream may yet start with this magic
		}
		c.chosen = i + 1
		return true
	}
	if len(buf) == 0 {
		return false
	}
	c.chosen = len(c.Codecs)
	return true
}

// Next implements [Codec]: the chosen codec's Next, once the first bytes
// have chosen it.
func (c *SniffCodec) Next(buf []byte, scanned int) (n int, payload []byte, err error) {
	if err := c.check(); err != nil {
		return 0, nil, err
	}
	if !c.choose(buf) {
		return 0, nil, nil
	}
	return c.Codecs[c.chosen-1].Next(buf, scanned)
}

// AppendFrame implements [Codec] with the chosen codec, or the last one
// before a choice.
func (c *SniffCodec) AppendFrame(dst, payload []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	return c.current().AppendFrame(dst, payload)
}

func (c *SniffCodec) current() Codec {
	if c.chosen > 0 {
		return c.Codecs[c.chosen-1]
	}
	return c.Codecs[len(c.Codecs)-1]
}

// maxFrameLen is the largest of the codecs', so that the Framer bounds its
// buffer before and after the choice.
func (c *SniffCodec) maxFrameLen() int {
	if c.check() != nil {
		return 0
	}
	most := 0
	for _, cc := range c.Codecs {
		b, ok := cc.(builtinCodec)
		if !ok {
			return 0 // a codec of unknown bound
		}
		most = max(most, b.maxFrameLen())
	}
	return most
}

func (c *SniffCodec) frameLen(buf []byte) int {
	if c.chosen == 0 {
		return 0
	}
	if b, ok := c.current().(builtinCodec); ok {
		return b.frameLen(buf)
	}
	return 0
}

func (c *SniffCodec) tooLarge(buf []byte) FrameTooLargeError {
	if b, ok := c.current().(builtinCodec); ok {
		return b.tooLarge(buf)
	}
	return FrameTooLargeError{}
}
