package memcached

// The hooks of the generated Server: one short method per command of each
// protocol, which asks the cache and sends the reply. Parsing, encoding,
// framing, the choice of protocol by the first byte and the pause of
// reading while replies back up are generated from memcached.yaml.

import (
	"errors"

	"github.com/protogen/protogen/runtime/protoflow"
	"github.com/protogen/protogen/runtime/wire"
)

func (p *Server) onConnectionMade(t protoflow.Transport) {
	p.cache.Counters.currConns.Add(1)
	p.cache.Counters.totalConns.Add(1)
}

func (p *Server) onConnectionLost(err error) { p.cache.Counters.currConns.Add(-1) }

// The text protocol.

func (p *Server) onGet(m *Get)   { p.get(m.Keys, false, false, 0) }
func (p *Server) onGets(m *Gets) { p.get(m.Keys, true, false, 0) }
func (p *Server) onGat(m *Gat)   { p.get(m.Keys, false, true, m.Exptime) }
func (p *Server) onGats(m *Gats) { p.get(m.Keys, true, true, m.Exptime) }

// get sends a VALUE for each key found, then END; with touch, it sets
// their expiry time too. A get without keys is an ERROR; a gat without
// keys finds none, as memcached answers them.
func (p *Server) get(keys [][]byte, withCas, touch bool, exptime int32) {
	if len(keys) == 0 && !touch {
		p.SendError(&Error{})
		return
	}
	for _, k := range keys {
		if it, ok := p.cache.Get(k, touch, int64(exptime)); ok {
			p.SendValue(&Value{Key: k, Flags: it.Flags, Cas: it.Cas, HasCas: withCas, Data: it.Value})
		}
	}
	p.SendEnd(&End{})
}

func (p *Server) onSet(m *Set) { p.store(ModeSet, m.Key, m.Flags, m.Exptime, m.Data, 0, m.Noreply) }
func (p *Server) onAdd(m *Add) { p.store(ModeAdd, m.Key, m.Flags, m.Exptime, m.Data, 0, m.Noreply) }
func (p *Server) onReplace(m *Replace) {
	p.store(ModeReplace, m.Key, m.Flags, m.Exptime, m.Data, 0, m.Noreply)
}
func (p *Server) onAppend(m *Append) {
	p.store(ModeAppend, m.Key, m.Flags, m.Exptime, m.Data, 0, m.Noreply)
}
func (p *Server) onPrepend(m *Prepend) {
	p.store(ModePrepend, m.Key, m.Flags, m.Exptime, m.Data, 0, m.Noreply)
}
func (p *Server) onCas(m *Cas) {
	p.store(ModeCas, m.Key, m.Flags, m.Exptime, m.Data, m.CasUnique, m.Noreply)
}

func (p *Server) store(mode StoreMode, key []byte, flags uint32, exptime int32, data []byte, cas uint64, noreply bool) {
	r, _ := p.cache.Store(mode, key, flags, int64(exptime), data, cas)
	if noreply {
		return
	}
	switch r {
	case StoreOK:
		p.SendStored(&Stored{})
	case StoreNotStored:
		p.SendNotStored(&NotStored{})
	case StoreExists:
		p.SendExists(&Exists{})
	case StoreNotFound:
		p.SendNotFound(&NotFound{})
	case StoreTooLarge:
		p.SendServerError(&ServerError{Message: "object too large for cache"})
	case StoreNoMemory:
		p.SendServerError(&ServerError{Message: "out of memory storing object"})
	}
}

func (p *Server) onDelete(m *Delete) {
	switch {
	case m.HasHold && m.Hold != 0:
		p.clientError(m.Noreply, "bad command line format.  Usage: delete <key> [noreply]")
	case m.Noreply:
		p.cache.Delete(m.Key, 0)
	default:
		if found, _ := p.cache.Delete(m.Key, 0); found {
			p.SendDeleted(&Deleted{})
		} else {
			p.SendNotFound(&NotFound{})
		}
	}
}

func (p *Server) onIncr(m *Incr) { p.delta(m.Key, true, m.Delta, m.Noreply) }
func (p *Server) onDecr(m *Decr) { p.delta(m.Key, false, m.Delta, m.Noreply) }

