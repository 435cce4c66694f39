//go:build race

package wire

// raceEnabled is true under the race detector, which makes sync.Pool drop
// some of what it is given: allocation counts of code that pools mean
// nothing there.
const raceEnabled = true
