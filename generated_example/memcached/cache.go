package memcached

import (
	"hash/maphash"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The cache behind every connection: items under keys, with memcached's
// semantics for expiry times, CAS values and flush_all, bounded by a memory
// limit, evicting the least recently used items first. Recency is kept as
// memcached keeps it, roughly, so that a get writes no list: a get marks
// the item (entry.used), as a set of a stored key does, and eviction moves
// a marked item from the tail to the front, unmarked, rather than evict it
// (the CLOCK algorithm's second chance); memcached moves an item on a get
// at most once a minute. Nothing in it knows the wire; the hooks
// translate.

// Defaults, as memcached's.
const (
	// DefaultMemory is the memory limit of the items, memcached's -m 64.
	DefaultMemory = 64 << 20
	// DefaultItemMax is the largest value, memcached's -I 1m, and the most
	// the spec's framing accepts.
	DefaultItemMax = 1 << 20
	// MaxKey is the longest key memcached takes.
	MaxKey = 250

	// itemOverhead is what an item costs beyond its key and value, for
	// the memory limit: about memcached's item header and CAS.
	itemOverhead = 56
	// relativeLimit is the longest expiry time memcached reads as seconds
	// from now (30 days); a longer one is a Unix time.
	relativeLimit = 60 * 60 * 24 * 30
	// shardCount is the number of independently locked parts of the
	// cache; each has its own LRU list and a share of the memory limit.
	shardCount = 16
)

// StoreResult is what a storage command did.
type StoreResult uint8

const (
	StoreOK        StoreResult = iota // the item is stored
	StoreNotStored                    // add of a key that exists, append to one that does not...
	StoreExists                       // cas: someone stored the item since the client read it
	StoreNotFound                     // cas: no item under the key
	StoreTooLarge                     // the value is over the item size limit
	StoreNoMemory                     // the item does not fit the memory limit even alone
)

// StoreMode says which storage command stores.
type StoreMode uint8

const (
	ModeSet     StoreMode = iota // store the item
	ModeAdd                      // store it only under a key that holds none
	ModeReplace                  // store it only under a key that holds one
	ModeAppend                   // add the value after the item's
	ModePrepend                  // add the value before the item's
	ModeCas                      // store it only if the item's CAS value is the client's
)

// Item is a stored item as a reader sees it. Value is never written again
// once stored (an append stores a new slice), so a reader may send it
// after the lock is released.
type Item struct {
	Flags uint32 // the client's flags, stored with the value
	Value []byte // the value, never written again
	Cas   uint64 // the CAS value: unique to each store
}

// entry is an item in a shard: in its map and its LRU list.
type entry struct {
	key        string
	value      []byte
	flags      uint32
	exptime    int64 // Unix seconds; 0 for never
	cas        uint64
	stored     int64 // Unix seconds when stored, for a delayed flush_all; unread if none was pending (storeTime)
	used       bool  // got or overwritten since it was stored or last passed over by eviction (evictOne)
	prev, next *entry
}

func (e *entry) size() int64 { return int64(len(e.key) + len(e.value) + itemOverhead) }

// shard is one part of the cache. mu guards every field.
type shard struct {
	mu    sync.Mutex
	items map[string]*entry
	head  entry // sentinel: head.next is the most recently stored (or passed over by eviction)
	bytes int64
	limit int64
}

// Config is a cache's settings.
type Config struct {
	// Memory is the limit of the items' memory, in bytes; 0 for
	// DefaultMemory.
	Memory int64
	// ItemMax is the largest value, in bytes; 0 for DefaultItemMax, which
	// is also the most it may be.
	ItemMax int
	// Version is what version and stats report; empty for DefaultVersion.
	Version string
	// Now is the clock, in Unix seconds; nil for the system's. Tests set
	// it to move time without waiting.
	Now func() int64
}

// DefaultVersion is the version the server reports by default.
const DefaultVersion = "1.6.18-protogen"

// Cache holds the items every connection shares. Its methods are safe for
// concurrent use.
type Cache struct {
	seed    maphash.Seed
	shards  [shardCount]shard
	itemMax int
	version string
	now     func() int64
	started int64

	cas atomic.Uint64 // the last CAS value given out

	// flush is the flush state, which every get reads (without a lock:
	// FlushAll replaces it whole), and flushMu orders its writers.
	flush   atomic.Pointer[flushState]
	flushMu sync.Mutex

	// Counters are what the stats command reports.
	Counters Counters
}

// flushState is what flush_all left: items stored before at are dead once
// it has passed; an item whose CAS is at most upto is dead (an immediate
// flush_all, exact within the second).
type flushState struct {
	at   int64
	upto uint64
}

// NewCache returns an empty cache.
func NewCache(c Config) *Cache {
	if c.Memory <= 0 {
		c.Memory = DefaultMemory
	}
	if c.ItemMax <= 0 || c.ItemMax > DefaultItemMax {
		c.ItemMax = DefaultItemMax
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Now == nil {
		// The monotonic clock from a wall-clock start, as memcached keeps
		// time: one clock read, where time.Now takes two, and a get or set
		// reads it.
		start := time.Now()
		base := start.UnixNano()
		c.Now = func() int64 { return (base + int64(time.Since(start))) / int64(time.Second) }
	}
	cache := &Cache{seed: maphash.MakeSeed(), itemMax: c.ItemMax, version: c.Version, now: c.Now}
	cache.flush.Store(&flushState{})
	cache.started = c.Now()
	for i := range cache.shards {
		s := &cache.shards[i]
		s.items = make(map[string]*entry)
		s.head.next, s.head.prev = &s.head, &s.head
		s.limit = c.Memory / shardCount
	}
	cache.Counters.limit = c.Memory
	return cache
}

// Protocol returns a new connection's protocol, for protoflow.NewServer.
func (c *Cache) Protocol() *Server {
	p := NewServer()
	p.cache = c
	return p
}

func (c *Cache) shard(key []byte) *shard {
	return &c.shards[maphash.Bytes(c.seed, key)%shardCount]
}

// expiry turns an expiry time of the protocol into Unix seconds, as
// memcached does: 0 is never, a negative time is the past, up to 30 days
// is relative, more is a Unix time.
func (c *Cache) expiry(exptime int64, now int64) int64 {
	switch {
	case exptime == 0:
		return 0
	case exptime < 0:
		return now - 1
	case exptime <= relativeLimit:
		return now + exptime
	case exptime <= c.started:
		return now - 1
	}
	return exptime
}

// dead reports whether e has expired or been flushed; the shard's lock is
// held. now is the time, or unread for a caller that has not read the
// clock: dead reads it only if an expiry time or a delayed flush needs it,
// for a get of an item without either needs no clock.
func (c *Cache) dead(e *entry, now int64) bool {
	if e.exptime != 0 {
		if now == unread {
			now = c.now()
		}
		if e.exptime <= now {
			return true
		}
	}
	f := c.flush.Load()
	at := f.at
	if e.cas <= f.upto {
		return true
	}
	if at == 0 {
		return false
	}
	if now == unread {
		now = c.now()
	}
	return at <= now && e.stored < at
}

// storeTime is the time a storage command with exptime needs: unread, with
// no clock read, when the expiry time is 0 and no delayed flush_all is
// pending. An item stored with unread as its time is older than any
// flush_all to come, which is all that its time is for (dead).
func (c *Cache) storeTime(exptime int64) int64 {
	if exptime != 0 {
		return c.now()
	}
	if c.flush.Load().at != 0 {
		return c.now()
	}
	return unread
}

// unread stands for a time not read yet from the clock (see dead).
const unread = math.MinInt64

// live returns the live entry under key, unlinking a dead one; the shard's
// lock is held.
func (c *Cache) live(s *shard, key []byte, now int64) *entry {
	e := s.items[string(key)]
	if e == nil {
		return nil
	}
	if c.dead(e, now) {
		s.remove(e)
		return nil
	}
	return e
}

func (s *shard) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (s *shard) pushFront(e *entry) {
	e.next, e.prev = s.head.next, &s.head
	s.head.next.prev = e
	s.head.next = e
}

// evictOne evicts the least recently used item of a shard that holds one:
// the tail, after moving marked items at the tail to the front, unmarked.
// It ends: each move clears a mark. The shard's lock is held.
func (c *Cache) evictOne(s *shard) {
	e := s.head.prev
	for e.used {
		e.used = false
		s.unlink(e)
		s.pushFront(e)
		e = s.head.prev
	}
	s.remove(e)
	c.Counters.currItems.Add(-1)
	c.Counters.evictions.Add(1)
}

func (s *shard) remove(e *entry) {
	s.unlink(e)
	delete(s.items, e.key)
	s.bytes -= e.size()
}

// put stores e in place of old (nil for none), evicting from the tail
// until it fits; the shard's lock is held. It returns StoreNoMemory, storing
// nothing, for an item bigger than the shard's limit.
func (c *Cache) put(s *shard, e, old *entry) StoreResult {
	if e.size() > s.limit {
		c.Counters.storeNoMemory.Add(1)
		if old != nil {
			s.remove(old)
			c.Counters.currItems.Add(-1)
		}
		return StoreNoMemory
	}
	if old != nil {
		s.remove(old)
		c.Counters.currItems.Add(-1)
	}
	for s.bytes+e.size() > s.limit && s.head.prev != &s.head {
		c.evictOne(s)
	}
	e.cas = c.cas.Add(1)
	s.items[e.key] = e
	s.pushFront(e)
	s.bytes += e.size()
	c.Counters.currItems.Add(1)
	c.Counters.totalItems.Add(1)
	return StoreOK
}

// Store runs a storage command: set, add, replace, append, prepend or
// cas (with casUnique), and returns what it did and the CAS value of the
// item it stored. It copies value.
func (c *Cache) Store(mode StoreMode, key []byte, flags uint32, exptime int64, value []byte, casUnique uint64) (StoreResult, uint64) {
	c.Counters.cmdSet.Add(1)
	if len(value) > c.itemMax {
		c.Counters.storeTooLarge.Add(1)
		if mode == ModeSet {
			c.drop(key) // memcached drops the old item rather than keep it stale
		}
		return StoreTooLarge, 0
	}
	now := c.storeTime(exptime)
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := c.live(s, key, now)
	switch mode {
	case ModeAdd:
		if old != nil {
			old.used = true // memcached bumps the item it refuses to replace
			return StoreNotStored, 0
		}
	case ModeReplace:
		if old == nil {
			return StoreNotStored, 0
		}
	case ModeAppend, ModePrepend:
		if old == nil {
			return StoreNotStored, 0
		}
		joined := make([]byte, 0, len(old.value)+len(value))
		if mode == ModeAppend {
			joined = append(append(joined, old.value...), value...)
		} else {
			joined = append(append(joined, value...), old.value...)
		}
		if len(joined) > c.itemMax {
			c.Counters.storeTooLarge.Add(1)
			return StoreTooLarge, 0
		}
		e := &entry{key: old.key, value: joined, flags: old.flags, exptime: old.exptime, stored: now}
		return c.put(s, e, old), e.cas
	case ModeCas:
		switch {
		case old == nil:
			c.Counters.casMisses.Add(1)
			return StoreNotFound, 0
		case old.cas != casUnique:
			c.Counters.casBadval.Add(1)
			return StoreExists, 0
		}
		c.Counters.casHits.Add(1)
	}
	v := append([]byte(nil), value...)
	if old != nil && int64(len(old.key)+len(v)+itemOverhead) <= s.limit {
		// Overwrite the item in place: its key and its place in the map
		// stay, only the value is new (readers may still hold the old one).
		c.overwrite(s, old, v, flags, c.expiry(exptime, now), now)
		return StoreOK, old.cas
	}
	e := &entry{key: string(key), value: v, flags: flags, exptime: c.expiry(exptime, now), stored: now}
	return c.put(s, e, old), e.cas
}

// overwrite gives e a new value, flags and expiry time, as put would store
// a new item in its place, without a new entry, key or map slot; the
// shard's lock is held, and the new item fits in the shard.
//
// When nothing need be evicted for it, the item stays where it is in the
// list, marked as a get marks it: moving it would write its two
// neighbours, two cache misses a set that the mark does not pay (perf put
// the move at 2 % of a set-heavy server's CPU), and eviction passes a
// marked item over, to the front, as if it had been moved there.
func (c *Cache) overwrite(s *shard, e *entry, value []byte, flags uint32, exptime, now int64) {
	s.bytes -= e.size()
	e.value, e.flags, e.exptime, e.stored = value, flags, exptime, now
	e.cas = c.cas.Add(1)
	c.Counters.totalItems.Add(1)
	if s.bytes+e.size() <= s.limit {
		e.used = true
		s.bytes += e.size()
		return
	}
	s.unlink(e) // out of the list while others are evicted for it
	e.used = false
	for s.bytes+e.size() > s.limit && s.head.prev != &s.head {
		c.evictOne(s)
	}
	s.pushFront(e)
	s.bytes += e.size()
}

// Get returns the item under key and whether there is one, counting a get;
// with touch it sets its expiry time first (gat), counting a touch.
func (c *Cache) Get(key []byte, touch bool, exptime int64) (Item, bool) {
	now := int64(unread)
	if touch {
		now = c.now()
	}
	s := c.shard(key)
	s.mu.Lock()
	e := c.live(s, key, now)
	var it Item
	if e != nil {
		if touch {
			e.exptime = c.expiry(exptime, now)
		}
		e.used = true
		it = Item{Flags: e.flags, Value: e.value, Cas: e.cas}
	}
	s.mu.Unlock()
	switch {
	case touch && e != nil:
		c.Counters.cmdTouch.Add(1)
		c.Counters.touchHits.Add(1)
	case touch:
		c.Counters.cmdTouch.Add(1)
		c.Counters.touchMisses.Add(1)
	case e != nil:
		c.Counters.cmdGet.Add(1)
		c.Counters.getHits.Add(1)
	default:
		c.Counters.cmdGet.Add(1)
		c.Counters.getMisses.Add(1)
	}
	return it, e != nil
}

// Touch sets the expiry time of the item under key, and reports whether
// there is one.
func (c *Cache) Touch(key []byte, exptime int64) bool {
	_, ok := c.Get(key, true, exptime)
	return ok
}

// Delete removes the item under key, if its CAS value is casUnique or
// casUnique is 0. found is false for no item; ok is false for a CAS value
// that differs.
func (c *Cache) Delete(key []byte, casUnique uint64) (found, ok bool) {
	now := c.now()
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := c.live(s, key, now)
	switch {
	case e == nil:
		c.Counters.deleteMisses.Add(1)
		return false, false
	case casUnique != 0 && e.cas != casUnique:
		return true, false
	}
	s.remove(e)
	c.Counters.currItems.Add(-1)
	c.Counters.deleteHits.Add(1)
	return true, true
}

// DeltaResult is what incr or decr did.
type DeltaResult uint8

const (
	DeltaOK         DeltaResult = iota // the item holds the new value
	DeltaNotFound                      // no item under the key
	DeltaNonNumeric                    // the item does not hold a decimal number
	DeltaExists                        // the CAS value differs (binary only)
)

// Delta adds delta to the decimal number the item under key holds (incr),
// or subtracts it down to 0 (decr), and returns the new value and its CAS.
// Like memcached, a shorter result keeps the item's length, padded with
// spaces.
func (c *Cache) Delta(key []byte, incr bool, delta uint64, casUnique uint64) (uint64, uint64, DeltaResult) {
	now := c.now()
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := c.live(s, key, now)
	if e == nil {
		if incr {
			c.Counters.incrMisses.Add(1)
		} else {
			c.Counters.decrMisses.Add(1)
		}
		return 0, 0, DeltaNotFound
	}
	if casUnique != 0 && e.cas != casUnique {
		return 0, 0, DeltaExists
	}
	v, ok := parseCounter(e.value)
	if !ok {
		return 0, 0, DeltaNonNumeric
	}
	if incr {
		v += delta
		c.Counters.incrHits.Add(1)
	} else {
		v -= min(v, delta)
		c.Counters.decrHits.Add(1)
	}
	b := strconv.AppendUint(make([]byte, 0, max(len(e.value), 20)), v, 10)
	for len(b) < len(e.value) {
		b = append(b, ' ')
	}
	n := &entry{key: e.key, value: b, flags: e.flags, exptime: e.exptime, stored: now}
	c.put(s, n, e)
	return v, n.cas, DeltaOK
}

// Create stores initial under key for a binary incr or decr of a missing
// item, as add does, and returns its CAS value, or false if an item
// appeared.
func (c *Cache) Create(key []byte, initial uint64, exptime int64) (uint64, bool) {
	now := c.now()
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.live(s, key, now) != nil {
		return 0, false
	}
	e := &entry{key: string(key), value: strconv.AppendUint(nil, initial, 10), exptime: c.expiry(exptime, now), stored: now}
	if c.put(s, e, nil) != StoreOK {
		return 0, false
	}
	return e.cas, true
}

// parseCounter parses a stored counter as memcached does, with strtoull
// on the value and the "\r\n" it keeps after it: spaces, a sign, digits,
// then a space or the end; what follows that is ignored. A negative
// number is refused, unless it is 0 once negated, as memcached's
// safe_strtoull refuses only those that wrap to a negative int64.
func parseCounter(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == i || j < len(b) && !isSpace(b[j]) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
		if int64(v) < 0 {
			return 0, false
		}
	}
	return v, true
}

// isSpace is C's isspace.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// drop removes the item under key, counting nothing.
func (c *Cache) drop(key []byte) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.items[string(key)]; e != nil {
		s.remove(e)
		c.Counters.currItems.Add(-1)
	}
}