func (p *Server) delta(key []byte, incr bool, delta uint64, noreply bool) {
	v, _, r := p.cache.Delta(key, incr, delta, 0)
	switch {
	case noreply:
	case r == DeltaOK:
		p.SendNumber(&Number{Value: v})
	case r == DeltaNotFound:
		p.SendNotFound(&NotFound{})
	default:
		p.SendClientError(&ClientError{Message: "cannot increment or decrement non-numeric value"})
	}
}

func (p *Server) onTouch(m *Touch) {
	switch ok := p.cache.Touch(m.Key, int64(m.Exptime)); {
	case m.Noreply:
	case ok:
		p.SendTouched(&Touched{})
	default:
		p.SendNotFound(&NotFound{})
	}
}

func (p *Server) onFlushAll(m *FlushAll) {
	p.cache.FlushAll(int64(m.Exptime))
	if !m.Noreply {
		p.SendOK(&OK{})
	}
}

func (p *Server) onVersion(m *Version) {
	p.SendVersionReply(&VersionReply{Version: p.cache.version})
}

func (p *Server) onVerbosity(m *Verbosity) {
	if !m.Noreply {
		p.SendOK(&OK{})
	}
}

func (p *Server) onStats(m *Stats) {
	switch {
	case len(m.Args) == 0:
		for _, s := range p.cache.General() {
			p.SendStat(&s)
		}
		p.SendEnd(&End{})
	case string(m.Args[0]) == "reset":
		p.cache.ResetCounters()
		p.SendReset(&Reset{})
	default:
		p.SendError(&Error{})
	}
}

func (p *Server) onQuit(m *Quit) { p.Transport().Close() }

func (p *Server) clientError(noreply bool, msg string) {
	if !noreply {
		p.SendClientError(&ClientError{Message: msg})
	}
}

// onBadMessage answers a text command that does not parse with
// memcached's reply for it, and goes on. A binary request that does not
// decode, and a frame over its maximum, end the connection.
func (p *Server) onBadMessage(err error) bool {
	var de *wire.DecodeError
	var fe *wire.FrameTooLargeError
	switch {
	case p.codec.Chosen() != 1:
		return false
	case errors.As(err, &fe):
		if fe.Max != textMaxLine {
			p.SendServerError(&ServerError{Message: "object too large for cache"})
		}
		return true // the connection closes once the reply is flushed
	case !errors.As(err, &de):
		return false
	}
	if reply := textError(de); reply != "" {
		p.SendClientError(&ClientError{Message: reply})
	} else {
		p.SendError(&Error{})
	}
	return true
}

// textMaxLine is the spec's longest line: the text framer's maximum. It
// holds a gets of max_items (1024) keys of 250 bytes, since memcached
// reads a multiget line of any length.
const textMaxLine = 256 << 10

// textError returns the CLIENT_ERROR that memcached answers a malformed
// command with, or "" for its ERROR.
func textError(de *wire.DecodeError) string {
	switch {
	case errors.Is(de, wire.ErrUnknownMessage), errors.Is(de, wire.ErrMissing), errors.Is(de, wire.ErrTrailing):
		return "" // a command memcached does not know, or with a wrong number of tokens
	case de.Field == "data":
		return "bad data chunk"
	case de.Field == "delta":
		return "invalid numeric delta argument"
	case de.Field == "exptime" && de.Message != "Set" && de.Message != "Add" && de.Message != "Replace" &&
		de.Message != "Append" && de.Message != "Prepend" && de.Message != "Cas":
		return "invalid exptime argument"
	case de.Message == "Delete" && de.Field != "key":
		return "bad command line format.  Usage: delete <key> [noreply]"
	}
	return "bad command line format"
}

// The binary protocol.

// binResult sends the response to a request other than a get, gat, touch,
// incr or decr, whose header is h, unless it is quiet and succeeded.
func (p *Server) binResult(h BinaryHeader, op Opcode, status Status, cas uint64, value []byte) {
	switch {
	case status != StatusOk:
		p.binError(h, op, status)
	case !quiet(op):
		p.SendBinResult(&BinResult{BinaryReplyHeader: BinaryReplyHeader{Opaque: h.Opaque, Cas: cas}, Opcode: op, Value: value})
	}
}

