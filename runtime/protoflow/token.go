package protoflow

// withToken runs fn on the goroutine that holds the read token, and hands
// the token on if fn ends the goroutine with runtime.Goexit (a callback's
// t.FailNow, say). It is the one place that knows what such a holder
// leaves undone: the socket's close, if closeSocket left it to a reader
// that was delivering (readRun), the read allowance that reader's read
// borrowed (budget.readBuf), and ConnectionLost, which a new goroutine
// that takes the token over delivers (takeOver), so that it and
// Server.Shutdown still happen. call has marked the connection dead by
// then.
func (c *conn) withToken(fn func()) {
	c.rd.tok.bind()
	returned := false
	defer func() {
		if !returned {
			c.closeIfOwed()
			if c.rd.lent { // a read's, delivered to the callback that ended
				c.rd.lent = false
				c.opts.budget.repayRead(int64(c.opts.readBufferSize))
			}
			go c.takeOver()
		}
	}()
	fn()
	returned = true
}

// takeOver is the body of the goroutine that takes the read token over
// from a holder that ended in runtime.Goexit: it finds the connection dead,
// delivers ConnectionLost unless the holder had started to (then it only
// finishes lose), and exits. It is itself a holder: a Goexit in the
// ConnectionLost it delivers hands the token on again.
func (c *conn) takeOver() {
	if c.epoll() {
		c.readBurst() // as any reader goroutine of the backend that finds the connection dead
		return
	}
	c.withToken(c.lose)
}

// checkToken panics, in debug builds (debug_on.go), unless the calling
// goroutine holds the read token: the functions that read the socket,
// deliver what it read, deliver ConnectionLost or use c.rd call it. In
// other builds it is nothing.
func (c *conn) checkToken() { c.rd.tok.check(c) }
