package protoflow

import (
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// serveLoop serves ln on the loop backend when it is selected and ln is a
// plain TCP or Unix listener: the Serve goroutine accepts with accept4
// inside the listener's RawConn (it waits in Go's netpoller, and Close on
// ln ends the wait), and gives each raw socket to a loop, which runs
// ConnectionMade. It reports whether it served ln. With WithTLS it does
// not: crypto/tls reads through a net.Conn, so TLS connections use the
// goroutine backend (Stats counts them in Backends.Goroutine).
//
// With WithMaxConns it takes a slot before each accept, without waiting
// inside the listener's wait: at the limit it returns from it and waits
// for a slot in acquireSlot, and the kernel's backlog holds the peers.
func (s *Server) serveLoop(ln net.Listener) (bool, error) {
	if !s.opts.onLoop() {
		return false, nil
	}
	var sc syscall.Conn
	unix := false
	switch l := ln.(type) {
	case *net.TCPListener:
		sc = l
	case *net.UnixListener:
		sc, unix = l, true
	default:
		return false, nil // other listeners: their connections go to newConn (epoll for a raw socket, else goroutine)
	}
	// A listener's RawConn cannot wait for readability: wait on a
	// duplicate of its descriptor, as an *os.File, which can. Closing the
	// server closes the duplicate too (and Serve closes ln when it returns).
	lrc, err := sc.SyscallConn()
	if err != nil {
		return false, nil
	}
	dfd := -1
	if err := lrc.Control(func(f uintptr) { dfd, err = dupCloexec(int(f)) }); err != nil || dfd < 0 {
		return false, nil
	}
	f := os.NewFile(uintptr(dfd), "protoflow-listener")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return false, nil
	}
	served := make(chan struct{})
	defer close(served)
	go func() { // exits when the server stops or Serve returns
		select {
		case <-s.quit:
		case <-served:
		}
		_ = f.Close()
	}()
	var backoff time.Duration
	held := false // a connection slot is taken for the next accept
	defer func() {
		if held {
			s.releaseSlot()
		}
	}()
	for {
		if !held {
			if !s.acquireSlot() {
				return true, ErrServerClosed
			}
			held = true
		}
		var acceptErr error
		closed := false
		err := rc.Read(func(fd uintptr) bool {
			for {
				if !held {
					if !s.trySlot() {
						return true // at the limit: wait for a slot outside
					}
					held = true
				}
				nfd, rsa, err := accept4(fd)
				switch {
				case err == syscall.EAGAIN:
					return false // wait in the netpoller
				case err == syscall.EINTR || err == syscall.ECONNABORTED:
					continue
				case err != nil:
					acceptErr = err
					return true
				}
				backoff = 0
				held = false // the connection's now: acceptLoop gives it back if it fails
				if !s.acceptLoop(nfd, &rsa, unix) {
					closed = true
					return true
				}
			}
		})
		switch {
		case closed:
			return true, ErrServerClosed
		case err != nil:
			if s.isClosed() {
				return true, ErrServerClosed
			}
			return true, err
		case acceptErr == syscall.EMFILE || acceptErr == syscall.ENFILE || acceptErr == syscall.ENOBUFS || acceptErr == syscall.ENOMEM:
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if l := s.opts.logger; l != nil {
				l.Warn("protoflow: accept failed; retrying", "error", acceptErr, "delay", backoff)
			}
			select {
			case <-time.After(backoff):
			case <-s.quit:
			}
		case acceptErr == nil:
			// At the connection limit: acquireSlot waits for a slot.
		default:
			if s.isClosed() {
				return true, ErrServerClosed
			}
			return true, os.NewSyscallError("accept4", acceptErr)
		}
	}
}

// accept4 accepts one connection, non-blocking and close-on-exec, without
// allocating.
func accept4(lfd uintptr) (int, syscall.RawSockaddrAny, error) {
	var rsa syscall.RawSockaddrAny
	n := uint32(syscall.SizeofSockaddrAny)
	r, _, errno := syscall.RawSyscall6(syscall.SYS_ACCEPT4, lfd, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)),
		syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, rsa, errno
	}
	return int(r), rsa, nil
}

// peerOf returns the address in rsa as 16 bytes and a port.
func peerOf(rsa *syscall.RawSockaddrAny) (ip [16]byte, port uint16) {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		ip[10], ip[11] = 0xff, 0xff
		copy(ip[12:], a.Addr[:])
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return ip, uint16(p[0])<<8 | uint16(p[1])
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return a.Addr, uint16(p[0])<<8 | uint16(p[1])
	}
	return ip, 0
}