// binError sends an error status, with memcached's text for it, in the
// response message of op's shape.
func (p *Server) binError(h BinaryHeader, op Opcode, status Status) {
	hdr := BinaryReplyHeader{Status: status, Opaque: h.Opaque}
	text := []byte(statusText(status))
	switch op {
	case OpcodeGet, OpcodeGetq, OpcodeGetk, OpcodeGetkq, OpcodeTouch, OpcodeGat, OpcodeGatq, OpcodeGatk, OpcodeGatkq:
		p.SendBinItem(&BinItem{BinaryReplyHeader: hdr, Opcode: op, Value: text})
	case OpcodeIncrement, OpcodeIncrementq, OpcodeDecrement, OpcodeDecrementq:
		p.SendBinCounter(&BinCounter{BinaryReplyHeader: hdr, Opcode: op, Message: text})
	default:
		p.SendBinResult(&BinResult{BinaryReplyHeader: hdr, Opcode: op, Value: text})
	}
}

// binInvalid answers a request whose lengths memcached refuses, and
// closes the connection, as memcached does.
func (p *Server) binInvalid(h BinaryHeader, op Opcode) {
	p.binError(h, op, StatusInvalidArguments)
	p.Transport().Close()
}

func quiet(op Opcode) bool {
	switch op {
	case OpcodeGetq, OpcodeGetkq, OpcodeSetq, OpcodeAddq, OpcodeReplaceq, OpcodeDeleteq, OpcodeIncrementq,
		OpcodeDecrementq, OpcodeQuitq, OpcodeFlushq, OpcodeAppendq, OpcodePrependq, OpcodeGatq, OpcodeGatkq:
		return true
	}
	return false
}

// statusText is memcached's text for a status.
func statusText(s Status) string {
	switch s {
	case StatusKeyNotFound:
		return "Not found"
	case StatusKeyExists:
		return "Data exists for key."
	case StatusTooLarge:
		return "Too large."
	case StatusInvalidArguments:
		return "Invalid arguments"
	case StatusNotStored:
		return "Not stored."
	case StatusNonNumeric:
		return "Non-numeric server-side value for incr or decr"
	case StatusUnknownCommand:
		return "Unknown command"
	case StatusOutOfMemory:
		return "Out of memory"
	}
	return ""
}

func (p *Server) onBinGet(m *BinGet) {
	if len(m.Key) == 0 {
		p.binInvalid(m.BinaryHeader, m.Opcode)
		return
	}
	p.binItem(m.BinaryHeader, m.Opcode, m.Key, false, 0)
}

func (p *Server) onBinTouch(m *BinTouch) {
	if len(m.Key) == 0 {
		p.binInvalid(m.BinaryHeader, m.Opcode)
		return
	}
	p.binItem(m.BinaryHeader, m.Opcode, m.Key, true, int64(m.Expiry))
}

// binItem answers a get, gat or touch.
func (p *Server) binItem(h BinaryHeader, op Opcode, key []byte, touch bool, exptime int64) {
	it, ok := p.cache.Get(key, touch, exptime)
	withKey := op == OpcodeGetk || op == OpcodeGetkq || op == OpcodeGatk || op == OpcodeGatkq
	r := BinItem{BinaryReplyHeader: BinaryReplyHeader{Opaque: h.Opaque}, Opcode: op}
	switch {
	case ok:
		r.Cas, r.Flags = it.Cas, it.Flags
		if op != OpcodeTouch {
			r.Value = it.Value
		}
		if withKey {
			r.Key = key
		}
	case quiet(op):
		return // a quiet get answers only a hit
	case withKey:
		r.Status, r.Key = StatusKeyNotFound, key // memcached sends the key, without the text
	default:
		p.binError(h, op, StatusKeyNotFound)
		return
	}
	p.SendBinItem(&r)
}

func (p *Server) onBinSet(m *BinSet) {
	if len(m.Key) == 0 {
		p.binInvalid(m.BinaryHeader, m.Opcode)
		return
	}
	mode := ModeSet
	switch m.Opcode {
	case OpcodeAdd, OpcodeAddq:
		mode = ModeAdd
	case OpcodeReplace, OpcodeReplaceq:
		mode = ModeReplace
	}
	if m.Cas != 0 {
		mode = ModeCas
	}
	p.binStore(m.BinaryHeader, m.Opcode, mode, m.Key, m.Flags, int64(m.Expiry), m.Value)
}

