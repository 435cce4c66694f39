package memcached

import (
	"strconv"
	"testing"
)

// A get, or a set of a stored key, keeps an item from eviction, however
// long ago it was first stored: the items of one shard are stored in
// order, some of them are got or set again, and the items stored after
// evict the others, oldest first.
func TestCacheEvictionSparesUsedItems(t *testing.T) {
	value := make([]byte, 1000-itemOverhead-4) // with a 4-byte key, 1,000 bytes an item
	for _, tc := range []struct {
		name string
		use  func(c *Cache, key string) bool
	}{
		{"get", func(c *Cache, key string) bool {
			_, ok := c.Get([]byte(key), false, 0)
			return ok
		}},
		{"set again", func(c *Cache, key string) bool {
			res, _ := c.Store(ModeSet, []byte(key), 0, 0, value, 0)
			return res == StoreOK
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testEvictionSparesUsed(t, value, tc.use) })
	}
}

func testEvictionSparesUsed(t *testing.T, value []byte, use func(c *Cache, key string) bool) {
	const memory = shardCount * 10_000 // 10,000 bytes a shard
	c := NewCache(Config{Memory: memory, Now: func() int64 { return 1_000_000 }})
	// Keys of one shard, so that its limit alone decides.
	var keys []string
	want := c.shard([]byte("k000"))
	for i := 0; len(keys) < 20; i++ {
		k := "k" + strconv.Itoa(1000 + i)[1:]
		if c.shard([]byte(k)) == want {
			keys = append(keys, k)
		}
	}
	for _, k := range keys[:10] { // the shard is full
		if res, _ := c.Store(ModeSet, []byte(k), 0, 0, value, 0); res != StoreOK {
			t.Fatalf("set %s: %v", k, res)
		}
	}
	got := map[string]bool{keys[0]: true, keys[3]: true, keys[9]: true}
	for _, i := range []int{9, 0, 3} { // used out of order, to show the order stored is what counts
		if !use(c, keys[i]) {
			t.Fatalf("use %s: missing before any eviction", keys[i])
		}
	}
	for _, k := range keys[10:17] { // 7 evictions: the 7 items not used
		if res, _ := c.Store(ModeSet, []byte(k), 0, 0, value, 0); res != StoreOK {
			t.Fatalf("set %s: %v", k, res)
		}
	}
	// present looks without a get, which would mark the item.
	present := func(k string) bool {
		s := c.shard([]byte(k))
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.items[k] != nil
	}
	for i, k := range keys[:17] {
		ok := present(k)
		if wantOK := got[k] || i >= 10; ok != wantOK {
			t.Errorf("item %d (%s, used: %v) present: %v, want %v", i, k, got[k], ok, wantOK)
		}
	}
	if n := c.Counters.evictions.Load(); n != 7 {
		t.Errorf("%d evictions, want 7", n)
	}
	// An item passed over goes to the front, unmarked, where it was when
	// eviction found it: items 0, 3 and 9 were passed over before items
	// 10, 13 and 16 were stored. Three more stores evict 0, 10 and 11.
	for _, k := range keys[17:20] {
		if res, _ := c.Store(ModeSet, []byte(k), 0, 0, value, 0); res != StoreOK {
			t.Fatalf("set %s: %v", k, res)
		}
	}
	gone := map[int]bool{0: true, 10: true, 11: true}
	for _, i := range []int{0, 3, 9, 10, 11, 12, 13, 16, 17, 19} {
		if ok := present(keys[i]); ok == gone[i] {
			t.Errorf("item %d present: %v, want %v", i, ok, !gone[i])
		}
	}
}
