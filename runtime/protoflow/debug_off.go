//go:build !protoflowdebug

package protoflow

// Without the protoflowdebug build tag the debug checks (debug_on.go)
// compile to nothing: tokenOwner is empty, and its methods and checkMuHeld
// are inlined away.

// tokenOwner is, in debug builds, the goroutine that holds the read token.
type tokenOwner struct{}

func (*tokenOwner) bind()       {}
func (*tokenOwner) unbind()     {}
func (*tokenOwner) check(*conn) {}
func (*conn) checkMuHeld()      {}
