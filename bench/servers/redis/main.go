// Command redis serves the Redis-protocol server built with protogen
// (generated_example/redis) for the redis-benchmark comparison. It prints
// "listening ADDR" once ready and serves until killed; with -cpuprofile it
// writes a CPU profile when interrupted or terminated.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/protogen/protogen/generated_example/redis"
	"github.com/protogen/protogen/runtime/protoflow"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen on `host:port`")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `file` on SIGINT or SIGTERM")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() { // ends the process after writing the profile
			<-sig
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening", ln.Addr())
	// Hold one connection to ourselves, so that the epoll poller never
	// empties between redis-benchmark runs: the last connection leaving
	// can deadlock it (generated_example/redis TestPollerCloseDeadlock).
	go func() { // holds the connection until the process ends
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		select {}
	}()
	log.Fatal(protoflow.NewServer(redis.NewDB().Protocol).Serve(ln))
}
