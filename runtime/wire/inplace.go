package wire

// Framing in place: a sender that encodes a message straight into the
// buffer it writes calls BeginFrame, appends the payload, then EndFrame,
// and so frames without a second buffer or a copy. Generated Send methods
// do this. Every codec of this package has both methods.

// BeginFrame appends to dst what precedes a payload: the length header's
// room.
func (c LengthCodec) BeginFrame(dst []byte) []byte {
	if c.Size < 1 || c.Size > 8 {
		return dst // EndFrame's Validate refuses the size
	}
	var zeros [8]byte
	return append(dst, zeros[:c.Size]...)
}

// EndFrame completes the frame that BeginFrame began at dst[start:], with
// the payload after the header's room: it writes the length. It returns
// dst[:start] and the error AppendFrame would for a payload it refuses.
func (c LengthCodec) EndFrame(dst []byte, start int) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst[:start], err
	}
	payload := len(dst) - start - c.Size
	if m := c.maxPayload(); uint64(payload) > m {
		return dst[:start], &FrameTooLargeError{Size: int64(payload), Max: int(m)}
	}
	l := uint64(payload)
	if c.IncludesHeader {
		l += uint64(c.Size)
	}
	putUint(dst[start:], c.Size, c.LittleEndian, l)
	return dst, nil
}

// BeginFrame appends nothing: a line starts with its payload.
func (c LineCodec) BeginFrame(dst []byte) []byte { return dst }

// EndFrame completes the frame whose payload is dst[start:]: it appends
// the terminator, as AppendFrame does, after the same checks.
func (c LineCodec) EndFrame(dst []byte, start int) ([]byte, error) {
	return endInPlace(c, dst, start)
}

// BeginFrame appends nothing: a frame starts with its payload.
func (c DelimiterCodec) BeginFrame(dst []byte) []byte { return dst }

// EndFrame completes the frame whose payload is dst[start:]: it appends
// the delimiter, as AppendFrame does, after the same checks.
func (c DelimiterCodec) EndFrame(dst []byte, start int) ([]byte, error) {
	return endInPlace(c, dst, start)
}

// BeginFrame appends nothing: a frame is its payload.
func (c FixedCodec) BeginFrame(dst []byte) []byte { return dst }

// EndFrame checks that dst[start:] is a frame of Size bytes.
func (c FixedCodec) EndFrame(dst []byte, start int) ([]byte, error) {
	return endInPlace(c, dst, start)
}

// BeginFrame appends nothing: a message holds its own header.
func (c HeaderCodec) BeginFrame(dst []byte) []byte { return dst }

// EndFrame writes the length field of the message dst[start:].
func (c HeaderCodec) EndFrame(dst []byte, start int) ([]byte, error) {
	return endInPlace(c, dst, start)
}

// BeginFrame appends nothing: a frame starts with its line.
func (c BlockCodec) BeginFrame(dst []byte) []byte { return dst }

// EndFrame completes the frame dst[start:], as AppendFrame does.
func (c BlockCodec) EndFrame(dst []byte, start int) ([]byte, error) {
	return endInPlace(c, dst, start)
}

// endInPlace is EndFrame for a codec whose frame starts with its payload:
// AppendFrame of the payload onto itself, which moves nothing.
func endInPlace[C Codec](c C, dst []byte, start int) ([]byte, error) {
	out, err := c.AppendFrame(dst[:start], dst[start:])
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}
