// Package rooms stands in for a package of the user's module that golden
// specs refer to, so that the compile test can build their output.
package rooms

// Room is a chat room.
type Room struct{ Name string }

// Sample is a telemetry sample.
type Sample struct{ Value float64 }

// Pair is a generic type, for type arguments in field types.
type Pair[K comparable, V any] struct {
	Key   K
	Value V
}
