package wiretest_test

import (
	"fmt"

	"github.com/protogen/protogen/runtime/wire/wiretest"
)

// A round trip as the generated fuzz tests run it, on a message type of
// its own: fill a message from the fuzz input, encode it, decode it, and
// compare.
func Example() {
	type Get struct {
		Key   []byte
		Limit uint16
	}
	var m Get
	wiretest.Fill(&m, []byte{3, 'f', 'o', 'o', 10, 0})
	encoded := append(append([]byte{byte(len(m.Key))}, m.Key...), byte(m.Limit), byte(m.Limit>>8))

	var back Get
	back.Key = encoded[1 : 1+encoded[0]]
	back.Limit = uint16(encoded[1+encoded[0]]) | uint16(encoded[2+encoded[0]])<<8
	fmt.Printf("%s %d %v\n", m.Key, m.Limit, wiretest.Equal(&m, &back))
	// Output: foo 10 true
}
