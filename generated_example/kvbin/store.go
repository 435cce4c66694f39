package kvbin

import (
	"sync"
	"sync/atomic"
	"time"
)

// Version is the protocol version that hello carries.
const Version = "kvbin/1"

// MaxFrame is the largest payload of a frame, as kvbin.yaml sets it.
const MaxFrame = 1 << 20

// HandshakeTimeout is the read timeout of kvbin.yaml: how long a client has
// to say hello.
const HandshakeTimeout = 2 * time.Second

// FrameTimeout is the frame timeout of kvbin.yaml: how long a frame may
// take to arrive once its first bytes have, however slowly it trickles.
const FrameTimeout = 2 * time.Second

// Store is the data that every connection of a server shares. Its methods
// are safe for concurrent use.
type Store struct {
	mu   sync.RWMutex
	data map[string][]byte

	handshakes atomic.Int64 // connections that said hello
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{data: make(map[string][]byte)} }

// Protocol returns a new server protocol on s: the factory to give
// protoflow.NewServer.
func (s *Store) Protocol() *Server {
	p := NewServer()
	p.store = s
	return p
}

// Handshakes returns how many connections have said hello.
func (s *Store) Handshakes() int64 { return s.handshakes.Load() }

func (s *Store) get(key []byte) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[string(key)] // no allocation: the compiler sees the conversion is only a lookup
	return v, ok
}

// set stores a copy of value: the frame it lies in is only valid during the
// callback.
func (s *Store) set(key, value []byte) {
	v := append([]byte(nil), value...)
	s.mu.Lock()
	s.data[string(key)] = v
	s.mu.Unlock()
}

func (s *Store) del(key []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[string(key)]
	delete(s.data, string(key))
	return ok
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.data)
}