func (p *Server) onBinAppend(m *BinAppend) {
	if len(m.Key) == 0 {
		p.binInvalid(m.BinaryHeader, m.Opcode)
		return
	}
	mode := ModeAppend
	if m.Opcode == OpcodePrepend || m.Opcode == OpcodePrependq {
		mode = ModePrepend
	}
	p.binStore(m.BinaryHeader, m.Opcode, mode, m.Key, 0, 0, m.Value)
}

func (p *Server) binStore(h BinaryHeader, op Opcode, mode StoreMode, key []byte, flags uint32, exptime int64, value []byte) {
	r, cas := p.cache.Store(mode, key, flags, exptime, value, h.Cas)
	status := StatusOk
	switch r {
	case StoreExists:
		status = StatusKeyExists
	case StoreNotFound:
		status = StatusKeyNotFound
	case StoreTooLarge:
		status = StatusTooLarge
	case StoreNoMemory:
		status = StatusOutOfMemory
	case StoreNotStored:
		switch mode {
		case ModeAdd:
			status = StatusKeyExists
		case ModeReplace:
			status = StatusKeyNotFound
		default:
			status = StatusNotStored
		}
	}
	p.binResult(h, op, status, cas, nil)
}

func (p *Server) onBinDelete(m *BinDelete) {
	if len(m.Key) == 0 {
		p.binInvalid(m.BinaryHeader, m.Opcode)
		return
	}
	status := StatusOk
	switch found, ok := p.cache.Delete(m.Key, m.Cas); {
	case !found:
		status = StatusKeyNotFound
	case !ok:
		status = StatusKeyExists
	}
	p.binResult(m.BinaryHeader, m.Opcode, status, 0, nil)
}

func (p *Server) onBinIncr(m *BinIncr) {
	if len(m.Key) == 0 {
		p.binInvalid(m.BinaryHeader, m.Opcode)
		return
	}
	incr := m.Opcode == OpcodeIncrement || m.Opcode == OpcodeIncrementq
	v, cas, r := p.cache.Delta(m.Key, incr, m.Delta, m.Cas)
	status := StatusOk
	switch r {
	case DeltaNotFound:
		if m.Expiry == 0xffffffff {
			status = StatusKeyNotFound
		} else if c, ok := p.cache.Create(m.Key, m.Initial, int64(m.Expiry)); ok {
			v, cas = m.Initial, c
		} else {
			status = StatusNotStored
		}
	case DeltaNonNumeric:
		status = StatusNonNumeric
	case DeltaExists:
		status = StatusKeyExists
	}
	switch {
	case status != StatusOk:
		p.binError(m.BinaryHeader, m.Opcode, status)
	case !quiet(m.Opcode):
		p.SendBinCounter(&BinCounter{BinaryReplyHeader: BinaryReplyHeader{Opaque: m.Opaque, Cas: cas}, Opcode: m.Opcode, Value: v})
	}
}

func (p *Server) onBinQuit(m *BinQuit) {
	p.binResult(m.BinaryHeader, m.Opcode, StatusOk, 0, nil)
	p.Transport().Close()
}

func (p *Server) onBinFlush(m *BinFlush) {
	var exptime int64
	if len(m.Expiry) > 0 {
		exptime = int64(m.Expiry[0])
	}
	p.cache.FlushAll(exptime)
	p.binResult(m.BinaryHeader, m.Opcode, StatusOk, 0, nil)
}

func (p *Server) onBinNoop(m *BinNoop) { p.binResult(m.BinaryHeader, OpcodeNoop, StatusOk, 0, nil) }

func (p *Server) onBinVersion(m *BinVersion) {
	p.binResult(m.BinaryHeader, OpcodeVersion, StatusOk, 0, []byte(p.cache.version))
}

func (p *Server) onBinStat(m *BinStat) {
	h := BinaryReplyHeader{Opaque: m.Opaque}
	switch string(m.Key) {
	case "":
		for _, s := range p.cache.General() {
			p.SendBinResult(&BinResult{BinaryReplyHeader: h, Opcode: OpcodeStat, Key: []byte(s.Name), Value: []byte(s.Value)})
		}
	case "reset":
		p.cache.ResetCounters()
	default:
		p.binError(m.BinaryHeader, OpcodeStat, StatusKeyNotFound)
		return
	}
	p.SendBinResult(&BinResult{BinaryReplyHeader: h, Opcode: OpcodeStat})
}
