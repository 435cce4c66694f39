package protoflowtest

import (
	"context"
	"errors"
	"io"

	"github.com/protogen/protogen/runtime/wire"
)

// ErrNoFrame is returned by [Conn.ReadFrame] when the bytes the peer has
// taken hold no complete frame yet.
var ErrNoFrame = errors.New("protoflowtest: no complete frame written yet")

// ReadFrame takes the first frame that the protocol wrote, as codec finds
// frames, and returns a copy of its payload. It returns [ErrNoFrame] if no
// complete frame has been taken by the peer yet; once the write side is
// closed ([Conn.WriteClosed]), [io.EOF] if nothing is left and
// [io.ErrUnexpectedEOF] if only part of a frame is; and codec's error for
// bytes that cannot be a frame, which it leaves in place.
func (c *Conn) ReadFrame(codec wire.Codec) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked()
	return c.readFrameLocked(codec)
}

// AwaitFrame is ReadFrame that waits, while the write side is open, for
// the protocol to write a complete frame, for instance from a goroutine of
// its own; it returns ctx.Err() if ctx ends first.
func (c *Conn) AwaitFrame(ctx context.Context, codec wire.Codec) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		c.settleLocked()
		p, err := c.readFrameLocked(codec)
		if err != ErrNoFrame {
			return p, err
		}
		ch := c.changedLocked()
		c.mu.Unlock()
		select {
		case <-ch:
			c.mu.Lock()
		case <-ctx.Done():
			c.mu.Lock()
			return nil, ctx.Err()
		}
	}
}

// readFrameLocked is ReadFrame with c.mu held.
func (c *Conn) readFrameLocked(codec wire.Codec) ([]byte, error) {
	n, payload, err := codec.Next(c.received, 0)
	switch {
	case err != nil:
		return nil, err
	case n > 0:
		p := append([]byte(nil), payload...)
		c.received = c.received[n:]
		if len(c.received) == 0 {
			c.received = nil
		}
		return p, nil
	case !c.writeClosed:
		return nil, ErrNoFrame
	case len(c.received) == 0:
		return nil, io.EOF
	}
	return nil, io.ErrUnexpectedEOF
}