// acceptLoop gives an accepted socket to a loop. It returns false, having
// closed the socket, once the server is closed.
// The connection holds the slot that serveLoop took for it, which it gives
// back if it never starts.
func (s *Server) acceptLoop(fd int, rsa *syscall.RawSockaddrAny, unix bool) bool {
	s.accepted.Add(1)
	if !unix && s.opts.noDelay {
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	l := loopFor()
	if l == nil {
		syscall.Close(fd) // no epoll instance to be had: drop the connection
		s.releaseSlot()
		return true
	}
	ip, port := peerOf(rsa)
	c := newLconn(fd, s.factory(), &s.opts, l, unix, ip, port)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		syscall.Close(fd)
		s.releaseSlot()
		loopsMu.Lock()
		l.count.Add(-1)
		loopsMu.Unlock()
		l.wake() // to retire, if that was its last connection
		return false
	}
	s.loopConns.add(c)
	s.active.Add(1)
	s.mu.Unlock()
	l.post(loopTask{c: c, fresh: true})
	return true
}

// removeLoopConn is the loop's notice that c's ConnectionLost returned,
// with cause: the counts take its bytes and cause, and its slot is free.
func (s *Server) removeLoopConn(c *lconn, cause error) {
	c.mu.Lock()
	written := c.written
	c.mu.Unlock()
	s.mu.Lock()
	s.loopConns.remove(c)
	s.closedStats.count(cause)
	s.closedRead += c.nread.Load()
	s.closedWritten += written
	s.mu.Unlock()
	s.releaseSlot()
	s.active.Done()
}

// addLoopStats adds the loop connections' part to st. s.mu must be held.
func (s *Server) addLoopStats(st *Stats) {
	st.Open += s.loopConns.n
	st.Backends.Loop = s.loopConns.n
	for c := s.loopConns.head; c != nil; c = c.list.next {
		st.BytesRead += c.nread.Load()
		c.mu.Lock()
		st.BytesWritten += c.written
		flags := c.st()
		c.mu.Unlock()
		st.countFlags(flags)
	}
}

// onLoop reports whether connections with these options go on the loop
// backend: it is selected, and neither blocking callbacks nor TLS (which
// reads through a net.Conn) keep them off it.
func (o *options) onLoop() bool {
	return loopEnabled && !o.blockingCallbacks && o.tls == nil
}

// attachLoop drives nc on the loop backend when it is selected and nc is a
// plain TCP or Unix connection: the loop works on a duplicate of its
// descriptor, and nc stays open (as NetConn) until ConnectionLost. It runs
// ConnectionMade on the calling goroutine, then gives the connection to a
// loop. nil when nc is not for the loop backend.
func attachLoop(nc net.Conn, p Protocol, o *options) (t Transport) {
	if !o.onLoop() {
		return nil
	}
	unix := false
	var sc syscall.Conn
	switch v := nc.(type) {
	case *net.TCPConn:
		sc = v
	case *net.UnixConn:
		sc, unix = v, true
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	if err := rc.Control(func(f uintptr) {
		fd, err = dupCloexec(int(f))
	}); err != nil || fd < 0 {
		return nil
	}
	var ip [16]byte
	var port uint16
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		copy(ip[:], a.IP.To16())
		port = uint16(a.Port)
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(o.noDelay)
	}
	l := loopFor()
	if l == nil {
		syscall.Close(fd)
		return nil
	}
	c := newLconn(fd, p, o, l, unix, ip, port)
	c.extraLocked().nc = nc // no other goroutine knows c yet
	c.lf |= lfMade          // the loop has not seen c yet: the caller owns lf
	made := false
	defer func() { // also after runtime.Goexit in ConnectionMade
		if !made {
			v := recover()
			if v == nil {
				v = errGoexit
			}
			c.panicked("ConnectionMade", v)
			t = c // the connection is the loop's now, dead: Attach must not try again
		}
		l.post(loopTask{c: c, fresh: true})
	}()
	c.proto.ConnectionMade(c)
	made = true
	return c
}

// dupCloexec duplicates fd, close-on-exec; the duplicate shares the
// socket's non-blocking mode.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// loopConnList is the Server's list of the loop backend's connections
// (a type of its own, not an alias: other platforms declare an empty one).
type loopConnList struct{ connList[*lconn] }

func (c *lconn) listLinks() *links[*lconn] { return &c.list }
