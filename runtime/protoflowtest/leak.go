package protoflowtest

import (
	"bytes"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// goroutineIDs returns the sorted IDs of the live goroutines: the snapshot
// New takes for Finish. It costs one runtime.Stack of every goroutine,
// tens of microseconds, where goleak's IgnoreCurrent, which parses every
// stack, costs ten times more.
func goroutineIDs() []uint64 {
	bp := stackBufs.Get().(*[]byte)
	defer stackBufs.Put(bp)
	*bp = stacksInto(*bp)
	var ids []uint64
	for _, g := range splitStacks(*bp) {
		if id, ok := stackID(g); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// stackBufs holds buffers for goroutineIDs.
var stackBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// leftovers returns the stacks of the goroutines that are not in before,
// other than the calling one, which runtime.Stack lists first.
func leftovers(before []uint64) [][]byte {
	var left [][]byte
	for i, g := range splitStacks(allStacks()) {
		id, ok := stackID(g)
		if i == 0 || !ok {
			continue
		}
		if _, found := slices.BinarySearch(before, id); !found {
			left = append(left, g)
		}
	}
	return left
}

// waitLeftovers waits up to limit, polling with a growing pause, for the
// goroutines started since before to end, and returns the stacks of those
// still running then.
func waitLeftovers(before []uint64, limit time.Duration) [][]byte {
	deadline := time.Now().Add(limit)
	pause := time.Millisecond
	for {
		left := leftovers(before)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// allStacks returns the stacks of every goroutine, as runtime.Stack
// formats them.
func allStacks() []byte { return stacksInto(make([]byte, 64<<10)) }

// stacksInto is allStacks into buf's capacity, or a larger buffer.
func stacksInto(buf []byte) []byte {
	buf = buf[:cap(buf)]
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func splitStacks(all []byte) [][]byte { return bytes.Split(all, []byte("\n\n")) }

// stackID parses the ID from a stack's header, "goroutine 12 [running]:".
func stackID(stack []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(stack, []byte("goroutine "))
	if !ok {
		return 0, false
	}
	i := bytes.IndexByte(rest, ' ')
	if i < 0 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(rest[:i]), 10, 64)
	return id, err == nil
}
