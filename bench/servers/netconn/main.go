// Command netconn is the plain Go baseline of the side-by-side benchmark:
// one goroutine per connection that reads into a 64 KiB buffer and writes
// back with a blocking Write, which is its back-pressure: while the peer
// does not read, the goroutine does not read either. With -block-on-s it
// sleeps that long before echoing a read that starts with "S". It prints
// "listening ADDR" once ready and serves until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen on `host:port`")
	flag.DurationVar(&block, "block-on-s", 0, "sleep this long before echoing a read that starts with \"S\"")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c) // exits when the connection fails or closes
	}
}

var block time.Duration

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if block > 0 && buf[0] == 'S' {
				time.Sleep(block)
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