// FlushAll invalidates every item now, or, with a positive exptime, every
// item stored before that time once it comes.
func (c *Cache) FlushAll(exptime int64) {
	c.Counters.cmdFlush.Add(1)
	now := c.now()
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	f := *c.flush.Load()
	if exptime > 0 {
		f.at = c.expiry(exptime, now)
	} else {
		f.at, f.upto = 0, c.cas.Load()
	}
	c.flush.Store(&f)
}

// Len returns the number of items stored, dead ones not yet removed
// included.
func (c *Cache) Len() int { return int(c.Counters.currItems.Load()) }

// Counters are what the stats command reports. Every field is updated
// atomically.
type Counters struct {
	limit int64

	currConns, totalConns                      atomic.Int64
	cmdGet, cmdSet, cmdFlush, cmdTouch         atomic.Int64
	getHits, getMisses                         atomic.Int64
	deleteHits, deleteMisses                   atomic.Int64
	incrHits, incrMisses, decrHits, decrMisses atomic.Int64
	casHits, casMisses, casBadval              atomic.Int64
	touchHits, touchMisses                     atomic.Int64
	storeTooLarge, storeNoMemory               atomic.Int64
	currItems, totalItems, evictions           atomic.Int64
}

// ResetCounters sets the counters that stats reset clears back to 0.
func (c *Cache) ResetCounters() {
	st := &c.Counters
	for _, v := range []*atomic.Int64{&st.totalConns, &st.cmdGet, &st.cmdSet, &st.cmdFlush, &st.cmdTouch,
		&st.getHits, &st.getMisses, &st.deleteHits, &st.deleteMisses, &st.incrHits, &st.incrMisses,
		&st.decrHits, &st.decrMisses, &st.casHits, &st.casMisses, &st.casBadval, &st.touchHits,
		&st.touchMisses, &st.storeTooLarge, &st.storeNoMemory, &st.totalItems, &st.evictions} {
		v.Store(0)
	}
}

