package redis

import (
	"sync"
	"time"
)

// DB is the keyspace that every connection of a server shares: string
// keys and values, with expiry times. Its methods are safe for concurrent
// use. Readers copy what they read while they hold the lock, into a reply
// buffer or the transport, so a writer may reuse a value's memory.
type DB struct {
	limits Limits

	mu     sync.RWMutex
	m      map[string]*entry
	writes int // writes since the last sweep of expired keys
}

// entry is a value and when it expires: Unix milliseconds, 0 for never.
type entry struct {
	val      []byte
	expireAt int64
}

// sweepEvery and sweepSample set how often a write looks for expired keys,
// and how many keys it looks at: a bounded version of Redis's active
// expiry, so that keys set with EX and never read again do not stay
// forever.
const (
	sweepEvery  = 64
	sweepSample = 20
)

// NewDB returns an empty keyspace whose connections use the default
// [Limits].
func NewDB() *DB { return NewDBWithLimits(Limits{}) }

// NewDBWithLimits returns an empty keyspace whose connections refuse
// commands over limits.
func NewDBWithLimits(limits Limits) *DB {
	return &DB{limits: limits.withDefaults(), m: make(map[string]*entry)}
}

// Protocol returns a new server protocol on db: the factory to give
// protoflow.NewServer.
func (db *DB) Protocol() *Server {
	p := NewServer()
	p.db = db
	return p
}

// Len returns the number of keys, counting those that have expired but
// were not removed yet, as Redis's DBSIZE does.
func (db *DB) Len() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return len(db.m)
}

// now returns the time in Unix milliseconds, the unit of expireAt.
func now() int64 { return time.Now().UnixMilli() }

// live returns the entry of key unless it is missing or has expired.
// db.mu must be held.
func (db *DB) live(key []byte) *entry {
	e := db.m[string(key)] // no allocation: a conversion only for a lookup
	if e == nil || e.expireAt != 0 && e.expireAt <= now() {
		return nil
	}
	return e
}

// liveLocked is live for a writer, which removes an expired entry.
func (db *DB) liveLocked(key []byte) *entry {
	e := db.m[string(key)]
	if e != nil && e.expireAt != 0 && e.expireAt <= now() {
		delete(db.m, string(key))
		return nil
	}
	return e
}

// setLocked stores a copy of val under key with the expiry time expireAt,
// reusing the memory of the value it replaces when that is not much
// bigger. It returns the entry. db.mu must be held for writing.
func (db *DB) setLocked(key, val []byte, expireAt int64) *entry {
	e := db.m[string(key)]
	if e == nil {
		e = &entry{}
		db.m[string(key)] = e
		db.maybeSweepLocked()
	}
	if cap(e.val) >= len(val) && cap(e.val) <= 2*len(val)+64 {
		e.val = append(e.val[:0], val...)
	} else {
		e.val = append([]byte(nil), val...)
	}
	e.expireAt = expireAt
	return e
}

// maybeSweepLocked removes some expired keys every sweepEvery new keys.
// Go's map iteration starts at a random place, so each sweep samples a
// different part of the keyspace.
func (db *DB) maybeSweepLocked() {
	if db.writes++; db.writes < sweepEvery {
		return
	}
	db.writes = 0
	t, seen := now(), 0
	for k, e := range db.m {
		if e.expireAt != 0 && e.expireAt <= t {
			delete(db.m, k)
		}
		if seen++; seen == sweepSample {
			break
		}
	}
}
