package protoflow

// links are an element's place in a Server's intrusive list of
// connections; guarded by Server.mu.
type links[T any] struct {
	prev, next T
}

// listed is what a connList holds: a connection (conn, or the loop
// backend's lconn) that carries its own links.
type listed[T any] interface {
	comparable
	Transport
	listLinks() *links[T]
}

// connList is an intrusive list of a server's connections of one kind: a
// map would cost an idle connection about a hundred bytes more. Guarded by
// Server.mu.
type connList[T listed[T]] struct {
	head T
	n    int
}

func (l *connList[T]) len() int { return l.n }

func (l *connList[T]) add(c T) {
	var none T
	c.listLinks().next = l.head
	if l.head != none {
		l.head.listLinks().prev = c
	}
	l.head = c
	l.n++
}

func (l *connList[T]) remove(c T) {
	var none T
	cl := c.listLinks()
	if cl.prev != none {
		cl.prev.listLinks().next = cl.next
	} else {
		l.head = cl.next
	}
	if cl.next != none {
		cl.next.listLinks().prev = cl.prev
	}
	cl.prev, cl.next = none, none
	l.n--
}

func (l *connList[T]) appendTo(conns []Transport) []Transport {
	var none T
	for c := l.head; c != none; c = c.listLinks().next {
		conns = append(conns, c)
	}
	return conns
}