// General returns the general section of the stats command, in memcached's
// order, for the counters this server keeps.
func (c *Cache) General() []Stat {
	now := c.now()
	var bytes int64
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		bytes += s.bytes
		s.mu.Unlock()
	}
	st := &c.Counters
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []Stat{
		{"pid", n(int64(pid))},
		{"uptime", n(now - c.started)},
		{"time", n(now)},
		{"version", c.version},
		{"pointer_size", "64"},
		{"curr_connections", n(st.currConns.Load())},
		{"total_connections", n(st.totalConns.Load())},
		{"cmd_get", n(st.cmdGet.Load())},
		{"cmd_set", n(st.cmdSet.Load())},
		{"cmd_flush", n(st.cmdFlush.Load())},
		{"cmd_touch", n(st.cmdTouch.Load())},
		{"get_hits", n(st.getHits.Load())},
		{"get_misses", n(st.getMisses.Load())},
		{"delete_misses", n(st.deleteMisses.Load())},
		{"delete_hits", n(st.deleteHits.Load())},
		{"incr_misses", n(st.incrMisses.Load())},
		{"incr_hits", n(st.incrHits.Load())},
		{"decr_misses", n(st.decrMisses.Load())},
		{"decr_hits", n(st.decrHits.Load())},
		{"cas_misses", n(st.casMisses.Load())},
		{"cas_hits", n(st.casHits.Load())},
		{"cas_badval", n(st.casBadval.Load())},
		{"touch_hits", n(st.touchHits.Load())},
		{"touch_misses", n(st.touchMisses.Load())},
		{"store_too_large", n(st.storeTooLarge.Load())},
		{"store_no_memory", n(st.storeNoMemory.Load())},
		{"limit_maxbytes", n(st.limit)},
		{"threads", n(int64(threads()))},
		{"bytes", n(bytes)},
		{"curr_items", n(st.currItems.Load())},
		{"total_items", n(st.totalItems.Load())},
		{"evictions", n(st.evictions.Load())},
	}
}

var pid = os.Getpid()

// threads is what stats reports as memcached's worker threads: the Go
// scheduler's processors.
func threads() int { return runtime.GOMAXPROCS(0) }
