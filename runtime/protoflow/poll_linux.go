package protoflow

import (
	"os"
	"sync"
	"syscall"
)

// epollEnabled selects the epoll backend for the TCP and Unix sockets on
// Linux that the loop backend does not take: those of a Server, a Dial or
// an Attach with WithBlockingCallbacks, those of other listeners than
// *net.TCPListener and *net.UnixListener, or all of them with
// PROTOFLOW_BACKEND=epoll.
// PROTOFLOW_BACKEND=goroutine turns it off (one reader goroutine per
// connection, as on other systems): CI runs the tests all three ways.
var epollEnabled = backendName != "goroutine"

// pollEvents are the events a socket is registered for: one-shot, so that
// the poller hears of a socket only while no reader holds it (a reader
// waits in Go's netpoller, and re-arms the registration when it gives the
// read token back); level-triggered, so that re-arming a socket that has
// data reports it at once.
const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// pollEvent is the registration of the connection with id.
func pollEvent(id uint64) syscall.EpollEvent {
	return syscall.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// poller waits for readability on every connection of the epoll backend, so
// that an idle connection holds no goroutine and no buffer: when a socket
// becomes readable the poller starts a reader goroutine for it, which reads
// until the socket is drained and then exits.
//
// The epoll instance is itself registered with Go's netpoller (an epoll fd
// is pollable), so the poller goroutine parks like any other goroutine
// waiting for I/O instead of holding a thread in epoll_wait. A reader,
// once started, waits for more data in Go's netpoller for a while
// (readLinger) before it gives the socket back to the poller.
//
// The poller exists while it has connections: the last one to leave closes
// the epoll instance, which ends the poller goroutine.
type poller struct {
	epfd  int
	file  *os.File // epfd, for Go's netpoller
	conns map[uint64]*conn
}

var (
	pollMu     sync.Mutex // guards thePoller, nextPollID and every poller's conns
	thePoller  *poller
	nextPollID uint64
)

// pollRegister adds c's socket to the poller, starting one if needed. On
// error c stays with the goroutine backend.
func pollRegister(c *conn) error {
	stale, err := pollRegisterLocked(c)
	if stale != nil {
		_ = stale.Close() // outside pollMu: see detachIfEmptyLocked
	}
	return err
}

// pollRegisterLocked does pollRegister's work with pollMu held, and returns
// the epoll file of a poller it gave up, for the caller to close.
func pollRegisterLocked(c *conn) (stale *os.File, err error) {
	pollMu.Lock()
	defer pollMu.Unlock()
	p := thePoller
	if p == nil {
		if p, err = newPoller(); err != nil {
			return nil, err
		}
		thePoller = p
		go p.run() // ends when the last connection leaves and the epoll fd closes
	}
	nextPollID++
	id := nextPollID
	ev := pollEvent(id)
	var ctlErr error
	// Control holds a reference to the descriptor, so it cannot be closed
	// and reused meanwhile.
	if err := c.raw.Control(func(fd uintptr) {
		ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	}); err != nil {
		return p.detachIfEmptyLocked(), err
	}
	if ctlErr != nil {
		return p.detachIfEmptyLocked(), ctlErr
	}
	p.conns[id] = c
	c.poller, c.pollID = p, id
	return nil, nil
}

// pollRearm lets the poller report c's socket again, after a reader has
// given the read token back.
func pollRearm(c *conn) { pollModify(c, pollEvents) }

// pollWatchGone has the poller report only a failed or hung-up socket
// (EPOLLERR, EPOLLHUP, which epoll always reports), while nobody reads it:
// reading is paused, or the peer's end of file was read. A peer's reset
// then ends the connection at once (readable), where it would otherwise be
// seen only at the next write or resume, as in asyncio. The peer's half
// close (EPOLLRDHUP) is left out: a paused connection does not lose the
// bytes sent before it, which it reads once it resumes, and level-
// triggered it would fire again at every re-arm.
func pollWatchGone(c *conn) { pollModify(c, syscall.EPOLLONESHOT) }

// pollWatchHup has the poller report only the peer's hang-up (or a failed
// socket) while a lingering reader holds the read token. Go's netpoller
// is edge-triggered, and one edge may stand for data and the end of file
// behind it: a reader that waits there after a short read, without first
// reading until EAGAIN, learns of that end of file from the poller
// (readable), which is level-triggered, so a hang-up that came before this
// call is reported at once.
func pollWatchHup(c *conn) { pollModify(c, syscall.EPOLLRDHUP|syscall.EPOLLONESHOT) }

func pollModify(c *conn, events uint32) {
	ev := pollEvent(c.pollID)
	ev.Events = events
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(c.poller.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
	})
}

// pollUnregister forgets c; the kernel dropped its registration when the
// socket closed. The last connection to leave closes the poller.
func pollUnregister(c *conn) {
	var stale *os.File
	pollMu.Lock()
	if p := c.poller; p != nil {
		delete(p.conns, c.pollID)
		stale = p.detachIfEmptyLocked()
	}
	pollMu.Unlock()
	if stale != nil {
		_ = stale.Close() // wakes run, which then returns
	}
}

// detachIfEmptyLocked retires p when it has no connection left, and returns
// its epoll file for the caller to close once pollMu is released: closing
// waits for the poller goroutine to leave its read, and that goroutine may
// be waiting for pollMu in dispatch. A new connection meanwhile starts a
// new poller.
func (p *poller) detachIfEmptyLocked() *os.File {
	if len(p.conns) == 0 && thePoller == p {
		thePoller = nil
		return p.file
	}
	return nil
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	return &poller{
		epfd:  epfd,
		file:  os.NewFile(uintptr(epfd), "protoflow-epoll"),
		conns: make(map[uint64]*conn),
	}, nil
}

// run is the poller goroutine. It parks in Go's netpoller until the epoll
// instance has events, hands each to its connection, and returns once the
// epoll fd is closed.
func (p *poller) run() {
	rc, err := p.file.SyscallConn()
	if err != nil {
		return
	}
	events := make([]syscall.EpollEvent, 256)
	_ = rc.Read(func(fd uintptr) bool {
		for {
			n, err := syscall.EpollWait(int(fd), events, 0)
			if err == syscall.EINTR {
				continue
			}
			if n <= 0 {
				return false // wait until the epoll fd is readable again
			}
			for i := range events[:n] {
				id := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
				ev := events[i].Events
				p.dispatch(id, ev&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0, ev&(syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
			}
			if n < len(events) {
				return false
			}
		}
	})
}

// dispatch tells the connection with id that its socket is readable, and
// whether the peer has closed (hup) or the socket failed or hung up both
// ways (gone).
func (p *poller) dispatch(id uint64, hup, gone bool) {
	pollMu.Lock()
	c := p.conns[id]
	pollMu.Unlock()
	if c != nil {
		c.readable(hup, gone)
	}
}

// lostUnread ends a connection whose socket the poller reported failed
// while nobody reads it, with the socket's pending error (ECONNRESET for a
// peer's reset), which a read would have returned. A hang-up without an
// error (both sides closed their write side) ends nothing: the bytes still
// unread are the protocol's when it resumes. It runs on a goroutine of its
// own, so that the poller does not wait for the close.
func (c *conn) lostUnread() {
	var soErr int
	var err error
	if cerr := c.raw.Control(func(fd uintptr) {
		soErr, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}); cerr != nil || err != nil || soErr == 0 {
		return // closed meanwhile, or no error to report
	}
	c.kill(c.opError("read", syscall.Errno(soErr)))
}
