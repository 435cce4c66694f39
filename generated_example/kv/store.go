package kv

import "sync"

// MaxLine is the longest request or reply line, terminator included. A
// server closes a connection that sends a longer one.
const MaxLine = 64 * 1024

// Store holds the data that every connection of a server shares. It is
// safe for concurrent use.
type Store struct {
	mu   sync.RWMutex
	data map[string]string
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{data: make(map[string]string)}
}

// Protocol returns a new Server protocol on this store: pass the method
// value s.Protocol to protoflow.NewServer as the factory.
func (s *Store) Protocol() *Server {
	p := NewServer()
	p.store = s
	return p
}

// Set stores value under key.
func (s *Store) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = value
}

// Get returns the value under key.
func (s *Store) Get(key string) (string, bool) {
	return s.Lookup([]byte(key))
}

// Lookup is Get for a key in bytes; it does not allocate.
func (s *Store) Lookup(key []byte) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[string(key)]
	return v, ok
}

// Del deletes key and reports whether it existed.
func (s *Store) Del(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[key]
	delete(s.data, key)
	return ok
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.data)
}
