// Command gnet is the gnet v2 echo server of the side-by-side benchmark,
// on one event loop (the others run on one core too). gnet has no pause of
// reading at the socket and no event when its outbound buffer drains, so
// it cannot follow the common back-pressure policy (stop reading while
// writing is paused): leaving input unread and polling with Conn.Wake
// stalled the connection for good here. It echoes everything and buffers
// what the socket does not take, without limit, which is what gnet users
// get (gnet issues #337, #722). With -block-on-s it blocks its callback
// for that long on a read that starts with "S", as a callback that makes a
// synchronous call does. It prints "listening ADDR" once ready and serves
// until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"
)

type echo struct {
	gnet.BuiltinEventEngine
	addr  string
	block time.Duration
}

func (e *echo) OnBoot(eng gnet.Engine) gnet.Action {
	fmt.Println("listening", e.addr)
	return gnet.None
}

func (e *echo) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	if e.block > 0 && len(buf) > 0 && buf[0] == 'S' {
		time.Sleep(e.block)
	}
	c.Write(buf) // gnet buffers what the socket does not take, without limit
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen on `host:port`")
	block := flag.Duration("block-on-s", 0, "block the callback this long on a read that starts with \"S\"")
	flag.Parse()
	if _, port, _ := net.SplitHostPort(*addr); port == "0" {
		// gnet reports no bound address: pick a free port first.
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			log.Fatal(err)
		}
		*addr = ln.Addr().String()
		ln.Close()
	}
	host, port, _ := net.SplitHostPort(*addr)
	if _, err := strconv.Atoi(port); err != nil {
		log.Fatal(err)
	}
	e := &echo{addr: net.JoinHostPort(host, port), block: *block}
	log.Fatal(gnet.Run(e, "tcp://"+e.addr, gnet.WithMulticore(false), gnet.WithTCPNoDelay(gnet.TCPNoDelay)))
}
