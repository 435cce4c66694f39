package kvbin

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/protoflowtest"
	"github.com/protogen/protogen/runtime/wire"
)

// The generated decoders and encoders side by side with the hand-written
// code that kvbin had before its messages were generated (kept here, from
// kvbin_hooks.go at 4696254, as the baseline), on the same frames. Both
// must allocate nothing; .ci/run's allocation guard runs them.

// benchFrames are the payloads of a get, a set and a del.
var benchFrames = func() [][]byte {
	get, _ := (&Get{Key: []byte("some-key")}).Append(nil)
	set, _ := (&Set{Key: []byte("some-key"), Value: make([]byte, 100)}).Append(nil)
	del, _ := (&Del{Key: []byte("some-key")}).Append(nil)
	return [][]byte{get, set, del}
}()

// sink keeps results alive, so that the compiler cannot drop the work.
var sink int

func BenchmarkDecode(b *testing.B) {
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			frame := benchFrames[i%len(benchFrames)]
			switch frame[0] {
			case 'G':
				var m Get
				if m.Decode(frame) == nil {
					sink += len(m.Key)
				}
			case 'S':
				var m Set
				if m.Decode(frame) == nil {
					sink += len(m.Key) + len(m.Value)
				}
			case 'D':
				var m Del
				if m.Decode(frame) == nil {
					sink += len(m.Key)
				}
			}
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			frame := benchFrames[i%len(benchFrames)]
			op, body := frame[0], frame[1:]
			switch op {
			case 'G', 'D':
				sink += len(body)
			case 'S':
				if key, value, ok := handSplitSet(body); ok {
					sink += len(key) + len(value)
				}
			}
		}
	})
}

// handSplitSet is the hand-written parser of a set's body.
func handSplitSet(body []byte) (key, value []byte, ok bool) {
	if len(body) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(body))
	if n == 0 || len(body) < 2+n {
		return nil, nil, false
	}
	return body[2 : 2+n], body[2+n:], true
}

// BenchmarkEncode encodes and frames a Value reply of 100 bytes into a
// reused buffer and writes it, as a Send method does (in place, in a pooled
// buffer) and as the hand-written send did (a reply buffer of the
// connection's, copied into a frame by WriteFrame).
func BenchmarkEncode(b *testing.B) {
	value := make([]byte, 100)
	codec := wire.LengthCodec{Size: 4, Max: MaxFrame}
	var w io.Writer = io.Discard
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			// What SendValue does, less its Transport lookup.
			buf := wire.GetBuffer()
			out, err := (&Value{Value: value}).Append(serverSendCodec.BeginFrame((*buf)[:0]))
			if err == nil {
				out, err = serverSendCodec.EndFrame(out, 0)
			}
			if err == nil {
				_, err = w.Write(out)
			}
			wire.PutBuffer(buf, out)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		var reply []byte
		var c wire.Codec = codec
		for range b.N {
			reply = append(append(reply[:0], 'V'), value...)
			if err := wire.WriteFrame(w, c, reply); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// readyServer returns a server past its handshake, on a Discard transport,
// with the key of benchFrames stored.
func readyServer(b *testing.B) *Server {
	store := NewStore()
	store.set([]byte("some-key"), make([]byte, 100))
	p := store.Protocol()
	p.ConnectionMade(&protoflowtest.Discard{})
	if err := p.Fire(ServerEventHello); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkDispatch serves a get, a set and a del in turn, each from its
// frame to the reply written: generated (decode, the machine's event, the
// hook, the Send) against the hand-written onFrameReceived of 4696254.
func BenchmarkDispatch(b *testing.B) {
	b.Run("generated", func(b *testing.B) {
		p := readyServer(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			p.dispatch(benchFrames[i%len(benchFrames)])
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		p := &handServer{Server: readyServer(b)}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			p.onFrameReceived(benchFrames[i%len(benchFrames)])
		}
	})
}

// handServer serves as kvbin's hand-written hooks did.
type handServer struct {
	*Server
	reply []byte // reused buffer for the payload of one reply
}

func (p *handServer) onFrameReceived(frame []byte) {
	t := p.Transport()
	if len(frame) == 0 {
		p.send(t, 'E', []byte("empty request"))
		return
	}
	op, body := frame[0], frame[1:]
	event := ServerEventRequest
	switch op {
	case 'H':
		event = ServerEventHello
	case 'Q':
		event = ServerEventQuit
	}
	if err := p.Fire(event); err != nil {
		p.send(t, 'E', []byte(err.Error()))
		t.Close()
		return
	}
	switch op {
	case 'G':
		if v, ok := p.store.get(body); ok {
			p.send(t, 'V', v)
		} else {
			p.send(t, 'N', nil)
		}
	case 'S':
		key, value, ok := handSplitSet(body)
		if !ok {
			p.send(t, 'E', []byte("malformed set"))
			return
		}
		p.store.set(key, value)
		p.send(t, 'O', nil)
	case 'D':
		if p.store.del(body) {
			p.send(t, 'O', nil)
		} else {
			p.send(t, 'N', nil)
		}
	}
	if p.WritingPaused() {
		p.PauseReading()
	}
}

func (p *handServer) send(t protoflow.Transport, op byte, body []byte) {
	p.reply = append(append(p.reply[:0], op), body...)
	_ = wire.WriteFrame(t, handCodec, p.reply)
}

var handCodec wire.Codec = wire.LengthCodec{Size: 4, Max: MaxFrame}
