package protoflow

// timerFiled reports whether c's timeouts are in its loop's heap. Call it
// only once ConnectionLost has returned: the loop then leaves them alone.
func (c *lconn) timerFiled() bool {
	to := c.timeouts()
	return to != nil && to.idx >= 0
}

// skipOnLoop skips a test of a behaviour the loop backend does not have
// by design, saying why.
func skipOnLoop(t interface{ Skipf(string, ...any) }, why string) {
	if loopEnabled {
		t.Skipf("loop backend: %s", why)
	}
}
